//! Issue 11 items 7 and 10: notes are capped on the server, numeric parameters are validated.

use leadhook_shared::{ApiOk, Lead};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::leads_api::create_manual;

const NOTES_CAP: usize = 64 * 1024;

async fn patch(app: &TestApp, id: i64, body: Value) -> reqwest::Response {
    let request = app.client.patch(app.url(&format!("/api/leads/{id}")));
    request
        .bearer_auth(REP_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn assert_refused_with_message(response: reqwest::Response, status: u16, mentions: &str) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(mentions), "{body}");
}

#[tokio::test]
async fn notes_are_capped_at_64_kib_on_patch_and_on_manual_leads() {
    let app = spawn_app().await;
    let at_cap = "n".repeat(NOTES_CAP);
    let over_cap = "n".repeat(NOTES_CAP + 1);
    let two_mb = "n".repeat(2_000_000);

    let created = create_manual(
        &app,
        json!({"name": "Walk-in", "phone": "+1555", "notes": at_cap}),
    )
    .await;
    assert_eq!(created.status(), 201);
    let lead = created.json::<ApiOk<Lead>>().await.unwrap().data;

    // Just over the cap: 422 naming the field. Far over it (2 MB): the body itself is too large.
    for (notes, status, mentions) in [(&over_cap, 422, "notes"), (&two_mb, 413, "too large")] {
        assert_refused_with_message(
            create_manual(
                &app,
                json!({"name": "Walk-in", "phone": "+1555", "notes": notes}),
            )
            .await,
            status,
            mentions,
        )
        .await;
        assert_refused_with_message(
            patch(&app, lead.id, json!({"notes": notes})).await,
            status,
            mentions,
        )
        .await;
    }
    // Multi-byte text counts in bytes: 16,385 four-byte characters are over 64 KiB.
    let emoji = "\u{1F600}".repeat(NOTES_CAP / 4 + 1);
    assert_refused_with_message(
        patch(&app, lead.id, json!({"notes": emoji})).await,
        422,
        "notes",
    )
    .await;

    assert_eq!(
        patch(&app, lead.id, json!({"notes": "short"}))
            .await
            .status(),
        200
    );
    let stored: ApiOk<Lead> = app
        .api_get(&format!("/api/leads/{}", lead.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored.data.notes.as_deref(), Some("short"));
    assert_eq!(
        app.leads().await.count,
        1,
        "a refused manual lead was stored"
    );
}

/// Numbers past what the server handles get 400 naming the parameter, never a 500 or a wrapped
/// value.
#[tokio::test]
async fn numeric_query_parameters_out_of_range_are_400() {
    let app = spawn_app().await;
    let cases = [
        ("/api/leads?offset=9223372036854775808", "offset"),
        ("/api/leads?offset=18446744073709551616", "offset"),
        ("/api/leads?offset=-1", "offset"),
        ("/api/leads?limit=4294967296", "limit"),
        ("/api/leads?limit=0", "limit"),
        ("/api/stats?tz_offset_minutes=71582789", "tz_offset_minutes"),
        (
            "/api/stats?tz_offset_minutes=2147483647",
            "tz_offset_minutes",
        ),
        (
            "/api/stats?tz_offset_minutes=-2147483648",
            "tz_offset_minutes",
        ),
        ("/api/stats?tz_offset_minutes=1440", "tz_offset_minutes"),
        ("/api/leads?since=99999999999999999999.1", "cursor"),
        ("/api/events?since=1.99999999999999999999", "cursor"),
    ];
    for (path, parameter) in cases {
        let response = app.api_get(path).await;
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(parameter), "{path}: {body}");
    }
    let response = app.api_get("/api/leads/99999999999999999999").await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        app.api_get("/api/leads?offset=9223372036854775807")
            .await
            .status(),
        200
    );
    assert_eq!(
        app.api_get("/api/stats?tz_offset_minutes=-1439")
            .await
            .status(),
        200
    );
}

/// Issue 24: a manual lead's name, email and phone are bounded (200 characters, 254 bytes as in
/// RFC 5321, 64 characters); one over the limit gets 422 naming the field and the limit, and
/// nothing is stored.
#[tokio::test]
async fn manual_lead_fields_are_bounded() {
    let app = spawn_app().await;
    let email_at = |bytes: usize| format!("{}@example.com", "e".repeat(bytes - 12));
    let at_limits = json!({
        "name": "\u{00e9}".repeat(200),
        "email": email_at(254),
        "phone": "5".repeat(64),
    });
    assert_eq!(create_manual(&app, at_limits).await.status(), 201);

    for (body, mentions) in [
        (
            json!({"name": "\u{00e9}".repeat(201), "phone": "+1555"}),
            "name",
        ),
        (json!({"name": "Walk-in", "email": email_at(255)}), "email"),
        (json!({"name": "Walk-in", "phone": "5".repeat(65)}), "phone"),
    ] {
        let response = create_manual(&app, body).await;
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(mentions), "{body}");
        let limit = match mentions {
            "name" => "200",
            "email" => "254",
            _ => "64",
        };
        assert!(message.contains(limit), "{body}");
    }
    assert_eq!(
        app.leads().await.count,
        1,
        "a refused manual lead was stored"
    );
}
