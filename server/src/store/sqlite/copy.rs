//! The SQLite end of `store copy`: whole pages in one transaction, rows written as they were.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{Connection, ToSql, params, params_from_iter};

use super::history::activity_where;
use super::rows::{META_COLUMNS, SELECT_LEADS, lead_from_row, meta_parameters, micros, time_from};
use super::{SqliteStore, internal, search_text};
use crate::store::copy::{CopyEnd, LeadKey, LeadRecord, Page, RepRecord};
use crate::store::{StoreError, StoredRep};

/// The columns a copy writes besides the Meta-side ones, in the order [`lead_parameters`] binds them.
const OWN_COLUMNS: &[&str] = &[
    "id",
    "leadgen_id",
    "status",
    "is_manual",
    "received_at",
    "updated_at",
    "notes",
    "owner",
    "owned_at",
    "first_contact_at",
    "escalated_level",
    "escalated_at",
    "erased_at",
    "search_text",
    "next_step_at",
    "next_step_what",
    "attempts",
    "reminded_at",
    "repeat_of",
    "repeat_via",
    "junk_cleared_at",
    "triaged",
];

static UPSERT_LEAD: LazyLock<String> = LazyLock::new(|| {
    let columns: Vec<&str> = OWN_COLUMNS.iter().chain(META_COLUMNS).copied().collect();
    let placeholders = vec!["?"; columns.len()].join(", ");
    let updates: Vec<String> = columns
        .iter()
        .skip(1)
        .map(|column| format!("{column} = excluded.{column}"))
        .collect();
    format!(
        "INSERT INTO leads ({}) VALUES ({placeholders}) ON CONFLICT (id) DO UPDATE SET {}",
        columns.join(", "),
        updates.join(", ")
    )
});

fn optional_micros(time: Option<DateTime<Utc>>) -> ToSqlOutput<'static> {
    ToSqlOutput::Owned(time.map_or(Value::Null, |time| Value::Integer(micros(time))))
}

fn lead_parameters(record: &LeadRecord) -> rusqlite::Result<Vec<ToSqlOutput<'_>>> {
    let lead = &record.lead;
    let meta = &lead.meta;
    let mut values = vec![
        lead.id.to_sql()?,
        lead.leadgen_id.to_sql()?,
        ToSqlOutput::from(lead.status.as_str()),
        lead.is_manual.to_sql()?,
        ToSqlOutput::from(micros(lead.received_at)),
        ToSqlOutput::from(micros(lead.updated_at)),
        lead.notes.to_sql()?,
        lead.owner.to_sql()?,
        optional_micros(lead.owned_at),
        optional_micros(lead.first_contact_at),
        ToSqlOutput::from(i64::from(record.escalated_level)),
        optional_micros(record.escalated_at),
        optional_micros(lead.erased_at),
        ToSqlOutput::from(search_text(
            meta.name.as_deref(),
            meta.email.as_deref(),
            meta.phone.as_deref(),
        )),
        optional_micros(lead.next_step.as_ref().map(|step| step.at)),
        ToSqlOutput::Owned(
            lead.next_step
                .as_ref()
                .map_or(Value::Null, |step| Value::Text(step.what.clone())),
        ),
        ToSqlOutput::from(i64::from(lead.attempts)),
        optional_micros(record.reminded_at),
        lead.repeat_of.to_sql()?,
        record.repeat_via.to_sql()?,
        optional_micros(lead.junk_cleared_at),
        record.triaged.to_sql()?,
    ];
    values.extend(meta_parameters(meta)?);
    Ok(values)
}

fn ids(conn: &Connection, sql: &str) -> Result<Vec<(i64, Option<String>)>, StoreError> {
    let mut statement = conn.prepare(sql).map_err(internal)?;
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(internal)?;
    rows.collect::<Result<_, _>>().map_err(internal)
}

fn write_page(conn: &mut Connection, page: &Page) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(internal)?;
    // The copied history was reported to Meta and the channels where it happened (or predates
    // them): the CAPI switch is off and the outbox's routes are set aside while it is written,
    // inside this transaction, so no delivery queues.
    let capi_was_on: bool = tx
        .query_row("SELECT enabled FROM capi_switch WHERE id = 1", [], |row| {
            row.get(0)
        })
        .map_err(internal)?;
    tx.execute("UPDATE capi_switch SET enabled = 0 WHERE id = 1", [])
        .map_err(internal)?;
    tx.execute_batch(
        "CREATE TEMP TABLE outbox_routes_kept AS SELECT * FROM outbox_routes;
         DELETE FROM outbox_routes;",
    )
    .map_err(internal)?;
    {
        let mut upsert = tx.prepare_cached(&UPSERT_LEAD).map_err(internal)?;
        for record in &page.leads {
            let values = lead_parameters(record).map_err(internal)?;
            upsert
                .execute(params_from_iter(values.iter()))
                .map_err(internal)?;
        }
        let mut activity = tx
            .prepare_cached(
                "INSERT INTO activity (id, lead_id, at, actor, kind, old, new)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (id) DO UPDATE SET lead_id = excluded.lead_id, at = excluded.at,
                   actor = excluded.actor, kind = excluded.kind, old = excluded.old,
                   new = excluded.new",
            )
            .map_err(internal)?;
        for row in &page.activity {
            activity
                .execute(params![
                    row.id,
                    row.lead_id,
                    micros(row.at),
                    row.actor,
                    row.kind.as_str(),
                    row.old,
                    row.new
                ])
                .map_err(internal)?;
        }
    }
    tx.execute(
        "UPDATE capi_switch SET enabled = ?1 WHERE id = 1",
        [capi_was_on],
    )
    .map_err(internal)?;
    tx.execute_batch(
        "INSERT INTO outbox_routes SELECT * FROM outbox_routes_kept;
         DROP TABLE temp.outbox_routes_kept;",
    )
    .map_err(internal)?;
    tx.commit().map_err(internal)
}

