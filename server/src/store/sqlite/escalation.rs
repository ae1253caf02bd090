//! The escalator's reads in the SQLite store (see [`crate::store::EscalationMarks`]): the same
//! answers as `public.escalation_check` (migrations/20261207210000_due_checks.sql).

use std::sync::LazyLock;

use async_trait::async_trait;
use rusqlite::params;

use super::people::NOT_JUNK;
use super::rows::{SELECT_LEADS, lead_from_row, micros, time_from};
use super::{SqliteStore, internal};
use crate::store::{
    DueEscalation, Escalated, EscalationCheck, EscalationMarks, EscalationQuery, StoreError,
};

/// The `?2` oldest escalation marks taken after `?1`, through the partial `leads_escalated`.
pub(super) static MARKED_SINCE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{SELECT_LEADS} WHERE escalated_at IS NOT NULL AND escalated_at > ?1
         ORDER BY escalated_at, id LIMIT ?2"
    )
});

#[async_trait]
impl EscalationMarks for SqliteStore {
    async fn escalation_check(
        &self,
        query: &EscalationQuery,
    ) -> Result<EscalationCheck, StoreError> {
        // `?2` is a JSON array of the levels' times, level 1 first: a lead is due for the
        // highest level it waited past and has not reached.
        let due_before = serde_json::json!(
            query
                .due_before
                .iter()
                .copied()
                .map(micros)
                .collect::<Vec<_>>()
        )
        .to_string();
        let query = query.clone();
        self.with(move |inner| {
            let mut due = inner
                .conn
                .prepare_cached(&format!(
                    "SELECT * FROM (
                       SELECT leads.*, (SELECT max(key + 1) FROM json_each(?2)
                                         WHERE leads.created_at <= value
                                           AND leads.escalated_level < key + 1) AS due_level
                       FROM leads
                       WHERE status = 'New Lead' AND created_at > ?1
                         AND created_at <= (SELECT max(value) FROM json_each(?2)) AND {NOT_JUNK})
                     WHERE due_level IS NOT NULL
                     ORDER BY created_at, id LIMIT ?3"
                ))
                .map_err(internal)?;
            let due = due
                .query_map(
                    params![micros(query.created_after), due_before, query.due_limit],
                    |row| {
                        Ok(DueEscalation {
                            lead: lead_from_row(row)?,
                            level: row.get("due_level")?,
                        })
                    },
                )
                .map_err(internal)?
                .collect::<Result<_, _>>()
                .map_err(internal)?;
            let mut marked = inner.conn.prepare_cached(&MARKED_SINCE).map_err(internal)?;
            let marked = marked
                .query_map(
                    params![micros(query.marked_after), query.marked_limit],
                    |row| {
                        Ok(Escalated {
                            lead: lead_from_row(row)?,
                            level: row.get("escalated_level")?,
                            at: time_from(row.get("escalated_at")?),
                        })
                    },
                )
                .map_err(internal)?
                .collect::<Result<_, _>>()
                .map_err(internal)?;
            Ok(EscalationCheck { due, marked })
        })
        .await
    }
}
