//! The dashboard's status-bar parts about what leaves the server, against the real server: what
//! `/api/health` says about the lead stages sent to the Graph API stand-in's CRM dataset
//! ("Meta:"), and about the channels that are not delivering.

use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use leadhook::client::{MetaFeedback, OutboundFeedback};
use leadhook_shared::NewManualLead;

use crate::real_server::{client, server, server_with};

#[tokio::test]
async fn the_dashboard_reads_the_servers_meta_feedback() {
    let (_dir, _graph, on) = server(true).await;
    assert_eq!(
        client(&on).outbound_feedback().await.expect("health"),
        OutboundFeedback {
            meta: Some(MetaFeedback {
                enabled: true,
                ..MetaFeedback::default()
            }),
            troubled: Vec::new(),
        }
    );
    let (_dir, _graph, off) = server(false).await;
    let feedback = client(&off).outbound_feedback().await.expect("health");
    assert_eq!(feedback.meta.map(|f| f.enabled), Some(false));
}

/// A Slack channel whose webhook answers nobody: its deliveries end dead-lettered, and the
/// dashboard learns which channel and how many, never the channel's secret URL.
#[tokio::test]
async fn the_dashboard_learns_which_channel_is_not_delivering() {
    let files = tempfile::tempdir().expect("temp dir");
    let secret = files.path().join("slack-url");
    std::fs::write(&secret, "http://127.0.0.1:9/services/T0/B0/SECRET").expect("secret file");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let channels = files.path().join("channels.toml");
    std::fs::write(
        &channels,
        format!(
            "[slack.sales]\nsecret_file = \"{}\"\nevents = [\"lead.created\"]\ntimeout = \"200ms\"\nexpire_after = \"1s\"\n",
            secret.display()
        ),
    )
    .expect("channels file");
    let (_dir, _graph, server) = server_with(|args| args.channels = Some(channels.clone())).await;
    let client = client(&server);
    client
        .create_lead(&NewManualLead {
            name: "Walk-in".into(),
            phone: Some("+15550000001".into()),
            ..NewManualLead::default()
        })
        .await
        .expect("lead added");
    let mut feedback = OutboundFeedback::default();
    for _ in 0..100 {
        feedback = client.outbound_feedback().await.expect("health");
        if feedback.troubled.iter().any(|channel| channel.failed > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let [trouble] = feedback.troubled.as_slice() else {
        panic!("one troubled channel: {feedback:?}")
    };
    assert_eq!(
        (trouble.destination.as_str(), trouble.failed),
        ("sales", 1),
        "{feedback:?}"
    );
    assert!(
        !format!("{feedback:?}").contains("SECRET"),
        "the channel's URL reached the dashboard: {feedback:?}"
    );
}