fn read_page(conn: &Connection, after_id: i64, limit: u32) -> Result<Page, StoreError> {
    let mut statement = conn
        .prepare_cached(&format!(
            "{SELECT_LEADS} WHERE id > ?1 ORDER BY id LIMIT ?2"
        ))
        .map_err(internal)?;
    let leads = statement
        .query_map(params![after_id, limit], |row| {
            Ok(LeadRecord {
                lead: lead_from_row(row)?,
                escalated_level: row.get("escalated_level")?,
                escalated_at: row.get::<_, Option<i64>>("escalated_at")?.map(time_from),
                reminded_at: row.get::<_, Option<i64>>("reminded_at")?.map(time_from),
                repeat_via: row.get("repeat_via")?,
                triaged: row.get("triaged")?,
            })
        })
        .map_err(internal)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(internal)?;
    let (Some(first), Some(last)) = (leads.first(), leads.last()) else {
        return Ok(Page {
            leads,
            activity: Vec::new(),
        });
    };
    let activity = activity_where(
        conn,
        "lead_id BETWEEN ?1 AND ?2",
        [first.lead.id, last.lead.id],
    )?;
    Ok(Page { leads, activity })
}

#[async_trait]
impl CopyEnd for SqliteStore {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    /// Opening the store already brought its schema up to date.
    async fn check_ready(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn lead_keys(&self) -> Result<Vec<LeadKey>, StoreError> {
        self.with(|inner| {
            Ok(
                ids(&inner.conn, "SELECT id, leadgen_id FROM leads ORDER BY id")?
                    .into_iter()
                    .map(|(id, leadgen_id)| LeadKey { id, leadgen_id })
                    .collect(),
            )
        })
        .await
    }

    async fn activity_ids(&self) -> Result<Vec<i64>, StoreError> {
        self.with(|inner| {
            Ok(
                ids(&inner.conn, "SELECT id, NULL FROM activity ORDER BY id")?
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect(),
            )
        })
        .await
    }

    async fn read_page(&self, after_id: i64, limit: u32) -> Result<Page, StoreError> {
        self.with(move |inner| read_page(&inner.conn, after_id, limit))
            .await
    }

    async fn write_page(&self, page: &Page) -> Result<(), StoreError> {
        let page = page.clone();
        self.with(move |inner| {
            write_page(&mut inner.conn, &page)?;
            let newest = page.leads.iter().map(|l| micros(l.lead.updated_at)).max();
            inner.last_change_micros = inner.last_change_micros.max(newest.unwrap_or(0));
            Ok(())
        })
        .await
    }

    async fn reps(&self) -> Result<Vec<RepRecord>, StoreError> {
        self.with(|inner| {
            let mut statement = inner
                .conn
                .prepare(
                    "SELECT name, available, last_assigned_at, time_zone, ntfy_topic, quiet_start,
                            quiet_end
                       FROM reps ORDER BY name",
                )
                .map_err(internal)?;
            let rows = statement
                .query_map([], |row| {
                    Ok(RepRecord {
                        name: row.get(0)?,
                        available: row.get(1)?,
                        last_assigned_at: row.get::<_, Option<i64>>(2)?.map(time_from),
                        time_zone: row.get(3)?,
                        ntfy_topic: row.get(4)?,
                        quiet_start: row.get(5)?,
                        quiet_end: row.get(6)?,
                    })
                })
                .map_err(internal)?;
            rows.collect::<Result<_, _>>().map_err(internal)
        })
        .await
    }

    async fn write_reps(&self, reps: &[RepRecord]) -> Result<(), StoreError> {
        let reps = reps.to_vec();
        self.with(move |inner| {
            let tx = inner.conn.transaction().map_err(internal)?;
            for rep in &reps {
                tx.execute(
                    "INSERT INTO reps (name, available, last_assigned_at, time_zone, ntfy_topic,
                                       quiet_start, quiet_end)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (name) DO UPDATE SET available = excluded.available,
                       last_assigned_at = excluded.last_assigned_at,
                       time_zone = excluded.time_zone, ntfy_topic = excluded.ntfy_topic,
                       quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end",
                    params![
                        rep.name,
                        rep.available,
                        rep.last_assigned_at.map(micros),
                        rep.time_zone,
                        rep.ntfy_topic,
                        rep.quiet_start,
                        rep.quiet_end
                    ],
                )
                .map_err(internal)?;
            }
            tx.commit().map_err(internal)
        })
        .await
    }

    async fn write_stored_reps(&self, reps: &[StoredRep]) -> Result<(), StoreError> {
        let reps = reps.to_vec();
        self.with(move |inner| {
            let tx = inner.conn.transaction().map_err(internal)?;
            for rep in &reps {
                tx.execute(
                    "INSERT OR REPLACE INTO rep_tokens (name, role, token_hash, previous_token_hash,
                       previous_valid_until, created_at, last_used_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        rep.name,
                        rep.role.as_str(),
                        rep.token_hash,
                        rep.previous_token_hash,
                        rep.previous_valid_until.map(micros),
                        micros(rep.created_at),
                        rep.last_used_at.map(micros)
                    ],
                )
                .map_err(internal)?;
            }
            tx.commit().map_err(internal)
        })
        .await
    }

    /// AUTOINCREMENT already continues after the highest id written.
    async fn finish(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
