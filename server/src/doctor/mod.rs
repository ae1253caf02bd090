//! `leadhook-server doctor`: checks a real setup against the Graph API and prints a checklist
//! with a fix for every failure. Exit status 0 only when every check passes.
//!
//! - this module: the token, permissions, page subscription, forms and store checks;
//! - [`delivery`]: will Meta deliver here (app subscription, Leads Access, public webhook);
//! - [`version`]: the Graph API version's end of life;
//! - [`ads`]: the ad account whose spend the insights show;
//! - [`capi`]: the Conversions API dataset and, with `--capi-test`, one test event;
//! - [`channels`]: each channel of the channels file answers (no message is sent);
//! - [`e2e`]: `doctor --e2e`, a real test lead through Meta, the webhook and the store.

mod ads;
mod capi;
mod channels;
mod delivery;
mod e2e;
mod first_message;
mod version;

use chrono::Utc;
use clap::Args;
use secrecy::SecretString;

use crate::config::{Config, ServeArgs};
use crate::graph::{GraphClient, GraphError};
use crate::store;

pub use e2e::{EndToEndArgs, end_to_end, end_to_end_with_spinner};

/// Permissions a Page token needs to read leads and manage the webhook subscription.
const REQUIRED_SCOPES: &[&str] = &[
    "leads_retrieval",
    "pages_manage_metadata",
    "pages_show_list",
    "pages_read_engagement",
];
/// A token expiring sooner than this is a short-lived one (the Graph Explorer's last about an hour).
const SHORT_LIVED_SECONDS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, Default, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// App ID of the Meta app (Settings > Basic), needed to inspect the Page token.
    #[arg(long = "fb-app-id", env = "FB_APP_ID")]
    pub fb_app_id: Option<String>,
    /// Subscribe the page to the app's leadgen webhooks when it is not.
    #[arg(long)]
    pub subscribe: bool,
    /// Send one Conversions API test event (the newest Facebook lead's stage) with this
    /// `test_event_code` from Events Manager > Test events; it shows there, not in results.
    #[arg(long = "capi-test", value_name = "TEST_EVENT_CODE")]
    pub capi_test: Option<String>,
    #[command(flatten)]
    pub e2e: EndToEndArgs,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass(String),
    /// Works today, but needs doing something about soon.
    Warn {
        problem: String,
        fix: String,
    },
    Fail {
        problem: String,
        fix: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub verdict: Verdict,
}

impl Check {
    fn pass(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            verdict: Verdict::Pass(detail.into()),
        }
    }

    fn fail(name: &'static str, problem: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            verdict: Verdict::Fail {
                problem: problem.into(),
                fix: fix.into(),
            },
        }
    }

    /// A failed read of an object a setting names (a dataset, an ad account), with its own
    /// token: wait when Meta is busy, `token_fix` when the token is bad, else `setting_fix`.
    fn from_setting_read(
        name: &'static str,
        error: &GraphError,
        token_fix: &'static str,
        setting_fix: &'static str,
    ) -> Check {
        let fix = match error {
            GraphError::Transient(_) | GraphError::RateLimited { .. } => {
                "run doctor again in a few minutes"
            }
            GraphError::TokenInvalid { .. } => token_fix,
            _ => setting_fix,
        };
        Check::fail(name, error.to_string(), fix)
    }

    fn from_graph_error(name: &'static str, error: &GraphError) -> Check {
        let fix = match error {
            GraphError::TokenInvalid { .. } => {
                "create a long-lived Page token (README, step 5) and set FB_PAGE_ACCESS_TOKEN"
            }
            GraphError::PermissionDenied { .. } => {
                "add the missing permission to the app, then make a new Page token with it (README, step 4)"
            }
            GraphError::NotReadable { .. } => {
                "in Meta Business Suite > Settings > Integrations > Leads Access, give the app access to the page's leads"
            }
            GraphError::RateLimited { .. } => {
                "wait until the rate limit lifts and run doctor again"
            }
            GraphError::Transient(_) | GraphError::Other(_) => {
                "check the network and FB_GRAPH_URL, then run doctor again"
            }
        };
        Check::fail(name, error.to_string(), fix)
    }

    fn warn(name: &'static str, problem: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            verdict: Verdict::Warn {
                problem: problem.into(),
                fix: fix.into(),
            },
        }
    }

    /// Whether the setup works today (a warning does).
    pub fn passed(&self) -> bool {
        !matches!(self.verdict, Verdict::Fail { .. })
    }
}

