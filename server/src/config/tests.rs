use secrecy::ExposeSecret as _;

use super::*;

#[test]
fn work_queue_settings() {
    let config = Config::from_args(complete()).unwrap();
    assert_eq!(config.queue.assignment, Assignment::Claim);
    assert_eq!(config.queue.escalate_after, DEFAULT_ESCALATE_AFTER);
    assert_eq!(
        config.queue.escalation_thresholds(),
        [DEFAULT_ESCALATE_AFTER, SECOND_ESCALATION]
    );
    let mut args = complete();
    args.assignment = Some("round-robin".into());
    args.escalate_after = Some("45m".into());
    let config = Config::from_args(args).unwrap();
    assert_eq!(config.queue.assignment, Assignment::RoundRobin);
    assert_eq!(
        config.queue.escalation_thresholds(),
        [Duration::from_secs(45 * 60)]
    );
    for (assignment, escalate_after, var) in [
        ("first-come", "5m", "LEADHOOK_ASSIGNMENT"),
        ("claim", "soon", "LEADHOOK_ESCALATE_AFTER"),
        ("claim", "0s", "LEADHOOK_ESCALATE_AFTER"),
    ] {
        let mut args = complete();
        args.assignment = Some(assignment.into());
        args.escalate_after = Some(escalate_after.into());
        match Config::from_args(args) {
            Err(ConfigError::Invalid { var: named, .. }) => assert_eq!(named, var),
            other => panic!("{assignment}/{escalate_after}: {other:?}"),
        }
    }
    let mut args = complete();
    args.api_tokens = Some("alice:alice-token-1,system:system-token-1".into());
    assert!(matches!(
        Config::from_args(args),
        Err(ConfigError::Invalid { var: "LEADHOOK_API_TOKENS", problem }) if problem.contains("\"system\"")
    ));
}

#[test]
fn retention_is_off_by_default_and_checked() {
    assert_eq!(Config::from_args(complete()).unwrap().retention_days, None);
    let mut args = complete();
    args.retention_days = Some("90".into());
    assert_eq!(Config::from_args(args).unwrap().retention_days, Some(90));
    for bad in ["0", "-3", "ninety", "36501"] {
        let mut args = complete();
        args.retention_days = Some(bad.into());
        assert!(
            matches!(
                Config::from_args(args),
                Err(ConfigError::Invalid { var: "LEADHOOK_RETENTION_DAYS", problem }) if problem.contains(bad)
            ),
            "{bad} must be refused"
        );
    }
}

fn complete() -> ServeArgs {
    ServeArgs {
        fb_app_secret: Some("secret".into()),
        fb_verify_token: Some("verify".into()),
        fb_page_access_token: Some("page-token".into()),
        api_tokens: Some("alice:alice-token-1, bob:bob-token-22".into()),
        ..ServeArgs::default()
    }
}

#[test]
fn defaults_fill_the_optional_settings() {
    let config = Config::from_args(complete()).unwrap();
    assert_eq!(config.graph_url, DEFAULT_GRAPH_URL);
    assert_eq!(config.graph_version, DEFAULT_GRAPH_VERSION);
    assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(config.data_dir, PathBuf::from("./leadhook-data"));
    let names: Vec<_> = config.api_tokens.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);
}

/// Reps may all live in the store (`leadhook-server reps add`); `name:token` is the older form.
#[test]
fn api_tokens_may_be_empty_and_say_whether_a_role_was_given() {
    let mut args = complete();
    args.api_tokens = Some(" , ".into());
    assert!(Config::from_args(args).unwrap().api_tokens.is_empty());
    let mut args = complete();
    args.api_tokens = Some("alice:alice-token-1,bob:rep:bob-token-22".into());
    let given: Vec<_> = Config::from_args(args)
        .unwrap()
        .api_tokens
        .iter()
        .map(|t| (t.name.clone(), t.role_given))
        .collect();
    assert_eq!(given, [("alice".into(), false), ("bob".into(), true)]);
}

type Spoil = fn(&mut ServeArgs);

#[test]
fn each_required_setting_is_named_when_missing() {
    let cases: [(Spoil, &str); 3] = [
        (|a| a.fb_app_secret = None, "FB_APP_SECRET"),
        (|a| a.fb_verify_token = Some("  ".into()), "FB_VERIFY_TOKEN"),
        (|a| a.fb_page_access_token = None, "FB_PAGE_ACCESS_TOKEN"),
    ];
    for (unset, var) in cases {
        let mut args = complete();
        unset(&mut args);
        let message = Config::from_args(args).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!("{var} is not set: ")),
            "{message}"
        );
    }
}

