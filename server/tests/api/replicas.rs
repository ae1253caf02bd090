//! Several servers on one Supabase (the real PostgREST 12 on a throwaway PostgreSQL): every
//! replica pushes every change in the store, whoever made it.

use std::path::Path;
use std::time::Duration;

use leadhook_local_supabase::LocalSupabase;
use leadhook_server::config::{Config, StoreConfig};
use leadhook_shared::meta::signature::sign;
use leadhook_shared::{Lead, LeadStatus};
use leadhook_sim::{GraphStandin, TestServer};
use tokio::time::{Instant, timeout_at};

use crate::helpers::*;

/// The budget for a change to reach another replica's dashboards.
pub const PUSH_BUDGET: Duration = Duration::from_secs(1);

/// One replica: a server with its own data dir, on the shared Supabase store.
pub struct Replica {
    _server: TestServer,
    pub address: String,
    pub client: reqwest::Client,
    _data_dir: tempfile::TempDir,
}

impl Replica {
    pub async fn start(
        graph: &GraphStandin,
        supabase: &LocalSupabase,
        adjust: impl FnOnce(&mut Config),
    ) -> Replica {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = supabase_config(graph, supabase, data_dir.path());
        adjust(&mut config);
        let server = TestServer::start(config, TEST_RETRY)
            .await
            .expect("replica starts");
        Replica {
            address: server.base_url(),
            _server: server,
            client: reqwest::Client::new(),
            _data_dir: data_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_signed(&self, body: &[u8]) -> reqwest::StatusCode {
        self.client
            .post(self.url("/webhook"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sign(APP_SECRET.as_bytes(), body))
            .body(body.to_vec())
            .send()
            .await
            .expect("webhook request")
            .status()
    }

    /// `GET /api/events` from now on.
    pub async fn events(&self) -> EventReader {
        let response = self
            .client
            .get(self.url("/api/events"))
            .bearer_auth(REP_TOKEN)
            .send()
            .await
            .expect("event stream");
        assert_eq!(response.status(), 200);
        EventReader {
            response,
            buffer: String::new(),
        }
    }

    pub async fn health(&self) -> serde_json::Value {
        let response = self
            .client
            .get(self.url("/api/health"))
            .bearer_auth(REP_TOKEN)
            .send()
            .await
            .expect("health request");
        response
            .json::<serde_json::Value>()
            .await
            .expect("health json")["data"]
            .clone()
    }

    pub async fn patch_status(&self, id: i64, status: &str) {
        let response = self
            .client
            .patch(self.url(&format!("/api/leads/{id}")))
            .bearer_auth(REP_TOKEN)
            .json(&serde_json::json!({ "status": status }))
            .send()
            .await
            .expect("patch request");
        assert_eq!(response.status(), 200);
    }
}

/// The test settings with the Supabase store of `supabase` and no automatic sweeps.
pub fn supabase_config(graph: &GraphStandin, supabase: &LocalSupabase, data_dir: &Path) -> Config {
    let mut config = settings()
        .config(graph, data_dir)
        .expect("valid test config");
    config.store = StoreConfig::Supabase {
        url: supabase.base_url.clone(),
        key: supabase.secret_key().to_string().into(),
    };
    config.sweep.interval = None;
    config
}

/// The leads of a `GET /api/events` stream, one at a time.
pub struct EventReader {
    response: reqwest::Response,
    buffer: String,
}

impl EventReader {
    /// The next lead event, or `None` when none came within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Lead> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|line| line.strip_prefix("data: ")) {
                    return Some(serde_json::from_str(data).expect("a lead event"));
                }
                continue;
            }
            let chunk = timeout_at(deadline, self.response.chunk()).await.ok()?;
            let chunk = chunk.expect("event stream readable")?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next lead event for which `wanted` holds, skipping others; panics after `wait`.
    pub async fn expect(&mut self, wait: Duration, wanted: impl Fn(&Lead) -> bool) -> Lead {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_within(left).await {
                Some(lead) if wanted(&lead) => return lead,
                Some(_) => continue,
                None => panic!("no such lead event within {wait:?}"),
            }
        }
    }
}

