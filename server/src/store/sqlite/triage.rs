//! The triage backfill in the SQLite store (see [`crate::store::TriageBackfill`]): leads stored
//! before people and junk were read get their derived values, and their person links, in id order.

use async_trait::async_trait;
use rusqlite::params;

use super::place::place_existing;
use super::{SqliteStore, internal, lead_by_id};
use crate::store::people::{Triaged, Untriaged};
use crate::store::{StoreError, TriageBackfill, TriageWrites};

#[async_trait]
impl TriageBackfill for SqliteStore {
    async fn untriaged(&self, after_id: i64, limit: u32) -> Result<Vec<Untriaged>, StoreError> {
        self.with(move |inner| {
            let mut statement = inner
                .conn
                .prepare_cached(
                    "SELECT id, name, email, phone, page_id, is_manual, fields FROM leads
                     WHERE id > ?1 AND triaged = 0 AND erased_at IS NULL
                     ORDER BY id LIMIT ?2",
                )
                .map_err(internal)?;
            let rows = statement
                .query_map(params![after_id, limit], |row| {
                    let fields: String = row.get(6)?;
                    Ok(Untriaged {
                        id: row.get(0)?,
                        name: row.get(1)?,
                        email: row.get(2)?,
                        phone: row.get(3)?,
                        page_id: row.get(4)?,
                        is_manual: row.get(5)?,
                        // Answers that do not read back are left out of the junk rules, not fatal.
                        fields: serde_json::from_str(&fields).unwrap_or_default(),
                    })
                })
                .map_err(internal)?;
            rows.collect::<Result<_, _>>().map_err(internal)
        })
        .await
    }
}

#[async_trait]
impl TriageWrites for SqliteStore {
    async fn store_triage(
        &self,
        leads: &[Triaged],
        repeat_window: chrono::Duration,
    ) -> Result<(), StoreError> {
        let leads = leads.to_vec();
        self.with(move |inner| {
            let now = inner.next_change_micros();
            let tx = inner.conn.transaction().map_err(internal)?;
            for lead in &leads {
                // `updated_at` stays: derived values are not a change to announce (a link is).
                let written = tx
                    .prepare_cached(
                        "UPDATE leads SET phone_e164 = ?2, phone_invalid = ?3, email_key = ?4,
                            junk_reason = ?5, triaged = 1
                         WHERE id = ?1 AND phone IS ?6 AND email IS ?7 AND erased_at IS NULL
                           AND triaged = 0",
                    )
                    .and_then(|mut update| {
                        update.execute(params![
                            lead.id,
                            lead.phone_e164,
                            lead.phone_invalid,
                            lead.email_key,
                            lead.junk_reason,
                            lead.phone,
                            lead.email
                        ])
                    })
                    .map_err(internal)?;
                if written == 0 {
                    continue;
                }
                if let Some(stored) = lead_by_id(&tx, lead.id)? {
                    place_existing(&tx, &stored, repeat_window, now)?;
                }
            }
            tx.commit().map_err(internal)
        })
        .await
    }
}
