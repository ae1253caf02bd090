//! The work queue in the SQLite store. Each change and its activity row share one transaction,
//! and the store's one connection serialises them, so a claim's check-then-set cannot interleave.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::team::actor;
use leadhook_shared::{Activity, ActivityKind, Lead, LeadPatch, LeadStatus, MetaFields, Waiting};
use rusqlite::{Connection, OptionalExtension, params};

use super::history::{Change, activity_where, record};
use super::people::NOT_JUNK;
use super::rows::{micros, time_from};
use super::{SqliteStore, internal, lead_by_id};
use crate::store::queue::speed_secs;
use crate::store::{
    Claim, Contact, OwnerCounts, QueueFigures, QueueReads, QueueWrites, StatsWindow, StoreError,
};

/// The team's work queue: lead owners, first contact, escalation marks, the activity history,
/// reps' availability and round-robin turn. Leads already stored count as escalated (they predate
/// the queue) and get a `stored` entry by `system`, so every lead has a history.
pub(super) const MIGRATION: &str = r#"
    ALTER TABLE leads ADD COLUMN owner TEXT;
    ALTER TABLE leads ADD COLUMN owned_at INTEGER;
    ALTER TABLE leads ADD COLUMN first_contact_at INTEGER;
    ALTER TABLE leads ADD COLUMN escalated_level INTEGER NOT NULL DEFAULT 0;
    UPDATE leads SET escalated_level = 2;
    ALTER TABLE leads ADD COLUMN escalated_at INTEGER;
    CREATE INDEX leads_escalated ON leads (escalated_at);
    CREATE INDEX leads_owner ON leads (owner);
    CREATE INDEX leads_first_contact ON leads (first_contact_at);
    CREATE TABLE activity (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        lead_id  INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
        at       INTEGER NOT NULL,
        actor    TEXT NOT NULL,
        kind     TEXT NOT NULL
                 CHECK (kind IN ('stored','redelivered','status','notes','claim','release','assign')),
        old      TEXT,
        new      TEXT
    );
    CREATE INDEX activity_by_lead ON activity (lead_id, id);
    INSERT INTO activity (lead_id, at, actor, kind) SELECT id, received_at, 'system', 'stored' FROM leads;
    CREATE TABLE reps (
        name             TEXT PRIMARY KEY,
        available        INTEGER NOT NULL DEFAULT 1,
        last_assigned_at INTEGER
    );
"#;

/// The escalation and first-contact indexes hold only the leads that have the mark: every new
/// lead arrives with neither, and indexing its nulls cost two index entries per insert. The
/// queries that read them (`escalated_at > ?`, `first_contact_at >= ?`) say `IS NOT NULL`.
pub(super) const MARKS_INDEX_MIGRATION: &str = r#"
    DROP INDEX leads_escalated;
    CREATE INDEX leads_escalated ON leads (escalated_at) WHERE escalated_at IS NOT NULL;
    DROP INDEX leads_first_contact;
    CREATE INDEX leads_first_contact ON leads (first_contact_at)
        WHERE first_contact_at IS NOT NULL;
"#;

/// The first contacts since `?1`, through the partial `leads_first_contact`.
pub(super) const CONTACTS_SINCE: &str = "SELECT owner, first_contact_at, created_at FROM leads
     WHERE first_contact_at IS NOT NULL AND first_contact_at >= ?1";

/// Fields the server derives from Meta's, not listed as changed (the raw `phone` is).
const DERIVED_FIELDS: [&str; 2] = ["phone_e164", "phone_invalid"];

