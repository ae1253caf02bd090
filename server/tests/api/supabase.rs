//! The server with the Supabase store: the PostgREST stand-in over the real PostgreSQL.

use std::time::Duration;

use leadhook_server::config::StoreConfig;
use postgrest_standin::{Standin, TestDatabase};
use serde_json::Value;

use crate::helpers::*;

const KEY: &str = "sb_secret_flow_tests";

struct SupabaseApp {
    app: TestApp,
    standin: Standin,
    database: TestDatabase,
}

async fn spawn_supabase_app() -> SupabaseApp {
    let database = TestDatabase::migrated(leadhook_server::store::postgrest::MIGRATIONS).await;
    let standin = postgrest_standin::spawn(&database.url, KEY).await;
    let app = spawn_app_with(
        spawn_graph().await,
        tempfile::tempdir().unwrap(),
        |config| {
            config.store = StoreConfig::Supabase {
                url: standin.base_url.clone(),
                key: KEY.to_string().into(),
            };
        },
    )
    .await;
    SupabaseApp {
        app,
        standin,
        database,
    }
}

#[tokio::test]
async fn webhooks_become_leads_in_supabase() {
    let SupabaseApp {
        app,
        database,
        standin: _standin,
    } = spawn_supabase_app().await;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead(
            "12121",
            &[
                ("full_name", &["Zoë Brontë"]),
                ("email", &["zoe@example.com"]),
                ("colours", &["red", "blue"]),
            ],
        ),
    );
    for _ in 0..2 {
        assert_eq!(
            app.post_signed(&notification(&["12121"])).await.status(),
            200
        );
    }
    let lead = app.wait_for_leads(1).await.remove(0);
    assert_eq!(lead.name.as_deref(), Some("Zoë Brontë"));
    assert_eq!(app.leads().await.count, 1);
    assert_eq!(app.health().await["store"]["backend"], "postgrest");

    // The row really is in PostgreSQL, with the answers as jsonb.
    let row = database
        .connect()
        .await
        .query_one(
            "select name, (fields->'colours')::text from public.leads where leadgen_id = '12121'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Zoë Brontë");
    assert_eq!(row.get::<_, String>(1), r#"["red", "blue"]"#);
}

/// Supabase answering 503, then refusing connections: the webhook endpoint keeps saying 200 and
/// everything lands once the store is back.
#[tokio::test]
async fn a_store_outage_loses_nothing() {
    let SupabaseApp {
        app,
        standin,
        database: _database,
    } = spawn_supabase_app().await;
    let ids: Vec<String> = (0..20).map(|i| format!("3300{i:02}")).collect();
    for id in &ids {
        app.graph.add_lead(
            PAGE_ID,
            FORM_ID,
            graph_lead(id, &[("full_name", &[&format!("Outage {id}")])]),
        );
    }
    standin.respond_503_for(Duration::from_secs(2));
    for id in &ids[..10] {
        assert_eq!(app.post_signed(&notification(&[id])).await.status(), 200);
    }
    let health = app.wait_for_health(|h| h["store"]["state"] != "ok").await;
    assert_eq!(health["store"]["state"], "unavailable", "{health}");
    standin.refuse_connections_for(Duration::from_secs(2)).await;
    for id in &ids[10..] {
        assert_eq!(
            app.post_signed(&notification(&[id])).await.status(),
            200,
            "webhooks are accepted during the outage"
        );
    }
    let leads = app.wait_for_leads(20).await;
    assert_eq!(leads.len(), 20);
    let health = app
        .wait_for_health(|h| h["inbox"]["pending"] == 0 && h["store"]["state"] == "ok")
        .await;
    assert_eq!(health["inbox"]["failed"], 0, "{health}");
}

/// A migration without the grant to service_role: health names the fix.
#[tokio::test]
async fn a_missing_grant_is_reported_with_its_fix() {
    let SupabaseApp {
        app,
        database,
        standin: _standin,
    } = spawn_supabase_app().await;
    database
        .execute("revoke all on public.leads from service_role")
        .await
        .unwrap();
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let health: Value = response.json().await.unwrap();
    assert_eq!(health["store"]["state"], "misconfigured", "{health}");
    let health = app.health().await;
    assert!(
        health["store"]["fix"].as_str().unwrap().contains("grant"),
        "{health}"
    );

    let api = app.api_get("/api/leads").await;
    assert_eq!(api.status(), 503);
    let body: Value = api.json().await.unwrap();
    assert!(!body["error"]["message"].as_str().unwrap().contains(KEY));
}
