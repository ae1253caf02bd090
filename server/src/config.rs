//! Configuration: flags beat environment variables beat a `.env` file in the working directory.
//!
//! Every field is parsed as text first and validated here, so that a bad setting stops start-up
//! with one line naming the variable and what is wrong (exit status 2), never a panic or a stack of usage text.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use leadhook_shared::Assignment;
use leadhook_shared::team::actor;
use secrecy::{ExposeSecret, SecretString};
use thiserror::Error;

use crate::clock::{Clock, SystemClock};

mod capi;
mod store_copy;
mod tools;
pub use capi::CapiConfig;
pub use store_copy::{CopyTarget, StoreCopyArgs, StoreCopySettings};
pub use tools::{BackupArgs, LogArgs, LogFormat};

pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";
pub const DEFAULT_GRAPH_VERSION: &str = "v25.0";

/// Settings of `leadhook-server serve` (and of the commands that check a real setup).
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// App Secret of the Meta app: the key of the webhook signature (Meta app > Settings > Basic).
    #[arg(long, env = "FB_APP_SECRET", hide_env_values = true)]
    pub fb_app_secret: Option<String>,
    /// Token you also type into the Meta app's webhook setup; Meta echoes it in the subscription handshake.
    #[arg(long, env = "FB_VERIFY_TOKEN", hide_env_values = true)]
    pub fb_verify_token: Option<String>,
    /// Long-lived Page access token used to read leads from the Graph API.
    #[arg(long, env = "FB_PAGE_ACCESS_TOKEN", hide_env_values = true)]
    pub fb_page_access_token: Option<String>,
    /// Graph API base URL (tests and the demo point it at a local stand-in).
    #[arg(long, env = "FB_GRAPH_URL")]
    pub fb_graph_url: Option<String>,
    /// Graph API version, like v25.0.
    #[arg(long, env = "FB_GRAPH_VERSION")]
    pub fb_graph_version: Option<String>,
    /// The address Meta reaches this server at, like https://leads.example.com: the webhook is its
    /// /webhook. `doctor` compares it with the app's callback URL and calls it to check it.
    #[arg(long = "public-url", env = "LEADHOOK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Address the server listens on.
    #[arg(long = "listen", env = "LEADHOOK_LISTEN")]
    pub listen: Option<String>,
    /// Directory of the durable webhook inbox and the embedded lead store.
    #[arg(long = "data-dir", env = "LEADHOOK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Comma-separated name:token pairs, one per sales rep, for the /api bearer tokens.
    #[arg(
        long = "api-tokens",
        env = "LEADHOOK_API_TOKENS",
        hide_env_values = true
    )]
    pub api_tokens: Option<String>,
    /// Facebook Page ID(s) whose lead forms the sweeper checks for missed leads (comma-separated).
    #[arg(long = "fb-page-id", env = "FB_PAGE_ID")]
    pub fb_page_id: Option<String>,
    /// Lead form IDs to sweep (comma-separated); default: every form of the pages.
    #[arg(long = "fb-form-ids", env = "FB_FORM_IDS")]
    pub fb_form_ids: Option<String>,
    /// Seconds between backfill sweeps; 0 disables them.
    #[arg(long = "sync-interval", env = "LEADHOOK_SYNC_INTERVAL")]
    pub sync_interval: Option<String>,
    /// How many days back the first sweep of a form reaches.
    #[arg(long = "backfill-days", env = "LEADHOOK_BACKFILL_DAYS")]
    pub backfill_days: Option<String>,
    /// Supabase project REST URL, e.g. https://<project>.supabase.co/rest/v1; selects the Supabase store.
    #[arg(long = "supabase-url", env = "SUPABASE_URL")]
    pub supabase_url: Option<String>,
    /// Supabase service_role key (legacy JWT) for the Supabase store.
    #[arg(
        long = "supabase-service-role-key",
        env = "SUPABASE_SERVICE_ROLE_KEY",
        hide_env_values = true
    )]
    pub supabase_service_role_key: Option<String>,
    /// Supabase secret key (sb_secret_...), accepted instead of the service_role key.
    #[arg(
        long = "supabase-secret-key",
        env = "SUPABASE_SECRET_KEY",
        hide_env_values = true
    )]
    pub supabase_secret_key: Option<String>,
    /// How new leads get an owner: claim (reps claim them), round-robin, or none.
    #[arg(long = "assignment", env = "LEADHOOK_ASSIGNMENT")]
    pub assignment: Option<String>,
    /// How long a lead may wait in New Lead before every dashboard is told (then again at 30m).
    #[arg(long = "escalate-after", env = "LEADHOOK_ESCALATE_AFTER")]
    pub escalate_after: Option<String>,
    /// The CRM dataset (pixel) id lead stages are sent to with the Conversions API; unset: off.
    #[arg(long = "fb-dataset-id", env = "FB_DATASET_ID")]
    pub fb_dataset_id: Option<String>,
    /// Token allowed to send events to the dataset; default: the Page token.
    #[arg(long = "fb-capi-token", env = "FB_CAPI_TOKEN", hide_env_values = true)]
    pub fb_capi_token: Option<String>,
    /// Event names per status, like "Won=Purchase,Lost=Lost"; default: each status's own name.
    #[arg(long = "capi-stages", env = "LEADHOOK_CAPI_STAGES")]
    pub capi_stages: Option<String>,
    /// How long stage changes are gathered before one Conversions API request (like 3s).
    #[arg(long = "capi-batch-wait", env = "LEADHOOK_CAPI_BATCH_WAIT")]
    pub capi_batch_wait: Option<String>,
    /// How long one Conversions API request may take (like 30s).
    #[arg(long = "capi-timeout", env = "LEADHOOK_CAPI_TIMEOUT")]
    pub capi_timeout: Option<String>,
    /// Longest wait between retries while Meta fails or rate-limits (like 5m).
    #[arg(long = "capi-retry-cap", env = "LEADHOOK_CAPI_RETRY_CAP")]
    pub capi_retry_cap: Option<String>,
    /// With the Supabase store: milliseconds between reads of the store's changes made by other
    /// servers or by hand, which this server then pushes to its dashboards.
    #[arg(long = "follow-interval-ms", env = "LEADHOOK_FOLLOW_INTERVAL_MS")]
    pub follow_interval_ms: Option<String>,
    /// Leads submitted more than this many days ago are erased once a day; unset: kept forever.
    #[arg(long = "retention-days", env = "LEADHOOK_RETENTION_DAYS")]
    pub retention_days: Option<String>,
}

