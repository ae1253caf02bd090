//! What a benchmark reads back from a running server through its API: how many leads it
//! stores, whether every lead sent is stored exactly once, and new leads as they show, each
//! with when it arrived: pushed by `GET /api/events`, or listed by polling `GET /api/leads?since=`.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use leadhook_server::store::MAX_PAGE;
use leadhook_shared::{ApiList, Cursor, Lead};
use leadhook_sim::FakeLead;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::fixture::{REP_TOKEN, Server};

/// How often [`Server::wait_until_stored`] asks for the lead count: the resolution of a
/// drain's end.
const COUNT_POLL: Duration = Duration::from_millis(20);

/// Each pushed lead's `leadgen_id` with when its event was read.
pub type Arrivals = mpsc::UnboundedReceiver<(String, Instant)>;

/// `GET /api/leads?<query>` of the server at `base_url`, as the benchmark's rep.
async fn list_leads(
    client: &reqwest::Client,
    base_url: &str,
    query: &str,
) -> anyhow::Result<ApiList> {
    client
        .get(format!("{base_url}/api/leads?{query}"))
        .bearer_auth(REP_TOKEN)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .context("GET /api/leads failed")?
        .json()
        .await
        .context("GET /api/leads did not return a lead list")
}

impl Server {
    async fn lead_page(&self, limit: u32, offset: u64) -> anyhow::Result<ApiList> {
        list_leads(
            &self.client,
            &self.base_url,
            &format!("limit={limit}&offset={offset}"),
        )
        .await
    }

    /// How many leads the store holds, through the API.
    pub async fn stored_leads(&self) -> anyhow::Result<u64> {
        Ok(self.lead_page(1, 0).await?.count)
    }

    /// Waits until the store holds `count` leads, asking every [`COUNT_POLL`], and returns when
    /// it first saw them all; fails once `limit` has passed.
    pub async fn wait_until_stored(&self, count: u64, limit: Duration) -> anyhow::Result<Instant> {
        let deadline = Instant::now() + limit;
        loop {
            let stored = self.stored_leads().await?;
            if stored >= count {
                return Ok(Instant::now());
            }
            if Instant::now() >= deadline {
                bail!("after {limit:?} the store holds {stored} of {count} leads");
            }
            tokio::time::sleep(COUNT_POLL).await;
        }
    }

    /// Checks, reading every stored lead through the API, that each of `leads` is stored
    /// exactly once and nothing else is.
    pub async fn check_stored_once(&self, leads: &[FakeLead]) -> anyhow::Result<()> {
        let mut stored: HashMap<String, usize> = HashMap::with_capacity(leads.len());
        let mut offset = 0;
        loop {
            let page = self.lead_page(MAX_PAGE, offset).await?;
            for lead in &page.data {
                let id = lead.leadgen_id.clone().unwrap_or_default();
                *stored.entry(id).or_default() += 1;
            }
            offset += page.data.len() as u64;
            if page.data.is_empty() || offset >= page.count {
                break;
            }
        }
        let sent: HashSet<&str> = leads.iter().map(|lead| lead.id.as_str()).collect();
        let missing = sent.iter().filter(|id| !stored.contains_key(**id)).count();
        let repeated = stored.values().filter(|&&times| times > 1).count();
        let unknown = stored
            .keys()
            .filter(|id| !sent.contains(id.as_str()))
            .count();
        if missing + repeated + unknown > 0 {
            bail!(
                "of {} leads sent, {missing} are not stored and {repeated} are stored more than \
                 once; {unknown} stored leads were never sent",
                sent.len()
            );
        }
        Ok(())
    }

    /// Opens `GET /api/events` and returns the leads it pushes, with the task reading it: abort
    /// that task to close the stream (the server stops only once it is closed).
    pub async fn lead_arrivals(&self) -> anyhow::Result<(Arrivals, JoinHandle<()>)> {
        let mut response = self
            .client
            .get(self.url("/api/events"))
            .bearer_auth(REP_TOKEN)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .context("GET /api/events failed")?;
        let (arrived, arrivals) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let mut text = String::new();
            while let Ok(Some(chunk)) = response.chunk().await {
                let at = Instant::now();
                text.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = text.find("\n\n") {
                    let event: String = text.drain(..end + 2).collect();
                    let lead = event
                        .lines()
                        .find_map(|line| line.strip_prefix("data: "))
                        .and_then(|data| serde_json::from_str::<Lead>(data).ok());
                    if let Some(Lead {
                        leadgen_id: Some(id),
                        ..
                    }) = lead
                        && arrived.send((id, at)).is_err()
                    {
                        return;
                    }
                }
            }
        });
        Ok((arrivals, reader))
    }

    /// Polls `GET /api/leads?since=` every `interval`, from before the first lead, as a
    /// dashboard without push does, and returns each lead listed (again when it changes) with
    /// when its answer arrived, and the polling task: it ends with the first failed poll, and
    /// runs until aborted otherwise.
    pub fn polled_arrivals(
        &self,
        interval: Duration,
    ) -> (Arrivals, JoinHandle<anyhow::Result<()>>) {
        let (client, base_url) = (self.client.clone(), self.base_url.clone());
        let (arrived, arrivals) = mpsc::unbounded_channel();
        let poller = tokio::spawn(async move {
            let mut cursor = Cursor::START;
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                loop {
                    let query = format!("limit={MAX_PAGE}&since={cursor}");
                    let page = list_leads(&client, &base_url, &query).await?;
                    let at = Instant::now();
                    let full = page.data.len() == MAX_PAGE as usize;
                    for lead in page.data {
                        if let Some(id) = lead.leadgen_id
                            && arrived.send((id, at)).is_err()
                        {
                            return Ok(());
                        }
                    }
                    cursor = page.cursor;
                    if !full {
                        break;
                    }
                }
            }
        });
        (arrivals, poller)
    }
}
