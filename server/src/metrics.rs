//! Prometheus metrics (`GET /metrics`). One registry per server instance, so tests can run
//! several servers in one process.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::inbox::InboxCounts;
use crate::store::{DeliveryFigures, Direction, MessageChannel, MessageStatus};

type Labels = Vec<(&'static str, String)>;

pub struct Metrics {
    registry: Mutex<Registry>,
    webhooks_received: Counter,
    webhooks_rejected: Family<Labels, Counter>,
    handshakes: Family<Labels, Counter>,
    events_accepted: Counter,
    events_processed: Family<Labels, Counter>,
    graph_calls: Family<Labels, Counter>,
    graph_latency: Histogram,
    sweeps: Family<Labels, Counter>,
    sweep_leads_inserted: Counter,
    inbox_pending: Gauge,
    inbox_failed: Gauge,
    capi_events: Family<Labels, Counter>,
    capi_requests: Family<Labels, Counter>,
    outbox_deliveries: Family<Labels, Counter>,
    outbox_pending: Family<Labels, Gauge>,
    outbox_dead: Family<Labels, Gauge>,
    conversation_events: Family<Labels, Counter>,
    conversation_messages: Family<Labels, Gauge>,
    first_messages: Family<Labels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("leadhook");
        let metrics = Metrics {
            webhooks_received: Counter::default(),
            webhooks_rejected: Family::default(),
            handshakes: Family::default(),
            events_accepted: Counter::default(),
            events_processed: Family::default(),
            graph_calls: Family::default(),
            graph_latency: Histogram::new(exponential_buckets(0.005, 2.0, 14)),
            sweeps: Family::default(),
            sweep_leads_inserted: Counter::default(),
            inbox_pending: Gauge::default(),
            inbox_failed: Gauge::default(),
            capi_events: Family::default(),
            capi_requests: Family::default(),
            outbox_deliveries: Family::default(),
            first_messages: Family::default(),
            outbox_pending: Family::default(),
            outbox_dead: Family::default(),
            conversation_events: Family::default(),
            conversation_messages: Family::default(),
            registry: Mutex::new(Registry::default()),
        };
        registry.register(
            "webhooks_received",
            "Webhook POSTs accepted with a valid signature",
            metrics.webhooks_received.clone(),
        );
        registry.register(
            "webhooks_rejected",
            "Webhook POSTs refused, by reason",
            metrics.webhooks_rejected.clone(),
        );
        registry.register(
            "webhook_handshakes",
            "Subscription handshakes, by result",
            metrics.handshakes.clone(),
        );
        registry.register(
            "events_accepted",
            "New leadgen events committed to the inbox",
            metrics.events_accepted.clone(),
        );
        registry.register(
            "events_processed",
            "Inbox events settled, by outcome",
            metrics.events_processed.clone(),
        );
        registry.register(
            "graph_calls",
            "Graph API calls, by outcome",
            metrics.graph_calls.clone(),
        );
        registry.register(
            "graph_call_seconds",
            "Graph API call latency",
            metrics.graph_latency.clone(),
        );
        registry.register(
            "sweeps",
            "Backfill sweeps, by result",
            metrics.sweeps.clone(),
        );
        registry.register(
            "sweep_leads_inserted",
            "Leads the sweeper found that were not stored yet",
            metrics.sweep_leads_inserted.clone(),
        );
        registry.register(
            "inbox_pending",
            "Events waiting for their lead",
            metrics.inbox_pending.clone(),
        );
        registry.register(
            "inbox_failed",
            "Events kept as failed until a retry is asked",
            metrics.inbox_failed.clone(),
        );
        registry.register(
            "capi_events",
            "Lead stages settled with Meta's Conversions API, by outcome (sent, failed)",
            metrics.capi_events.clone(),
        );
        registry.register(
            "capi_requests",
            "Conversions API requests, by outcome (ok, retry, rejected)",
            metrics.capi_requests.clone(),
        );
        registry.register(
            "conversation_events",
            "What the providers reported about the conversations with leads, by channel \
             (whatsapp, sms) and event: reply (the person wrote), sent, delivered, read, failed, \
             opt_out, opt_in",
            metrics.conversation_events.clone(),
        );
        registry.register(
            "conversation_messages",
            "Messages of the conversations in the store, by channel, direction (out, in) and \
             status (sent, delivered, read, failed, unknown, received…)",
            metrics.conversation_messages.clone(),
        );
        registry.register(
            "first_messages",
            "First messages to leads' persons by channel (whatsapp, sms) and outcome: sent, \
             failed (refused by the provider), unknown (the server stopped mid-send), retry, \
             held (quiet hours), skipped",
            metrics.first_messages.clone(),
        );
        registry.register(
            "outbox_deliveries",
            "Outgoing channel attempts settled, by destination and outcome (sent, retry, dead)",
            metrics.outbox_deliveries.clone(),
        );
        registry.register(
            "outbox_pending",
            "Outbox deliveries waiting to be sent, by destination (capi is the Conversions API)",
            metrics.outbox_pending.clone(),
        );
        registry.register(
            "outbox_dead",
            "Outbox deliveries dead-lettered (never to be sent), by destination",
            metrics.outbox_dead.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            ..metrics
        }
    }
}

