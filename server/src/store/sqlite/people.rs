//! People and junk in the SQLite store: a new lead is linked to its person as it is stored
//! (`super::place`); a rep merges and unlinks by hand; junk is cleared by a rep.

use async_trait::async_trait;
use leadhook_shared::{ActivityKind, Lead, PeopleStats};
use rusqlite::{Connection, params};

use super::capi::queue_stage_trigger;
use super::erase::activity_with_kinds;
use super::history::{self, Change};
use super::place::place_new;
use super::queue::reread;
use super::rows::micros;
use super::{SqliteStore, internal, lead_by_id};
use crate::store::people::{Relinked, linked_text, via};
use crate::store::{People, Routing, StatsWindow, StoreError};

/// Adds the normalised phone beside the raw one. Leads stored before have neither: the triage
/// backfill fills them in.
pub(super) const PHONES_MIGRATION: &str = r#"
    ALTER TABLE leads ADD COLUMN phone_e164 TEXT;
    ALTER TABLE leads ADD COLUMN phone_invalid INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX leads_phone_e164 ON leads (phone_e164) WHERE phone_e164 IS NOT NULL;
"#;

/// The e-mail key, the junk flag, the person link, and which leads the triage backfill has read
/// (leads stored before have `triaged = 0`; every insert from now on sets it).
pub(super) const MIGRATION: &str = concat!(
    r#"
    ALTER TABLE leads ADD COLUMN email_key TEXT;
    ALTER TABLE leads ADD COLUMN junk_reason TEXT;
    ALTER TABLE leads ADD COLUMN junk_cleared_at INTEGER;
    ALTER TABLE leads ADD COLUMN repeat_of INTEGER;
    ALTER TABLE leads ADD COLUMN repeat_via TEXT;
    ALTER TABLE leads ADD COLUMN triaged INTEGER NOT NULL DEFAULT 0;
    DROP INDEX leads_phone_e164;
    CREATE INDEX leads_person_phone ON leads (phone_e164, created_at, id)
        WHERE phone_e164 IS NOT NULL;
    CREATE INDEX leads_person_email ON leads (email_key, created_at, id)
        WHERE email_key IS NOT NULL;
    CREATE INDEX leads_repeat_of ON leads (repeat_of, created_at, id) WHERE repeat_of IS NOT NULL;
    CREATE INDEX leads_untriaged ON leads (id) WHERE triaged = 0;
"#,
    activity_with_kinds!(
        "'stored','redelivered','status','notes','claim','release','assign','erase','exported','next_step','attempt','linked','submitted_again','unlinked','junk_cleared'",
        queue_stage_trigger!(
            "CASE WHEN NEW.kind = 'status' THEN NEW.new
                  WHEN l.junk_reason IS NOT NULL AND l.junk_cleared_at IS NULL THEN 'Junk'
                  ELSE l.status END"
        )
    )
);

/// A lead that is not junk: never flagged, or cleared by a rep.
pub(super) const NOT_JUNK: &str = "(junk_reason IS NULL OR junk_cleared_at IS NOT NULL)";

/// Takes lead `id` out of its person: a repeat becomes its own person; a person's first lead
/// leaves its repeats together under the oldest of them. Records `unlinked` by `actor` on `id`
/// and on the lead it was linked to when `record` says so. The other leads whose link moved.
pub(super) fn detach(
    conn: &Connection,
    lead: &Lead,
    actor: &str,
    now: i64,
    record: bool,
) -> Result<Vec<i64>, StoreError> {
    let (partner, moved) = match lead.repeat_of {
        Some(person) => {
            own_person(conn, lead.id, now)?;
            (person, Vec::new())
        }
        None => {
            let repeats = repeats_of(conn, lead.id)?;
            let Some(&first) = repeats.first() else {
                return Ok(Vec::new());
            };
            own_person(conn, first, now)?;
            conn.execute(
                "UPDATE leads SET repeat_of = ?2, updated_at = ?3 WHERE repeat_of = ?1",
                params![lead.id, first, now],
            )
            .map_err(internal)?;
            (first, repeats)
        }
    };
    if record {
        for (on, other) in [(lead.id, partner), (partner, lead.id)] {
            let change = Change::new(ActivityKind::Unlinked, Some(format!("#{other}")), None);
            history::record(conn, on, now, actor, change)?;
        }
    }
    Ok(moved)
}

/// Makes lead `id` a person of its own.
fn own_person(conn: &Connection, id: i64, now: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE leads SET repeat_of = NULL, repeat_via = NULL, updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )
    .map_err(internal)?;
    Ok(())
}

