//! One event's lead, completed from the Graph API.

use chrono::DateTime;
use leadhook_shared::meta::{IncomingLead, parse_graph_lead};

use super::Intake;
use super::outcome::Failure;
use crate::graph::GraphError;
use crate::health::GraphStatus;
use crate::inbox::PendingEvent;

impl Intake {
    /// Fetches the event's lead; what the webhook said fills what the Graph API left out.
    pub(super) async fn fetch(&self, pending: &PendingEvent) -> Result<IncomingLead, Failure> {
        let event = &pending.event;
        let started = std::time::Instant::now();
        let fetched = self.graph.lead(&event.leadgen_id).await;
        let outcome = fetched.as_ref().map_or_else(GraphError::kind, |_| "ok");
        self.metrics.graph_call(outcome, started.elapsed());
        let graph_lead = fetched.map_err(Failure::Graph)?;
        self.leads.status().set_graph(GraphStatus::Ok);
        let fallback_created = event
            .created_time
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
            .unwrap_or(pending.received_at);
        let mut lead = parse_graph_lead(graph_lead, fallback_created)
            .map_err(|e| Failure::Unparsable(e.to_string()))?;
        lead.leadgen_id.clone_from(&event.leadgen_id);
        lead.meta.page_id = lead.meta.page_id.take().or_else(|| event.page_id.clone());
        lead.meta.form_id = lead.meta.form_id.take().or_else(|| event.form_id.clone());
        lead.meta.ad_id = lead.meta.ad_id.take().or_else(|| event.ad_id.clone());
        lead.meta.adset_id = lead
            .meta
            .adset_id
            .take()
            .or_else(|| event.adgroup_id.clone());
        Ok(lead)
    }
}