/// Validated configuration of the running server.
#[derive(Debug, Clone)]
pub struct Config {
    pub app_secret: SecretString,
    pub verify_token: SecretString,
    pub page_access_token: SecretString,
    pub graph_url: String,
    pub graph_version: String,
    /// Where Meta reaches this server (no trailing slash), when set.
    pub public_url: Option<String>,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub api_tokens: Vec<ApiToken>,
    /// How long a Graph API call may take before it counts as a transient failure.
    pub graph_timeout: Duration,
    pub sweep: SweepConfig,
    pub store: StoreConfig,
    /// With a shared store: how often the change follower reads changes made elsewhere.
    pub follow_interval: Duration,
    pub queue: QueueConfig,
    /// Sending lead stages to Meta; `None` when `FB_DATASET_ID` is unset.
    pub capi: Option<CapiConfig>,
    /// Leads older than this many days are erased daily (`LEADHOOK_RETENTION_DAYS`); `None`: off.
    pub retention_days: Option<u32>,
}

/// The team's work queue: how leads get owners and when a waiting lead is escalated.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    pub assignment: Assignment,
    /// The first escalation threshold; the second is [`SECOND_ESCALATION`].
    pub escalate_after: Duration,
    /// The time escalations are measured by (tests substitute their own).
    pub clock: Arc<dyn Clock>,
}

/// A waiting lead is escalated again at this age.
pub const SECOND_ESCALATION: Duration = Duration::from_secs(30 * 60);
pub const DEFAULT_ESCALATE_AFTER: Duration = Duration::from_secs(5 * 60);