/// Runs every check in order. Later checks are skipped when the token itself is unusable.
pub async fn run(args: &DoctorArgs) -> Vec<Check> {
    let mut checks = Vec::new();
    let config = match Config::from_args(args.serve.clone()) {
        Ok(config) => config,
        Err(error) => {
            checks.push(Check::fail(
                "configuration",
                error.to_string(),
                "set it in the environment or .env (README: Configuration)",
            ));
            return checks;
        }
    };
    checks.push(Check::pass(
        "configuration",
        format!(
            "{} API token(s) in LEADHOOK_API_TOKENS (reps in the store: `leadhook-server reps list`), Graph API {}/{}",
            config.api_tokens.len(),
            config.graph_url,
            config.graph_version
        ),
    ));
    checks.push(version::check_graph_version(
        &config.graph_version,
        Utc::now().date_naive(),
    ));
    if let Some(capi) = &config.capi {
        checks.push(capi::check_dataset(&config, capi).await);
        if let Some(code) = args.capi_test.as_deref() {
            checks.push(capi::send_test_event(&config, capi, code).await);
        }
    }
    if let Some(ads) = &config.ads {
        checks.push(ads::check_account(&config, ads).await);
    }
    if let Some(channels) = &config.channels {
        checks.extend(channels::check_all(channels).await);
        for channel in &channels.channels {
            checks.extend(first_message::check(channel).await);
        }
    }
    let Some(page_id) = config.sweep.page_ids.first().cloned() else {
        checks.push(Check::fail(
            "page",
            "FB_PAGE_ID is not set",
            "set FB_PAGE_ID to your Facebook Page's ID (Page > About > Page ID)",
        ));
        return checks;
    };
    let graph = match GraphClient::for_config(&config) {
        Ok(graph) => graph,
        Err(error) => {
            checks.push(Check::from_graph_error("Graph API client", &error));
            return checks;
        }
    };

    let app_id = args
        .fb_app_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty());
    match app_id {
        None => checks.push(Check::fail(
            "Page token",
            "FB_APP_ID is not set, so the token cannot be inspected",
            "set FB_APP_ID to the App ID from the Meta app's Settings > Basic",
        )),
        Some(app_id) => {
            let token_ok =
                check_token(&graph, app_id, &config.app_secret, &page_id, &mut checks).await;
            if !token_ok {
                return checks;
            }
        }
    }

    let public_url = config.public_url.as_deref();
    checks.push(check_subscription(&graph, &page_id, app_id, args.subscribe).await);
    checks.push(
        delivery::check_app_subscription(&graph, app_id, &config.app_secret, public_url).await,
    );
    checks.push(delivery::check_lead_access(&graph, &page_id).await);
    checks.extend(check_forms_and_leads(&graph, &page_id).await);
    checks.push(delivery::check_public_webhook(public_url, &config.verify_token).await);
    checks.push(check_store(&config).await);
    checks
}

async fn check_token(
    graph: &GraphClient,
    app_id: &str,
    app_secret: &SecretString,
    page_id: &str,
    checks: &mut Vec<Check>,
) -> bool {
    let info = match graph.debug_token(app_id, app_secret).await {
        Ok(info) => info,
        Err(error) => {
            checks.push(Check::from_graph_error("Page token", &error));
            return false;
        }
    };
    if !info.is_valid {
        checks.push(Check::fail(
            "Page token",
            "the token is not valid (expired or revoked)",
            "create a long-lived Page token (README, step 5) and set FB_PAGE_ACCESS_TOKEN",
        ));
        return false;
    }
    if info.kind.as_deref() != Some("PAGE") {
        checks.push(Check::fail(
            "Page token",
            format!("this is a {} token, not a Page token", info.kind.as_deref().unwrap_or("unknown")),
            "exchange it for a Page token: GET /me/accounts with a long-lived user token (README, step 5)",
        ));
        return false;
    }
    if info
        .profile_id
        .as_deref()
        .is_some_and(|profile| profile != page_id)
    {
        checks.push(Check::fail(
            "Page token",
            format!(
                "the token belongs to page {}, not FB_PAGE_ID {page_id}",
                info.profile_id.unwrap_or_default()
            ),
            "use the token of the page in FB_PAGE_ID, or fix FB_PAGE_ID",
        ));
        return false;
    }
    checks.push(Check::pass(
        "Page token",
        format!("valid Page token for page {page_id}"),
    ));

    let remaining = info
        .expires_at
        .filter(|at| *at > 0)
        .map(|at| at - Utc::now().timestamp());
    checks.push(match remaining {
        Some(seconds) if seconds < SHORT_LIVED_SECONDS => Check::fail(
            "token lifetime",
            format!("the token expires in {}", human_duration(seconds)),
            "a Graph Explorer token lives about an hour: exchange it for a long-lived one (README, step 5)",
        ),
        Some(seconds) => Check::pass("token lifetime", format!("expires in {}", human_duration(seconds))),
        None => Check::pass("token lifetime", "never expires"),
    });

    let missing: Vec<&str> = REQUIRED_SCOPES
        .iter()
        .copied()
        .filter(|scope| !info.scopes.iter().any(|granted| granted == scope))
        .collect();
    checks.push(if missing.is_empty() {
        Check::pass("permissions", info.scopes.join(", "))
    } else {
        Check::fail(
            "permissions",
            format!("missing {}", missing.join(", ")),
            "add them to the app (App Review for live apps), then make a new Page token (README, step 4)",
        )
    });
    true
}

