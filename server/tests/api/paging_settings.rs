//! A rep's own paging settings through the API: `GET`/`PUT /api/reps/me` (a rep sets only their
//! own), an admin's `PUT /api/reps/{name}/paging`, and every refusal with its status and fix.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const CAROL: &str = "carol-token-789";
const BOB: &str = "bob-token-456";

/// The test server with a third rep, carol, of the rep role (alice: every power; bob: manager).
async fn spawn() -> TestApp {
    spawn_app_from_args(
        spawn_graph().await,
        tempfile::tempdir().expect("dir"),
        |args| {
            args.api_tokens =
                Some(format!("alice:{REP_TOKEN},bob:manager:{BOB},carol:rep:{CAROL}").into())
        },
        |_| {},
    )
    .await
}

async fn put(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut request = app.client.put(app.url(path)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.expect("put");
    let status = answer.status();
    (status, answer.json().await.unwrap_or(Value::Null))
}

async fn me(app: &TestApp, token: &str) -> Value {
    let answer = app
        .client
        .get(app.url("/api/reps/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    assert_eq!(answer.status(), 200);
    answer.json::<Value>().await.expect("json")["data"].clone()
}

#[tokio::test]
async fn a_rep_sets_reads_and_clears_their_own_topic_and_quiet_hours() {
    let app = spawn().await;
    let (status, body) = put(
        &app,
        "/api/reps/me",
        Some(CAROL),
        json!({"ntfy_topic": "carol-phone-1b2c3d4e5f", "quiet_hours": "22:00-07:00",
               "time_zone": "Europe/Berlin", "available": false}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let carol = me(&app, CAROL).await;
    assert_eq!(carol["ntfy_topic"], "carol-phone-1b2c3d4e5f");
    assert_eq!(carol["quiet_hours"], "22:00-07:00");
    assert_eq!(carol["time_zone"], "Europe/Berlin");
    assert_eq!(carol["available"], false);
    assert!(
        me(&app, REP_TOKEN).await.get("ntfy_topic").is_none(),
        "alice's are her own"
    );

    // Changing one keeps the other; "" clears.
    let (status, _) = put(
        &app,
        "/api/reps/me",
        Some(CAROL),
        json!({"quiet_hours": ""}),
    )
    .await;
    assert_eq!(status, 200);
    let carol = me(&app, CAROL).await;
    assert!(carol.get("quiet_hours").is_none(), "{carol}");
    assert_eq!(carol["ntfy_topic"], "carol-phone-1b2c3d4e5f");
}

#[tokio::test]
async fn bad_settings_are_refused_with_what_to_do_and_nothing_is_half_written() {
    let app = spawn().await;
    let cases = [
        (json!({"ntfy_topic": "carol"}), 422, "16 to 64 of A-Z"),
        (
            json!({"ntfy_topic": "carol's phone topic!"}),
            422,
            "openssl rand",
        ),
        (json!({"quiet_hours": "late"}), 422, "like \"22:00-07:00\""),
        (
            json!({"quiet_hours": "22:00-22:00"}),
            422,
            "must not be empty",
        ),
        // The valid topic is not written when the quiet hours are refused.
        (
            json!({"ntfy_topic": "carol-phone-1b2c3d4e5f", "quiet_hours": "25:00-07:00"}),
            422,
            "quiet hours",
        ),
        (json!({}), 400, "send at least one of"),
        (json!({"ntfy_topic": 12}), 422, "ntfy_topic"),
    ];
    for (body, status, says) in cases {
        let (got, answer) = put(&app, "/api/reps/me", Some(CAROL), body.clone()).await;
        assert_eq!(got.as_u16(), status, "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{body}: {answer}");
    }
    assert!(me(&app, CAROL).await.get("ntfy_topic").is_none());

    let (status, _) = put(&app, "/api/reps/me", None, json!({"ntfy_topic": "x"})).await;
    assert_eq!(status, 401, "no token, no settings");
    let answer = app
        .client
        .get(app.url("/api/reps/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
}

#[tokio::test]
async fn only_an_admin_sets_another_reps_settings() {
    let app = spawn().await;
    let body = json!({"ntfy_topic": "carol-phone-1b2c3d4e5f"});
    for token in [CAROL, BOB] {
        let (status, answer) = put(&app, "/api/reps/carol/paging", Some(token), body.clone()).await;
        assert_eq!(status, 403, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("admin"), "{answer}");
    }
    assert!(me(&app, CAROL).await.get("ntfy_topic").is_none());
    let (status, answer) = put(
        &app,
        "/api/reps/carol/paging",
        Some(REP_TOKEN),
        body.clone(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["name"], "carol");
    assert_eq!(
        me(&app, CAROL).await["ntfy_topic"],
        "carol-phone-1b2c3d4e5f"
    );
    let (status, answer) = put(&app, "/api/reps/dave/paging", Some(REP_TOKEN), body).await;
    assert_eq!(status, 404, "{answer}");
}