impl Metrics {
    pub fn handshake(&self, ok: bool) {
        let result = if ok { "ok" } else { "refused" };
        self.handshakes
            .get_or_create(&vec![("result", result.to_string())])
            .inc();
    }

    pub fn webhook_rejected(&self, reason: &'static str) {
        self.webhooks_rejected
            .get_or_create(&vec![("reason", reason.to_string())])
            .inc();
    }

    pub fn webhook_accepted(&self, added: usize) {
        self.webhooks_received.inc();
        self.events_accepted.inc_by(added as u64);
    }

    pub fn event_processed(&self, outcome: &'static str) {
        self.events_processed
            .get_or_create(&vec![("outcome", outcome.to_string())])
            .inc();
    }

    pub fn graph_call(&self, outcome: &'static str, latency: Duration) {
        self.graph_calls
            .get_or_create(&vec![("outcome", outcome.to_string())])
            .inc();
        self.graph_latency.observe(latency.as_secs_f64());
    }

    pub fn sweep(&self, ok: bool, inserted: u64) {
        let result = if ok { "ok" } else { "failed" };
        self.sweeps
            .get_or_create(&vec![("result", result.to_string())])
            .inc();
        self.sweep_leads_inserted.inc_by(inserted);
    }

    pub fn capi_events(&self, outcome: &'static str, count: usize) {
        self.capi_events
            .get_or_create(&vec![("outcome", outcome.to_string())])
            .inc_by(count as u64);
    }

    pub fn capi_request(&self, outcome: &'static str) {
        self.capi_requests
            .get_or_create(&vec![("outcome", outcome.to_string())])
            .inc();
    }

    pub fn conversation_event(&self, channel: &str, event: &'static str) {
        self.conversation_events
            .get_or_create(&vec![
                ("channel", channel.to_string()),
                ("event", event.to_string()),
            ])
            .inc();
    }

    /// The store's count of messages at each (channel, direction, status), for the gauges.
    pub fn set_conversation_messages(
        &self,
        figures: &BTreeMap<(MessageChannel, Direction, MessageStatus), u64>,
    ) {
        for ((channel, direction, status), count) in figures {
            self.conversation_messages
                .get_or_create(&vec![
                    ("channel", channel.to_string()),
                    ("direction", direction.to_string()),
                    ("status", status.to_string()),
                ])
                .set(i64::try_from(*count).unwrap_or(i64::MAX));
        }
    }

    pub fn first_message(&self, channel: &str, outcome: &'static str) {
        self.first_messages
            .get_or_create(&vec![
                ("channel", channel.to_string()),
                ("outcome", outcome.to_string()),
            ])
            .inc();
    }

    pub fn outbox_delivery(&self, destination: &str, outcome: &'static str) {
        self.outbox_deliveries
            .get_or_create(&vec![
                ("destination", destination.to_string()),
                ("outcome", outcome.to_string()),
            ])
            .inc();
    }

    /// The text exposition, with the inbox and outbox gauges brought up to date (`outbox`:
    /// `None` when the store could not say; the gauges keep their last values).
    pub fn render(
        &self,
        inbox: &InboxCounts,
        outbox: Option<&BTreeMap<String, DeliveryFigures>>,
    ) -> String {
        self.inbox_pending.set(inbox.pending as i64);
        self.inbox_failed.set(inbox.failed as i64);
        for (destination, figures) in outbox.into_iter().flatten() {
            let labels = vec![("destination", destination.clone())];
            self.outbox_pending
                .get_or_create(&labels)
                .set(figures.queued as i64);
            self.outbox_dead
                .get_or_create(&labels)
                .set(figures.failed as i64);
        }
        let mut text = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &registry);
        text
    }
}
