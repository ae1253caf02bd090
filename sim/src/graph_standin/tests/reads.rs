//! Leads, forms and pages as Meta serves them, with fields, filters and paging.

use super::*;

#[tokio::test]
async fn serves_a_lead_with_only_the_requested_fields() {
    let standin = standin().await;
    let mut lead = LeadFaker::new(1).next_lead(at(0));
    lead.set_answer("full_name", vec!["José Muñoz".into()]);
    let id = standin.add_fake_lead(&lead);
    assert_eq!(standin.lead_ids(), [id.as_str()]);
    let client = Client::new(&standin);

    let (status, _, body) = client.get(&id, &[("fields", GRAPH_LEAD_FIELDS)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, lead.graph_json());
    assert_eq!(body["created_time"], "2025-06-15T15:06:40+0000");

    let (_, _, body) = client.get(&id, &[("fields", "field_data,form_id")]).await;
    let mut keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["field_data", "form_id", "id"]);

    let (_, _, body) = client.get(&id, &[]).await;
    assert_eq!(
        body,
        json!({"id": id, "created_time": "2025-06-15T15:06:40+0000"})
    );
    assert_eq!(standin.lead_fetches(), 3);
}

#[tokio::test]
async fn unknown_leads_and_fields_get_meta_errors() {
    let standin = standin().await;
    let client = Client::new(&standin);
    let unknown = client.get("999", &[("fields", GRAPH_LEAD_FIELDS)]).await;
    assert_meta_error(&unknown, 100, Some(33));
    assert_eq!(unknown.2["error"]["type"], "GraphMethodException");
    assert!(
        unknown.2["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'999'")
    );
    assert_eq!(standin.lead_fetches(), 1);

    let id = standin.add_lead(DEFAULT_PAGE_ID, "77", json!({"field_data": []}));
    assert_meta_error(
        &client.get(&id, &[("fields", "id,shoe_size")]).await,
        100,
        None,
    );
    assert_meta_error(
        &client.get(DEFAULT_PAGE_ID, &[("fields", "x")]).await,
        100,
        None,
    );
    assert_meta_error(&client.get("77/comments", &[]).await, 100, None);
    let (status, _, body) = client.get("77/leads/extra", &[]).await;
    assert_eq!(
        (status, body["error"]["code"].as_u64()),
        (StatusCode::BAD_REQUEST, Some(2500))
    );
}

#[tokio::test]
async fn added_leads_get_ids_forms_and_times() {
    let standin = standin().await;
    let given = standin.add_lead(
        "1",
        "2",
        json!({"id": 444444444444_u64, "created_time": "2015-02-28T08:49:14+0000"}),
    );
    assert_eq!(given, "444444444444");
    let fresh = standin.add_lead("1", "2", json!({}));
    assert_ne!(fresh, given);
    let client = Client::new(&standin);
    let (_, _, body) = client
        .get(&fresh, &[("fields", "form_id,created_time")])
        .await;
    assert_eq!(body["form_id"], "2");
    assert!(parse_meta_time(body["created_time"].as_str().unwrap()).is_some());
    let (_, _, forms) = client.get("1/leadgen_forms", &[]).await;
    assert_eq!(forms["data"][0]["name"], "Form 2");
}

