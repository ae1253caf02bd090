//! Configuration: flags beat environment variables beat a `.env` file in the working directory.
//! Secrets come only from the environment or a private file (`--<secret>-file`), never a flag.
//!
//! Every field is parsed as text first and validated here, so that a bad setting stops start-up
//! with one line naming the variable and what is wrong (exit status 2), never a panic or a stack of usage text.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use leadhook_shared::{AnswerColumns, Assignment, Visibility};
use secrecy::SecretString;
use thiserror::Error;

use crate::claim_link::ClaimLinks;
use crate::clock::{Clock, SystemClock};
use crate::triage::Triage;

mod ads;
mod args;
mod cadence;
mod capi;
mod channels;
mod claim_links;
mod database;
mod network;
mod parse;
mod phone;
mod store_copy;
#[cfg(test)]
mod tests;
mod tools;
mod twilio;
pub use ads::AdsConfig;
pub use args::{ServeArgs, SupabaseArgs};
pub use cadence::{Cadence, DEFAULT_CADENCE};
pub use capi::CapiConfig;
pub use channels::load as load_channels;
pub use channels::{
    BodyPart, Channel, ChannelKind, ChannelsConfig, ChatId, Consent, EmailChannel, FirstRules,
    Forms, LeadValue, NtfyChannel, SecretUrl, SlackChannel, SmsChannel, SmsSender, SmtpTls,
    TeamsChannel, TelegramChannel, WebhookChannel, WhatsAppChannel,
};
pub use database::DatabaseConfig;
pub use network::DEFAULT_METRICS_ADDR;
pub use parse::data_dir_or_default;
pub use parse::secret_file;
pub use phone::PhoneRegions;
pub use store_copy::{CopyTarget, StoreCopyArgs, StoreCopySettings};
pub use tools::{BackupArgs, LogArgs, LogFormat};
pub use twilio::TwilioInbound;

use network::{parse_metrics_addr, parse_trusted_proxies};
use parse::{
    parse_api_tokens, parse_assignment, parse_duplicate_window, parse_duration,
    parse_escalate_after, parse_graph_url, parse_graph_version, parse_ids, parse_junk_rules,
    parse_number, parse_public_url, parse_retention_days, parse_store, parse_visibility,
    required_secret,
};

pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";
pub const DEFAULT_GRAPH_VERSION: &str = "v25.0";
/// Graph API calls in flight at once unless `LEADHOOK_GRAPH_CONCURRENCY` says otherwise.
pub const DEFAULT_GRAPH_CONCURRENCY: usize = 32;

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
    /// What reps see of leads other reps own (`LEADHOOK_VISIBILITY`).
    pub visibility: Visibility,
    /// How leads are read as they arrive: phone regions, junk rules, the duplicate window.
    pub triage: Triage,
    /// How long a Graph API call may take before it counts as a transient failure.
    pub graph_timeout: Duration,
    /// Most Graph API calls in flight at once (`LEADHOOK_GRAPH_CONCURRENCY`).
    pub graph_concurrency: usize,
    pub sweep: SweepConfig,
    pub store: StoreConfig,
    /// With a shared store: how often the change follower reads changes made elsewhere while it
    /// cannot listen for them (`LEADHOOK_FOLLOW_INTERVAL_MS`).
    pub follow_interval: Duration,
    /// The Supabase project's PostgreSQL, listened on for changes (`DATABASE_URL`); `None`: the
    /// follower polls every `follow_interval`.
    pub database: Option<DatabaseConfig>,
    pub queue: QueueConfig,
    /// Sending lead stages to Meta; `None` when `FB_DATASET_ID` is unset.
    pub capi: Option<CapiConfig>,
    /// Reading the ads' spend for the insights; `None` when `FB_AD_ACCOUNT_ID` is unset.
    pub ads: Option<AdsConfig>,
    /// The channels file (`LEADHOOK_CHANNELS`); `None` when unset.
    pub channels: Option<Arc<ChannelsConfig>>,
    /// Claim links in pages to phones (`LEADHOOK_CLAIM_SECRET`); `None` when unset.
    pub claim_links: Option<Arc<ClaimLinks>>,
    /// Checks Twilio's callbacks (`TWILIO_AUTH_TOKEN`); `None` when unset.
    pub twilio: Option<TwilioInbound>,
    /// Form answers named as columns (`LEADHOOK_ANSWER_COLUMNS`).
    pub answer_columns: AnswerColumns,
    /// Leads older than this many days are erased daily (`LEADHOOK_RETENTION_DAYS`); `None`: off.
    pub retention_days: Option<u32>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`LEADHOOK_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where `/metrics` is served (`LEADHOOK_METRICS_ADDR`); `None`: nowhere.
    pub metrics_listen: Option<SocketAddr>,
}

/// The team's work queue: how leads get owners, when a waiting lead is escalated, and when an
/// unanswered one is called back.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    pub assignment: Assignment,
    /// The first escalation threshold; the second is [`SECOND_ESCALATION`].
    pub escalate_after: Duration,
    /// The time escalations are measured by (tests substitute their own).
    pub clock: Arc<dyn Clock>,
    /// When to call back after an unanswered call (`LEADHOOK_CADENCE`).
    pub cadence: Cadence,
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
    pub role: leadhook_shared::Role,
    pub token: SecretString,
    /// Written `name:role:token`; the older `name:token` gives admin power.
    pub role_given: bool,
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

impl Config {
    pub fn from_args(args: ServeArgs) -> Result<Config, ConfigError> {
        let app_secret = required_secret(
            args.fb_app_secret_file.or(args.fb_app_secret),
            "FB_APP_SECRET",
            "copy the App Secret from your Meta app (Settings > Basic)",
        )?;
        let verify_token = required_secret(
            args.fb_verify_token_file.or(args.fb_verify_token),
            "FB_VERIFY_TOKEN",
            "choose any random string and enter the same one in the Meta app's webhook setup",
        )?;
        let page_access_token = required_secret(
            args.fb_page_access_token_file.or(args.fb_page_access_token),
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
        let api_tokens = parse_api_tokens(args.api_tokens_file.or(args.api_tokens))?;
        let visibility = parse_visibility(args.visibility)?;
        let triage = Triage {
            regions: phone::parse_phone_regions(args.default_region, args.page_regions)?,
            junk: parse_junk_rules(args.junk_rules)?,
            repeat_window: parse_duplicate_window(args.duplicate_window)?,
        };
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
        let graph_concurrency = parse_number(
            args.graph_concurrency,
            "LEADHOOK_GRAPH_CONCURRENCY",
            DEFAULT_GRAPH_CONCURRENCY as u64,
            1..=256,
        )? as usize;
        let store = args.supabase.store()?;
        let database = database::parse(args.database_url_file.or(args.database_url), &store)?;
        let queue = QueueConfig {
            assignment: parse_assignment(args.assignment)?,
            escalate_after: parse_escalate_after(args.escalate_after)?,
            clock: Arc::new(SystemClock),
            cadence: cadence::parse_cadence(args.cadence)?,
        };
        let capi = capi::parse(
            capi::CapiArgs {
                dataset_id: args.fb_dataset_id,
                token: args.fb_capi_token_file.or(args.fb_capi_token),
                stages: args.capi_stages,
                batch_wait: args.capi_batch_wait,
                timeout: args.capi_timeout,
                retry_cap: args.capi_retry_cap,
            },
            &page_access_token,
        )?;
        let answer_columns = AnswerColumns::parse(args.answer_columns.as_deref().unwrap_or(""))
            .map_err(|error| ConfigError::invalid("LEADHOOK_ANSWER_COLUMNS", error.to_string()))?;
        let ads = ads::parse(
            args.fb_ad_account_id,
            args.fb_ads_token_file.or(args.fb_ads_token),
            &page_access_token,
        )?;
        let retention_days = parse_retention_days(args.retention_days)?;
        let claim_links = claim_links::parse(
            args.claim_secret_file.or(args.claim_secret),
            public_url.as_deref(),
        )?
        .map(Arc::new);
        let twilio = twilio::parse(
            args.twilio_auth_token_file.or(args.twilio_auth_token),
            public_url.as_deref(),
        )?;
        let channels = channels::load(args.channels.as_deref())?.map(Arc::new);
        let trusted_proxies = parse_trusted_proxies(args.trusted_proxies)?;
        let metrics_listen = parse_metrics_addr(args.metrics_addr)?;
        Ok(Config {
            trusted_proxies,
            metrics_listen,
            capi,
            ads,
            channels,
            claim_links,
            twilio,
            answer_columns,
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
            visibility,
            triage,
            graph_timeout: Duration::from_secs(15),
            graph_concurrency,
            sweep,
            store,
            queue,
            follow_interval: Duration::from_millis(follow_ms),
            database,
        })
    }
}