impl QueueConfig {
    /// The waiting thresholds, shortest first: `escalate_after`, then 30 minutes if that is later.
    pub fn escalation_thresholds(&self) -> Vec<Duration> {
        let mut thresholds = vec![self.escalate_after];
        if SECOND_ESCALATION > self.escalate_after {
            thresholds.push(SECOND_ESCALATION);
        }
        thresholds
    }
}

/// Which lead forms the sweeper checks for leads no webhook announced, and how often.
#[derive(Debug, Clone, Default)]
pub struct SweepConfig {
    pub page_ids: Vec<String>,
    /// Forms to sweep; when empty, every form of every page is discovered.
    pub form_ids: Vec<String>,
    /// Time between automatic sweeps; `None` disables them (manual sync still works).
    pub interval: Option<Duration>,
    /// How far back the first sweep of a form reaches.
    pub backfill: Duration,
}

impl SweepConfig {
    pub fn is_configured(&self) -> bool {
        !self.page_ids.is_empty() || !self.form_ids.is_empty()
    }
}

/// Which lead store to use.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// The embedded SQLite file in the data dir (the default).
    Sqlite,
    /// A Supabase project through PostgREST.
    Supabase { url: String, key: SecretString },
}

#[derive(Debug, Clone)]
pub struct ApiToken {
    pub name: String,
    pub token: SecretString,
}

/// A setting that is missing or malformed. The message names the variable and what to do.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var} is not set: {hint}")]
    Missing {
        var: &'static str,
        hint: &'static str,
    },
    #[error("{var} is invalid: {problem}")]
    Invalid { var: &'static str, problem: String },
}

impl ConfigError {
    fn invalid(var: &'static str, problem: impl Into<String>) -> Self {
        ConfigError::Invalid {
            var,
            problem: problem.into(),
        }
    }
}

/// Loads `.env` from the working directory without overriding variables already set.
/// A malformed `.env` is reported rather than silently ignored.
pub fn load_dotenv() -> Result<(), ConfigError> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(error) if error.not_found() => Ok(()),
        Err(error) => Err(ConfigError::invalid(".env", error.to_string())),
    }
}

fn required_secret(
    value: Option<String>,
    var: &'static str,
    hint: &'static str,
) -> Result<SecretString, ConfigError> {
    match value.map(|v| v.trim().to_string()) {
        Some(v) if !v.is_empty() => Ok(SecretString::from(v)),
        _ => Err(ConfigError::Missing { var, hint }),
    }
}

