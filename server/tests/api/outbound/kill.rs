//! The server SIGKILLed mid-send, for the kinds with no idempotency key (chat, push, e-mail):
//! the receiver holds the request unanswered, the server is killed and started again on the same
//! data dir, and the message arrives: at least once, as the README promises, never zero times
//! (the lease of the killed attempt ends, and the delivery is sent again). The webhook kind's
//! version, with the same id checked, is in the module above.

use std::path::Path;
use std::time::Duration;

use leadhook_sim::ServerProcess;
use leadhook_sim::harness::poll_until;

use super::ntfy_standin::NtfyStandin;
use super::smtp::SmtpServer;
use super::standins::{BOT_TOKEN, Fault, Service, StandIns};
use super::{process_with_channels, secret_file, write_channels};
use crate::helpers::{
    FORM_ID, PAGE_ID, graph_lead, notification, post_signed, server_binary, spawn_graph,
};

/// A receiver of one kind that can hold what arrives, and say what it took.
enum Held {
    Chat(StandIns, Service),
    Ntfy(NtfyStandin),
    /// The SMTP server holds mails while the file exists.
    Email(SmtpServer, tempfile::TempDir),
}

impl Held {
    async fn start(kind: &str) -> Held {
        let chat = |service| async move {
            let stand_ins = StandIns::spawn(|_, _| Fault::None).await;
            stand_ins.hold(true);
            Held::Chat(stand_ins, service)
        };
        match kind {
            "slack" => chat(Service::Slack).await,
            "teams" => chat(Service::Teams).await,
            "telegram" => chat(Service::Telegram).await,
            "ntfy" => {
                let ntfy = NtfyStandin::spawn(None).await;
                ntfy.hold(true);
                Held::Ntfy(ntfy)
            }
            "email" => {
                let dir = tempfile::tempdir().expect("dir");
                let flag = dir.path().join("hold");
                std::fs::write(&flag, "").expect("the hold flag");
                Held::Email(SmtpServer::holding(&flag), dir)
            }
            other => panic!("no receiver for {other}"),
        }
    }

    /// The channel's table, named `sales`, taking new leads.
    fn table(&self, dir: &Path) -> String {
        let body = match self {
            Held::Chat(stand_ins, Service::Slack) => {
                let url = secret_file(dir, "slack-url", &stand_ins.slack_url());
                format!("[slack.sales]\nsecret_file = \"{}\"\n", url.display())
            }
            Held::Chat(stand_ins, Service::Teams) => {
                let url = secret_file(dir, "teams-url", &stand_ins.teams_url());
                format!("[teams.sales]\nsecret_file = \"{}\"\n", url.display())
            }
            Held::Chat(stand_ins, Service::Telegram) => {
                let token = secret_file(dir, "bot-token", BOT_TOKEN);
                format!(
                    "[telegram.sales]\nsecret_file = \"{}\"\nchat_id = -100123\napi_url = \"{}\"\n",
                    token.display(),
                    stand_ins.base
                )
            }
            Held::Ntfy(ntfy) => format!(
                "[ntfy.sales]\nserver = \"{}\"\ntopic = \"sales-team-3f9a1c\"\n",
                ntfy.url
            ),
            Held::Email(smtp, _) => format!(
                "[email.sales]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
                 from = \"leadhook@example.com\"\nto = [\"sales@example.com\"]\n",
                smtp.port
            ),
        };
        format!("{body}events = [\"lead.created\"]\ntimeout = \"1s\"\n")
    }

    /// Requests that arrived (held or not).
    fn arrived(&self) -> usize {
        match self {
            Held::Chat(stand_ins, service) => stand_ins.received(*service).len(),
            Held::Ntfy(ntfy) => ntfy.arrived(),
            Held::Email(smtp, _) => smtp.held() + smtp.mails().len(),
        }
    }

    /// The messages taken, as text to look for the lead's name in.
    fn taken(&self) -> Vec<String> {
        match self {
            Held::Chat(stand_ins, service) => stand_ins
                .received(*service)
                .into_iter()
                .filter(|r| (200..300).contains(&r.status))
                .map(|r| r.body.to_string())
                .collect(),
            Held::Ntfy(ntfy) => ntfy
                .published()
                .into_iter()
                .map(|p| p.json.to_string())
                .collect(),
            Held::Email(smtp, _) => smtp.mails().iter().map(|m| m.to_string()).collect(),
        }
    }

    fn release(&self) {
        match self {
            Held::Chat(stand_ins, _) => stand_ins.hold(false),
            Held::Ntfy(ntfy) => ntfy.hold(false),
            Held::Email(_, dir) => std::fs::remove_file(dir.path().join("hold")).expect("release"),
        }
    }
}

#[tokio::test]
async fn a_server_killed_mid_send_still_delivers_to_chat_push_and_email() {
    let graph = spawn_graph().await;
    for (n, kind) in ["slack", "teams", "telegram", "ntfy", "email"]
        .into_iter()
        .enumerate()
    {
        let held = Held::start(kind).await;
        let leadgen_id = format!("12345678901236{n:02}");
        let name = format!("Killed Midsend {kind}");
        graph.add_lead(
            PAGE_ID,
            FORM_ID,
            graph_lead(&leadgen_id, &[("full_name", &[name.as_str()])]),
        );
        let data_dir = tempfile::tempdir().expect("dir");
        let config_dir = tempfile::tempdir().expect("dir");
        let path = write_channels(config_dir.path(), &held.table(config_dir.path()));
        let (server, env) = process_with_channels(&graph, data_dir.path(), &path).await;
        let answer = post_signed(
            &reqwest::Client::new(),
            &server.base_url(),
            notification(&[leadgen_id.as_str()]),
        )
        .await
        .expect("webhook");
        assert_eq!(answer.status(), 200, "{kind}");
        let arrived = poll_until(
            Duration::from_secs(30),
            || async { held.arrived() },
            |&n| n >= 1,
        )
        .await;
        assert!(arrived >= 1, "{kind}: {}", server.log());
        server.kill().expect("SIGKILL");
        assert!(
            held.taken().is_empty(),
            "{kind}: nothing taken before the kill"
        );

        held.release();
        let server = ServerProcess::start(&server_binary(), env)
            .await
            .expect("restart");
        let taken = poll_until(
            Duration::from_secs(30),
            || async { held.taken() },
            |taken| !taken.is_empty(),
        )
        .await;
        assert!(
            !taken.is_empty() && taken.iter().all(|m| m.contains(&name)),
            "{kind}: the message arrived after the restart: {taken:?}\n{}",
            server.log()
        );
    }
}
