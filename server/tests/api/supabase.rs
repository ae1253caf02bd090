//! The server with the Supabase store: a local Supabase (the real PostgREST 12 behind a
//! Supabase-like gateway, on a throwaway PostgreSQL).

use std::time::Duration;

use leadhook_local_supabase::LocalSupabase;
use leadhook_server::config::StoreConfig;
use serde_json::Value;

use crate::helpers::*;

struct SupabaseApp {
    app: TestApp,
    supabase: LocalSupabase,
}

async fn spawn_supabase_app() -> SupabaseApp {
    let supabase =
        LocalSupabase::with_migrations(leadhook_server::store::postgrest::MIGRATIONS).await;
    let app = spawn_app_with(
        spawn_graph().await,
        tempfile::tempdir().unwrap(),
        |config| {
            config.store = StoreConfig::Supabase {
                url: supabase.base_url.clone(),
                key: supabase.secret_key().to_string().into(),
            };
        },
    )
    .await;
    SupabaseApp { app, supabase }
}

#[tokio::test]
async fn webhooks_become_leads_in_supabase() {
    let SupabaseApp { app, supabase } = spawn_supabase_app().await;
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
    assert_eq!(lead.meta.name.as_deref(), Some("Zoë Brontë"));
    assert_eq!(app.leads().await.count, 1);
    assert_eq!(app.health().await["store"]["backend"], "postgrest");

    // The row really is in PostgreSQL, with the answers as jsonb.
    let row = supabase
        .database
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
    let SupabaseApp { app, supabase } = spawn_supabase_app().await;
    let ids: Vec<String> = (0..20).map(|i| format!("3300{i:02}")).collect();
    for id in &ids {
        app.graph.add_lead(
            PAGE_ID,
            FORM_ID,
            graph_lead(id, &[("full_name", &[&format!("Outage {id}")])]),
        );
    }
    supabase.faults.respond_503_for(Duration::from_secs(2));
    for id in &ids[..10] {
        assert_eq!(app.post_signed(&notification(&[id])).await.status(), 200);
    }
    let health = app.wait_for_health(|h| h["store"]["state"] != "ok").await;
    assert_eq!(health["store"]["state"], "unavailable", "{health}");
    supabase
        .faults
        .refuse_connections_for(Duration::from_secs(2))
        .await;
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
    let SupabaseApp { app, supabase } = spawn_supabase_app().await;
    supabase
        .database
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
    let message = body["error"]["message"].as_str().unwrap();
    assert!(!message.contains(supabase.secret_key()), "{message}");
}

/// Supabase answering slowly: webhooks are still answered at once, and the lead lands once the
/// slow answers come.
#[tokio::test]
async fn a_slow_store_does_not_hold_up_webhooks() {
    let SupabaseApp { app, supabase } = spawn_supabase_app().await;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("440001", &[("full_name", &["Slow Lane"])]),
    );
    let delay = Duration::from_secs(3);
    supabase.faults.slow_down_for(Duration::from_secs(4), delay);
    let started = std::time::Instant::now();
    assert_eq!(
        app.post_signed(&notification(&["440001"])).await.status(),
        200
    );
    assert!(
        started.elapsed() < delay,
        "the webhook waited for the store: {:?}",
        started.elapsed()
    );
    let lead = app.wait_for_leads(1).await.remove(0);
    assert_eq!(lead.meta.name.as_deref(), Some("Slow Lane"));
    assert!(
        started.elapsed() >= delay,
        "the store was not slowed down: {:?}",
        started.elapsed()
    );
}

/// A gateway that keeps only the last of several headers of one name. The server sends all its
/// preferences in one `Prefer` header, so an insert still answers with its rows: the leads are
/// stored and no event is failed for good. (Sent as two headers, `return=representation` was
/// dropped, PostgREST stored the rows and answered 201 with an empty body, and every such event
/// was kept as failed.)
#[tokio::test]
async fn a_gateway_that_keeps_one_of_repeated_headers_loses_no_lead() {
    let SupabaseApp { app, supabase } = spawn_supabase_app().await;
    supabase.faults.drop_repeated_headers();
    let ids = ["450001", "450002"];
    for id in ids {
        app.graph.add_lead(
            PAGE_ID,
            FORM_ID,
            graph_lead(id, &[("full_name", &[&format!("Gateway {id}")])]),
        );
    }
    assert_eq!(app.post_signed(&notification(&ids)).await.status(), 200);
    let health = app
        .wait_for_health(|h| h["inbox"]["pending"] == 0 && h["inbox"]["failed"] == 0)
        .await;
    assert_eq!(health["inbox"]["pending"], 0, "{health}");
    assert_eq!(health["inbox"]["failed"], 0, "{health}");
    assert_eq!(app.wait_for_leads(2).await.len(), 2);
}
