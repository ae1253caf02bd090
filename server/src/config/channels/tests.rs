use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::ExposeSecret;

use super::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

const SLACK_URL: &str = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX";
const BOT_TOKEN: &str = "123456789:AAHsecretSECRETsecret_-x";

fn env(name: &str) -> Option<String> {
    match name {
        "CRM_SECRET" => Some(SECRET.to_string()),
        "SLACK_URL" => Some(SLACK_URL.to_string()),
        "TEAMS_URL" => Some("https://example.webhook.office.com/workflows/1?sig=SECRETSIG".into()),
        "BOT_TOKEN" => Some(BOT_TOKEN.to_string()),
        "SMTP_PASSWORD" => Some("hunter2".to_string()),
        "NOT_A_URL" => Some("hooks.slack.com/SECRETPATH".to_string()),
        "HTTP_URL" => Some("http://hooks.example.com/SECRETPATH".to_string()),
        _ => None,
    }
}

fn read(text: &str) -> Result<ChannelsConfig, String> {
    parse(Path::new("/etc/leadhook/channels.toml"), text, &env).map_err(|e| e.to_string())
}

#[test]
fn a_webhook_reads_with_its_routes_and_defaults() {
    let config = read(
        r#"
[webhooks.crm]
url = "https://crm.example.com/hooks"
secret_env = "CRM_SECRET"
events = ["lead.created", "lead.status_changed"]
timeout = "2s"
"#,
    )
    .unwrap();
    let [channel] = config.channels.as_slice() else {
        panic!("one channel")
    };
    assert_eq!(channel.name, "crm");
    assert_eq!(channel.timeout, Duration::from_secs(2));
    assert_eq!(channel.concurrency, DEFAULT_CHANNEL_CONCURRENCY);
    assert_eq!(channel.expire_after, DEFAULT_CHANNEL_EXPIRY);
    let ChannelKind::Webhook(hook) = &channel.kind else {
        panic!("a webhook: {channel:?}")
    };
    assert_eq!(
        hook.key.expose_secret().as_slice(),
        STANDARD.decode(&SECRET[6..]).unwrap()
    );
    let routes: Vec<(String, &str)> = config
        .routes()
        .into_iter()
        .map(|r| (r.destination, r.event_type.as_str()))
        .collect();
    assert_eq!(
        routes,
        [
            ("crm".to_string(), "lead.created"),
            ("crm".to_string(), "lead.status_changed")
        ]
    );
}