#[test]
fn malformed_settings_say_what_is_wrong() {
    let cases: [(Spoil, &str); 12] = [
        (
            |a| a.answer_columns = Some("Budget=what_is_your_budget?".into()),
            "LEADHOOK_ANSWER_COLUMNS is invalid: column name \"Budget\"",
        ),
        (
            |a| a.fb_ad_account_id = Some("act_my-shop".into()),
            "FB_AD_ACCOUNT_ID is invalid",
        ),
        (
            |a| a.sync_interval = Some("often".into()),
            "LEADHOOK_SYNC_INTERVAL is invalid",
        ),
        (
            |a| a.backfill_days = Some("365".into()),
            "LEADHOOK_BACKFILL_DAYS is invalid",
        ),
        (
            |a| a.fb_page_id = Some("123,my-page".into()),
            "FB_PAGE_ID is invalid: \"my-page\"",
        ),
        (
            |a| a.listen = Some("localhost".into()),
            "LEADHOOK_LISTEN is invalid",
        ),
        (
            |a| a.fb_graph_url = Some("graph.facebook.com".into()),
            "FB_GRAPH_URL is invalid",
        ),
        (
            |a| a.fb_graph_url = Some("ftp://x".into()),
            "FB_GRAPH_URL is invalid",
        ),
        (
            |a| a.fb_graph_version = Some("24".into()),
            "FB_GRAPH_VERSION is invalid",
        ),
        (
            |a| a.api_tokens = Some("alice".into()),
            "LEADHOOK_API_TOKENS is invalid: entry 1 has no ':'",
        ),
        (
            |a| a.api_tokens = Some("alice:short".into()),
            "shorter than 8",
        ),
        (
            |a| a.api_tokens = Some("a:token-one-1,a:token-two-2".into()),
            "\"a\" appears twice",
        ),
    ];
    for (spoil, expected) in cases {
        let mut args = complete();
        spoil(&mut args);
        let message = Config::from_args(args).unwrap_err().to_string();
        assert!(
            message.contains(expected),
            "{message:?} should contain {expected:?}"
        );
    }
}

#[test]
fn errors_never_contain_secret_values() {
    let mut args = complete();
    args.api_tokens = Some("alice:tiny".into());
    let message = Config::from_args(args).unwrap_err().to_string();
    assert!(!message.contains("tiny"), "{message}");
}

#[test]
fn sweep_settings() {
    let config = Config::from_args(complete()).unwrap();
    assert!(!config.sweep.is_configured());
    assert_eq!(config.sweep.interval, Some(Duration::from_secs(60)));
    assert_eq!(config.sweep.backfill, Duration::from_secs(7 * 86_400));
    let mut args = complete();
    args.fb_page_id = Some("111, 222".into());
    args.sync_interval = Some("0".into());
    let config = Config::from_args(args).unwrap();
    assert_eq!(config.sweep.page_ids, ["111", "222"]);
    assert_eq!(config.sweep.interval, None, "0 disables automatic sweeps");
}

#[test]
fn follow_interval() {
    let config = Config::from_args(complete()).unwrap();
    assert_eq!(config.follow_interval, Duration::from_millis(500));
    let mut args = complete();
    args.follow_interval_ms = Some("250".into());
    let config = Config::from_args(args).unwrap();
    assert_eq!(config.follow_interval, Duration::from_millis(250));
    let mut args = complete();
    args.follow_interval_ms = Some("10".into());
    let message = Config::from_args(args).unwrap_err().to_string();
    assert!(
        message.starts_with("LEADHOOK_FOLLOW_INTERVAL_MS is invalid"),
        "{message}"
    );
}

#[test]
fn graph_concurrency() {
    let config = Config::from_args(complete()).unwrap();
    assert_eq!(config.graph_concurrency, 32);
    let mut args = complete();
    args.graph_concurrency = Some("8".into());
    assert_eq!(Config::from_args(args).unwrap().graph_concurrency, 8);
    for bad in ["0", "257", "many"] {
        let mut args = complete();
        args.graph_concurrency = Some(bad.into());
        let message = Config::from_args(args).unwrap_err().to_string();
        assert!(
            message.starts_with("LEADHOOK_GRAPH_CONCURRENCY is invalid"),
            "{bad}: {message}"
        );
    }
}

#[test]
fn supabase_settings_select_the_store() {
    assert!(matches!(
        Config::from_args(complete()).unwrap().store,
        StoreConfig::Sqlite
    ));
    let mut args = complete();
    args.supabase.supabase_url = Some("https://abc.supabase.co".into());
    args.supabase.supabase_secret_key = Some("sb_secret_123".into());
    match Config::from_args(args).unwrap().store {
        StoreConfig::Supabase { url, key } => {
            assert_eq!(url, "https://abc.supabase.co/rest/v1");
            assert_eq!(key.expose_secret(), "sb_secret_123");
        }
        StoreConfig::Sqlite => panic!("Supabase settings must select the Supabase store"),
    }
    let mut half = complete();
    half.supabase.supabase_url = Some("https://abc.supabase.co/rest/v1".into());
    let message = Config::from_args(half).unwrap_err().to_string();
    assert!(
        message.starts_with("SUPABASE_SERVICE_ROLE_KEY is not set"),
        "{message}"
    );
}