impl Config {
    pub fn from_args(args: ServeArgs) -> Result<Config, ConfigError> {
        let app_secret = required_secret(
            args.fb_app_secret,
            "FB_APP_SECRET",
            "copy the App Secret from your Meta app (Settings > Basic)",
        )?;
        let verify_token = required_secret(
            args.fb_verify_token,
            "FB_VERIFY_TOKEN",
            "choose any random string and enter the same one in the Meta app's webhook setup",
        )?;
        let page_access_token = required_secret(
            args.fb_page_access_token,
            "FB_PAGE_ACCESS_TOKEN",
            "create a long-lived Page access token with leads_retrieval (see the README)",
        )?;
        let graph_url = parse_graph_url(args.fb_graph_url)?;
        let graph_version = parse_graph_version(args.fb_graph_version)?;
        let public_url = parse_public_url(args.public_url)?;
        let listen_text = args.listen.unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let listen = listen_text.trim().parse().map_err(|_| {
            ConfigError::invalid(
                "LEADHOOK_LISTEN",
                format!("\"{listen_text}\" is not an address like 127.0.0.1:8080 or 0.0.0.0:8080"),
            )
        })?;
        let data_dir = data_dir_or_default(args.data_dir)?;
        let api_tokens = parse_api_tokens(args.api_tokens)?;
        let sync_seconds =
            parse_number(args.sync_interval, "LEADHOOK_SYNC_INTERVAL", 60, 0..=86_400)?;
        let backfill_days = parse_number(args.backfill_days, "LEADHOOK_BACKFILL_DAYS", 7, 0..=90)?;
        let sweep = SweepConfig {
            page_ids: parse_ids(args.fb_page_id, "FB_PAGE_ID")?,
            form_ids: parse_ids(args.fb_form_ids, "FB_FORM_IDS")?,
            interval: (sync_seconds > 0).then(|| Duration::from_secs(sync_seconds)),
            backfill: Duration::from_secs(backfill_days * 86_400),
        };
        let follow_ms = parse_number(
            args.follow_interval_ms,
            "LEADHOOK_FOLLOW_INTERVAL_MS",
            500,
            50..=60_000,
        )?;
        let store = parse_store(
            args.supabase_url,
            args.supabase_secret_key.or(args.supabase_service_role_key),
        )?;
        let queue = QueueConfig {
            assignment: parse_assignment(args.assignment)?,
            escalate_after: parse_escalate_after(args.escalate_after)?,
            clock: Arc::new(SystemClock),
        };
        let capi = capi::parse(
            capi::CapiArgs {
                dataset_id: args.fb_dataset_id,
                token: args.fb_capi_token,
                stages: args.capi_stages,
                batch_wait: args.capi_batch_wait,
                timeout: args.capi_timeout,
                retry_cap: args.capi_retry_cap,
            },
            &page_access_token,
        )?;
        let retention_days = parse_retention_days(args.retention_days)?;
        Ok(Config {
            capi,
            retention_days,
            app_secret,
            verify_token,
            page_access_token,
            graph_url,
            graph_version,
            public_url,
            listen,
            data_dir,
            api_tokens,
            graph_timeout: Duration::from_secs(15),
            sweep,
            store,
            queue,
            follow_interval: Duration::from_millis(follow_ms),
        })
    }
}

/// Longest retention accepted: a hundred years.
const MAX_RETENTION_DAYS: u32 = 36_500;

fn parse_retention_days(value: Option<String>) -> Result<Option<u32>, ConfigError> {
    let Some(text) = value
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    else {
        return Ok(None);
    };
    match text.parse::<u32>() {
        Ok(days) if (1..=MAX_RETENTION_DAYS).contains(&days) => Ok(Some(days)),
        _ => Err(ConfigError::invalid(
            "LEADHOOK_RETENTION_DAYS",
            format!("\"{text}\" is not a whole number of days from 1 to {MAX_RETENTION_DAYS}"),
        )),
    }
}

fn parse_assignment(value: Option<String>) -> Result<Assignment, ConfigError> {
    match value.as_deref().map(str::trim).unwrap_or("") {
        "" | "claim" => Ok(Assignment::Claim),
        "round-robin" => Ok(Assignment::RoundRobin),
        "none" => Ok(Assignment::None),
        other => Err(ConfigError::invalid(
            "LEADHOOK_ASSIGNMENT",
            format!("\"{other}\" is not one of claim, round-robin, none"),
        )),
    }
}

fn parse_escalate_after(value: Option<String>) -> Result<Duration, ConfigError> {
    parse_duration(
        value,
        "LEADHOOK_ESCALATE_AFTER",
        DEFAULT_ESCALATE_AFTER,
        Duration::from_secs(1)..=Duration::from_secs(86_400),
    )
}

/// A duration like `5m` or `90s` within `range`, or `default` when unset.
fn parse_duration(
    value: Option<String>,
    var: &'static str,
    default: Duration,
    range: std::ops::RangeInclusive<Duration>,
) -> Result<Duration, ConfigError> {
    let Some(text) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(default);
    };
    let parsed = humantime::parse_duration(&text).map_err(|e| {
        ConfigError::invalid(
            var,
            format!("\"{text}\" is not a duration like 5m or 90s ({e})"),
        )
    })?;
    if !range.contains(&parsed) {
        return Err(ConfigError::invalid(
            var,
            format!(
                "\"{text}\" must be between {} and {}",
                humantime::format_duration(*range.start()),
                humantime::format_duration(*range.end())
            ),
        ));
    }
    Ok(parsed)
}

