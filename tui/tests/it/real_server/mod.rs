//! The real server, for the dashboard's tests of its reads: started in-process with a Graph API
//! stand-in, and a dashboard client that talks to it.

use std::time::Duration;

use leadhook::client::Client;
use leadhook::config::Settings;
use leadhook_server::config::{Config, ServeArgs};
use leadhook_server::store::copy::write_history;
use leadhook_server::store::sqlite::SqliteStore;
use leadhook_sim::{
    DEFAULT_AD_ACCOUNT_ID, DEFAULT_DATASET_ID, GraphStandin, PastMonth, TestServer, TestSettings,
};

/// The app secret the server checks webhooks with.
pub const APP_SECRET: &str = "dashboard-app-secret";
const REP_TOKEN: &str = "dashboard-rep-token";
/// A token in the role-less form, `name:token`, has every power; this one has the rep role only.
pub const REP_ROLE_TOKEN: &str = "dashboard-rep-role-token";
/// A manager: sees the insights.
pub const MANAGER_TOKEN: &str = "dashboard-manager-token";

/// A server on a fresh data directory, sending lead stages to Meta's CRM dataset when `capi`.
pub async fn server(capi: bool) -> (tempfile::TempDir, GraphStandin, TestServer) {
    server_with(|args| {
        if capi {
            args.fb_dataset_id = Some(DEFAULT_DATASET_ID.into());
        }
    })
    .await
}

/// A server on a fresh data directory, its settings changed by `configure`.
pub async fn server_with(
    configure: impl FnOnce(&mut ServeArgs),
) -> (tempfile::TempDir, GraphStandin, TestServer) {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = TestSettings {
        app_secret: APP_SECRET.into(),
        verify_token: "dashboard-verify-token".into(),
        page_token: "dashboard-page-token".into(),
        api_tokens: format!("rep:{REP_TOKEN},walker:rep:{REP_ROLE_TOKEN}"),
    };
    let graph = settings.spawn_graph().await.expect("Graph API stand-in");
    let mut args = settings.serve_args(&graph.base_url(), dir.path());
    configure(&mut args);
    let config = Config::from_args(args).expect("valid settings");
    let server = TestServer::start(config, leadhook_server::intake::DEFAULT_RETRY)
        .await
        .expect("server starts");
    (dir, graph, server)
}

/// A server whose store already holds `month` (written as `store copy` writes, before it
/// starts), with a manager and the simulated ad account, whose spend Meta's stand-in reports.
pub async fn server_with_history(
    month: &PastMonth,
) -> (tempfile::TempDir, GraphStandin, TestServer) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("leads.db"))
        .await
        .expect("a fresh store");
    write_history(&store, month.leads.clone(), month.activity.clone())
        .await
        .expect("the month is written");
    drop(store);
    let settings = TestSettings {
        app_secret: APP_SECRET.into(),
        verify_token: "dashboard-verify-token".into(),
        page_token: "dashboard-page-token".into(),
        api_tokens: format!(
            "boss:manager:{MANAGER_TOKEN},walker:rep:{REP_ROLE_TOKEN},rep:{REP_TOKEN}"
        ),
    };
    let graph = settings.spawn_graph().await.expect("Graph API stand-in");
    let mut args = settings.serve_args(&graph.base_url(), dir.path());
    args.fb_ad_account_id = Some(DEFAULT_AD_ACCOUNT_ID.into());
    let config = Config::from_args(args).expect("valid settings");
    let server = TestServer::start(config, leadhook_server::intake::DEFAULT_RETRY)
        .await
        .expect("server starts");
    (dir, graph, server)
}

/// The dashboard's client of `server`, signed in as a manager.
pub fn manager_client(server: &TestServer) -> Client {
    client_with(server, MANAGER_TOKEN)
}

/// The dashboard's client of `server`, signed in as a rep with every power.
pub fn client(server: &TestServer) -> Client {
    client_with(server, REP_TOKEN)
}

/// The dashboard's client of `server`, signed in as a rep whose role is `rep`.
pub fn rep_role_client(server: &TestServer) -> Client {
    client_with(server, REP_ROLE_TOKEN)
}

fn client_with(server: &TestServer, token: &str) -> Client {
    Client::new(&Settings {
        server: server.base_url(),
        token: Some(token.into()),
        interval: Duration::from_secs(3),
        notify: false,
        hyperlinks: Default::default(),
        open: Default::default(),
    })
}