#[test]
fn public_url_is_an_address_without_the_webhook_path() {
    assert_eq!(Config::from_args(complete()).unwrap().public_url, None);
    let mut args = complete();
    args.public_url = Some(" https://leads.example.com/ ".into());
    assert_eq!(
        Config::from_args(args).unwrap().public_url.as_deref(),
        Some("https://leads.example.com")
    );
    for (bad, expected) in [
        ("leads.example.com", "is not a URL"),
        ("ftp://leads.example.com", "is not an address like"),
        (
            "https://leads.example.com/webhook",
            "without /webhook, like https://leads.example.com",
        ),
        ("https://leads.example.com/?a=1", "without ?query"),
    ] {
        let mut args = complete();
        args.public_url = Some(bad.into());
        let message = Config::from_args(args).unwrap_err().to_string();
        assert!(
            message.starts_with("LEADHOOK_PUBLIC_URL is invalid") && message.contains(expected),
            "{bad}: {message}"
        );
    }
}

#[test]
fn graph_url_loses_its_trailing_slash() {
    let mut args = complete();
    args.fb_graph_url = Some("http://127.0.0.1:9999/".into());
    assert_eq!(
        Config::from_args(args).unwrap().graph_url,
        "http://127.0.0.1:9999"
    );
}

/// `leadhook-server serve`'s arguments, parsed as the binary parses them.
#[derive(Debug, clap::Parser)]
struct Serve {
    #[command(flatten)]
    args: ServeArgs,
}

#[test]
fn every_secret_file_form_reads_its_file_without_the_trailing_newline() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{text}\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        path.display().to_string()
    };
    let argv = [
        "serve".to_string(),
        format!("--fb-app-secret-file={}", file("app", "app-secret")),
        format!("--fb-verify-token-file={}", file("verify", "verify-token")),
        format!("--fb-page-access-token-file={}", file("page", "page-token")),
        format!("--api-tokens-file={}", file("api", "alice:alice-token-1")),
        format!("--fb-capi-token-file={}", file("capi", "capi-token")),
        "--fb-dataset-id=123".to_string(),
        "--supabase-url=https://project.supabase.co/rest/v1".to_string(),
        format!("--supabase-secret-key-file={}", file("sb", "sb_secret_1")),
    ];
    let serve: Serve = leadhook_shared::secret_args::try_parse_from(argv).unwrap();
    let config = Config::from_args(serve.args).unwrap();
    assert_eq!(config.app_secret.expose_secret(), "app-secret");
    assert_eq!(config.verify_token.expose_secret(), "verify-token");
    assert_eq!(config.page_access_token.expose_secret(), "page-token");
    assert_eq!(config.api_tokens[0].token.expose_secret(), "alice-token-1");
    assert_eq!(config.capi.unwrap().token.expose_secret(), "capi-token");
    assert!(
        matches!(&config.store, StoreConfig::Supabase { key, .. } if key.expose_secret() == "sb_secret_1")
    );

    let argv = [
        "serve".to_string(),
        format!(
            "--supabase-service-role-key-file={}",
            file("role", "role-key")
        ),
    ];
    let serve: Serve = leadhook_shared::secret_args::try_parse_from(argv).unwrap();
    let mut supabase = serve.args.supabase;
    supabase.supabase_url = Some("https://project.supabase.co/rest/v1".into());
    assert!(
        matches!(supabase.store(), Ok(StoreConfig::Supabase { key, .. }) if key.expose_secret() == "role-key")
    );
}

#[test]
fn database_url_is_for_the_supabase_store_and_never_shows_its_password() {
    let password = "pw-never-shown-0123";
    let supabase = |url: &str| {
        let mut args = complete();
        args.supabase.supabase_url = Some("https://project.supabase.co/rest/v1".into());
        args.supabase.supabase_secret_key = Some("sb_secret_0123456789".into());
        args.database_url = Some(url.to_string().into());
        args
    };
    let url = format!(
        "postgresql://postgres.abcdef:{password}@aws-0-eu-west-1.pooler.supabase.com:5432/postgres?sslmode=require"
    );
    let config = Config::from_args(supabase(&url)).unwrap();
    let database = config.database.as_ref().expect("DATABASE_URL read");
    assert_eq!(
        database.describe(),
        "postgres.abcdef@aws-0-eu-west-1.pooler.supabase.com:5432/postgres"
    );
    let printed = format!("{config:?} {database:?}");
    assert!(!printed.contains(password), "{printed}");
    assert!(Config::from_args(complete()).unwrap().database.is_none());

    for bad in [
        format!("postgresql://u:{password}@db.example.com:notaport/postgres"),
        format!("postgresql://u:{password}@db.example.com/postgres?sslmode=sometimes"),
        format!("postgresql://u:{password}@/postgres"),
    ] {
        let message = Config::from_args(supabase(&bad)).unwrap_err().to_string();
        assert!(message.starts_with("DATABASE_URL is invalid"), "{message}");
        assert!(!message.contains(password), "{message}");
    }

    let mut sqlite = complete();
    sqlite.database_url = Some(url.into());
    let message = Config::from_args(sqlite).unwrap_err().to_string();
    assert!(message.contains("for the Supabase store"), "{message}");
}
