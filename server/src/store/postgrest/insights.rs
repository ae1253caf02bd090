//! Insights in the Supabase store: one call of `public.lead_insights`
//! (migrations/20261208010000_insights_days.sql), which counts in PostgreSQL: the period's whole
//! UTC days from the day roll-ups its triggers keep, the rest from the leads.

use async_trait::async_trait;
use leadhook_shared::insights::{Grouping, SPEED_BUCKET_EDGES};

use super::PostgrestStore;
use super::query::timestamp;
use crate::store::StoreError;
use crate::store::insights::{InsightsQuery, InsightsReads, StoreInsights};

const INSIGHTS_FUNCTION: &str = "lead_insights";

#[async_trait]
impl InsightsReads for PostgrestStore {
    async fn insights(&self, query: &InsightsQuery) -> Result<StoreInsights, StoreError> {
        let day_starts: Vec<String> = query.day_starts.iter().copied().map(timestamp).collect();
        let source_by = match query.by {
            Grouping::Answer { .. } => "answer",
            ref by => by.as_str(),
        };
        let args = serde_json::json!({
            "source_by": source_by,
            "answer_questions": query.answer.as_ref().map(|column| &column.questions),
            "day_starts": day_starts,
            "speed_edges": SPEED_BUCKET_EDGES,
        });
        self.call(self.client.rpc(INSIGHTS_FUNCTION, args.to_string()))
            .await?
            .json()
    }
}
