//! The dashboard's "Meta:" status part against the real server: what `/api/health` says about
//! the lead stages sent to the Graph API stand-in's CRM dataset.

use leadhook::client::MetaFeedback;

use crate::real_server::{client, server};

#[tokio::test]
async fn the_dashboard_reads_the_servers_meta_feedback() {
    let (_dir, _graph, on) = server(true).await;
    assert_eq!(
        client(&on).meta_feedback().await.expect("health"),
        Some(MetaFeedback {
            enabled: true,
            ..MetaFeedback::default()
        })
    );
    let (_dir, _graph, off) = server(false).await;
    let feedback = client(&off).meta_feedback().await.expect("health");
    assert_eq!(feedback.map(|f| f.enabled), Some(false));
}
