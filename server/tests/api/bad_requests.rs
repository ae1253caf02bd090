use leadhook_shared::meta::signature::sign;
use serde_json::Value;

use crate::helpers::*;

/// Every bad request gets its status and a JSON error naming what is wrong, and stores nothing.
#[tokio::test]
async fn bad_requests_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("42", &[("full_name", &["Should Not Exist"])]),
    );
    let body = notification(&["42"]);
    let good_signature = sign(APP_SECRET.as_bytes(), &body);
    let reserialised =
        serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&body).unwrap()).unwrap();
    let oversize = {
        let mut big = notification(&["42"]);
        big.truncate(big.len() - 1);
        big.extend_from_slice(
            format!(r#","padding":"{}"}}"#, "x".repeat(9 * 1024 * 1024)).as_bytes(),
        );
        big
    };
    let oversize_signature = sign(APP_SECRET.as_bytes(), &oversize);
    let lead_id_probe = "/api/leads/1";

    struct Case<'a> {
        name: &'a str,
        request: reqwest::RequestBuilder,
        status: u16,
        code: &'a str,
    }
    let webhook = |body: Vec<u8>, signature: Option<String>| {
        let request = app.client.post(app.url("/webhook")).body(body);
        match signature {
            Some(signature) => request.header("x-hub-signature-256", signature),
            None => request,
        }
    };
    let cases = vec![
        Case {
            name: "no signature",
            request: webhook(body.clone(), None),
            status: 403,
            code: "invalid_signature",
        },
        Case {
            name: "wrong signature",
            request: webhook(body.clone(), Some(sign(b"another-secret", &body))),
            status: 403,
            code: "invalid_signature",
        },
        Case {
            name: "signature over re-serialised JSON",
            request: webhook(reserialised, Some(good_signature.clone())),
            status: 403,
            code: "invalid_signature",
        },
        Case {
            name: "bad hex",
            request: webhook(body.clone(), Some(format!("sha256={}", "zz".repeat(32)))),
            status: 403,
            code: "invalid_signature",
        },
        Case {
            name: "sha1 only",
            request: webhook(
                body.clone(),
                Some("sha1=0123456789abcdef0123456789abcdef01234567".into()),
            ),
            status: 403,
            code: "invalid_signature",
        },
        Case {
            name: "non-JSON with a valid signature",
            request: webhook(
                b"leadgen_id=42".to_vec(),
                Some(sign(APP_SECRET.as_bytes(), b"leadgen_id=42")),
            ),
            status: 400,
            code: "invalid_json",
        },
        Case {
            name: "oversize body",
            request: webhook(oversize, Some(oversize_signature)),
            status: 413,
            code: "payload_too_large",
        },
        Case {
            name: "wrong verify token",
            request: app
                .client
                .get(app.url("/webhook?hub.mode=subscribe&hub.challenge=5&hub.verify_token=guess")),
            status: 403,
            code: "verification_failed",
        },
        Case {
            name: "wrong mode",
            request: app.client.get(app.url(&format!(
                "/webhook?hub.mode=unsubscribe&hub.challenge=5&hub.verify_token={VERIFY_TOKEN}"
            ))),
            status: 403,
            code: "verification_failed",
        },
        Case {
            name: "no bearer token",
            request: app.client.get(app.url("/api/leads")),
            status: 401,
            code: "unauthorized",
        },
        Case {
            name: "wrong bearer token",
            request: app
                .client
                .get(app.url("/api/leads"))
                .bearer_auth("not-a-token"),
            status: 401,
            code: "unauthorized",
        },
        Case {
            name: "no token on PII by id",
            request: app.client.get(app.url(lead_id_probe)),
            status: 401,
            code: "unauthorized",
        },
        Case {
            name: "invalid status filter",
            request: app
                .client
                .get(app.url("/api/leads?status=Hot"))
                .bearer_auth(REP_TOKEN),
            status: 422,
            code: "validation_failed",
        },
        Case {
            name: "invalid cursor",
            request: app
                .client
                .get(app.url("/api/leads?since=yesterday"))
                .bearer_auth(REP_TOKEN),
            status: 400,
            code: "bad_request",
        },
        Case {
            name: "limit too large",
            request: app
                .client
                .get(app.url("/api/leads?limit=5000"))
                .bearer_auth(REP_TOKEN),
            status: 400,
            code: "bad_request",
        },
        Case {
            name: "manual lead without contact",
            request: app
                .client
                .post(app.url("/api/leads"))
                .bearer_auth(REP_TOKEN)
                .json(&serde_json::json!({"name": "Only Name"})),
            status: 422,
            code: "validation_failed",
        },
        Case {
            name: "manual lead with invalid status",
            request: app
                .client
                .post(app.url("/api/leads"))
                .bearer_auth(REP_TOKEN)
                .json(&serde_json::json!({"name": "X", "phone": "+1555", "status": "Hot"})),
            status: 422,
            code: "validation_failed",
        },
        Case {
            name: "manual lead with broken JSON",
            request: app
                .client
                .post(app.url("/api/leads"))
                .bearer_auth(REP_TOKEN)
                .header("content-type", "application/json")
                .body("{"),
            status: 400,
            code: "invalid_json",
        },
    ];
    for case in cases {
        let response = case
            .request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(response.status().as_u16(), case.status, "{}", case.name);
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{}: body is not JSON: {e}", case.name));
        assert_eq!(body["success"], false, "{}", case.name);
        assert_eq!(body["error"]["code"], case.code, "{}: {body}", case.name);
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.is_empty(),
            "{}: the error says what is wrong",
            case.name
        );
        assert!(
            !message.contains(APP_SECRET) && !message.contains(VERIFY_TOKEN),
            "{}: no secrets",
            case.name
        );
    }

    let invalid_status = app
        .client
        .post(app.url("/api/leads"))
        .bearer_auth(REP_TOKEN)
        .json(&serde_json::json!({"name": "X", "phone": "+1555", "status": "Hot"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let message = invalid_status["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "\"New Lead\", \"Contacted\", \"Qualified\", \"Unqualified\", \"Won\", \"Lost\""
        ),
        "{message}"
    );

    // A good delivery after the bad ones: once the intake is done with it, it would be done
    // with anything the bad ones had put in the inbox too.
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("4242", &[("full_name", &["Good One"])]),
    );
    assert_eq!(
        app.post_signed(&notification(&["4242"])).await.status(),
        200
    );
    app.wait_for_settled_inbox().await;
    let stored: Vec<Option<String>> = app
        .leads()
        .await
        .data
        .into_iter()
        .map(|lead| lead.leadgen_id)
        .collect();
    assert_eq!(
        stored,
        [Some("4242".to_string())],
        "nothing else was stored"
    );
    assert_eq!(
        app.metric("leadhook_events_accepted_total").await,
        1.0,
        "nothing else reached the inbox"
    );
    assert_eq!(app.graph.lead_fetches(), 1);
}

#[tokio::test]
async fn patching_an_unknown_status_is_422_and_changes_nothing() {
    let app = spawn_app().await;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("43", &[("full_name", &["Keep Me"])]),
    );
    app.post_signed(&notification(&["43"])).await;
    let lead = app.wait_for_leads(1).await.remove(0);
    let response = app
        .client
        .patch(app.url(&format!("/api/leads/{}", lead.id)))
        .bearer_auth(REP_TOKEN)
        .json(&serde_json::json!({"status": "Hot", "notes": "should not be saved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("allowed: \"New Lead\"")
    );
    let after = app.leads().await.data.remove(0);
    assert_eq!(after, lead, "a refused change leaves the lead as it was");
}
