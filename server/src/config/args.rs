//! The flags and environment variables of `leadhook-server serve`, as clap reads them; they are
//! checked and turned into a [`Config`](super::Config) in one place, `Config::from_args`.

use std::path::PathBuf;

use clap::Args;
use secrecy::SecretString;

#[cfg(doc)]
use leadhook_shared::secret_args;

use super::{ConfigError, StoreConfig, parse_store, secret_file};

/// Settings of `leadhook-server serve` (and of the commands that check a real setup). Secrets are
/// [`SecretString`]s, so `{:?}` of the settings (a log line, a panic) does not print them.
///
/// Each secret comes from its variable or from its `-file` flag (which wins); its plain flag is
/// hidden and refused by [`secret_args::parse`], since a command line shows in `ps`.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// File holding the App Secret of the Meta app: the key of the webhook signature (Meta app > Settings >
    /// Basic) (or set FB_APP_SECRET).
    #[arg(long = "fb-app-secret-file", env = "FB_APP_SECRET_FILE", value_name = "PATH", value_parser = secret_file)]
    pub fb_app_secret_file: Option<SecretString>,
    #[arg(
        long = "fb-app-secret",
        env = "FB_APP_SECRET",
        hide_env_values = true,
        hide = true
    )]
    pub fb_app_secret: Option<SecretString>,
    /// File holding the token you also type into the Meta app's webhook setup; Meta echoes it in the
    /// subscription handshake (or set FB_VERIFY_TOKEN).
    #[arg(long = "fb-verify-token-file", env = "FB_VERIFY_TOKEN_FILE", value_name = "PATH", value_parser = secret_file)]
    pub fb_verify_token_file: Option<SecretString>,
    #[arg(
        long = "fb-verify-token",
        env = "FB_VERIFY_TOKEN",
        hide_env_values = true,
        hide = true
    )]
    pub fb_verify_token: Option<SecretString>,
    /// File holding the long-lived Page access token used to read leads from the Graph API (or set FB_PAGE_ACCESS_TOKEN).
    #[arg(long = "fb-page-access-token-file", env = "FB_PAGE_ACCESS_TOKEN_FILE", value_name = "PATH", value_parser = secret_file)]
    pub fb_page_access_token_file: Option<SecretString>,
    #[arg(
        long = "fb-page-access-token",
        env = "FB_PAGE_ACCESS_TOKEN",
        hide_env_values = true,
        hide = true
    )]
    pub fb_page_access_token: Option<SecretString>,
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
    /// File holding the comma-separated name:token pairs, one per sales rep, for the /api bearer tokens (or set LEADHOOK_API_TOKENS).
    #[arg(long = "api-tokens-file", env = "LEADHOOK_API_TOKENS_FILE", value_name = "PATH", value_parser = secret_file)]
    pub api_tokens_file: Option<SecretString>,
    #[arg(
        long = "api-tokens",
        env = "LEADHOOK_API_TOKENS",
        hide_env_values = true,
        hide = true
    )]
    pub api_tokens: Option<SecretString>,
    /// What reps see of leads other reps own: team (every lead, the default) or own (their own
    /// and unowned ones). Managers and admins always see every lead.
    #[arg(long = "visibility", env = "LEADHOOK_VISIBILITY")]
    pub visibility: Option<String>,
    /// The region (two-letter code like US, GB, DE) a lead's phone number without a country
    /// code is read in; without it only numbers with + get an E.164 form.
    #[arg(long = "default-region", env = "LEADHOOK_DEFAULT_REGION")]
    pub default_region: Option<String>,
    /// A page's own region, before the default: comma-separated page_id:REGION, like
    /// 153125381133:DE.
    #[arg(long = "page-regions", env = "LEADHOOK_PAGE_REGIONS")]
    pub page_regions: Option<String>,
    /// How far apart two submissions with the same phone or e-mail are one person's (a repeat
    /// goes to the earlier lead's owner): like 30d (the default) or 12h; 0 never links.
    #[arg(long = "duplicate-window", env = "LEADHOOK_DUPLICATE_WINDOW")]
    pub duplicate_window: Option<String>,
    /// File of junk rules, one per line: name, email, domain or phone, then a pattern (* and ?
    /// wildcards, any case), like "domain mailinator.com". Meta's test leads and leads with no way
    /// to reach the person are junk without rules.
    #[arg(long = "junk-rules", env = "LEADHOOK_JUNK_RULES", value_name = "PATH")]
    pub junk_rules: Option<PathBuf>,
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
    #[command(flatten)]
    pub supabase: SupabaseArgs,
    /// How new leads get an owner: claim (reps claim them), round-robin, or none.
    #[arg(long = "assignment", env = "LEADHOOK_ASSIGNMENT")]
    pub assignment: Option<String>,
    /// How long a lead may wait in New Lead before every dashboard is told (then again at 30m).
    #[arg(long = "escalate-after", env = "LEADHOOK_ESCALATE_AFTER")]
    pub escalate_after: Option<String>,
    /// The CRM dataset (pixel) id lead stages are sent to with the Conversions API; unset: off.
    #[arg(long = "fb-dataset-id", env = "FB_DATASET_ID")]
    pub fb_dataset_id: Option<String>,
    /// File holding the token allowed to send events to the dataset; default: the Page token (or set FB_CAPI_TOKEN).
    #[arg(long = "fb-capi-token-file", env = "FB_CAPI_TOKEN_FILE", value_name = "PATH", value_parser = secret_file)]
    pub fb_capi_token_file: Option<SecretString>,
    #[arg(
        long = "fb-capi-token",
        env = "FB_CAPI_TOKEN",
        hide_env_values = true,
        hide = true
    )]
    pub fb_capi_token: Option<SecretString>,
    /// Form answers as named columns: "budget=what_is_your_budget?,123456:zip=postcode" ([form_id:]column=question, comma-separated).
    #[arg(long = "answer-columns", env = "LEADHOOK_ANSWER_COLUMNS")]
    pub answer_columns: Option<String>,
    /// The ad account whose spend the insights show (its number, with or without act_); unset: no cost figures.
    #[arg(long = "fb-ad-account-id", env = "FB_AD_ACCOUNT_ID")]
    pub fb_ad_account_id: Option<String>,
    /// File holding a token with ads_read on that account; default: the Page token (or set FB_ADS_TOKEN).
    #[arg(long = "fb-ads-token-file", env = "FB_ADS_TOKEN_FILE", value_name = "PATH", value_parser = secret_file)]
    pub fb_ads_token_file: Option<SecretString>,
    #[arg(
        long = "fb-ads-token",
        env = "FB_ADS_TOKEN",
        hide_env_values = true,
        hide = true
    )]
    pub fb_ads_token: Option<SecretString>,
    /// File holding the key that signs claim links in pages to phones (32+ random characters; every replica the same; or set LEADHOOK_CLAIM_SECRET); unset: pages carry no Claim.
    #[arg(long = "claim-secret-file", env = "LEADHOOK_CLAIM_SECRET_FILE", value_name = "PATH", value_parser = secret_file)]
    pub claim_secret_file: Option<SecretString>,
    #[arg(
        long = "claim-secret",
        env = "LEADHOOK_CLAIM_SECRET",
        hide_env_values = true,
        hide = true
    )]
    pub claim_secret: Option<SecretString>,
    /// File holding the Twilio Auth Token: the key of the signature on Twilio's status callbacks
    /// and inbound SMS at /twilio/sms (or set TWILIO_AUTH_TOKEN); needs LEADHOOK_PUBLIC_URL.
    #[arg(long = "twilio-auth-token-file", env = "TWILIO_AUTH_TOKEN_FILE", value_name = "PATH", value_parser = secret_file)]
    pub twilio_auth_token_file: Option<SecretString>,
    #[arg(
        long = "twilio-auth-token",
        env = "TWILIO_AUTH_TOKEN",
        hide_env_values = true,
        hide = true
    )]
    pub twilio_auth_token: Option<SecretString>,
    /// The channels file (TOML): outgoing webhooks and which events go where; unset: none.
    #[arg(long = "channels", env = "LEADHOOK_CHANNELS", value_name = "PATH")]
    pub channels: Option<std::path::PathBuf>,
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
    /// servers or by hand, which this server then pushes to its dashboards, while it cannot
    /// listen for them (no DATABASE_URL, or its connection is down).
    #[arg(long = "follow-interval-ms", env = "LEADHOOK_FOLLOW_INTERVAL_MS")]
    pub follow_interval_ms: Option<String>,
    /// File holding the Supabase project's PostgreSQL URL (direct connection or session pooler,
    /// port 5432; not the transaction pooler): each server listens there for lead changes instead
    /// of polling (or set DATABASE_URL).
    #[arg(long = "database-url-file", env = "DATABASE_URL_FILE", value_name = "PATH", value_parser = secret_file)]
    pub database_url_file: Option<SecretString>,
    #[arg(
        long = "database-url",
        env = "DATABASE_URL",
        hide_env_values = true,
        hide = true
    )]
    pub database_url: Option<SecretString>,
    /// Most Graph API calls in flight at once (lead fetches, form names, sweeps), to stay within
    /// Meta's limits.
    #[arg(long = "graph-concurrency", env = "LEADHOOK_GRAPH_CONCURRENCY")]
    pub graph_concurrency: Option<String>,
    /// Leads submitted more than this many days ago are erased once a day; unset: kept forever.
    #[arg(long = "retention-days", env = "LEADHOOK_RETENTION_DAYS")]
    pub retention_days: Option<String>,
    /// Reverse proxies (comma-separated IPs or CIDRs) whose X-Forwarded-For names the client;
    /// from anyone else the header is ignored. Unset: none.
    #[arg(long = "trusted-proxies", env = "LEADHOOK_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// Address of the Prometheus /metrics listener, kept off the public port; `off` disables it.
    /// Default: 127.0.0.1:9464.
    #[arg(long = "metrics-addr", env = "LEADHOOK_METRICS_ADDR")]
    pub metrics_addr: Option<String>,
    /// Waits before each call back after an unanswered call, like the default 15m,2h,1d,3d,7d;
    /// after the last one no call back is planned.
    #[arg(long = "cadence", env = "LEADHOOK_CADENCE")]
    pub cadence: Option<String>,
}

