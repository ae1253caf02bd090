//! `LEADHOOK_VISIBILITY=own`: a rep sees their own leads and unowned ones, everywhere a lead
//! leaves the server; another rep's lead looks like no lead at all. Managers see every lead.

use std::time::Duration;

use leadhook_shared::{ApiList, Lead};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Backend, RolesApp, spawn};
use crate::helpers::events_until;

async fn list_ids(app: &RolesApp, caller: &str, query: &str) -> (Vec<i64>, u64) {
    let list: ApiList = app
        .send_as(caller, Method::GET, &format!("/api/leads{query}"), None)
        .await
        .json()
        .await
        .expect("a lead list");
    let mut ids: Vec<i64> = list.data.iter().map(|lead| lead.id).collect();
    ids.sort_unstable();
    (ids, list.count)
}

async fn reps_see_their_own_and_unowned_leads(backend: Backend) {
    let app = spawn(backend, "own").await;
    let mine: Lead = app.lead_owned_by(Some("alice")).await;
    let zoes: Lead = app.lead_owned_by(Some("zoe")).await;
    let nobodys: Lead = app.lead_owned_by(None).await;

    assert_eq!(
        list_ids(&app, "alice", "").await,
        (vec![mine.id, nobodys.id], 2)
    );
    assert_eq!(
        list_ids(&app, "alice", "?q=jane&limit=1000").await.1,
        2,
        "a search does not reach around it"
    );
    assert_eq!(
        list_ids(&app, "mia", "").await,
        (vec![mine.id, zoes.id, nobodys.id], 3)
    );

    let stats: Value = app
        .send_as("alice", Method::GET, "/api/stats", None)
        .await
        .json()
        .await
        .unwrap();
    let per_rep: Vec<&str> = stats["data"]["per_rep"]
        .as_array()
        .expect("per_rep")
        .iter()
        .filter_map(|rep| rep["name"].as_str())
        .collect();
    assert_eq!(per_rep, ["alice"], "a rep's figures only");
    let export = app
        .send_as("alice", Method::GET, "/api/leads/export", None)
        .await;
    assert_eq!(export.status(), 403, "exports are for managers");
    let exported: ApiList = app
        .send_as("mia", Method::GET, "/api/leads/export", None)
        .await
        .json()
        .await
        .expect("an export page");
    assert_eq!(exported.count, 3, "a manager exports every lead");

    let hidden = format!("/api/leads/{}", zoes.id);
    for (method, path, body) in [
        (Method::GET, hidden.clone(), None),
        (Method::GET, format!("{hidden}/activity"), None),
        (
            Method::PATCH,
            hidden.clone(),
            Some(json!({"notes": "mine now"})),
        ),
        (Method::POST, format!("{hidden}/claim"), None),
        (Method::POST, format!("{hidden}/release"), None),
    ] {
        let response = app.send_as("alice", method.clone(), &path, body).await;
        assert_eq!(response.status(), 404, "{method} {path}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(
            error["error"]["message"],
            format!("no lead with id {}", zoes.id),
            "as if it did not exist"
        );
    }
    for path in [hidden.clone(), format!("/api/leads/{}", nobodys.id)] {
        let response = app.send_as("mia", Method::GET, &path, None).await;
        assert_eq!(response.status(), 200, "the manager sees {path}");
    }

    // The event stream: a change to zoe's lead reaches alice as a bare `hidden` with its id,
    // so her dashboard drops it; a change to an unowned lead arrives whole.
    let mut events = app.send_as("alice", Method::GET, "/api/events", None).await;
    assert_eq!(events.status(), 200);
    for lead in [&zoes, &nobodys] {
        let noted = app
            .send_as(
                "ada",
                Method::PATCH,
                &format!("/api/leads/{}", lead.id),
                Some(json!({"notes": "Jane's secret plans"})),
            )
            .await;
        assert_eq!(noted.status(), 200);
    }
    let seen = events_until(&mut events, Instant::now() + Duration::from_millis(1500)).await;
    let hidden_events: Vec<&(String, String)> =
        seen.iter().filter(|(event, _)| event == "hidden").collect();
    assert_eq!(hidden_events.len(), 1, "{seen:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&hidden_events[0].1).unwrap(),
        json!({ "id": zoes.id })
    );
    let whole: Vec<Lead> = seen
        .iter()
        .filter(|(event, _)| event == "lead")
        .map(|(_, data)| serde_json::from_str(data).expect("a lead"))
        .collect();
    assert_eq!(
        whole.iter().map(|lead| lead.id).collect::<Vec<_>>(),
        [nobodys.id]
    );
    assert!(
        !seen
            .iter()
            .any(|(event, data)| event != "lead" && data.contains("secret")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn visibility_own_on_sqlite() {
    reps_see_their_own_and_unowned_leads(Backend::Sqlite).await;
}

#[tokio::test]
async fn visibility_own_on_supabase() {
    reps_see_their_own_and_unowned_leads(Backend::Supabase).await;
}
