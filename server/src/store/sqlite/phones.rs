//! Normalised phones in the SQLite store (see [`crate::store::PhoneBackfill`]).

use async_trait::async_trait;
use rusqlite::params;

use super::{SqliteStore, internal};
use crate::store::{PhoneBackfill, PhoneWrites, ReadPhone, StoreError, UnreadPhone};

/// Adds the normalised phone beside the raw one. Leads stored before have neither: the backfill
/// fills them in.
pub(super) const MIGRATION: &str = r#"
    ALTER TABLE leads ADD COLUMN phone_e164 TEXT;
    ALTER TABLE leads ADD COLUMN phone_invalid INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX leads_phone_e164 ON leads (phone_e164) WHERE phone_e164 IS NOT NULL;
"#;

#[async_trait]
impl PhoneBackfill for SqliteStore {
    async fn unread_phones(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<UnreadPhone>, StoreError> {
        self.with(move |inner| {
            let mut statement = inner
                .conn
                .prepare_cached(
                    "SELECT id, phone, page_id FROM leads
                     WHERE id > ?1 AND phone IS NOT NULL AND phone_e164 IS NULL
                       AND phone_invalid = 0 AND erased_at IS NULL
                     ORDER BY id LIMIT ?2",
                )
                .map_err(internal)?;
            let rows = statement
                .query_map(params![after_id, limit], |row| {
                    Ok(UnreadPhone {
                        id: row.get(0)?,
                        phone: row.get(1)?,
                        page_id: row.get(2)?,
                    })
                })
                .map_err(internal)?;
            rows.collect::<Result<_, _>>().map_err(internal)
        })
        .await
    }
}

#[async_trait]
impl PhoneWrites for SqliteStore {
    async fn store_read_phones(&self, phones: &[ReadPhone]) -> Result<(), StoreError> {
        let phones = phones.to_vec();
        self.with(move |inner| {
            let tx = inner.conn.transaction().map_err(internal)?;
            {
                // `updated_at` stays: a derived value is not a change to announce.
                let mut update = tx
                    .prepare_cached(
                        "UPDATE leads SET phone_e164 = ?2, phone_invalid = ?3
                         WHERE id = ?1 AND phone = ?4 AND erased_at IS NULL",
                    )
                    .map_err(internal)?;
                for phone in &phones {
                    update
                        .execute(params![
                            phone.id,
                            phone.phone_e164,
                            phone.phone_invalid,
                            phone.phone
                        ])
                        .map_err(internal)?;
                }
            }
            tx.commit().map_err(internal)
        })
        .await
    }
}