async fn check_subscription(
    graph: &GraphClient,
    page_id: &str,
    app_id: Option<&str>,
    subscribe: bool,
) -> Check {
    const NAME: &str = "webhook subscription";
    let subscribed = |apps: &[crate::graph::SubscribedApp]| {
        apps.iter().any(|app| {
            app.subscribed_fields.iter().any(|field| field == "leadgen")
                && app_id.is_none_or(|id| app.id.as_deref() == Some(id))
        })
    };
    match graph.subscribed_apps(page_id).await {
        Err(error) => Check::from_graph_error(NAME, &error),
        Ok(apps) if subscribed(&apps) => {
            Check::pass(NAME, "the page sends leadgen webhooks to the app")
        }
        Ok(_) if subscribe => match graph.subscribe_leadgen(page_id).await {
            Ok(true) => Check::pass(
                NAME,
                "the page was not subscribed; subscribed it to leadgen now",
            ),
            Ok(false) => Check::fail(
                NAME,
                "Meta refused the subscription",
                "subscribe the page in the app dashboard (README, step 6)",
            ),
            Err(error) => Check::from_graph_error(NAME, &error),
        },
        Ok(_) => Check::fail(
            NAME,
            "the page is not subscribed to the app's leadgen webhooks, so no webhook will come",
            "run `leadhook-server doctor --subscribe`, or subscribe it in the app dashboard (README, step 6)",
        ),
    }
}

async fn check_forms_and_leads(graph: &GraphClient, page_id: &str) -> Vec<Check> {
    let forms = match graph.leadgen_forms(page_id).await {
        Ok(forms) => forms,
        Err(error) => return vec![Check::from_graph_error("lead forms", &error)],
    };
    let mut checks = vec![if forms.is_empty() {
        Check::fail(
            "lead forms",
            "the page has no lead forms",
            "create a lead form (Meta Business Suite > Instant Forms)",
        )
    } else {
        let names: Vec<&str> = forms
            .iter()
            .map(|f| f.name.as_deref().unwrap_or(&f.id))
            .collect();
        Check::pass(
            "lead forms",
            format!("{} readable: {}", forms.len(), names.join(", ")),
        )
    }];
    let a_month_ago = Utc::now().timestamp() - 30 * 86_400;
    let mut recent = None;
    for form in &forms {
        match graph.form_leads(&form.id, a_month_ago).await {
            Ok(leads) => {
                if let Some(id) = leads.into_iter().find_map(|lead| lead.id) {
                    recent = Some(id);
                    break;
                }
            }
            Err(error) => {
                checks.push(Check::from_graph_error("lead access", &error));
                return checks;
            }
        }
    }
    checks.push(match recent {
        None => Check::pass(
            "lead access",
            "no leads in the last 30 days to try; send a test lead with the Lead Ads Testing Tool",
        ),
        Some(id) => match graph.lead(&id).await {
            Ok(_) => Check::pass("lead access", format!("read lead {id}")),
            Err(error) => Check::from_graph_error("lead access", &error),
        },
    });
    checks
}

async fn check_store(config: &Config) -> Check {
    const NAME: &str = "lead store";
    match store::open(config).await {
        Err(error) => Check::fail(
            NAME,
            error.to_string(),
            "see the fix above, then run doctor again",
        ),
        Ok(store) => match store.ping().await {
            Ok(()) => Check::pass(NAME, format!("{} reachable and migrated", store.backend())),
            Err(error) => Check::fail(
                NAME,
                error.to_string(),
                "check the store settings (README: Supabase)",
            ),
        },
    }
}

fn human_duration(seconds: i64) -> String {
    match seconds {
        s if s < 0 => "the past (already expired)".to_string(),
        s if s < 3600 => format!("{} minutes", s / 60),
        s if s < 2 * 86_400 => format!("{} hours", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// One check as the user sees it: a line, and the fix under a failure or warning.
pub fn render_check(check: &Check) -> String {
    match &check.verdict {
        Verdict::Pass(detail) => format!("  ✓ {}: {detail}\n", check.name),
        Verdict::Warn { problem, fix } => {
            format!("  ! {}: {problem}\n      fix: {fix}\n", check.name)
        }
        Verdict::Fail { problem, fix } => {
            format!("  ✗ {}: {problem}\n      fix: {fix}\n", check.name)
        }
    }
}

/// The checklist as the user sees it.
pub fn render(checks: &[Check]) -> String {
    let checklist: String = checks.iter().map(render_check).collect();
    checklist + &summary(checks)
}

/// The last line: how many checks passed.
pub fn summary(checks: &[Check]) -> String {
    let passed = checks.iter().filter(|c| c.passed()).count();
    format!("\n{passed} of {} checks passed\n", checks.len())
}
