//! The dashboard's "Meta:" status part against the real server: what `/api/health` says about
//! the lead stages sent to the Graph API stand-in's CRM dataset.

use std::time::Duration;

use leadhook::client::{Client, MetaFeedback};
use leadhook::config::Settings;
use leadhook_server::config::Config;
use leadhook_sim::{DEFAULT_DATASET_ID, TestServer, TestSettings};

const REP_TOKEN: &str = "feedback-rep-token";

async fn server(capi: bool) -> (tempfile::TempDir, leadhook_sim::GraphStandin, TestServer) {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = TestSettings {
        app_secret: "feedback-app-secret".into(),
        verify_token: "feedback-verify-token".into(),
        page_token: "feedback-page-token".into(),
        api_tokens: format!("rep:{REP_TOKEN}"),
    };
    let graph = settings.spawn_graph().await.expect("Graph API stand-in");
    let mut args = settings.serve_args(&graph.base_url(), dir.path());
    if capi {
        args.fb_dataset_id = Some(DEFAULT_DATASET_ID.into());
    }
    let config = Config::from_args(args).expect("valid settings");
    let server = TestServer::start(config, Default::default())
        .await
        .expect("server starts");
    (dir, graph, server)
}

fn client(server: &TestServer) -> Client {
    Client::new(&Settings {
        server: server.base_url(),
        token: Some(REP_TOKEN.into()),
        interval: Duration::from_secs(3),
        notify: false,
    })
}

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
