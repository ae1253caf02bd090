//! A lead stored → the person's first message request sent (issue 28's row, p99 ≤ 5 s outside
//! quiet hours).
//!
//! The server (in this process, embedded SQLite) has one `[whatsapp]` channel to the simulator's
//! WhatsApp Cloud API stand-in on a loopback port, its send window open (the rules are set so;
//! quiet hours are the unit tests' subject). Each lead is a person of its own (a unique number
//! and e-mail), so every one gets a message; each webhook from Meta is posted alone, a gap apart.
//! The clock starts when the webhook is answered, which is before the lead is fetched and stored:
//! the figure is an upper bound of stored → sent, and holds the intake, the outbox's wake, the
//! rules, the store's at-most-once claim and the request.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use clap::Args;
use leadhook_server::config::ChannelKind;
use leadhook_sim::messaging_standin::{PHONE_NUMBER_ID, WHATSAPP_TOKEN};
use leadhook_sim::{Api, MessagingFault, MessagingStandin};

use crate::fixture::{self, Server, post_webhook, signed_webhooks};
use crate::report::{Figure, Figures, Latencies, Target};

const BENCHMARK: &str = "first_message";
/// How long the last message may take after the last POST.
const WAIT_LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Args)]
pub struct FirstMessageArgs {
    /// Leads timed per run.
    #[arg(long, default_value_t = 200)]
    pub leads: usize,
    /// Milliseconds between two webhooks from Meta.
    #[arg(long, default_value_t = 37)]
    pub gap_ms: u64,
}

/// The channels file: one WhatsApp channel to `standin`, for every form, no consent check.
fn channels_file(
    dir: &std::path::Path,
    standin: &MessagingStandin,
) -> anyhow::Result<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let token = dir.join("whatsapp-token");
    std::fs::write(&token, WHATSAPP_TOKEN).context("cannot write the token")?;
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600))?;
    let path = dir.join("channels.toml");
    std::fs::write(
        &path,
        format!(
            "[whatsapp.bench]\nphone_number_id = \"{PHONE_NUMBER_ID}\"\nsecret_file = \"{}\"\n\
             template = \"first_contact\"\nbusiness_name = \"Bench\"\napi_url = \"{}\"\n\
             events = [\"lead.created\"]\n[whatsapp.bench.rules]\nforms = [\"all\"]\n\
             consent = \"off\"\nzones = {{ DE = \"UTC\" }}\n",
            token.display(),
            standin.whatsapp_api()
        ),
    )
    .context("cannot write the channels file")?;
    Ok(path)
}

async fn time_leads(args: &FirstMessageArgs, seed: u64) -> anyhow::Result<Latencies> {
    let standin = MessagingStandin::spawn(|_, _| MessagingFault::None).await;
    let data_dir = tempfile::tempdir().context("cannot create a data directory")?;
    let path = channels_file(data_dir.path(), &standin)?;
    let mut channels = leadhook_server::config::load_channels(Some(&path))
        .context("the benchmark's channels file is invalid")?
        .context("no channels")?;
    // The send window open for the whole run: quiet only in an hour six hours from now (UTC).
    let now = chrono::Utc::now().time();
    let quiet_from = now + chrono::TimeDelta::hours(6);
    for channel in &mut channels.channels {
        if let ChannelKind::WhatsApp(whatsapp) = &mut channel.kind {
            whatsapp.rules.quiet.start = quiet_from;
            whatsapp.rules.quiet.end = quiet_from + chrono::TimeDelta::hours(1);
        }
    }
    let channels = Some(Arc::new(channels));
    let server = Server::start_adjusted(data_dir.path(), None, |config| {
        config.channels = channels;
    })
    .await?;
    // Meta's test leads get no message (the rules): the people here are real ones.
    let mut leads = fixture::fake_leads(seed, args.leads);
    leads.retain(|lead| {
        !lead
            .field_data
            .iter()
            .any(|answer| answer.values.iter().any(|v| v.starts_with("<test lead")))
    });
    let mut numbers = HashMap::new();
    for (n, lead) in leads.iter_mut().enumerate() {
        let number = format!("49151{:08}", 10_000_000 + n);
        lead.set_answer("phone_number", vec![format!("+{number}")]);
        lead.set_answer("email", vec![format!("bench{n}@example.com")]);
        numbers.insert(number, n);
        server.graph.add_fake_lead(lead);
    }
    let webhooks = signed_webhooks(&leads)?;
    let url = server.url("/webhook");
    let mut answered = vec![Instant::now(); leads.len()];
    let mut gap = tokio::time::interval(Duration::from_millis(args.gap_ms));
    for (n, webhook) in webhooks.iter().enumerate() {
        gap.tick().await;
        post_webhook(&server.client, &url, webhook).await?;
        answered[n] = Instant::now();
    }
    let deadline = Instant::now() + WAIT_LIMIT;
    let arrived = loop {
        let arrived = standin.arrived(Api::WhatsApp);
        if arrived.len() >= leads.len() {
            break arrived;
        }
        if Instant::now() > deadline {
            bail!(
                "{} of {} first messages never reached the stand-in",
                leads.len() - arrived.len(),
                leads.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    ensure!(
        arrived.len() == leads.len(),
        "{} requests for {} people: a person was messaged twice",
        arrived.len(),
        leads.len()
    );
    let mut latencies = Latencies::new()?;
    for request in &arrived {
        let to = request.body["to"].as_str().unwrap_or_default();
        let n = *numbers
            .get(to)
            .context("a message to a number no lead has")?;
        latencies.record(request.at.saturating_duration_since(answered[n]));
    }
    server.stop().await?;
    Ok(latencies)
}

pub async fn run(args: &FirstMessageArgs, runs: usize) -> anyhow::Result<Figures> {
    ensure!(args.leads > 0, "--leads must be at least 1");
    let mut figures = Figures::default();
    for run in 0..runs {
        let latencies = time_leads(args, 4_000 + run as u64)
            .await
            .context("lead stored to first message request")?;
        for (name, quantile) in [("p50", 0.5), ("p99", 0.99)] {
            let mut figure = Figure::new(
                BENCHMARK,
                format!(
                    "lead stored to its first message request (WhatsApp), {name} of {}",
                    args.leads
                ),
                "ms",
            );
            if name == "p99" {
                figure = figure.target(Target::AtMost(5_000.0));
            }
            figures.record(figure, latencies.millis(quantile));
        }
        eprintln!("first_message: run {} of {runs} done", run + 1);
    }
    Ok(figures)
}
