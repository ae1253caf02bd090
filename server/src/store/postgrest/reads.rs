//! The read role of the Supabase store (see [`crate::store::LeadReader`]).

use async_trait::async_trait;
use leadhook_shared::{Cursor, Lead, Stats};

use super::query::{self, EVERY_COLUMN, timestamp};
use super::{PostgrestError, PostgrestStore};
use crate::store::{LeadPage, LeadQuery, LeadReader, StatsWindow, StoreError};

#[async_trait]
impl LeadReader for PostgrestStore {
    fn backend(&self) -> &'static str {
        "postgrest"
    }

    fn is_shared(&self) -> bool {
        true
    }

    async fn get(&self, id: i64) -> Result<Option<Lead>, StoreError> {
        let rows: Vec<Lead> = self
            .call(self.table().select(EVERY_COLUMN).eq("id", id.to_string()))
            .await?
            .json()?;
        Ok(rows.into_iter().next())
    }

    async fn list(&self, query: &LeadQuery) -> Result<LeadPage, StoreError> {
        // Without `since`, the cursor is the newest change in the store. Read it before the rows:
        // a change landing in between is then polled again later rather than missed.
        let store_cursor = match query.since {
            Some(_) => None,
            None => Some(self.newest_change().await?),
        };
        let order = if query.since.is_some() {
            query::OLDEST_CHANGE_FIRST
        } else if query.due_before.is_some() {
            query::SOONEST_DUE_FIRST
        } else {
            query::NEWEST_FIRST
        };
        let wanted = u64::from(query.limit);
        let mut leads: Vec<Lead> = Vec::new();
        let mut count = None;
        let mut page = query.clone();
        // Supabase caps every answer (1000 rows by default): ask again for the rest until the
        // page is full or the matches run out. Changes continue after the last row received
        // (keyset), so a lead changing meanwhile cannot shift the rows and be skipped.
        while (leads.len() as u64) < wanted {
            let remaining = wanted - leads.len() as u64;
            let request = self
                .filtered(&page)
                .select(EVERY_COLUMN)
                .order(order)
                .exact_count()
                .range(
                    index(page.offset),
                    index(page.offset.saturating_add(remaining - 1)),
                );
            let reply = self.send(request).await?;
            if reply.status == 416 {
                let error = PostgrestError::from_response(reply.status, &reply.body);
                if error.code.as_deref() == Some("PGRST103") {
                    // The offset is past the last match: an empty page, counted below.
                    break;
                }
                return Err(error.into());
            }
            let reply = reply.success()?;
            // The first answer counts every match; later ones only those after their cursor.
            let total = *count.get_or_insert(reply.total()?);
            let rows: Vec<Lead> = reply.json()?;
            let received = rows.len() as u64;
            leads.extend(rows);
            if received == 0 || query.offset.saturating_add(leads.len() as u64) >= total {
                break;
            }
            match (query.since, leads.last()) {
                (Some(_), Some(last)) => {
                    page.since = Some(Cursor::new(last.updated_at, last.id));
                    page.offset = 0;
                }
                _ => page.offset += received,
            }
        }
        let count = match count {
            Some(count) => count,
            None => self.count(query).await?,
        };
        let cursor = match (query.since, store_cursor) {
            (_, Some(cursor)) => cursor,
            (Some(since), None) => leads
                .last()
                .map(|lead| Cursor::new(lead.updated_at, lead.id))
                .unwrap_or(since),
            (None, None) => Cursor::START,
        };
        Ok(LeadPage {
            leads,
            count,
            cursor,
        })
    }

    async fn stats(&self, window: StatsWindow) -> Result<Stats, StoreError> {
        let args = serde_json::json!({
            "today_start": timestamp(window.today_start),
            "week_start": timestamp(window.week_start),
        });
        let mut stats: Stats = self
            .call(self.client.rpc(query::STATS_FUNCTION, args.to_string()))
            .await?
            .json()?;
        stats.people = self
            .call(self.client.rpc(query::PEOPLE_FUNCTION, args.to_string()))
            .await?
            .json()?;
        Ok(stats)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // Reads the table, so a missing migration or grant shows as well as an unreachable server.
        self.call(self.table().select("id").range(0, 0)).await?;
        Ok(())
    }
}

/// A row position for the `Range` header.
fn index(position: u64) -> usize {
    usize::try_from(position).unwrap_or(usize::MAX)
}
