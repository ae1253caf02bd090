//! The SQLite store's reads for the API and the dashboards: pages of leads by status, search,
//! visibility, due step and owner; changes since a cursor; the stats (see
//! [`crate::store::LeadReader`]).

use async_trait::async_trait;
use leadhook_shared::{Cursor, FormCount, Lead, LeadStatus, Stats};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params, params_from_iter};

use super::people;
use super::rows::{SELECT_LEADS, lead_from_row, micros};
use super::{SqliteStore, internal};
use crate::store::{LeadPage, LeadQuery, LeadReader, StatsWindow, StoreError};

/// WHERE clause and parameters for the status, search, visibility, due and owner filters.
fn filters(query: &LeadQuery) -> (Vec<String>, Vec<Value>) {
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    if let Some(status) = query.status {
        clauses.push("status = ?".to_string());
        values.push(Value::Text(status.as_str().to_string()));
    }
    if let Some(search) = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        clauses.push("instr(search_text, ?) > 0".to_string());
        values.push(Value::Text(search.to_lowercase()));
    }
    if let Some(rep) = &query.visible_to {
        clauses.push("(owner = ? OR owner IS NULL)".to_string());
        values.push(Value::Text(rep.clone()));
    }
    if let Some(due_before) = query.due_before {
        clauses.push("next_step_at < ?".to_string());
        values.push(Value::Integer(micros(due_before)));
    }
    if let Some(owner) = &query.owner {
        clauses.push("owner = ?".to_string());
        values.push(Value::Text(owner.clone()));
    }
    (clauses, values)
}

fn where_sql(clauses: &[String]) -> String {
    if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    }
}

#[async_trait]
impl LeadReader for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn is_shared(&self) -> bool {
        false
    }

    async fn get(&self, id: i64) -> Result<Option<Lead>, StoreError> {
        self.with(move |inner| inner.get(id)).await
    }

    async fn list(&self, query: &LeadQuery) -> Result<LeadPage, StoreError> {
        let query = query.clone();
        self.with(move |inner| {
            let (mut clauses, mut values) = filters(&query);
            let count_sql = |clauses: &[String]| format!("SELECT COUNT(*) FROM leads {}", where_sql(clauses));
            let order = if let Some(since) = query.since {
                // A row value, not `updated_at > ? OR (updated_at = ? AND id > ?)`: with the OR,
                // SQLite walks the whole leads_changes index to keep the ORDER BY, so an idle poll
                // at 100,000 leads took ~10 ms; the row value is a range search on that index.
                clauses.push("(updated_at, id) > (?, ?)".into());
                values.extend([
                    Value::Integer(since.updated_at_micros),
                    Value::Integer(since.id),
                ]);
                "ORDER BY updated_at, id"
            } else if query.due_before.is_some() {
                "ORDER BY next_step_at, id"
            } else {
                "ORDER BY created_at DESC, id DESC"
            };
            let count: i64 = inner
                .conn
                .query_row(&count_sql(&clauses), params_from_iter(values.iter()), |row| row.get(0))
                .map_err(internal)?;
            let sql = format!(
                "{SELECT_LEADS} {} {order} LIMIT {} OFFSET {}",
                where_sql(&clauses),
                query.limit,
                query.offset
            );
            let mut statement = inner.conn.prepare_cached(&sql).map_err(internal)?;
            let leads = statement
                .query_map(params_from_iter(values.iter()), lead_from_row)
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            let cursor = match query.since {
                Some(since) => leads
                    .last()
                    .map(|lead| Cursor::new(lead.updated_at, lead.id))
                    .unwrap_or(since),
                None => inner
                    .conn
                    .query_row(
                        "SELECT updated_at, id FROM leads ORDER BY updated_at DESC, id DESC LIMIT 1",
                        [],
                        |row| {
                            Ok(Cursor {
                                updated_at_micros: row.get(0)?,
                                id: row.get(1)?,
                            })
                        },
                    )
                    .optional()
                    .map_err(internal)?
                    .unwrap_or(Cursor::START),
            };
            Ok(LeadPage {
                leads,
                count: count as u64,
                cursor,
            })
        })
        .await
    }

    async fn stats(&self, window: StatsWindow) -> Result<Stats, StoreError> {
        self.with(move |inner| {
            let conn = &inner.conn;
            let (total, today, last_7_days): (i64, i64, i64) = conn
                .query_row(
                    "SELECT COUNT(*), COUNT(*) FILTER (WHERE created_at >= ?1), COUNT(*) FILTER (WHERE created_at >= ?2)
                     FROM leads",
                    params![micros(window.today_start), micros(window.week_start)],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .map_err(internal)?;
            let mut stats = Stats {
                total: total as u64,
                today: today as u64,
                last_7_days: last_7_days as u64,
                people: people::figures(conn, window)?,
                ..Stats::default()
            };
            let mut by_status = conn
                .prepare_cached("SELECT status, COUNT(*) FROM leads GROUP BY status")
                .map_err(internal)?;
            let rows = by_status
                .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
                .map_err(internal)?;
            for row in rows {
                let (status, count) = row.map_err(internal)?;
                if let Ok(status) = status.parse::<LeadStatus>() {
                    stats.by_status.insert(status, count as u64);
                }
            }
            let mut by_form = conn
                .prepare_cached(
                    "SELECT form_id, MAX(form_name), COUNT(*) AS n FROM leads GROUP BY form_id ORDER BY n DESC, form_id",
                )
                .map_err(internal)?;
            stats.by_form = by_form
                .query_map([], |row| {
                    Ok(FormCount {
                        form_id: row.get(0)?,
                        form_name: row.get(1)?,
                        count: row.get::<_, i64>(2)? as u64,
                    })
                })
                .map_err(internal)?
                .collect::<Result<_, _>>()
                .map_err(internal)?;
            Ok(stats)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with(|inner| {
            inner
                .conn
                .query_row("SELECT 1", [], |_| Ok(()))
                .map_err(internal)
        })
        .await
    }
}