/// `LEADHOOK_DATA_DIR`, by default `./leadhook-data`.
fn data_dir_or_default(data_dir: Option<PathBuf>) -> Result<PathBuf, ConfigError> {
    let data_dir = data_dir.unwrap_or_else(|| PathBuf::from("./leadhook-data"));
    if data_dir.as_os_str().is_empty() {
        return Err(ConfigError::invalid(
            "LEADHOOK_DATA_DIR",
            "is empty; give a directory path",
        ));
    }
    Ok(data_dir)
}

fn parse_store(url: Option<String>, key: Option<String>) -> Result<StoreConfig, ConfigError> {
    let url = url
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty());
    let key = key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty());
    match (url, key) {
        (None, None) => Ok(StoreConfig::Sqlite),
        (Some(_), None) => Err(ConfigError::Missing {
            var: "SUPABASE_SERVICE_ROLE_KEY",
            hint: "SUPABASE_URL is set, so give the service_role key (or SUPABASE_SECRET_KEY) from Project Settings > API Keys",
        }),
        (None, Some(_)) => Err(ConfigError::Missing {
            var: "SUPABASE_URL",
            hint: "a Supabase key is set, so give the project URL like https://<project>.supabase.co/rest/v1",
        }),
        (Some(url), Some(key)) => {
            let parsed = reqwest::Url::parse(&url).map_err(|e| {
                ConfigError::invalid("SUPABASE_URL", format!("\"{url}\" is not a URL ({e})"))
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(ConfigError::invalid(
                    "SUPABASE_URL",
                    "must start with https://",
                ));
            }
            // The project URL alone is a common mistake: PostgREST lives under /rest/v1.
            let url = if parsed.path().trim_end_matches('/').is_empty() {
                format!("{url}/rest/v1")
            } else {
                url
            };
            Ok(StoreConfig::Supabase {
                url,
                key: SecretString::from(key),
            })
        }
    }
}

