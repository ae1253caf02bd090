//! The escalator's reads in the Supabase store (see [`crate::store::EscalationMarks`]): one call
//! of `public.escalation_check` per check (migrations/20261207210000_due_checks.sql).

use async_trait::async_trait;
use serde_json::json;

use super::PostgrestStore;
use super::query::timestamp;
use crate::store::{EscalationCheck, EscalationMarks, EscalationQuery, StoreError};

const CHECK_FUNCTION: &str = "escalation_check";

#[async_trait]
impl EscalationMarks for PostgrestStore {
    async fn escalation_check(
        &self,
        query: &EscalationQuery,
    ) -> Result<EscalationCheck, StoreError> {
        let args = json!({
            "created_after": timestamp(query.created_after),
            "due_before": query.due_before.iter().copied().map(timestamp).collect::<Vec<_>>(),
            "due_limit": query.due_limit,
            "marked_after": timestamp(query.marked_after),
            "marked_limit": query.marked_limit,
        });
        self.call(self.client.rpc(CHECK_FUNCTION, args.to_string()))
            .await?
            .json()
    }
}
