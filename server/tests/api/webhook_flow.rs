use leadhook_shared::{Answer, LeadStatus};

use crate::helpers::*;

#[tokio::test]
async fn handshake_echoes_the_challenge() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url(&format!(
            "/webhook?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(response.text().await.unwrap(), "1158201444");
}

#[tokio::test]
async fn meta_documented_payload_with_numeric_ids_becomes_a_lead() {
    let app = spawn_app().await;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead(
            "444444444444",
            &[
                ("full_name", &["Joe Example"]),
                ("email", &["joe@example.com"]),
                ("phone_number", &["+15555555555"]),
            ],
        ),
    );
    let body = br#"{"object":"page","entry":[{"id":153125381133,"time":1438292065,"changes":[
      {"field":"leadgen","value":{"leadgen_id":444444444444,"page_id":153125381133,"form_id":12312312312,
       "adgroup_id":12312312312,"ad_id":12312312312,"created_time":1440120384}}]}]}"#;
    let response = app.post_signed(body).await;
    assert_eq!(response.status(), 200);

    let leads = app.wait_for_leads(1).await;
    assert_eq!(leads.len(), 1);
    let lead = &leads[0];
    assert_eq!(lead.leadgen_id.as_deref(), Some("444444444444"));
    assert_eq!(lead.meta.name.as_deref(), Some("Joe Example"));
    assert_eq!(lead.meta.email.as_deref(), Some("joe@example.com"));
    assert_eq!(lead.meta.phone.as_deref(), Some("+15555555555"));
    assert_eq!(lead.meta.page_id.as_deref(), Some(PAGE_ID));
    assert_eq!(lead.meta.form_id.as_deref(), Some(FORM_ID));
    assert_eq!(lead.meta.ad_id.as_deref(), Some("5555"));
    assert_eq!(lead.status, LeadStatus::NewLead);
    assert!(!lead.is_manual);
    assert_eq!(
        lead.meta.fields["email"],
        Answer::One("joe@example.com".into())
    );
    assert_eq!(
        lead.meta.created_at.to_rfc3339(),
        "2026-11-29T08:49:14+00:00"
    );
}

#[tokio::test]
async fn string_ids_and_multi_value_answers() {
    let app = spawn_app().await;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead(
            "555000111",
            &[
                ("first_name", &["Ana"]),
                ("last_name", &["Lima"]),
                ("work_email", &["ana@corp.example"]),
                ("products", &["Solar", "Battery"]),
                ("city", &[]),
            ],
        ),
    );
    let lead = app.deliver_first("555000111").await;
    assert_eq!(lead.meta.name.as_deref(), Some("Ana Lima"));
    assert_eq!(lead.meta.email.as_deref(), Some("ana@corp.example"));
    assert_eq!(
        lead.meta.fields["products"],
        Answer::Many(vec!["Solar".into(), "Battery".into()])
    );
    assert!(
        !lead.meta.fields.contains_key("city"),
        "an unanswered question is no answer"
    );
}

#[tokio::test]
async fn one_post_with_two_entries_of_three_changes_gives_six_leads() {
    let app = spawn_app().await;
    let ids: Vec<String> = (1..=6).map(|i| format!("9000{i}")).collect();
    for id in &ids {
        app.graph.add_lead(
            PAGE_ID,
            FORM_ID,
            graph_lead(id, &[("full_name", &[&format!("Person {id}")])]),
        );
    }
    let change = |id: &str| {
        format!(
            r#"{{"field":"leadgen","value":{{"leadgen_id":"{id}","page_id":"{PAGE_ID}","form_id":"{FORM_ID}"}}}}"#
        )
    };
    let body = format!(
        r#"{{"object":"page","entry":[{{"id":"{PAGE_ID}","time":1,"changes":[{},{},{}]}},{{"id":"{PAGE_ID}","time":2,"changes":[{},{},{}]}}]}}"#,
        change(&ids[0]),
        change(&ids[1]),
        change(&ids[2]),
        change(&ids[3]),
        change(&ids[4]),
        change(&ids[5]),
    );
    let response = app.post_signed(body.as_bytes()).await;
    assert_eq!(response.status(), 200);
    let leads = app.wait_for_leads(6).await;
    let mut stored: Vec<_> = leads
        .iter()
        .map(|l| l.leadgen_id.clone().unwrap())
        .collect();
    stored.sort();
    assert_eq!(stored, ids);
}

#[tokio::test]
async fn unicode_escaped_bodies_are_verified_over_raw_bytes() {
    let app = spawn_app().await;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("777000", &[("full_name", &["José Muñoz"])]),
    );
    // Meta escapes non-ASCII; the signature covers these exact bytes.
    let body = format!(
        r#"{{"object":"page","entry":[{{"id":"{PAGE_ID}","time":1,"changes":[
            {{"field":"feed","value":{{"message":"Jos\u00e9 M\u00fa\u00f1oz"}}}},
            {{"field":"leadgen","value":{{"leadgen_id":"777000","page_id":"{PAGE_ID}","form_id":"{FORM_ID}"}}}}]}}]}}"#
    );
    assert!(body.contains(r"Jos\u00e9"));
    assert_eq!(app.post_signed(body.as_bytes()).await.status(), 200);
    let lead = app.wait_for_leads(1).await.remove(0);
    assert_eq!(lead.meta.name.as_deref(), Some("José Muñoz"));
}

#[tokio::test]
async fn the_same_delivery_three_times_is_one_lead_and_keeps_rep_changes() {
    let app = spawn_app().await;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("123123", &[("full_name", &["Dup Licate"])]),
    );
    let body = notification(&["123123"]);
    for _ in 0..3 {
        assert_eq!(app.post_signed(&body).await.status(), 200);
    }
    let lead = app.wait_for_leads(1).await.remove(0);
    let response = app
        .client
        .patch(app.url(&format!("/api/leads/{}", lead.id)))
        .bearer_auth(REP_TOKEN)
        .json(&serde_json::json!({"status": "Contacted", "notes": "left a voicemail"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Meta retries for up to 36 hours: a late re-delivery must not undo the rep's work.
    assert_eq!(app.post_signed(&body).await.status(), 200);
    app.wait_for_settled_inbox().await;
    assert_eq!(
        app.metric("leadhook_webhooks_received_total").await,
        4.0,
        "the late re-delivery was received"
    );
    assert_eq!(
        app.metric("leadhook_events_accepted_total").await,
        1.0,
        "the inbox kept the first delivery only"
    );
    let leads = app.leads().await;
    assert_eq!(leads.count, 1);
    assert_eq!(leads.data[0].status, LeadStatus::Contacted);
    assert_eq!(leads.data[0].notes.as_deref(), Some("left a voicemail"));
    assert_eq!(
        app.graph.lead_fetches(),
        1,
        "re-deliveries are recognised without asking the Graph API again"
    );
}

#[tokio::test]
async fn other_fields_and_objects_are_acknowledged_and_ignored() {
    let app = spawn_app().await;
    let body = br#"{"object":"user","entry":[{"id":"1","time":1,"changes":[{"field":"leadgen","value":{"leadgen_id":"1"}}]}]}"#;
    assert_eq!(app.post_signed(body).await.status(), 200);
    let body = br#"{"object":"page","entry":[{"id":"1","time":1,"changes":[{"field":"feed","value":{"item":"post"}}]}]}"#;
    assert_eq!(app.post_signed(body).await.status(), 200);
    let health = app.health().await;
    assert_eq!(health["inbox"]["pending"], 0);
    assert_eq!(app.leads().await.count, 0);
}
