use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::ExposeSecret;

use super::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn env(name: &str) -> Option<String> {
    (name == "CRM_SECRET").then(|| SECRET.to_string())
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
        panic!("a webhook")
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
            "two channels are named \"crm\"",
        ),
    ];
    for (text, expected) in cases {
        let error = read(text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"));
        assert!(error.contains(expected), "{error}\nexpected: {expected}");
    }
}
