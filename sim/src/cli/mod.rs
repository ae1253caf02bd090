//! `leadhook-sim simulate`: sends signed leadgen webhooks with realistic leads to any leadhook
//! server, and with `--graph` serves the leads' details on a Graph API stand-in the server can
//! fetch them from.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};

use super::deliver::{BodyStyle, DeliveryError, LeadgenChange, WebhookSender};
use super::fake_leads::{DEFAULT_PAGE_ID, LeadFaker};
use super::graph_standin::{GraphStandin, StandinConfig, StandinError};

#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// The server's webhook URL, e.g. http://127.0.0.1:8080/webhook
    #[arg(long, value_name = "CALLBACK_URL")]
    pub url: String,
    /// The App Secret the server checks signatures with (never printed).
    #[arg(long, env = "FB_APP_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub secret: SecretString,
    /// How many leads to send; 0 keeps sending until Ctrl-C.
    #[arg(long, default_value_t = 10)]
    pub count: u64,
    /// Leads per second.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// An answer every lead carries; repeat a name for a multiple-choice answer.
    #[arg(long = "field", value_name = "NAME=VALUE", value_parser = parse_field)]
    pub fields: Vec<(String, String)>,
    /// The Facebook Page the leads come from.
    #[arg(long, default_value = DEFAULT_PAGE_ID)]
    pub page_id: String,
    /// Put every lead in this form (default: one of the simulated forms).
    #[arg(long)]
    pub form_id: Option<String>,
    /// Serve the leads' details on a Graph API stand-in at this address (e.g. 127.0.0.1:9090)
    /// and keep it up until Ctrl-C.
    #[arg(long, value_name = "LISTEN_ADDR")]
    pub graph: Option<SocketAddr>,
    /// The Page token the Graph stand-in accepts (a made-up one by default).
    #[arg(long, requires = "graph")]
    pub graph_token: Option<String>,
    /// Seed for the generated people (the same seed gives the same leads).
    #[arg(long)]
    pub seed: Option<u64>,
}

fn parse_secret(text: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(text))
}

fn parse_field(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("expected NAME=VALUE, got {text:?}")),
    }
}

/// What a simulation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimulateSummary {
    /// Webhooks posted.
    pub sent: u64,
    /// Answered with a 2xx status.
    pub accepted: u64,
    /// Answered with another status.
    pub rejected: u64,
    /// Not answered (timeouts, dropped connections).
    pub failed: u64,
    /// Where the Graph stand-in served the leads, with `--graph`.
    pub graph_url: Option<String>,
}

impl fmt::Display for SimulateSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} sent: {} accepted, {} rejected, {} without answer",
            self.sent, self.accepted, self.rejected, self.failed
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("--rate must be a positive number of leads per second, not {0}")]
    InvalidRate(f64),
    #[error("the App Secret is empty: pass --secret or set FB_APP_SECRET")]
    EmptySecret,
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error(transparent)]
    Graph(#[from] StandinError),
}

/// Runs `simulate` until done (or Ctrl-C); with `--graph`, keeps serving until Ctrl-C.
pub async fn run(args: SimulateArgs) -> Result<SimulateSummary, SimulateError> {
    Simulation::start(args).await?.run_until(ctrl_c()).await
}

async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        // Without a signal handler, only killing the process stops the simulation.
        std::future::pending::<()>().await;
    }
}

/// [`run`] with the stop signal given (tests stop it without Ctrl-C).
pub async fn run_until(
    args: SimulateArgs,
    stop: impl Future<Output = ()>,
) -> Result<SimulateSummary, SimulateError> {
    Simulation::start(args).await?.run_until(stop).await
}

/// A simulation with its settings checked and, with `--graph`, its Graph stand-in listening.
pub struct Simulation {
    args: SimulateArgs,
    sender: WebhookSender,
    standin: Option<GraphStandin>,
}

