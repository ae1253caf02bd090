//! What the drain is measured against in the same run, so its target holds on any CPU: the
//! lead store writing the same leads alone, in bulk as the intake writes them, and the Graph API
//! stand-in answering their fetches alone, through the server's own Graph client at the
//! server's concurrency. The drain does both of these for every lead, on the same cores, plus
//! the inbox's claims and settles: its bound is the rate at which one core pair does a store
//! write and a fetch per lead, one after the other ([`References::combined`]).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, ensure};
use chrono::Utc;
use futures::{StreamExt as _, TryStreamExt as _};
use leadhook_server::graph::GraphClient;
use leadhook_server::store::sqlite::SqliteStore;
use leadhook_server::store::{LeadWrites as _, Routing, UPSERT_BATCH};
use leadhook_shared::team::actor::FACEBOOK;
use leadhook_sim::{FakeLead, GraphStandin};

use crate::fixture;

/// The rates the drain is compared with, per second.
pub struct References {
    pub store_alone: f64,
    pub graph_alone: f64,
}

impl References {
    /// Measures both in `scratch` (a directory for the reference store) with `graph`, which
    /// already holds `leads`.
    pub async fn measure(
        leads: &[FakeLead],
        graph: &GraphStandin,
        scratch: &Path,
    ) -> anyhow::Result<References> {
        let config = fixture::server_config(graph, scratch)?;
        let routing = Routing {
            assignment: config.queue.assignment,
            reps: &[],
            repeat_window: config.triage.repeat_window,
        };
        Ok(References {
            store_alone: store_alone(leads, routing, scratch).await?,
            graph_alone: graph_alone(leads, &config).await?,
        })
    }

    /// Leads per second when each costs its store write and its fetch on the same cores: the
    /// most the drain could reach (the two alone each had the cores to themselves).
    pub fn combined(&self) -> f64 {
        1.0 / (1.0 / self.store_alone + 1.0 / self.graph_alone)
    }
}

/// Leads per second into a fresh SQLite store in `dir`: the leads as the intake reads them,
/// stored in pieces of [`UPSERT_BATCH`] with the server's routing.
async fn store_alone(leads: &[FakeLead], routing: Routing<'_>, dir: &Path) -> anyhow::Result<f64> {
    let path = dir.join("reference-leads.db");
    let store = SqliteStore::open(&path)
        .await
        .with_context(|| format!("cannot open the reference store at {}", path.display()))?;
    let now = Utc::now();
    let incoming = leads
        .iter()
        .map(|lead| fixture::incoming(lead, now))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let started = Instant::now();
    for piece in incoming.chunks(UPSERT_BATCH) {
        store
            .upsert_many(piece, FACEBOOK, routing)
            .await
            .context("the reference store refused leads")?;
    }
    Ok(leads.len() as f64 / started.elapsed().as_secs_f64())
}

/// Lead fetches per second the Graph stand-in answers, asked by the server's Graph client with
/// as many in flight as the server allows itself.
async fn graph_alone(
    leads: &[FakeLead],
    config: &leadhook_server::config::Config,
) -> anyhow::Result<f64> {
    let client = GraphClient::for_config(config).context("cannot make the Graph client")?;
    let started = Instant::now();
    let fetched = futures::stream::iter(leads)
        .map(|lead| client.lead(&lead.id))
        .buffer_unordered(config.graph_concurrency)
        .try_fold(0usize, |count, _| async move { Ok(count + 1) })
        .await
        .context("the Graph stand-in did not answer a lead fetch")?;
    ensure!(
        fetched == leads.len(),
        "fetched {fetched} of {} leads",
        leads.len()
    );
    Ok(leads.len() as f64 / started.elapsed().as_secs_f64())
}