/// The Supabase project that holds the leads; without a URL the embedded SQLite store does.
#[derive(Debug, Clone, Default, Args)]
pub struct SupabaseArgs {
    /// Supabase project REST URL, e.g. https://<project>.supabase.co/rest/v1; selects the Supabase store.
    #[arg(long = "supabase-url", env = "SUPABASE_URL")]
    pub supabase_url: Option<String>,
    /// File holding the Supabase service_role key (legacy JWT) for the Supabase store (or set SUPABASE_SERVICE_ROLE_KEY).
    #[arg(long = "supabase-service-role-key-file", env = "SUPABASE_SERVICE_ROLE_KEY_FILE", value_name = "PATH", value_parser = secret_file)]
    pub supabase_service_role_key_file: Option<SecretString>,
    #[arg(
        long = "supabase-service-role-key",
        env = "SUPABASE_SERVICE_ROLE_KEY",
        hide_env_values = true,
        hide = true
    )]
    pub supabase_service_role_key: Option<SecretString>,
    /// File holding the Supabase secret key (sb_secret_...), accepted instead of the service_role key (or set SUPABASE_SECRET_KEY).
    #[arg(long = "supabase-secret-key-file", env = "SUPABASE_SECRET_KEY_FILE", value_name = "PATH", value_parser = secret_file)]
    pub supabase_secret_key_file: Option<SecretString>,
    #[arg(
        long = "supabase-secret-key",
        env = "SUPABASE_SECRET_KEY",
        hide_env_values = true,
        hide = true
    )]
    pub supabase_secret_key: Option<SecretString>,
}