async fn two_replicas() -> (LocalSupabase, GraphStandin, Replica, Replica) {
    let supabase =
        LocalSupabase::with_migrations(leadhook_server::store::postgrest::MIGRATIONS).await;
    let graph = spawn_graph().await;
    let a = Replica::start(&graph, &supabase, |_| {}).await;
    let b = Replica::start(&graph, &supabase, |_| {}).await;
    (supabase, graph, a, b)
}

fn named(name: &'static str) -> impl Fn(&Lead) -> bool {
    move |lead| lead.meta.name.as_deref() == Some(name)
}

#[tokio::test]
async fn a_webhook_to_b_reaches_the_event_streams_of_a_and_b_once() {
    let (_supabase, graph, a, b) = two_replicas().await;
    let mut on_a = a.events().await;
    let mut on_b = b.events().await;
    graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("770001", &[("full_name", &["Cross Replica"])]),
    );
    assert_eq!(b.post_signed(&notification(&["770001"])).await, 200);
    let answered = Instant::now();
    let lead = on_a.expect(PUSH_BUDGET, named("Cross Replica")).await;
    assert!(
        answered.elapsed() <= PUSH_BUDGET,
        "{:?}",
        answered.elapsed()
    );
    assert_eq!(lead.leadgen_id.as_deref(), Some("770001"));
    let on_b_lead = on_b.expect(PUSH_BUDGET, named("Cross Replica")).await;
    assert_eq!(on_b_lead.id, lead.id);
    for (replica, stream) in [("A", &mut on_a), ("B", &mut on_b)] {
        let again = stream.next_within(Duration::from_millis(1500)).await;
        assert_eq!(again, None, "{replica} announced the lead twice");
    }
}

#[tokio::test]
async fn a_patch_through_b_is_pushed_by_a() {
    let (_supabase, graph, a, b) = two_replicas().await;
    let mut on_a = a.events().await;
    graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("770002", &[("full_name", &["Status Change"])]),
    );
    assert_eq!(b.post_signed(&notification(&["770002"])).await, 200);
    let lead = on_a.expect(PUSH_BUDGET * 5, named("Status Change")).await;
    assert_eq!(lead.status, LeadStatus::NewLead);

    b.patch_status(lead.id, "Contacted").await;
    let patched = Instant::now();
    let pushed = on_a.expect(PUSH_BUDGET, named("Status Change")).await;
    assert!(patched.elapsed() <= PUSH_BUDGET, "{:?}", patched.elapsed());
    assert_eq!((pushed.id, pushed.status), (lead.id, LeadStatus::Contacted));
}

/// As Supabase Studio, SQL or a CRM would: straight into the table, past every server.
#[tokio::test]
async fn a_row_changed_directly_in_postgresql_is_pushed_by_both_replicas() {
    let (supabase, _graph, a, b) = two_replicas().await;
    let mut on_a = a.events().await;
    let mut on_b = b.events().await;
    supabase
        .database
        .execute("insert into public.leads (name, email, is_manual) values ('Typed In Studio', 'studio@example.com', true)")
        .await
        .unwrap();
    let inserted = Instant::now();
    let on_a_lead = on_a.expect(PUSH_BUDGET, named("Typed In Studio")).await;
    let on_b_lead = on_b.expect(PUSH_BUDGET, named("Typed In Studio")).await;
    assert!(
        inserted.elapsed() <= PUSH_BUDGET,
        "{:?}",
        inserted.elapsed()
    );
    assert_eq!(on_a_lead, on_b_lead);

    supabase
        .database
        .execute(&format!(
            "update public.leads set status = 'Won' where id = {}",
            on_a_lead.id
        ))
        .await
        .unwrap();
    for stream in [&mut on_a, &mut on_b] {
        let won = stream.expect(PUSH_BUDGET, named("Typed In Studio")).await;
        assert_eq!(won.status, LeadStatus::Won);
        assert!(won.updated_at > on_a_lead.updated_at);
    }
}
