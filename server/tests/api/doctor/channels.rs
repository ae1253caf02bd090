//! `doctor`'s channel checks: one per channel of the channels file, passing when its receiver
//! answers (for e-mail: the SMTP greeting and the login, against a real SMTP server), failing
//! with a fix when not, and never sending a message.

use leadhook_server::doctor::{self, Verdict};

use super::{args, healthy_graph};
use crate::outbound::smtp::SmtpServer;
use crate::outbound::standins::{Fault, Service, StandIns};

#[tokio::test]
async fn each_channel_is_checked_without_sending_anything() {
    let stand_ins = StandIns::spawn(|_, _| Fault::None).await;
    let smtp = SmtpServer::start(0, Some(("leadhook", "right")));
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let secret = |name: &str, value: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, value).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path.display().to_string()
    };
    let email = |name: &str, password: &str| {
        format!(
            "[email.{name}]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nusername = \"leadhook\"\n\
             secret_file = \"{}\"\nfrom = \"a@example.com\"\nto = [\"b@example.com\"]\n\
             events = [\"lead.created\"]\n",
            smtp.port,
            secret(name, password)
        )
    };
    let file = dir.path().join("channels.toml");
    std::fs::write(
        &file,
        format!(
            "[slack.up]\nsecret_file = \"{}\"\nevents = [\"lead.created\"]\n\
             [telegram.down]\nsecret_file = \"{}\"\nchat_id = 1\napi_url = \"http://127.0.0.1:{closed}\"\n\
             events = [\"lead.created\"]\n{}{}",
            secret("slack", &stand_ins.slack_url()),
            secret("bot", "1:AAx"),
            email("mail", "right"),
            email("badlogin", "wrong"),
        ),
    )
    .unwrap();
    let graph = healthy_graph().await;
    let data = tempfile::tempdir().unwrap();
    let mut args = args(&graph, data.path());
    args.serve.channels = Some(file);

    let checks = doctor::run(&args).await;
    let channels: Vec<&Verdict> = checks
        .iter()
        .filter(|c| c.name == "channel")
        .map(|c| &c.verdict)
        .collect();
    assert_eq!(channels.len(), 4, "{}", doctor::render(&checks));
    let [up, down, badlogin, mail] = channels.as_slice() else {
        unreachable!()
    };
    assert!(
        matches!(up, Verdict::Pass(detail) if detail.starts_with("up (slack): 127.0.0.1 answers on port")
            && detail.contains("channels test up")),
        "{up:?}"
    );
    assert!(
        matches!(down, Verdict::Fail { problem, fix } if problem.starts_with("down (telegram): cannot connect to 127.0.0.1")
            && fix.contains("reaches the host")),
        "{down:?}"
    );
    assert!(
        matches!(mail, Verdict::Pass(detail) if detail.contains("answers and takes the login")),
        "{mail:?}"
    );
    assert!(
        matches!(badlogin, Verdict::Fail { problem, fix } if problem.starts_with("badlogin (email): the SMTP server 127.0.0.1")
            && fix.contains("username and the password")),
        "{badlogin:?}"
    );
    let rendered = doctor::render(&checks);
    assert!(
        !rendered.contains("AAx") && !rendered.contains("SECRET"),
        "{rendered}"
    );
    assert!(
        stand_ins.received(Service::Slack).is_empty(),
        "doctor sent a message"
    );
    assert!(smtp.mails().is_empty(), "doctor sent a mail");
}