/// The leads linked to first lead `person`, oldest first.
fn repeats_of(conn: &Connection, person: i64) -> Result<Vec<i64>, StoreError> {
    conn.prepare_cached("SELECT id FROM leads WHERE repeat_of = ?1 ORDER BY created_at, id")
        .and_then(|mut select| {
            select
                .query_map([person], |row| row.get(0))?
                .collect::<Result<_, _>>()
        })
        .map_err(internal)
}

#[async_trait]
impl People for SqliteStore {
    async fn merge(
        &self,
        id: i64,
        same_as: i64,
        rep: &str,
    ) -> Result<Option<Relinked>, StoreError> {
        let rep = rep.to_string();
        self.changing(id, None, move |conn, lead, now| {
            let Some(other) = lead_by_id(conn, same_as)? else {
                return Ok(None);
            };
            for one in [&lead, &other] {
                if one.erased_at.is_some() {
                    return Err(StoreError::Erased { id: one.id });
                }
            }
            let person = other.person_id();
            if lead.person_id() == person {
                return Ok(Some(Relinked {
                    lead,
                    moved: Vec::new(),
                }));
            }
            // A person's first lead brings its repeats; a repeat leaves its old person.
            let moved = if lead.repeat_of.is_none() {
                repeats_of(conn, lead.id)?
            } else {
                Vec::new()
            };
            conn.execute(
                "UPDATE leads SET repeat_of = ?2, updated_at = ?3 WHERE repeat_of = ?1",
                params![lead.id, person, now],
            )
            .map_err(internal)?;
            conn.execute(
                "UPDATE leads SET repeat_of = ?2, repeat_via = ?3, updated_at = ?4 WHERE id = ?1",
                params![lead.id, person, via::HAND, now],
            )
            .map_err(internal)?;
            let linked =
                |to: i64| Change::new(ActivityKind::Linked, None, Some(linked_text(to, via::HAND)));
            history::record(conn, lead.id, now, &rep, linked(person))?;
            history::record(conn, person, now, &rep, linked(lead.id))?;
            relinked(conn, id, &moved).map(Some)
        })
        .await
    }

    async fn unlink(&self, id: i64, rep: &str) -> Result<Option<Relinked>, StoreError> {
        let rep = rep.to_string();
        self.changing(id, None, move |conn, lead, now| {
            let moved = detach(conn, &lead, &rep, now, true)?;
            relinked(conn, id, &moved).map(Some)
        })
        .await
    }

    async fn clear_junk(
        &self,
        id: i64,
        rep: &str,
        routing: Routing<'_>,
    ) -> Result<Option<Lead>, StoreError> {
        let rep = rep.to_string();
        let (assignment, reps, repeat_window) = (
            routing.assignment,
            routing.reps.to_vec(),
            routing.repeat_window,
        );
        self.changing(id, None, move |conn, lead, now| {
            let Some(reason) = lead.junk().map(str::to_string) else {
                return Ok(Some(lead));
            };
            conn.execute(
                "UPDATE leads SET junk_cleared_at = ?2, updated_at = ?2 WHERE id = ?1",
                params![id, now],
            )
            .map_err(internal)?;
            let cleared = Change::new(ActivityKind::JunkCleared, Some(reason), None);
            history::record(conn, id, now, &rep, cleared)?;
            let lead = reread(conn, id)?;
            if lead.owner.is_some() || lead.erased_at.is_some() {
                return Ok(Some(lead));
            }
            let routing = Routing {
                assignment,
                reps: &reps,
                repeat_window,
            };
            place_new(conn, lead, routing, now).map(Some)
        })
        .await
    }
}

/// People and junk for `GET /api/stats`: a person's submissions count once, junk not at all.
pub(super) fn figures(conn: &Connection, window: StatsWindow) -> Result<PeopleStats, StoreError> {
    let count = |n: i64| n.max(0) as u64;
    conn.query_row(
        &format!(
            "SELECT COUNT(DISTINCT person),
                COUNT(DISTINCT person) FILTER (WHERE created_at >= ?1),
                COUNT(DISTINCT person) FILTER (WHERE created_at >= ?2),
                (SELECT COUNT(*) FROM leads WHERE NOT {NOT_JUNK})
             FROM (SELECT COALESCE(repeat_of, id) AS person, created_at FROM leads WHERE {NOT_JUNK})"
        ),
        params![micros(window.today_start), micros(window.week_start)],
        |row| {
            Ok(PeopleStats {
                total: count(row.get(0)?),
                today: count(row.get(1)?),
                last_7_days: count(row.get(2)?),
                junk: count(row.get(3)?),
            })
        },
    )
    .map_err(internal)
}

/// Lead `id` and the leads `moved` as they are now.
fn relinked(conn: &Connection, id: i64, moved: &[i64]) -> Result<Relinked, StoreError> {
    Ok(Relinked {
        lead: reread(conn, id)?,
        moved: moved
            .iter()
            .map(|&other| reread(conn, other))
            .collect::<Result<_, _>>()?,
    })
}