#[tokio::test]
async fn pages_form_leads_until_next_is_absent() {
    let standin = standin().await;
    let form_id = add_leads(&standin, 7);
    let client = Client::new(&standin);

    let (status, _, mut page) = client
        .get(
            &format!("{form_id}/leads"),
            &[("fields", GRAPH_LEAD_FIELDS), ("limit", "3")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut seen = Vec::new();
    let mut pages = 1;
    loop {
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 3);
        assert!(data.iter().all(|lead| lead["field_data"].is_array()));
        seen.extend(
            data.iter()
                .map(|lead| lead["id"].as_str().unwrap().to_string()),
        );
        assert!(page["paging"]["cursors"]["before"].is_string());
        assert!(page["paging"]["cursors"]["after"].is_string());
        let Some(next) = page["paging"]["next"].as_str() else {
            break;
        };
        assert!(next.starts_with(&standin.base_url()), "{next}");
        page = send(client.http.get(next)).await.2;
        pages += 1;
    }
    assert_eq!(pages, 3);
    let mut expected = standin.lead_ids();
    expected.reverse();
    assert_eq!(seen, expected, "newest first, each lead once");
    assert_eq!(standin.calls(CallKind::FormLeads), 3);

    let after_last = client
        .get(
            &format!("{form_id}/leads"),
            &[(
                "after",
                page["paging"]["cursors"]["after"].as_str().unwrap(),
            )],
        )
        .await;
    assert_eq!(after_last.2, json!({"data": []}));
    assert_meta_error(
        &client
            .get(&format!("{form_id}/leads"), &[("after", "zz")])
            .await,
        100,
        None,
    );
    assert_meta_error(
        &client
            .get(&format!("{form_id}/leads"), &[("limit", "0")])
            .await,
        100,
        None,
    );
    assert_meta_error(&client.get("404/leads", &[]).await, 100, Some(33));
}

#[tokio::test]
async fn filters_form_leads_by_time_created() {
    let standin = standin().await;
    let form_id = add_leads(&standin, 6);
    let client = Client::new(&standin);
    let since = at(3 * 60).timestamp();
    let filtering =
        format!(r#"[{{"field":"time_created","operator":"GREATER_THAN","value":{since}}}]"#);
    let (_, _, body) = client
        .get(
            &format!("{form_id}/leads"),
            &[("filtering", &filtering), ("limit", "1")],
        )
        .await;
    let mut times = Vec::new();
    let mut page = body;
    loop {
        for lead in page["data"].as_array().unwrap() {
            times.push(
                parse_meta_time(lead["created_time"].as_str().unwrap())
                    .unwrap()
                    .timestamp(),
            );
        }
        let Some(next) = page["paging"]["next"].as_str() else {
            break;
        };
        page = send(client.http.get(next)).await.2;
    }
    assert_eq!(times, [at(300), at(240)].map(|time| time.timestamp()));

    let as_string =
        format!(r#"[{{"field":"time_created","operator":"LESS_THAN","value":"{since}"}}]"#);
    let (_, _, body) = client
        .get(&format!("{form_id}/leads"), &[("filtering", &as_string)])
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 3);
    for bad in [
        "nope",
        r#"[{"field":"name","operator":"GREATER_THAN","value":1}]"#,
        r#"[{"field":"time_created","operator":"ABOUT","value":1}]"#,
    ] {
        assert_meta_error(
            &client
                .get(&format!("{form_id}/leads"), &[("filtering", bad)])
                .await,
            100,
            None,
        );
    }
}

#[tokio::test]
async fn lists_a_pages_forms() {
    let standin = standin().await;
    for (id, name) in [
        ("11", "Spring Promo"),
        ("12", "Free Quote"),
        ("13", "Webinar Signup"),
    ] {
        standin.add_form(DEFAULT_PAGE_ID, id, name);
    }
    standin.add_form("other-page", "14", "Elsewhere");
    let client = Client::new(&standin);
    let (status, _, body) = client
        .get(
            &format!("{DEFAULT_PAGE_ID}/leadgen_forms"),
            &[("limit", "2")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"][0],
        json!({"id": "13", "name": "Webinar Signup", "status": "ACTIVE", "locale": "en_US"})
    );
    let next = body["paging"]["next"].as_str().unwrap();
    let (_, _, last) = send(client.http.get(next)).await;
    assert_eq!(
        last["data"],
        json!([{"id": "11", "name": "Spring Promo", "status": "ACTIVE", "locale": "en_US"}])
    );
    assert!(last["paging"].get("next").is_none());
    let (_, _, me) = client
        .get("me/leadgen_forms", &[("fields", "name,leads_count")])
        .await;
    assert_eq!(
        me["data"][2],
        json!({"id": "11", "name": "Spring Promo", "leads_count": 0})
    );
    assert_meta_error(
        &client.get("nobody/leadgen_forms", &[]).await,
        100,
        Some(33),
    );
    let (_, _, page) = client.get("me", &[]).await;
    assert_eq!(
        page,
        json!({"id": DEFAULT_PAGE_ID, "name": DEFAULT_PAGE_NAME})
    );
}
