//! `POST /api/leads/{id}/erase`: the person's data goes, and neither Meta's re-delivery nor the
//! sweeper (the Graph API stand-in still has the lead) brings it back.

use std::time::Duration;

use leadhook_shared::{Activity, ActivityKind, ApiError, ApiOk, Lead, SyncReport};
use leadhook_sim::CallKind;
use serde_json::Value;

use crate::helpers::*;

fn recent_lead(leadgen_id: &str, name: &str, email: &str) -> Value {
    let mut lead = graph_lead(
        leadgen_id,
        &[
            ("full_name", &[name]),
            ("email", &[email]),
            ("budget", &["high"]),
        ],
    );
    lead["created_time"] = Value::String(
        (chrono::Utc::now() - chrono::Duration::minutes(10))
            .format("%Y-%m-%dT%H:%M:%S%z")
            .to_string(),
    );
    lead
}

async fn lead(app: &TestApp, id: i64) -> Lead {
    let response = app.api_get(&format!("/api/leads/{id}")).await;
    assert_eq!(response.status(), 200);
    response.json::<ApiOk<Lead>>().await.unwrap().data
}

fn assert_erased(lead: &Lead) {
    assert!(lead.erased_at.is_some(), "{lead:?}");
    assert_eq!(
        (
            &lead.meta.name,
            &lead.meta.email,
            &lead.meta.phone,
            &lead.notes
        ),
        (&None, &None, &None, &None)
    );
    assert!(lead.meta.fields.is_empty(), "{lead:?}");
}

#[tokio::test]
async fn an_erased_lead_stays_erased_after_redelivery_and_a_sweep() {
    let graph = spawn_graph().await;
    graph.add_form(PAGE_ID, FORM_ID, "Spring Promo");
    graph.add_lead(
        PAGE_ID,
        FORM_ID,
        recent_lead("8001", "Erin Erase", "erin@example.com"),
    );
    let app = spawn_app_with(graph, tempfile::tempdir().unwrap(), |config| {
        config.sweep.page_ids = vec![PAGE_ID.to_string()];
        config.sweep.interval = None;
    })
    .await;
    let stored = app.deliver_first("8001").await;
    assert_eq!(stored.meta.name.as_deref(), Some("Erin Erase"));

    let response = app
        .api_post(&format!("/api/leads/{}/erase", stored.id))
        .await;
    assert_eq!(response.status(), 200);
    let erased = response.json::<ApiOk<Lead>>().await.unwrap().data;
    assert_erased(&erased);
    assert_eq!(erased.leadgen_id.as_deref(), Some("8001"));

    // Meta delivers the same lead again to an inbox that no longer remembers it (its done events
    // are kept for a while only, and another replica has its own): the lead is fetched and stored
    // again.
    forget_inbox_events(&app);
    assert_eq!(
        app.post_signed(&notification(&["8001"])).await.status(),
        200
    );
    let fetches = poll_until(
        Duration::from_secs(20),
        || async { app.graph.calls(CallKind::Lead) },
        |&fetches| fetches >= 2,
    )
    .await;
    assert_eq!(fetches, 2);
    app.wait_for_settled_inbox().await;
    assert_erased(&lead(&app, stored.id).await);

    // The sweeper finds it in the form's leads.
    let response = app.api_post("/api/leads/sync").await;
    assert_eq!(response.status(), 200);
    let report = response.json::<ApiOk<SyncReport>>().await.unwrap().data;
    assert_eq!((report.fetched, report.inserted), (1, 0), "{report:?}");
    assert_erased(&lead(&app, stored.id).await);
    assert_eq!(app.leads().await.count, 1);

    let response = app
        .api_get(&format!("/api/leads/{}/activity", stored.id))
        .await;
    let history = response.json::<ApiOk<Vec<Activity>>>().await.unwrap().data;
    let erase = history
        .iter()
        .find(|a| a.kind == ActivityKind::Erase)
        .expect("erase row");
    assert_eq!(erase.actor, "alice");
    assert!(
        history.iter().all(|a| a.old.is_none() && a.new.is_none()),
        "{history:?}"
    );
}

fn forget_inbox_events(app: &TestApp) {
    let inbox = rusqlite::Connection::open(app.data_dir().join("inbox.db")).expect("open inbox");
    inbox
        .busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    let forgotten = inbox
        .execute("DELETE FROM events", [])
        .expect("forget events");
    assert_eq!(forgotten, 1);
}

