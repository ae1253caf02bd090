//! Every `/api` route × every role × the caller's own lead, another rep's and an unowned one,
//! against the README's table, written out here on its own so that a change to the server's
//! table shows up as a failure. A refused change leaves the lead as it was.

use leadhook_shared::{ApiError, ApiOk, Lead};
use reqwest::Method;
use serde_json::{Value, json};

use super::{Backend, RolesApp, spawn};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Whose {
    Own,
    Others,
    Unowned,
}

/// The owner of the "another rep's lead" of every case.
const OTHER_REP: &str = "zoe";

/// What each role may do to one lead, from the README's table.
fn expected(action: &str, role: &str, whose: Whose) -> u16 {
    let rep = role == "rep";
    match action {
        "show" | "activity" => 200,
        "status" | "notes" | "take" | "unassign" | "release" if rep && whose == Whose::Others => {
            403
        }
        "status" | "notes" | "take" | "unassign" | "release" => 200,
        "give" if rep => 403,
        "give" => 200,
        // Someone else holds it: claiming is refused whoever asks; managers reassign instead.
        "claim" if whose == Whose::Others => 409,
        "claim" => 200,
        "erase" if role == "admin" => 200,
        "erase" => 403,
        other => panic!("no expectation for {other}"),
    }
}

/// The request of `action` on lead `id` by `caller`.
fn request(action: &str, caller: &str, id: i64) -> (Method, String, Option<Value>) {
    let lead = format!("/api/leads/{id}");
    // Someone who is neither the caller nor the other rep.
    let third = if caller == "alice" { "mia" } else { "alice" };
    match action {
        "show" => (Method::GET, lead, None),
        "activity" => (Method::GET, format!("{lead}/activity"), None),
        "status" => (Method::PATCH, lead, Some(json!({"status": "Contacted"}))),
        "notes" => (Method::PATCH, lead, Some(json!({"notes": "called back"}))),
        "take" => (Method::PATCH, lead, Some(json!({ "owner": caller }))),
        "give" => (Method::PATCH, lead, Some(json!({ "owner": third }))),
        "unassign" => (Method::PATCH, lead, Some(json!({"owner": null}))),
        "claim" => (Method::POST, format!("{lead}/claim"), None),
        "release" => (Method::POST, format!("{lead}/release"), None),
        "erase" => (Method::POST, format!("{lead}/erase"), None),
        other => panic!("no request for {other}"),
    }
}

const LEAD_ACTIONS: [&str; 10] = [
    "show", "activity", "status", "notes", "take", "give", "unassign", "claim", "release", "erase",
];

const CALLERS: [(&str, &str); 3] = [("alice", "rep"), ("mia", "manager"), ("ada", "admin")];

async fn lead_as_admin(app: &RolesApp, id: i64) -> Value {
    let mut lead: Value = app
        .send_as("ada", Method::GET, &format!("/api/leads/{id}"), None)
        .await
        .json::<ApiOk<Value>>()
        .await
        .expect("lead")
        .data;
    lead.as_object_mut().map(|lead| lead.remove("updated_at"));
    lead
}

async fn lead_routes(app: &RolesApp) {
    let mut seen = Vec::new();
    for (caller, role) in CALLERS {
        for action in LEAD_ACTIONS {
            for whose in [Whose::Own, Whose::Others, Whose::Unowned] {
                let owner = match whose {
                    Whose::Own => Some(caller),
                    Whose::Others => Some(OTHER_REP),
                    Whose::Unowned => None,
                };
                let lead: Lead = app.lead_owned_by(owner).await;
                let before = lead_as_admin(app, lead.id).await;
                let (method, path, body) = request(action, caller, lead.id);
                let response = app.send_as(caller, method, &path, body).await;
                let status = response.status().as_u16();
                let want = expected(action, role, whose);
                seen.push(format!("{role} {action} {whose:?}: {status}"));
                assert_eq!(
                    status, want,
                    "{role} {caller} {action} on {whose:?} lead ({path})"
                );
                if status == 403 {
                    let error = response.json::<ApiError>().await.expect("error body").error;
                    assert_eq!(error.code, "forbidden");
                    let needed = if action == "erase" {
                        "admin"
                    } else {
                        "manager"
                    };
                    assert!(
                        error.message.contains(&format!("the {needed} role")),
                        "{role} {action}: {}",
                        error.message
                    );
                }
                if status >= 400 {
                    assert_eq!(
                        lead_as_admin(app, lead.id).await,
                        before,
                        "a refused {action} by {role} changed the lead"
                    );
                }
            }
        }
    }
    assert_eq!(seen.len(), CALLERS.len() * LEAD_ACTIONS.len() * 3);
}

/// Routes not about one lead: (method, path, body, status for rep, manager, admin).
fn team_routes() -> Vec<(Method, &'static str, Option<Value>, [u16; 3])> {
    vec![
        (Method::GET, "/api/leads", None, [200, 200, 200]),
        (Method::GET, "/api/leads/export", None, [403, 200, 200]),
        (
            Method::POST,
            "/api/leads",
            Some(json!({"name": "Walk In", "email": "walk@example.com"})),
            [201, 201, 201],
        ),
        // Past the role check, the test server has no pages to sweep.
        (Method::POST, "/api/leads/sync", None, [403, 409, 409]),
        (Method::POST, "/api/inbox/retry", None, [403, 200, 200]),
        (Method::GET, "/api/stats", None, [200, 200, 200]),
        (Method::GET, "/api/reps", None, [200, 200, 200]),
        (Method::GET, "/api/reps/me", None, [200, 200, 200]),
        (
            Method::PUT,
            "/api/reps/me",
            Some(json!({"available": true})),
            [200, 200, 200],
        ),
        (Method::GET, "/api/health", None, [200, 200, 200]),
        (Method::GET, "/api/events", None, [200, 200, 200]),
    ]
}

async fn other_routes(app: &RolesApp) {
    for (method, path, body, statuses) in team_routes() {
        for ((caller, role), want) in CALLERS.into_iter().zip(statuses) {
            let response = app
                .send_as(caller, method.clone(), path, body.clone())
                .await;
            assert_eq!(response.status().as_u16(), want, "{role} {method} {path}");
        }
    }
    let anonymous = app.client.get(app.url("/api/leads")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// A rep's `/api/stats` holds their own figures only; a manager's holds everyone's.
async fn per_rep_figures(app: &RolesApp) {
    let names = |stats: Value| -> Vec<String> {
        stats["per_rep"]
            .as_array()
            .expect("per_rep")
            .iter()
            .map(|rep| rep["name"].as_str().unwrap().to_string())
            .collect()
    };
    let stats_of = |caller: &'static str| async move {
        app.send_as(caller, Method::GET, "/api/stats", None)
            .await
            .json::<ApiOk<Value>>()
            .await
            .expect("stats")
            .data
    };
    assert_eq!(names(stats_of("alice").await), ["alice"]);
    assert_eq!(names(stats_of("mia").await), ["alice", "zoe", "mia", "ada"]);
}

#[tokio::test]
async fn the_role_table_holds_on_sqlite() {
    let app = spawn(Backend::Sqlite, "team").await;
    lead_routes(&app).await;
    other_routes(&app).await;
    per_rep_figures(&app).await;
}

#[tokio::test]
async fn the_role_table_holds_on_supabase() {
    let app = spawn(Backend::Supabase, "team").await;
    lead_routes(&app).await;
    other_routes(&app).await;
    per_rep_figures(&app).await;
}