/// The Meta-side fields a re-delivery changed, as "email, phone".
pub(super) fn changed_meta_fields(old: &MetaFields, new: &MetaFields) -> String {
    let (Ok(serde_json::Value::Object(old)), Ok(serde_json::Value::Object(new))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return String::new();
    };
    new.iter()
        .filter(|(field, _)| !DERIVED_FIELDS.contains(&field.as_str()))
        .filter(|(field, value)| old.get(*field) != Some(value))
        .map(|(field, _)| field.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Applies a rep's patch to `before` (read in the same transaction) and records what changed.
pub(super) fn apply_patch(
    conn: &Connection,
    before: &Lead,
    patch: &LeadPatch,
    rep: &str,
    now: i64,
) -> Result<(), StoreError> {
    let status = patch.status.unwrap_or(before.status);
    let notes = patch.notes.clone().or_else(|| before.notes.clone());
    let first_contact = before
        .first_contact_at
        .map(micros)
        .or((before.status == LeadStatus::NewLead && status != LeadStatus::NewLead).then_some(now));
    conn.execute(
        "UPDATE leads SET status = ?2, notes = ?3, first_contact_at = ?4, updated_at = ?5 WHERE id = ?1",
        params![before.id, status.as_str(), notes, first_contact, now],
    )
    .map_err(internal)?;
    if status != before.status {
        let change = Change::new(
            ActivityKind::Status,
            Some(before.status.as_str().to_string()),
            Some(status.as_str().to_string()),
        );
        record(conn, before.id, now, rep, change)?;
    }
    if status.is_closed() && status != before.status {
        super::follow_ups::write_next_step(conn, before, None, rep, now)?;
    }
    if notes != before.notes {
        let change = Change::new(ActivityKind::Notes, before.notes.clone(), notes);
        record(conn, before.id, now, rep, change)?;
    }
    if let Some(owner) = &patch.owner
        && *owner != before.owner
    {
        set_owner(
            conn,
            before,
            owner.as_deref(),
            ActivityKind::Assign,
            rep,
            now,
        )?;
    }
    Ok(())
}

/// `lead` as [`set_owner`] leaves its row when it gives it to `owner` at `now`, without reading
/// the row back.
pub(super) fn owned_by(lead: Lead, owner: Option<String>, now: i64) -> Lead {
    Lead {
        owned_at: owner.as_ref().map(|_| time_from(now)),
        owner,
        updated_at: time_from(now),
        ..lead
    }
}

/// Gives the lead to `owner` (or nobody) and records it as `kind` by `actor`.
pub(super) fn set_owner(
    conn: &Connection,
    before: &Lead,
    owner: Option<&str>,
    kind: ActivityKind,
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE leads SET owner = ?2, owned_at = ?3, updated_at = ?4 WHERE id = ?1",
    )
    .and_then(|mut update| update.execute(params![before.id, owner, owner.map(|_| now), now]))
    .map_err(internal)?;
    let change = Change::new(kind, before.owner.clone(), owner.map(str::to_string));
    record(conn, before.id, now, actor, change)
}

impl SqliteStore {
    /// Runs `work` on lead `id` (as read inside the transaction) with a fresh change stamp, in one
    /// transaction that commits what it wrote; `missing` when no lead has that id.
    pub(super) async fn changing<T, F>(&self, id: i64, missing: T, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, Lead, i64) -> Result<T, StoreError> + Send + 'static,
    {
        self.with(move |inner| {
            let now = inner.next_change_micros();
            let tx = inner.conn.transaction().map_err(internal)?;
            let Some(before) = lead_by_id(&tx, id)? else {
                return Ok(missing);
            };
            let done = work(&tx, before, now)?;
            tx.commit().map_err(internal)?;
            Ok(done)
        })
        .await
    }
}

/// Reads the lead back after a change in the same transaction.
/// Sets one of `rep`'s settings (`column` is one of this file's literals, never input), adding
/// the rep's row when it is the first.
fn set_rep_column(
    conn: &Connection,
    rep: &str,
    column: &'static str,
    value: impl rusqlite::ToSql,
) -> Result<(), StoreError> {
    conn.execute(
        &format!(
            "INSERT INTO reps (name, {column}) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET {column} = excluded.{column}"
        ),
        params![rep, value],
    )
    .map_err(internal)?;
    Ok(())
}

pub(super) fn reread(conn: &Connection, id: i64) -> Result<Lead, StoreError> {
    lead_by_id(conn, id)?
        .ok_or_else(|| StoreError::Internal(format!("lead {id} vanished while changing it")))
}

#[async_trait]
impl QueueWrites for SqliteStore {
    async fn claim(&self, id: i64, rep: &str) -> Result<Claim, StoreError> {
        let rep = rep.to_string();
        self.changing(id, Claim::NotFound, move |tx, before, now| {
            match before.owner {
                Some(ref owner) if *owner != rep => Ok(Claim::Taken {
                    owner: owner.clone(),
                }),
                Some(_) => Ok(Claim::Claimed(Box::new(before))),
                None => {
                    set_owner(tx, &before, Some(&rep), ActivityKind::Claim, &rep, now)?;
                    Ok(Claim::Claimed(Box::new(reread(tx, id)?)))
                }
            }
        })
        .await
    }

    async fn release(&self, id: i64, rep: &str) -> Result<Option<Lead>, StoreError> {
        let rep = rep.to_string();
        self.changing(id, None, move |tx, before, now| {
            if before.owner.is_none() {
                return Ok(Some(before));
            }
            set_owner(tx, &before, None, ActivityKind::Release, &rep, now)?;
            reread(tx, id).map(Some)
        })
        .await
    }

    async fn record_exports(&self, ids: &[i64], actor: &str) -> Result<(), StoreError> {
        let (ids, actor) = (ids.to_vec(), actor.to_string());
        self.with(move |inner| super::export::record(&inner.conn, &ids, &actor, micros(Utc::now())))
            .await
    }

    async fn set_available(&self, rep: &str, available: bool) -> Result<(), StoreError> {
        let rep = rep.to_string();
        self.with(move |inner| set_rep_column(&inner.conn, &rep, "available", available))
            .await
    }

    async fn set_time_zone(&self, rep: &str, zone: &str) -> Result<(), StoreError> {
        let (rep, zone) = (rep.to_string(), zone.to_string());
        self.with(move |inner| set_rep_column(&inner.conn, &rep, "time_zone", zone))
            .await
    }

    async fn take_escalation(
        &self,
        id: i64,
        level: u8,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.with(move |inner| {
            let tx = inner.conn.transaction().map_err(internal)?;
            let changed = tx
                .execute(
                    "UPDATE leads SET escalated_level = ?2, escalated_at = ?3
                     WHERE id = ?1 AND escalated_level < ?2 AND status = 'New Lead'",
                    params![id, level, micros(at)],
                )
                .map_err(internal)?;
            if changed == 1 {
                // The history row queues `lead.escalated` (the outbox trigger), in the mark's
                // transaction.
                let change = Change::new(ActivityKind::Escalated, None, Some(level.to_string()));
                record(&tx, id, micros(at), actor::SYSTEM, change)?;
            }
            tx.commit().map_err(internal)?;
            Ok(changed == 1)
        })
        .await
    }
}

#[async_trait]
impl QueueReads for SqliteStore {
    async fn availability(&self) -> Result<HashMap<String, bool>, StoreError> {
        self.with(|inner| {
            let mut statement = inner
                .conn
                .prepare_cached("SELECT name, available FROM reps")
                .map_err(internal)?;
            let rows = statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .map_err(internal)?;
            rows.collect::<Result<_, _>>().map_err(internal)
        })
        .await
    }

    async fn time_zone(&self, rep: &str) -> Result<Option<String>, StoreError> {
        let rep = rep.to_string();
        self.with(move |inner| {
            inner
                .conn
                .query_row("SELECT time_zone FROM reps WHERE name = ?1", [rep], |row| {
                    row.get(0)
                })
                .optional()
                .map(Option::flatten)
                .map_err(internal)
        })
        .await
    }

    async fn erasures_since(
        &self,
        actor: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let actor = actor.to_string();
        self.with(move |inner| super::erase::erasures_since(&inner.conn, &actor, since, limit))
            .await
    }

    async fn activity(&self, id: i64) -> Result<Option<Vec<Activity>>, StoreError> {
        self.with(move |inner| {
            if lead_by_id(&inner.conn, id)?.is_none() {
                return Ok(None);
            }
            let history = activity_where(&inner.conn, "lead_id = ?1", [id])?;
            Ok(Some(history))
        })
        .await
    }

    async fn queue_figures(&self, window: StatsWindow) -> Result<QueueFigures, StoreError> {
        self.with(move |inner| {
            let conn = &inner.conn;
            let (count, oldest): (i64, Option<i64>) = conn
                .query_row(
                    &format!(
                        "SELECT COUNT(*), MIN(created_at) FROM leads WHERE status = 'New Lead' AND {NOT_JUNK}"
                    ),
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(internal)?;
            let mut contacts_statement = conn
                .prepare_cached(CONTACTS_SINCE)
                .map_err(internal)?;
            let contacts = contacts_statement
                .query_map([micros(window.week_start)], |row| {
                    let first_contact_at = time_from(row.get(1)?);
                    Ok(Contact {
                        owner: row.get(0)?,
                        first_contact_at,
                        speed_secs: speed_secs(time_from(row.get(2)?), first_contact_at),
                    })
                })
                .map_err(internal)?
                .collect::<Result<_, _>>()
                .map_err(internal)?;
            let mut owners_statement = conn
                .prepare_cached(
                    "SELECT owner, COUNT(*),
                        COUNT(*) FILTER (WHERE status NOT IN ('Won', 'Lost', 'Unqualified')),
                        COUNT(first_contact_at), COUNT(*) FILTER (WHERE status = 'Won'),
                        COUNT(*) FILTER (WHERE next_step_at <= ?1)
                     FROM leads WHERE owner IS NOT NULL GROUP BY owner",
                )
                .map_err(internal)?;
            let by_owner = owners_statement
                .query_map([micros(window.now)], |row| {
                    let count = |index: usize| row.get::<_, i64>(index).map(|n| n.max(0) as u64);
                    Ok((
                        row.get::<_, String>(0)?,
                        OwnerCounts {
                            owned: count(1)?,
                            open: count(2)?,
                            contacted: count(3)?,
                            won: count(4)?,
                            overdue: count(5)?,
                        },
                    ))
                })
                .map_err(internal)?
                .collect::<Result<_, _>>()
                .map_err(internal)?;
            Ok(QueueFigures {
                waiting: Waiting {
                    count: count.max(0) as u64,
                    oldest_created_at: oldest.map(time_from),
                },
                contacts,
                by_owner,
                follow_ups: super::follow_ups::figures(conn, window.now)?,
            })
        })
        .await
    }
}
