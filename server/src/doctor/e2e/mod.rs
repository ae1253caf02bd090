//! `doctor --e2e`: creates a real test lead on a form (`POST /<form-id>/test_leads`), which Meta
//! announces like any lead, and watches a running server until the lead is stored and shows up
//! in the dashboard feed. On a timeout it names the hop that failed, from what the server saw
//! (its authenticated `/api/health`: the last webhook, the failed events and their reasons).

mod server;

use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::SecretString;
use tokio::sync::mpsc;

use super::{Check, DoctorArgs};
use crate::config::{Config, secret_file};
use crate::graph::GraphClient;
use server::{Health, WatchedServer};

const NAME: &str = "end-to-end test lead";
/// How often the server is asked whether the lead is there.
const POLL_EVERY: Duration = Duration::from_millis(200);
/// How often the server's health is read while waiting (to spot a failed lead early).
const HEALTH_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Args)]
pub struct EndToEndArgs {
    /// After the checks, create a test lead with the Graph API and wait until it arrives through
    /// the webhook into the store and the dashboard feed.
    #[arg(long)]
    pub e2e: bool,
    /// Lead form for the test lead (default: the first active form of FB_PAGE_ID).
    #[arg(long)]
    pub form: Option<String>,
    /// The running server to watch (default: http://<LEADHOOK_LISTEN>).
    #[arg(long, env = "LEADHOOK_SERVER")]
    pub server: Option<String>,
    /// File holding an API token of that server (or set LEADHOOK_TOKEN; default: the first of
    /// LEADHOOK_API_TOKENS).
    #[arg(long = "token-file", env = "LEADHOOK_TOKEN_FILE", value_name = "PATH", value_parser = secret_file)]
    pub token_file: Option<SecretString>,
    #[arg(long, env = "LEADHOOK_TOKEN", hide_env_values = true, hide = true)]
    pub token: Option<SecretString>,
    /// Seconds to wait for the test lead.
    #[arg(long = "e2e-timeout", default_value_t = 120)]
    pub timeout_seconds: u64,
}

impl Default for EndToEndArgs {
    fn default() -> Self {
        EndToEndArgs {
            e2e: false,
            form: None,
            server: None,
            token_file: None,
            token: None,
            timeout_seconds: 120,
        }
    }
}

/// [`end_to_end`] with a spinner on the terminal (none when stderr is not one).
pub async fn end_to_end_with_spinner(args: &DoctorArgs) -> Check {
    let spinner = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("  {spinner} {msg} ({elapsed})") {
        spinner.set_style(style);
    }
    spinner.enable_steady_tick(Duration::from_millis(100));
    let check = end_to_end(args, &spinner).await;
    spinner.finish_and_clear();
    check
}

/// Sends a test lead through Meta and the server; `progress` shows what it waits for.
pub async fn end_to_end(args: &DoctorArgs, progress: &ProgressBar) -> Check {
    match trial(args, progress).await {
        Ok(detail) => Check::pass(NAME, detail),
        Err(failed) => failed,
    }
}

