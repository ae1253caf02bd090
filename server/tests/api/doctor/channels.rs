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

#[tokio::test]
async fn first_message_channels_are_checked_against_the_providers_without_messaging_anyone() {
    use leadhook_sim::messaging_standin::{
        PHONE_NUMBER_ID, TWILIO_SID, TWILIO_TOKEN, WABA_ID, WHATSAPP_TOKEN,
    };
    use leadhook_sim::{Api, MessagingFault, MessagingStandin};

    let standin = MessagingStandin::spawn(|_, _| MessagingFault::None).await;
    let dir = tempfile::tempdir().unwrap();
    let secret = |name: &str, value: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, value).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path.display().to_string()
    };
    let rules = "forms = [\"all\"]\nconsent_checkbox = \"optin\"\n";
    let whatsapp = |name: &str, template: &str| {
        format!(
            "[whatsapp.{name}]\nphone_number_id = \"{PHONE_NUMBER_ID}\"\nwaba_id = \"{WABA_ID}\"\n\
             secret_file = \"{}\"\ntemplate = \"{template}\"\nbusiness_name = \"Acme\"\n\
             api_url = \"{}\"\nevents = [\"lead.created\"]\n[whatsapp.{name}.rules]\n{rules}",
            secret("wa", WHATSAPP_TOKEN),
            standin.whatsapp_api()
        )
    };
    let sms = |name: &str, token: &str| {
        format!(
            "[sms.{name}]\naccount_sid = \"{TWILIO_SID}\"\nsecret_file = \"{}\"\n\
             from = \"+15550001111\"\nbody = \"Hi {{first_name}}\"\nbusiness_name = \"Acme\"\n\
             api_url = \"{}\"\nevents = [\"lead.created\"]\n[sms.{name}.rules]\n{rules}",
            secret(name, token),
            standin.base
        )
    };
    let file = dir.path().join("channels.toml");
    let text = [
        whatsapp("approved", "first_contact"),
        whatsapp("pending", "new_offer"),
        whatsapp("missing", "no_such_template"),
        sms("texts", TWILIO_TOKEN),
        sms("wrongtoken", "not-the-token"),
    ]
    .join("\n");
    std::fs::write(&file, text).unwrap();
    let graph = healthy_graph().await;
    let data = tempfile::tempdir().unwrap();
    let mut args = args(&graph, data.path());
    args.serve.channels = Some(file);

    let checks = doctor::run(&args).await;
    let verdict = |label: &str| {
        checks
            .iter()
            .filter(|c| c.name == "first message")
            .map(|c| &c.verdict)
            .find(|v| match v {
                Verdict::Pass(detail) => detail.starts_with(label),
                Verdict::Fail { problem, .. } | Verdict::Warn { problem, .. } => {
                    problem.starts_with(label)
                }
            })
            .unwrap_or_else(|| panic!("no check of {label}: {}", doctor::render(&checks)))
    };
    assert!(
        matches!(verdict("approved (whatsapp)"), Verdict::Pass(d) if d.contains("is approved")),
        "{}",
        doctor::render(&checks)
    );
    assert!(matches!(
        verdict("pending (whatsapp)"),
        Verdict::Fail { problem, .. } if problem.contains("PENDING")
    ));
    assert!(matches!(
        verdict("missing (whatsapp)"),
        Verdict::Fail { problem, .. } if problem.contains("no template no_such_template")
    ));
    assert!(matches!(verdict("texts (sms)"), Verdict::Pass(_)));
    assert!(matches!(
        verdict("wrongtoken (sms)"),
        Verdict::Fail { problem, .. } if problem.contains("refused")
    ));
    assert!(
        standin.arrived(Api::WhatsApp).is_empty() && standin.arrived(Api::Sms).is_empty(),
        "doctor messages nobody"
    );
}