impl SupabaseArgs {
    /// The store these settings select (a secret key wins over a service_role key).
    pub fn store(self) -> Result<StoreConfig, ConfigError> {
        parse_store(
            self.supabase_url,
            self.supabase_secret_key_file
                .or(self.supabase_secret_key)
                .or(self.supabase_service_role_key_file)
                .or(self.supabase_service_role_key),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_holds_no_secret() {
        let secret = "do-not-print-me-0123456789";
        let args = ServeArgs {
            fb_app_secret: Some(secret.into()),
            fb_verify_token: Some(secret.into()),
            fb_page_access_token: Some(secret.into()),
            api_tokens: Some(format!("alice:{secret}").into()),
            fb_capi_token: Some(secret.into()),
            fb_ads_token: Some(secret.into()),
            claim_secret: Some(secret.into()),
            twilio_auth_token: Some(secret.into()),
            fb_ads_token_file: Some(secret.into()),
            fb_app_secret_file: Some(secret.into()),
            api_tokens_file: Some(secret.into()),
            database_url: Some(format!("postgres://u:{secret}@db.example.com/postgres").into()),
            database_url_file: Some(secret.into()),
            supabase: SupabaseArgs {
                supabase_url: Some("https://project.supabase.co/rest/v1".into()),
                supabase_service_role_key: Some(secret.into()),
                supabase_secret_key: Some(secret.into()),
                supabase_service_role_key_file: Some(secret.into()),
                supabase_secret_key_file: Some(secret.into()),
            },
            ..ServeArgs::default()
        };
        let printed = format!("{args:?} {args:#?}");
        assert!(!printed.contains(secret), "{printed}");
        assert!(printed.contains("https://project.supabase.co/rest/v1"));
    }
}