#[test]
fn mistakes_name_the_line_the_problem_and_the_fix() {
    let cases = [
        (
            "[webhooks.crm]\nurl = \"https://x.example\"\nsecret_env = \"CRM_SECRET\"\nevents = [\"lead.created\"]\nurll = 1\n",
            "line 5, column 1: unknown field `urll`",
        ),
        (
            "[webhooks.crm]\nurl = \"ftp://x.example\"\nsecret_env = \"CRM_SECRET\"\nevents = [\"lead.created\"]\n",
            "line 2, column 7: url must be an http:// or https:// address",
        ),
        (
            "[webhooks.crm]\nurl = \"https://x.example\"\nsecret_env = \"CRM_SECRET\"\nevents = [\"lead.created\", \"lead.deleted\"]\n",
            "line 4, column 27: unknown event \"lead.deleted\"; known: lead.created, lead.assigned, lead.status_changed, lead.escalated",
        ),
        (
            "[webhooks.crm]\nurl = \"https://x.example\"\nsecret_env = \"NOT_SET\"\nevents = [\"lead.created\"]\n",
            "line 3, column 14: the environment variable NOT_SET named by secret_env is not set",
        ),
        (
            "[webhooks.crm]\nurl = \"https://x.example\"\nevents = [\"lead.created\"]\n",
            "exactly one of secret_env or secret_file",
        ),
        (
            "[webhooks.capi]\nurl = \"https://x.example\"\nsecret_env = \"CRM_SECRET\"\nevents = [\"lead.created\"]\n",
            "and not \"capi\"",
        ),
        (
            "[webhooks.crm]\nurl = \"https://x.example\"\nsecret_env = \"CRM_SECRET\"\nevents = [\"lead.created\"]\nconcurrency = 0\n",
            "line 5, column 15: concurrency must be from 1 to 32",
        ),
        (
            "[webhooks.crm]\nurl = \"https://x.example\"\nsecret_env = \"CRM_SECRET\"\nevents = [\"lead.created\"]\nexpire_after = \"forever\"\n",
            "line 5, column 16: \"forever\" must be a duration like 10s or 24h",
        ),
    ];
    for (text, expected) in cases {
        let error = read(text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"));
        assert!(error.contains(expected), "{error}\nexpected: {expected}");
        assert!(
            error.starts_with("LEADHOOK_CHANNELS is invalid: /etc/leadhook/channels.toml"),
            "{error}"
        );
        assert!(
            error.contains("fix the file") || error.contains("see the README"),
            "{error}"
        );
    }
}

#[test]
fn a_secret_that_is_not_a_standard_webhooks_secret_is_refused_without_showing_it() {
    let bad = |name: &str| (name == "S").then(|| "whsec_not base64!".to_string());
    let error = parse(
        Path::new("c.toml"),
        "[webhooks.crm]\nurl = \"https://x.example\"\nsecret_env = \"S\"\nevents = [\"lead.created\"]\n",
        &bad,
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("must be whsec_ and the base64"), "{error}");
    assert!(!error.contains("not base64!"), "the secret leaked: {error}");
}

#[test]
fn every_chat_kind_and_email_read_with_their_fields() {
    let config = read(
        r#"
[slack.sales]
secret_env = "SLACK_URL"
events = ["lead.created"]

[teams.managers]
secret_env = "TEAMS_URL"
events = ["lead.status_changed"]

[telegram.bot]
secret_env = "BOT_TOKEN"
chat_id = -1001234567890
events = ["lead.assigned"]

[telegram.public]
secret_env = "BOT_TOKEN"
chat_id = "@leadhook_sales"
api_url = "http://127.0.0.1:8081/"
events = ["lead.assigned"]

[email.inbox]
host = "smtp.example.com"
username = "leadhook@example.com"
secret_env = "SMTP_PASSWORD"
from = "Leadhook <leadhook@example.com>"
to = ["sales@example.com", "Alice <alice@example.com>"]
events = ["lead.created"]
"#,
    )
    .unwrap();
    let kinds: Vec<(&str, &str)> = config
        .channels
        .iter()
        .map(|c| (c.name.as_str(), c.kind.table()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("sales", "slack"),
            ("managers", "teams"),
            ("bot", "telegram"),
            ("public", "telegram"),
            ("inbox", "email")
        ]
    );
    let ChannelKind::Slack(slack) = &config.channels[0].kind else {
        panic!()
    };
    assert_eq!(slack.url.expose().as_str(), SLACK_URL);
    assert_eq!(
        format!("{slack:?}"),
        "SlackChannel { url: https://hooks.slack.com/[redacted] }",
        "no secret in a Debug"
    );
    let ChannelKind::Telegram(bot) = &config.channels[2].kind else {
        panic!()
    };
    assert_eq!(bot.chat_id, ChatId::Id(-1001234567890));
    assert_eq!(
        bot.send_message.expose().as_str(),
        format!("https://api.telegram.org/bot{BOT_TOKEN}/sendMessage")
    );
    assert!(!format!("{bot:?}").contains("AAH"), "{bot:?}");
    let ChannelKind::Telegram(public) = &config.channels[3].kind else {
        panic!()
    };
    assert_eq!(public.chat_id, ChatId::Username("@leadhook_sales".into()));
    assert_eq!(
        public.send_message.expose().as_str(),
        format!("http://127.0.0.1:8081/bot{BOT_TOKEN}/sendMessage")
    );
    let ChannelKind::Email(email) = &config.channels[4].kind else {
        panic!()
    };
    assert_eq!((email.tls, email.port), (SmtpTls::StartTls, 587));
    assert_eq!(email.to.len(), 2);
    assert_eq!(email.to[1].email.to_string(), "alice@example.com");
    assert!(!format!("{email:?}").contains("hunter2"), "{email:?}");
}

#[test]
fn a_name_is_one_channel_across_kinds() {
    let error = read(
        "[slack.sales]\nsecret_env = \"SLACK_URL\"\nevents = [\"lead.created\"]\n\n\
         [teams.sales]\nsecret_env = \"TEAMS_URL\"\nevents = [\"lead.created\"]\n",
    )
    .unwrap_err();
    assert!(
        error.contains("line 5, column 1: the channel name \"sales\" is taken by [slack.sales]"),
        "{error}"
    );
}

#[test]
fn chat_and_email_mistakes_are_refused_without_showing_a_secret() {
    let cases = [
        (
            "[slack.s]\nsecret_env = \"NOT_A_URL\"\nevents = [\"lead.created\"]\n",
            "line 2, column 14: the secret in $NOT_A_URL must be the Slack incoming webhook's URL: an https:// address",
        ),
        (
            "[teams.t]\nsecret_env = \"HTTP_URL\"\nevents = [\"lead.created\"]\n",
            "the secret in $HTTP_URL must be the Teams Workflows webhook's URL: an https:// address (http:// only to localhost)",
        ),
        (
            "[slack.s]\nevents = [\"lead.created\"]\n",
            "line 1, column 1: give the Slack incoming webhook's URL as exactly one of secret_env or secret_file",
        ),
        (
            "[telegram.t]\nsecret_env = \"SLACK_URL\"\nchat_id = 1\nevents = [\"lead.created\"]\n",
            "the secret in $SLACK_URL must be a bot token as @BotFather gives it",
        ),
        (
            "[telegram.t]\nsecret_env = \"BOT_TOKEN\"\nchat_id = \"sales\"\nevents = [\"lead.created\"]\n",
            "line 3, column 11: chat_id must be the chat's number",
        ),
        (
            "[telegram.t]\nsecret_env = \"BOT_TOKEN\"\nchat_id = 1\napi_url = \"http://api.example.com\"\nevents = [\"lead.created\"]\n",
            "line 4, column 11: api_url must be an https:// address",
        ),
        (
            "[email.e]\nhost = \"smtp.example.com\"\ntls = \"none\"\nusername = \"u\"\nsecret_env = \"SMTP_PASSWORD\"\nfrom = \"a@example.com\"\nto = [\"b@example.com\"]\nevents = [\"lead.created\"]\n",
            "line 4, column 12: with tls = \"none\" the password would cross the network unencrypted",
        ),
        (
            "[email.e]\nhost = \"smtp.example.com\"\ntls = \"ssl\"\nfrom = \"a@example.com\"\nto = [\"b@example.com\"]\nevents = [\"lead.created\"]\n",
            "line 3, column 7: tls must be starttls (port 587), tls (port 465) or none",
        ),
        (
            "[email.e]\nhost = \"smtp.example.com\"\nfrom = \"a@example.com\"\nto = [\"b@example.com\", \"not an address\"]\nevents = [\"lead.created\"]\n",
            "line 4, column 24: to \"not an address\" is not an e-mail address",
        ),
        (
            "[email.e]\nhost = \"smtp.example.com\"\nfrom = \"a@example.com\"\nto = []\nevents = [\"lead.created\"]\n",
            "line 4, column 6: to must list 1 to 20 addresses",
        ),
        (
            "[email.e]\nhost = \"smtp.example.com\"\nusername = \"u\"\nfrom = \"a@example.com\"\nto = [\"b@example.com\"]\nevents = [\"lead.created\"]\n",
            "line 3, column 12: give the password of username",
        ),
    ];
    for (text, expected) in cases {
        let error = read(text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"));
        assert!(error.contains(expected), "{error}\nexpected: {expected}");
        for secret in ["SECRET", "AAH", "hunter2"] {
            assert!(!error.contains(secret), "a secret leaked: {error}");
        }
    }
}

#[test]
fn ntfy_reads_with_the_public_server_by_default_and_an_optional_token_and_team_topic() {
    let env = |name: &str| (name == "NTFY_TOKEN").then(|| " tk_abcdef123 ".to_string());
    let config = parse(
        Path::new("c.toml"),
        "[ntfy.phones]\ntopic = \"acme-sales-team-3f9a1c\"\nsecret_env = \"NTFY_TOKEN\"\nevents = [\"lead.assigned\", \"lead.escalated\"]\n\n[ntfy.own]\nserver = \"http://ntfy.internal:8080\"\nevents = [\"lead.created\"]\n",
        &env,
    )
    .unwrap();
    let kinds: Vec<_> = config
        .channels
        .iter()
        .map(|channel| match &channel.kind {
            ChannelKind::Ntfy(ntfy) => (
                channel.name.as_str(),
                ntfy.server.as_str().to_string(),
                ntfy.token.as_ref().map(|t| t.expose_secret().to_string()),
                ntfy.topic.clone(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("own", "http://ntfy.internal:8080/".to_string(), None, None),
            (
                "phones",
                "https://ntfy.sh/".to_string(),
                Some("tk_abcdef123".to_string()),
                Some("acme-sales-team-3f9a1c".to_string())
            ),
        ]
    );
    assert!(
        config
            .routes()
            .iter()
            .any(|r| r.destination == "phones" && r.event_type == EventType::Escalated)
    );
}

#[test]
fn ntfy_mistakes_are_refused_with_the_fix() {
    let cases = [
        (
            "[ntfy.phones]\ntopic = \"alice\"\nevents = [\"lead.created\"]\n",
            "line 2, column 9: the ntfy topic must be 16 to 64 of A-Z, a-z, 0-9, - and _",
        ),
        (
            "[ntfy.phones]\nserver = \"ntfy.sh\"\nevents = [\"lead.created\"]\n",
            "line 2, column 10: server must be an http:// or https:// address",
        ),
        (
            "[ntfy.crm]\nevents = [\"lead.created\"]\n[webhooks.crm]\nurl = \"https://x.example\"\nsecret_env = \"CRM_SECRET\"\nevents = [\"lead.created\"]\n",
            "the channel name \"crm\" is taken by [webhooks.crm] already",
        ),
    ];
    for (text, expected) in cases {
        let error = read(text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"));
        assert!(error.contains(expected), "{error}\nexpected: {expected}");
    }
}

#[test]
fn an_email_ca_file_is_read_at_start_and_refused_when_it_cannot_be_used() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/api/doctor/fixtures/self-signed.crt"
    );
    let table = |tls: &str, ca: &str| {
        format!(
            "[email.e]\nhost = \"smtp.example.com\"\ntls = \"{tls}\"\nca_file = \"{ca}\"\n\
             from = \"a@example.com\"\nto = [\"b@example.com\"]\nevents = [\"lead.created\"]\n"
        )
    };
    let config = parse(Path::new("c.toml"), &table("tls", fixture), &|_| None).unwrap();
    let ChannelKind::Email(email) = &config.channels[0].kind else {
        panic!("{config:?}")
    };
    assert_eq!(email.ca.len(), 1);
    let missing = dir.path().join("missing.pem");
    let cases = [
        (
            table("none", fixture),
            "line 4, column 11: ca_file is for a TLS connection".to_string(),
        ),
        (
            table("starttls", &missing.display().to_string()),
            format!("ca_file: cannot read {}", missing.display()),
        ),
        (
            table("starttls", &empty.display().to_string()),
            format!("ca_file: {} holds no certificate", empty.display()),
        ),
    ];
    for (text, expected) in cases {
        let error = read(&text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"));
        assert!(error.contains(&expected), "{error}\nexpected: {expected}");
    }
}