impl Simulation {
    pub async fn start(args: SimulateArgs) -> Result<Simulation, SimulateError> {
        if !(args.rate.is_finite() && args.rate > 0.0) {
            return Err(SimulateError::InvalidRate(args.rate));
        }
        if args.secret.expose_secret().is_empty() {
            return Err(SimulateError::EmptySecret);
        }
        let sender = WebhookSender::new(args.url.clone(), args.secret.clone())?;
        let standin = match args.graph {
            Some(listen) => Some(spawn_graph(&args, listen).await?),
            None => None,
        };
        Ok(Simulation {
            args,
            sender,
            standin,
        })
    }

    /// Where the Graph stand-in listens (`--graph`, with the port the OS picked for port 0).
    pub fn graph_url(&self) -> Option<String> {
        self.standin.as_ref().map(GraphStandin::base_url)
    }

    /// Sends the leads, then (with `--graph`) serves them until `stop`.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()>,
    ) -> Result<SimulateSummary, SimulateError> {
        let Simulation {
            args,
            sender,
            standin,
        } = self;
        let mut summary = SimulateSummary {
            graph_url: standin.as_ref().map(GraphStandin::base_url),
            ..SimulateSummary::default()
        };

        let answers = grouped_answers(&args.fields);
        let seed = args
            .seed
            .unwrap_or_else(|| Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64);
        let mut faker = LeadFaker::new(seed).on_page(args.page_id.clone());
        let total = match args.count {
            0 => "∞".to_string(),
            count => count.to_string(),
        };
        let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(stop);
        let mut stopped = false;
        while args.count == 0 || summary.sent < args.count {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = &mut stop => {
                    stopped = true;
                    break;
                }
            }
            let mut lead = faker.next_lead(Utc::now());
            if let Some(form_id) = &args.form_id {
                lead.form_id = form_id.clone();
            }
            for (name, values) in &answers {
                lead.set_answer(name, values.clone());
            }
            if let Some(standin) = &standin {
                standin.add_fake_lead(&lead);
            }
            let outcome = sender
                .send_leads(&[LeadgenChange::from(&lead)], &BodyStyle::default())
                .await;
            summary.sent += 1;
            let result = match outcome {
                Ok(delivery) if delivery.status.is_success() => {
                    summary.accepted += 1;
                    delivery.status.as_u16().to_string()
                }
                Ok(delivery) => {
                    summary.rejected += 1;
                    format!(
                        "{}{}",
                        delivery.status.as_u16(),
                        rejection_hint(delivery.status)
                    )
                }
                Err(error @ DeliveryError::Unreachable { .. }) => return Err(error.into()),
                Err(error) => {
                    summary.failed += 1;
                    format!("no answer ({error})")
                }
            };
            println!(
                "sent {}/{total} lead {} ({}) → {result}",
                summary.sent,
                lead.id,
                lead.display_name()
            );
        }
        println!("{summary}");

        if let Some(standin) = standin {
            if !stopped {
                println!(
                    "serving lead details at {} until Ctrl-C",
                    standin.base_url()
                );
                stop.await;
            }
            standin.shutdown().await;
        }
        Ok(summary)
    }
}

async fn spawn_graph(
    args: &SimulateArgs,
    listen: SocketAddr,
) -> Result<GraphStandin, StandinError> {
    let mut config = StandinConfig {
        listen,
        app_secret: args.secret.clone(),
        page_id: args.page_id.clone(),
        ..StandinConfig::default()
    };
    if let Some(token) = &args.graph_token {
        config.page_token = token.clone();
    }
    let standin = GraphStandin::spawn(config).await?;
    println!("Graph API stand-in listening; start the server with:");
    println!("  FB_GRAPH_URL={}", standin.base_url());
    if args.graph_token.is_none() {
        println!("  FB_PAGE_ACCESS_TOKEN={}", standin.config().page_token);
    }
    Ok(standin)
}

/// `--field` pairs by question name, values in the order given.
fn grouped_answers(fields: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
    let mut answers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in fields {
        answers.entry(name.clone()).or_default().push(value.clone());
    }
    answers
}

fn rejection_hint(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            " (signature refused: does --secret match the server's FB_APP_SECRET?)"
        }
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => {
            " (is --url the server's webhook path, e.g. http://host:port/webhook?)"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests;
