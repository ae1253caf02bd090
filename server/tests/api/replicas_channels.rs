//! Two servers on one Supabase with different channels files, as in a rolling deploy: A runs the
//! newer file (a Slack channel), B starts after it with the older one (a Teams channel only).
//! B's start takes away none of A's routes, so a lead that arrives at B reaches A's Slack channel
//! (sent by A, the one server that has it) and B's Teams channel, once each; B never touches the
//! channel it does not know.

use std::sync::Arc;
use std::time::Duration;

use leadhook_local_supabase::LocalSupabase;
use leadhook_server::config::load_channels;
use leadhook_sim::harness::poll_until;

use crate::helpers::*;
use crate::outbound::standins::{Fault, Service, StandIns};
use crate::replicas::Replica;

/// A channels file of one table, `table`, whose secret (a webhook URL) is `url`.
fn channels(dir: &std::path::Path, table: &str, url: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let secret = dir.join(format!("{table}-url"));
    std::fs::write(&secret, url).expect("write the secret");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let path = dir.join(format!("{table}.toml"));
    std::fs::write(
        &path,
        format!(
            "[{table}]\nsecret_file = \"{}\"\nevents = [\"lead.created\"]\n",
            secret.display()
        ),
    )
    .expect("write the channels file");
    path
}

/// The routes in force in the store, as `destination/event` strings.
async fn routes(supabase: &LocalSupabase) -> Vec<String> {
    let client = supabase.database.connect().await;
    client
        .query(
            "select destination || '/' || event_type from public.outbox_routes order by 1",
            &[],
        )
        .await
        .expect("routes")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
async fn a_server_started_with_an_older_channels_file_takes_away_no_route_of_a_newer_one() {
    let supabase =
        LocalSupabase::with_migrations(leadhook_server::store::postgrest::MIGRATIONS).await;
    let graph = spawn_graph().await;
    let stand_ins = StandIns::spawn(|_, _| Fault::None).await;
    let dir = tempfile::tempdir().expect("dir");
    let newer = channels(dir.path(), "slack.team", &stand_ins.slack_url());
    let older = channels(dir.path(), "teams.old", &stand_ins.teams_url());
    let with = |path: std::path::PathBuf| {
        move |config: &mut leadhook_server::config::Config| {
            config.channels = load_channels(Some(&path))
                .expect("valid file")
                .map(Arc::new);
        }
    };

    let _a = Replica::start(&graph, &supabase, with(newer)).await;
    poll_until(
        Duration::from_secs(10),
        || routes(&supabase),
        |routes| routes.contains(&"team/lead.created".to_string()),
    )
    .await;
    let b = Replica::start(&graph, &supabase, with(older)).await;
    let both = poll_until(
        Duration::from_secs(10),
        || routes(&supabase),
        |routes| routes.contains(&"old/lead.created".to_string()),
    )
    .await;
    assert_eq!(both, ["old/lead.created", "team/lead.created"]);

    graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("770101", &[("full_name", &["Rolling Deploy"])]),
    );
    assert_eq!(b.post_signed(&notification(&["770101"])).await, 200);
    for service in [Service::Slack, Service::Teams] {
        let received = poll_until(
            Duration::from_secs(30),
            || async { stand_ins.received(service) },
            |received| !received.is_empty(),
        )
        .await;
        assert!(
            received[0].body.to_string().contains("Rolling Deploy"),
            "{service:?}: {received:?}"
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for service in [Service::Slack, Service::Teams] {
        let received = stand_ins.received(service);
        assert_eq!(received.len(), 1, "{service:?} once: {received:?}");
        assert_eq!(received[0].status / 100, 2, "{service:?}: {received:?}");
    }
    let figures = b.health().await;
    assert!(
        figures["outbox"]["destinations"]["team"]["failed"]
            .as_u64()
            .unwrap_or_default()
            == 0,
        "B dead-letters nothing of a channel it does not know: {figures:#}"
    );
}
