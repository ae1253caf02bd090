//! Reps and tokens in the store: `leadhook-server reps ...` run as a binary, its tokens logging in
//! to a running server, and rotations and removals reaching every replica of a shared store.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use chrono::Utc;
use leadhook_local_supabase::LocalSupabase;
use leadhook_server::reps::token;
use leadhook_server::store::postgrest::{MIGRATIONS, PostgrestStore};
use leadhook_server::store::{RepDirectory, Rotation};
use leadhook_shared::Role;
use leadhook_shared::team::actor::SYSTEM;
use reqwest::StatusCode;

use crate::helpers::*;
use crate::replicas::Replica;

/// A change to the reps must reach every server within this.
const REACH: Duration = Duration::from_secs(5);

/// `leadhook-server reps <args>` on the embedded store in `data_dir`, with nothing else set.
fn reps(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(server_binary())
        .arg("reps")
        .args(args)
        .env_clear()
        .env("LEADHOOK_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("leadhook-server runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The token a successful `add` or `rotate` printed: the only line on standard output.
fn printed_token(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    let out = stdout(output);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "only the token goes to stdout: {out}");
    assert!(lines[0].starts_with(token::PREFIX), "{out}");
    assert!(
        stderr(output).contains("will not be shown again"),
        "{output:?}"
    );
    lines[0].to_string()
}

/// The status of `GET /api/reps/me` with `token`.
async fn status_with(client: &reqwest::Client, base: &str, token: &str) -> StatusCode {
    client
        .get(format!("{base}/api/reps/me"))
        .bearer_auth(token)
        .send()
        .await
        .map(|response| response.status())
        .unwrap_or(StatusCode::BAD_GATEWAY)
}

/// Polls until `token` gets `expected` from the server at `base`, for at most [`REACH`]. A
/// refusal may come as 429 instead of 401: polling for a token that is not valid yet counts as
/// failed logins, and the server throttles them (a valid token still gets through).
async fn until_status(client: &reqwest::Client, base: &str, token: &str, expected: StatusCode) {
    let refused = |status: StatusCode| {
        [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&status)
    };
    let matches = |status: &StatusCode| {
        *status == expected || (expected == StatusCode::UNAUTHORIZED && refused(*status))
    };
    let seen = poll_until(REACH, || status_with(client, base, token), matches).await;
    assert!(
        matches(&seen),
        "{base} with {token}: {seen}, expected {expected}"
    );
}

#[test]
fn reps_commands_add_list_rotate_change_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let first = printed_token(&reps(data, &["add", "ann", "--role", "manager"]));

    let taken = reps(data, &["add", "ann", "--role", "rep"]);
    assert_eq!(taken.status.code(), Some(1));
    assert!(stderr(&taken).contains("exists already"), "{taken:?}");
    assert!(stdout(&taken).is_empty());
    for bad in ["a:b", "system", ""] {
        let refused = reps(data, &["add", bad, "--role", "rep"]);
        assert_eq!(refused.status.code(), Some(1), "{bad:?}: {refused:?}");
        assert!(stderr(&refused).contains("invalid rep name"), "{refused:?}");
    }

    let list = stdout(&reps(data, &["list"]));
    let rows: Vec<Vec<&str>> = list
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        ["NAME", "ROLE", "CREATED", "LAST", "USED"],
        "{list}"
    );
    assert_eq!(rows.len(), 2, "{list}");
    assert_eq!(
        (rows[1][0], rows[1][1], rows[1][5]),
        ("ann", "manager", "never")
    );
    assert!(!list.contains(&first), "a list never shows tokens");

    let second = printed_token(&reps(data, &["rotate", "ann", "--grace", "1h"]));
    assert_ne!(first, second);
    let unknown = reps(data, &["rotate", "bob"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("reps list"), "{unknown:?}");

    assert!(reps(data, &["set-role", "ann", "admin"]).status.success());
    assert!(stdout(&reps(data, &["list"])).contains("admin"));

    let removed = reps(data, &["remove", "ann"]);
    assert!(removed.status.success(), "{removed:?}");
    assert!(stdout(&removed).contains("0 open lead(s)"), "{removed:?}");
    let empty = reps(data, &["list"]);
    assert!(
        stdout(&empty).is_empty() && stderr(&empty).contains("reps add"),
        "{empty:?}"
    );
}

/// A token made by `reps add` logs in to the running server without a restart and the rep joins
/// the team; a rotated-away token works for its grace period only; a removed rep is refused.
#[tokio::test]
async fn tokens_from_reps_add_log_in_until_rotated_away_or_removed() {
    let app = spawn_app().await;
    let (client, base, data) = (&app.client, app.address.as_str(), app.data_dir());
    let first = printed_token(&reps(data, &["add", "carol", "--role", "rep"]));
    until_status(client, base, &first, StatusCode::OK).await;
    let me: serde_json::Value = client
        .get(app.url("/api/reps/me"))
        .bearer_auth(&first)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (me["data"]["name"].as_str(), me["data"]["role"].as_str()),
        (Some("carol"), Some("rep"))
    );
    let team: serde_json::Value = app.api_get("/api/reps").await.json().await.unwrap();
    let names: Vec<&str> = team["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|rep| rep["name"].as_str())
        .collect();
    assert_eq!(names, ["alice", "bob", "carol"]);

    let second = printed_token(&reps(data, &["rotate", "carol", "--grace", "3s"]));
    until_status(client, base, &second, StatusCode::OK).await;
    assert_eq!(
        status_with(client, base, &first).await,
        StatusCode::OK,
        "within the grace"
    );
    until_status(client, base, &first, StatusCode::UNAUTHORIZED).await;

    assert!(reps(data, &["remove", "carol"]).status.success());
    until_status(client, base, &second, StatusCode::UNAUTHORIZED).await;
    assert_eq!(status_with(client, base, REP_TOKEN).await, StatusCode::OK);
}

/// Two servers on one Supabase: a rep added, rotated and removed through the store counts on both
/// within [`REACH`], and their use is recorded.
#[tokio::test]
async fn rotations_and_removals_reach_every_replica() {
    let supabase = LocalSupabase::with_migrations(MIGRATIONS).await;
    let graph = spawn_graph().await;
    let (one, two) = (
        Replica::start(&graph, &supabase, |_| {}).await,
        Replica::start(&graph, &supabase, |_| {}).await,
    );
    let store =
        PostgrestStore::new(&supabase.base_url, supabase.secret_key().to_string().into()).unwrap();
    let first = "lhk_first-token-of-dana";
    assert!(
        store
            .add_rep("dana", Role::Rep, &token::hash(first), Utc::now())
            .await
            .unwrap()
    );
    for replica in [&one, &two] {
        until_status(&replica.client, &replica.address, first, StatusCode::OK).await;
    }
    let used = poll_until(
        REACH,
        || async { store.list_reps().await.unwrap()[0].last_used_at },
        Option::is_some,
    )
    .await;
    assert!(used.is_some(), "the use of dana's token is recorded");

    let second = "lhk_second-token-of-dana";
    let rotation = Rotation {
        token_hash: &token::hash(second),
        previous_valid_until: None,
    };
    assert!(store.rotate_rep("dana", rotation).await.unwrap());
    for replica in [&one, &two] {
        until_status(
            &replica.client,
            &replica.address,
            first,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        until_status(&replica.client, &replica.address, second, StatusCode::OK).await;
    }

    assert_eq!(store.remove_rep("dana", SYSTEM).await.unwrap(), Some(0));
    for replica in [&one, &two] {
        until_status(
            &replica.client,
            &replica.address,
            second,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
}