#[tokio::test]
async fn erasing_an_unknown_lead_is_404() {
    let app = spawn_app().await;
    let response = app.api_post("/api/leads/424242/erase").await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_patch_on_an_erased_lead_is_409_and_stores_nothing() {
    let app = spawn_app().await;
    let created = app
        .client
        .post(app.url("/api/leads"))
        .bearer_auth(REP_TOKEN)
        .json(&serde_json::json!({"name": "Pat Patched", "phone": "+15550001111"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<ApiOk<Lead>>().await.unwrap().data.id;
    assert_eq!(
        app.api_post(&format!("/api/leads/{id}/erase"))
            .await
            .status(),
        200
    );

    let refused = app
        .client
        .patch(app.url(&format!("/api/leads/{id}")))
        .bearer_auth(REP_TOKEN)
        .json(&serde_json::json!({"notes": "new address: 2 Secret Road"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 409);
    let error = refused.json::<ApiError>().await.unwrap().error;
    assert_eq!(error.code, "lead_erased");
    assert!(error.message.contains("new lead"), "{}", error.message);
    assert_erased(&lead(&app, id).await);
}

#[tokio::test]
async fn the_erase_command_erases_every_lead_of_an_email_and_says_which() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for name in ["Pat One", "Pat Two"] {
        let response = app
            .client
            .post(app.url("/api/leads"))
            .bearer_auth(REP_TOKEN)
            .json(&serde_json::json!({"name": name, "email": "pat@example.com"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        ids.push(response.json::<ApiOk<Lead>>().await.unwrap().data.id);
    }
    let response = app
        .client
        .post(app.url("/api/leads"))
        .bearer_auth(REP_TOKEN)
        .json(&serde_json::json!({"name": "Someone Else", "email": "else@example.com"}))
        .send()
        .await
        .unwrap();
    let other = response.json::<ApiOk<Lead>>().await.unwrap().data;

    let output = erase_command(&app, &["--email", "pat@example.com"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for id in &ids {
        assert!(stdout.contains(&format!("erased lead {id} ")), "{stdout}");
        assert_erased(&lead(&app, *id).await);
    }
    assert!(stdout.contains("2 lead(s) erased"), "{stdout}");
    assert!(
        !stdout.contains("pat@example.com"),
        "the erased email is not printed"
    );
    assert_eq!(
        lead(&app, other.id).await.meta.name.as_deref(),
        Some("Someone Else")
    );

    let again = erase_command(&app, &["--email", "pat@example.com"]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("no lead holds"));

    let no_person = erase_command(&app, &["--phone", " "]);
    assert!(!no_person.status.success());
    assert!(
        String::from_utf8_lossy(&no_person.stderr).contains("--email, --phone or --leadgen-id")
    );
}

#[tokio::test]
async fn a_server_with_retention_erases_the_leads_past_the_limit_when_it_starts() {
    let data_dir = tempfile::tempdir().unwrap();
    let (old, recent) = {
        let store =
            leadhook_server::store::sqlite::SqliteStore::open(&data_dir.path().join("leads.db"))
                .await
                .unwrap();
        let stored = |leadgen_id: &str, days_ago: i64| {
            let mut meta: leadhook_shared::MetaFields = serde_json::from_value(serde_json::json!({
                "name": "Old Timer", "email": "old@example.com", "is_organic": false, "fields": {},
                "created_at": chrono::Utc::now() - chrono::Duration::days(days_ago),
            }))
            .unwrap();
            meta.form_name = Some("Spring Promo".into());
            leadhook_shared::meta::IncomingLead {
                leadgen_id: leadgen_id.into(),
                meta,
            }
        };
        use leadhook_server::store::LeadWrites as _;
        let old = store
            .upsert(&stored("9001", 40), "facebook")
            .await
            .unwrap()
            .lead;
        let recent = store
            .upsert(&stored("9002", 3), "facebook")
            .await
            .unwrap()
            .lead;
        (old.id, recent.id)
    };
    let app = spawn_app_with(spawn_graph().await, data_dir, |config| {
        config.retention_days = Some(30);
    })
    .await;
    let erased = poll_until(
        Duration::from_secs(20),
        || lead(&app, old),
        |lead| lead.erased_at.is_some(),
    )
    .await;
    assert_erased(&erased);
    let kept = lead(&app, recent).await;
    assert_eq!(
        (kept.erased_at, kept.meta.name.as_deref()),
        (None, Some("Old Timer"))
    );
}
