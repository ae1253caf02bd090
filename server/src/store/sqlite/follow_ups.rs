//! Follow-ups in the SQLite store: a lead's next step and its call attempts. Each change and its
//! activity row share one transaction.

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use leadhook_shared::team::actor;
use leadhook_shared::{ActivityKind, FollowUpStats, Lead, NewAttempt, NextStep};
use rusqlite::{Connection, OptionalExtension, params};

use super::erase::activity_with_kinds;
use super::history::{self, Change};
use super::queue::reread;
use super::rows::micros;
use super::{SqliteStore, internal};
use crate::store::{FollowUps, StoreError};

/// Adds the next step and the attempt count to leads, and lets activity rows be of kinds
/// `next_step` and `attempt`.
pub(super) const MIGRATION: &str = concat!(
    r#"
    ALTER TABLE leads ADD COLUMN next_step_at INTEGER;
    ALTER TABLE leads ADD COLUMN next_step_what TEXT;
    ALTER TABLE leads ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX leads_next_step ON leads (next_step_at) WHERE next_step_at IS NOT NULL;
"#,
    activity_with_kinds!(
        "'stored','redelivered','status','notes','claim','release','assign','erase','exported','next_step','attempt'"
    )
);

/// Sets `before`'s next step to `step` (at the store's microsecond precision) and records it,
/// unless it is already that.
pub(super) fn write_next_step(
    conn: &Connection,
    before: &Lead,
    step: Option<&NextStep>,
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    let step = step.map(|step| NextStep {
        at: step.at.trunc_subsecs(6),
        what: step.what.clone(),
    });
    if step == before.next_step {
        return Ok(());
    }
    conn.execute(
        "UPDATE leads SET next_step_at = ?2, next_step_what = ?3, reminded_at = NULL, updated_at = ?4
         WHERE id = ?1",
        params![
            before.id,
            step.as_ref().map(|step| micros(step.at)),
            step.as_ref().map(|step| step.what.as_str()),
            now
        ],
    )
    .map_err(internal)?;
    let change = Change::new(
        ActivityKind::NextStep,
        before.next_step.as_ref().map(NextStep::history_text),
        step.as_ref().map(NextStep::history_text),
    );
    history::record(conn, before.id, now, actor, change)
}

/// Call attempts over every lead, and the next steps due before `now`.
pub(super) fn figures(conn: &Connection, now: DateTime<Utc>) -> Result<FollowUpStats, StoreError> {
    let count = |n: i64| n.max(0) as u64;
    conn.query_row(
        "SELECT COUNT(*), COUNT(DISTINCT lead_id),
                COUNT(DISTINCT lead_id) FILTER (WHERE new = 'talked' OR new LIKE 'talked:%'),
                (SELECT COUNT(*) FROM leads WHERE next_step_at <= ?1)
         FROM activity WHERE kind = 'attempt'",
        [micros(now)],
        |row| {
            Ok(FollowUpStats {
                attempts: count(row.get(0)?),
                leads_attempted: count(row.get(1)?),
                leads_talked: count(row.get(2)?),
                overdue: count(row.get(3)?),
            })
        },
    )
    .map_err(internal)
}

#[async_trait]
impl FollowUps for SqliteStore {
    async fn set_next_step(
        &self,
        id: i64,
        step: Option<&NextStep>,
        rep: &str,
    ) -> Result<Option<Lead>, StoreError> {
        let (step, rep) = (step.cloned(), rep.to_string());
        self.changing(id, None, move |tx, before, now| {
            if before.erased_at.is_some() {
                return Err(StoreError::Erased { id });
            }
            write_next_step(tx, &before, step.as_ref(), &rep, now)?;
            reread(tx, id).map(Some)
        })
        .await
    }

    async fn record_attempt(
        &self,
        id: i64,
        attempt: &NewAttempt,
        rep: &str,
        schedule: Option<&[NextStep]>,
    ) -> Result<Option<Lead>, StoreError> {
        let (attempt, rep) = (attempt.clone(), rep.to_string());
        let schedule = schedule.map(<[NextStep]>::to_vec);
        self.changing(id, None, move |tx, before, now| {
            if before.erased_at.is_some() {
                return Err(StoreError::Erased { id });
            }
            tx.execute(
                "UPDATE leads SET attempts = attempts + 1, updated_at = ?2 WHERE id = ?1",
                params![id, now],
            )
            .map_err(internal)?;
            let text = attempt.outcome.history_text(attempt.note.as_deref());
            history::record(
                tx,
                id,
                now,
                &rep,
                Change::new(ActivityKind::Attempt, None, Some(text)),
            )?;
            if let Some(schedule) = schedule {
                let number = before.attempts as usize + 1;
                write_next_step(tx, &before, schedule.get(number - 1), &rep, now)?;
            }
            reread(tx, id).map(Some)
        })
        .await
    }

    async fn take_reminder(
        &self,
        id: i64,
        step_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.with(move |inner| {
            let tx = inner.conn.transaction().map_err(internal)?;
            let what: Option<String> = tx
                .query_row(
                    "UPDATE leads SET reminded_at = ?3
                     WHERE id = ?1 AND next_step_at = ?2 AND reminded_at IS NULL
                       AND erased_at IS NULL
                     RETURNING next_step_what",
                    params![id, micros(step_at), micros(at)],
                    |row| row.get(0),
                )
                .optional()
                .map_err(internal)?;
            if let Some(what) = &what {
                // The history row queues `lead.follow_up_due` (the outbox trigger), in the mark's
                // transaction.
                let step = NextStep {
                    at: step_at,
                    what: what.clone(),
                };
                let change = Change::new(ActivityKind::Reminded, None, Some(step.history_text()));
                history::record(&tx, id, micros(at), actor::SYSTEM, change)?;
            }
            tx.commit().map_err(internal)?;
            Ok(what.is_some())
        })
        .await
    }
}