fn parse_number(
    value: Option<String>,
    var: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let Some(text) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(default);
    };
    text.parse()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            ConfigError::invalid(
                var,
                format!(
                    "\"{text}\" is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// Comma-separated Facebook IDs (digits only).
fn parse_ids(value: Option<String>, var: &'static str) -> Result<Vec<String>, ConfigError> {
    let text = value.unwrap_or_default();
    let ids: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = ids
        .iter()
        .find(|id| !id.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ConfigError::invalid(
            var,
            format!("\"{bad}\" is not a numeric Facebook ID"),
        ));
    }
    Ok(ids)
}

fn parse_graph_url(value: Option<String>) -> Result<String, ConfigError> {
    let url = value.unwrap_or_else(|| DEFAULT_GRAPH_URL.to_string());
    let url = url.trim().trim_end_matches('/').to_string();
    let parsed = reqwest::Url::parse(&url).map_err(|e| {
        ConfigError::invalid("FB_GRAPH_URL", format!("\"{url}\" is not a URL ({e})"))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ConfigError::invalid(
            "FB_GRAPH_URL",
            "must start with https:// (or http:// for a local stand-in)",
        ));
    }
    Ok(url)
}

fn parse_public_url(value: Option<String>) -> Result<Option<String>, ConfigError> {
    const VAR: &str = "LEADHOOK_PUBLIC_URL";
    let Some(url) = value
        .map(|v| v.trim().trim_end_matches('/').to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let parsed = reqwest::Url::parse(&url)
        .map_err(|e| ConfigError::invalid(VAR, format!("\"{url}\" is not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ConfigError::invalid(
            VAR,
            format!("\"{url}\" is not an address like https://leads.example.com"),
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(ConfigError::invalid(
            VAR,
            "give the address only, without ?query or #fragment",
        ));
    }
    if parsed.path().ends_with("/webhook") {
        return Err(ConfigError::invalid(
            VAR,
            format!(
                "give the server's address without /webhook, like {}",
                url.trim_end_matches("/webhook")
            ),
        ));
    }
    Ok(Some(url))
}

fn parse_graph_version(value: Option<String>) -> Result<String, ConfigError> {
    let version = value
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| DEFAULT_GRAPH_VERSION.to_string());
    let valid = version
        .strip_prefix('v')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.bytes().all(|b| b.is_ascii_digit())
        });
    if valid {
        Ok(version)
    } else {
        Err(ConfigError::invalid(
            "FB_GRAPH_VERSION",
            format!("\"{version}\" is not a Graph API version like {DEFAULT_GRAPH_VERSION}"),
        ))
    }
}

fn parse_api_tokens(value: Option<String>) -> Result<Vec<ApiToken>, ConfigError> {
    const VAR: &str = "LEADHOOK_API_TOKENS";
    let text = value.unwrap_or_default();
    let mut tokens: Vec<ApiToken> = Vec::new();
    for (index, pair) in text
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        let (name, token) = pair.split_once(':').ok_or_else(|| {
            ConfigError::invalid(
                VAR,
                format!(
                    "entry {} has no ':'; write name:token pairs like alice:s3cret",
                    index + 1
                ),
            )
        })?;
        let (name, token) = (name.trim(), token.trim());
        if name.is_empty() || token.is_empty() {
            return Err(ConfigError::invalid(
                VAR,
                format!("entry {} needs both a name and a token", index + 1),
            ));
        }
        if [actor::FACEBOOK, actor::SWEEPER, actor::SYSTEM].contains(&name) {
            return Err(ConfigError::invalid(
                VAR,
                format!("\"{name}\" names the server in lead histories; give the rep another name"),
            ));
        }
        if token.len() < 8 {
            return Err(ConfigError::invalid(
                VAR,
                format!(
                    "the token of \"{name}\" is shorter than 8 characters; use a long random one"
                ),
            ));
        }
        if tokens.iter().any(|t| t.name == name) {
            return Err(ConfigError::invalid(
                VAR,
                format!("\"{name}\" appears twice"),
            ));
        }
        if tokens.iter().any(|t| t.token.expose_secret() == token) {
            return Err(ConfigError::invalid(
                VAR,
                format!("the token of \"{name}\" is used by another rep too"),
            ));
        }
        tokens.push(ApiToken {
            name: name.to_string(),
            token: SecretString::from(token.to_string()),
        });
    }
    if tokens.is_empty() {
        return Err(ConfigError::Missing {
            var: VAR,
            hint: "give each sales rep a token, e.g. LEADHOOK_API_TOKENS=alice:$(openssl rand -hex 16)",
        });
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
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

    type Spoil = fn(&mut ServeArgs);

    #[test]
    fn each_required_setting_is_named_when_missing() {
        let cases: [(Spoil, &str); 4] = [
            (|a| a.fb_app_secret = None, "FB_APP_SECRET"),
            (|a| a.fb_verify_token = Some("  ".into()), "FB_VERIFY_TOKEN"),
            (|a| a.fb_page_access_token = None, "FB_PAGE_ACCESS_TOKEN"),
            (|a| a.api_tokens = Some(" , ".into()), "LEADHOOK_API_TOKENS"),
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
        let cases: [(Spoil, &str); 10] = [
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
    fn supabase_settings_select_the_store() {
        assert!(matches!(
            Config::from_args(complete()).unwrap().store,
            StoreConfig::Sqlite
        ));
        let mut args = complete();
        args.supabase_url = Some("https://abc.supabase.co".into());
        args.supabase_secret_key = Some("sb_secret_123".into());
        match Config::from_args(args).unwrap().store {
            StoreConfig::Supabase { url, key } => {
                assert_eq!(url, "https://abc.supabase.co/rest/v1");
                assert_eq!(key.expose_secret(), "sb_secret_123");
            }
            StoreConfig::Sqlite => panic!("Supabase settings must select the Supabase store"),
        }
        let mut half = complete();
        half.supabase_url = Some("https://abc.supabase.co/rest/v1".into());
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
}
