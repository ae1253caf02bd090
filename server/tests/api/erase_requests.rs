//! Issue 24: an erasure records why (the data-subject request's reference) and who; the API
//! erases a few leads per rep and hour, `leadhook-server erase` any number.

use leadhook_shared::{Activity, ActivityKind, ApiError, ApiOk, Lead};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::leads_api::create_manual;

async fn manual_lead(app: &TestApp, name: &str) -> i64 {
    let response = create_manual(app, json!({"name": name, "phone": "+15550001111"})).await;
    assert_eq!(response.status(), 201);
    response.json::<ApiOk<Lead>>().await.unwrap().data.id
}

async fn erase_with(app: &TestApp, id: i64, token: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/leads/{id}/erase")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn erase_row(app: &TestApp, id: i64) -> Option<Activity> {
    let response = app.api_get(&format!("/api/leads/{id}/activity")).await;
    let history = response.json::<ApiOk<Vec<Activity>>>().await.unwrap().data;
    history.into_iter().find(|a| a.kind == ActivityKind::Erase)
}

#[tokio::test]
async fn the_reason_of_an_erasure_is_in_the_history_with_who_erased() {
    let app = spawn_app().await;
    let id = manual_lead(&app, "Rita Reason").await;
    let too_long = "r".repeat(201);
    for (reason, mentions) in [
        (too_long.as_str(), "200"),
        ("DSR-1\nsecond line", "one line"),
    ] {
        let refused = erase_with(&app, id, REP_TOKEN, json!({ "reason": reason })).await;
        assert_eq!(refused.status(), 422);
        let error = refused.json::<ApiError>().await.unwrap().error;
        assert!(error.message.contains("reason"), "{}", error.message);
        assert!(error.message.contains(mentions), "{}", error.message);
    }
    assert_eq!(erase_row(&app, id).await, None, "a refused erase erased");

    let erased = erase_with(&app, id, REP_TOKEN, json!({"reason": "  DSR-2026-041  "})).await;
    assert_eq!(erased.status(), 200);
    let row = erase_row(&app, id).await.expect("erase row");
    assert_eq!(
        (row.actor.as_str(), row.new.as_deref()),
        ("alice", Some("DSR-2026-041"))
    );

    // Without a body, as before: no reason.
    let other = manual_lead(&app, "Nora Noreason").await;
    assert_eq!(
        app.api_post(&format!("/api/leads/{other}/erase"))
            .await
            .status(),
        200
    );
    assert_eq!(erase_row(&app, other).await.expect("erase row").new, None);
}

#[tokio::test]
async fn an_admin_erases_at_most_ten_leads_an_hour_through_the_api() {
    // Two admins: alice (of the test settings) and ada.
    let app = spawn_app_from_args(
        spawn_graph().await,
        tempfile::tempdir().unwrap(),
        |args| {
            args.api_tokens =
                Some(format!("{},ada:admin:ada-token-789", settings().api_tokens).into())
        },
        |_| {},
    )
    .await;
    let mut ids = Vec::new();
    for n in 0..12 {
        ids.push(manual_lead(&app, &format!("Person {n}")).await);
    }
    for id in &ids[..10] {
        assert_eq!(
            erase_with(&app, *id, REP_TOKEN, json!({})).await.status(),
            200
        );
    }
    let refused = erase_with(&app, ids[10], REP_TOKEN, json!({})).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    let error = refused.json::<ApiError>().await.unwrap().error;
    assert!(
        error.message.contains("leadhook-server erase"),
        "{}",
        error.message
    );
    assert_eq!(erase_row(&app, ids[10]).await, None, "refused, yet erased");

    // The limit is per admin: ada still may.
    let ada = erase_with(&app, ids[11], "ada-token-789", json!({})).await;
    assert_eq!(ada.status(), 200);
}

#[tokio::test]
async fn the_erase_command_erases_many_leads_by_id_with_a_reason_and_progress() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for n in 0..15 {
        ids.push(manual_lead(&app, &format!("Bulk {n}")).await);
    }
    let kept = manual_lead(&app, "Kept Person").await;
    let list = tempfile::NamedTempFile::new().unwrap();
    let listed: Vec<String> = ids[2..].iter().map(i64::to_string).collect();
    std::fs::write(
        list.path(),
        format!("# DSR batch\n{}\n\n", listed.join("\n")),
    )
    .unwrap();
    let (first, second) = (ids[0].to_string(), ids[1].to_string());
    let list_path = list.path().to_str().unwrap();
    let output = erase_command(
        &app,
        &[
            "--lead-id",
            &first,
            "--lead-id",
            &second,
            "--ids-from",
            list_path,
            "--reason",
            "DSR-2026-077",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("[15/15] erased lead"), "{stdout}");
    assert!(stdout.contains("15 lead(s) erased"), "{stdout}");
    for id in &ids {
        let row = erase_row(&app, *id).await.expect("erased");
        assert_eq!(
            (row.actor.as_str(), row.new.as_deref()),
            ("system", Some("DSR-2026-077")),
            "lead {id}"
        );
    }
    assert_eq!(erase_row(&app, kept).await, None);

    // An id that is no lead is reported and fails the command; the others are still erased.
    let missing = erase_command(
        &app,
        &["--lead-id", "424242", "--lead-id", &kept.to_string()],
    );
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("424242"),
        "{missing:?}"
    );
    assert!(erase_row(&app, kept).await.is_some());
}

/// The limit counts the history in the store: ten erasures through one replica leave none for
/// the same admin on another.
#[tokio::test]
async fn the_erasure_limit_holds_across_replicas() {
    let supabase = leadhook_local_supabase::LocalSupabase::with_migrations(
        leadhook_server::store::postgrest::MIGRATIONS,
    )
    .await;
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let (url, key) = (supabase.base_url.clone(), supabase.secret_key().to_string());
        replicas.push(
            spawn_app_with(
                spawn_graph().await,
                tempfile::tempdir().unwrap(),
                move |config| {
                    config.store = leadhook_server::config::StoreConfig::Supabase {
                        url,
                        key: key.into(),
                    };
                },
            )
            .await,
        );
    }
    let mut ids = Vec::new();
    for n in 0..11 {
        ids.push(manual_lead(&replicas[0], &format!("Person {n}")).await);
    }
    for id in &ids[..10] {
        let erased = erase_with(&replicas[0], *id, REP_TOKEN, json!({})).await;
        assert_eq!(erased.status(), 200);
    }
    let refused = erase_with(&replicas[1], ids[10], REP_TOKEN, json!({})).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(erase_row(&replicas[1], ids[10]).await, None);
}