async fn trial(args: &DoctorArgs, progress: &ProgressBar) -> Result<String, Check> {
    let config = Config::from_args(args.serve.clone()).map_err(|error| {
        Check::fail(
            NAME,
            error.to_string(),
            "set it in the environment or .env (README: Configuration)",
        )
    })?;
    let graph =
        GraphClient::for_config(&config).map_err(|error| Check::from_graph_error(NAME, &error))?;
    let server = WatchedServer::new(&args.e2e, &config)?;
    progress.set_message(format!("asking {} how it is", server.base));
    let before = server.health().await?;
    let form_id = pick_form(&graph, &config, args.e2e.form.as_deref()).await?;

    progress.set_message(format!("removing an earlier test lead of form {form_id}"));
    let graph_failed = |error| Check::from_graph_error(NAME, &error);
    for earlier in graph.test_leads(&form_id).await.map_err(graph_failed)? {
        graph.delete_lead(&earlier).await.map_err(graph_failed)?;
    }

    let (feed, feed_task) = server.open_feed().await?;
    progress.set_message(format!("creating a test lead on form {form_id}"));
    let created = Instant::now();
    let leadgen_id = graph
        .create_test_lead(&form_id)
        .await
        .map_err(graph_failed)?;
    let timeout = Duration::from_secs(args.e2e.timeout_seconds);
    let outcome = watch(
        &server,
        &leadgen_id,
        created,
        timeout,
        &before,
        feed,
        progress,
    )
    .await;
    feed_task.abort();
    match outcome {
        Watched::Arrived { stored, in_feed } => {
            // The backfill sweeper finds a test lead too, webhook or not.
            if server.health().await?.last_webhook_at == before.last_webhook_at {
                return Err(no_webhook(format!(
                    "test lead {leadgen_id} was stored after {}, but by the backfill sweeper: no webhook reached {}",
                    seconds(stored),
                    server.base
                )));
            }
            Ok(format!(
                "test lead {leadgen_id} on form {form_id}: stored {} after it was created, in the dashboard feed after {}",
                seconds(stored),
                seconds(in_feed)
            ))
        }
        Watched::Missing { stored, after } => Err(diagnose(
            &server,
            &leadgen_id,
            timeout,
            &before,
            after,
            stored,
        )),
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

/// `--form`, else the first active form of `FB_PAGE_ID` (the first form when none is active).
async fn pick_form(
    graph: &GraphClient,
    config: &Config,
    form: Option<&str>,
) -> Result<String, Check> {
    if let Some(form) = form.map(str::trim).filter(|form| !form.is_empty()) {
        return Ok(form.to_string());
    }
    let Some(page_id) = config.sweep.page_ids.first() else {
        return Err(Check::fail(
            NAME,
            "FB_PAGE_ID is not set, so there is no form to send a test lead to",
            "set FB_PAGE_ID, or pass --form <FORM_ID>",
        ));
    };
    let forms = graph
        .leadgen_forms(page_id)
        .await
        .map_err(|error| Check::from_graph_error(NAME, &error))?;
    forms
        .iter()
        .find(|form| form.status.as_deref() == Some("ACTIVE"))
        .or(forms.first())
        .map(|form| form.id.clone())
        .ok_or_else(|| {
            Check::fail(
                NAME,
                format!("page {page_id} has no lead forms"),
                "create a lead form (Meta Business Suite > Instant Forms), or pass --form <FORM_ID>",
            )
        })
}

enum Watched {
    Arrived {
        stored: Duration,
        in_feed: Duration,
    },
    /// Time ran out, or the server gave up on the lead.
    Missing {
        stored: Option<Duration>,
        /// The server's health at that moment.
        after: Health,
    },
}

/// Waits until the lead is in the store (the newest leads) and in the feed, until the server
/// keeps the lead's event as failed, or `timeout`. `before` is the server's health before the
/// lead was created.
async fn watch(
    server: &WatchedServer,
    leadgen_id: &str,
    created: Instant,
    timeout: Duration,
    before: &Health,
    mut feed: mpsc::UnboundedReceiver<String>,
    progress: &ProgressBar,
) -> Watched {
    let mut stored = None;
    let mut in_feed = None;
    let mut health = Health::default();
    let mut next_health = Instant::now();
    progress.set_message(format!(
        "waiting for test lead {leadgen_id}: Meta → webhook → store"
    ));
    loop {
        while let Ok(id) = feed.try_recv() {
            if id == leadgen_id && in_feed.is_none() {
                in_feed = Some(created.elapsed());
            }
        }
        if stored.is_none() && server.has_lead(leadgen_id).await {
            stored = Some(created.elapsed());
            progress.set_message(format!(
                "test lead {leadgen_id} stored; waiting for the dashboard feed"
            ));
        }
        if let (Some(stored), Some(in_feed)) = (stored, in_feed) {
            return Watched::Arrived { stored, in_feed };
        }
        let timed_out = created.elapsed() >= timeout;
        if timed_out || Instant::now() >= next_health {
            next_health = Instant::now() + HEALTH_EVERY;
            if let Ok(latest) = server.health().await {
                health = latest;
            }
            if timed_out || health.failure(leadgen_id).is_some() {
                return Watched::Missing {
                    stored,
                    after: health,
                };
            }
            if stored.is_none() && health.last_webhook_at != before.last_webhook_at {
                progress.set_message(format!(
                    "a webhook arrived; waiting for test lead {leadgen_id} in the store"
                ));
            }
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Which hop failed, from what the server saw.
fn diagnose(
    server: &WatchedServer,
    leadgen_id: &str,
    timeout: Duration,
    before: &Health,
    after: Health,
    stored: Option<Duration>,
) -> Check {
    let waited = timeout.as_secs();
    if let Some(failure) = after.failure(leadgen_id) {
        return Check::fail(
            NAME,
            format!(
                "Meta delivered the webhook for test lead {leadgen_id}, but the server could not read the lead: {}",
                failure.reason
            ),
            "give the app Leads Access (Meta Business Suite > Settings > Integrations > Leads Access) and the Page token leads_retrieval (see the checks above), then retry the failed event: POST /api/inbox/retry",
        );
    }
    if let Some(stored) = stored {
        return Check::fail(
            NAME,
            format!(
                "test lead {leadgen_id} was stored after {}, but the dashboard feed (/api/events) did not show it within {waited} s",
                seconds(stored)
            ),
            "let Server-Sent Events through unbuffered between the dashboard and the server (reverse proxy settings)",
        );
    }
    if after.last_webhook_at == before.last_webhook_at {
        return no_webhook(format!(
            "no webhook reached {} within {waited} s of creating test lead {leadgen_id}: Meta did not deliver it here",
            server.base
        ));
    }
    let graph = match after.graph.message {
        Some(message) => format!("; the server's Graph API state: {message}"),
        None => String::new(),
    };
    Check::fail(
        NAME,
        format!(
            "a webhook reached the server, but test lead {leadgen_id} was not stored within {waited} s{graph}"
        ),
        "see GET /api/health and the server's log; the event stays in the inbox and is retried",
    )
}

/// Meta's webhook never came: the app's subscription or its callback URL is the broken hop.
fn no_webhook(problem: String) -> Check {
    Check::fail(
        NAME,
        problem,
        "check the app's webhook subscription (Page object, leadgen field, callback <LEADHOOK_PUBLIC_URL>/webhook), that the page is subscribed to the app (doctor --subscribe) and that the public webhook reaches this server (the checks above)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_holds_no_token() {
        let secret = "do-not-print-me-0123456789";
        let args = EndToEndArgs {
            token: Some(secret.into()),
            ..EndToEndArgs::default()
        };
        let printed = format!("{args:?} {args:#?}");
        assert!(!printed.contains(secret), "{printed}");
    }
}
