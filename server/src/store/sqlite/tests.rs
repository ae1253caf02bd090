//! Schema upgrades of the SQLite store, which only this module can stage (the migrations are private).

use leadhook_shared::{ActivityKind, LeadStatus};
use rusqlite::Connection;

use super::{MIGRATIONS, SqliteStore};
use crate::store::{
    CapiOutbox, Erasure, EscalationMarks, LeadReader, LeadWrites, QueueReads, QueueWrites,
};

/// A database left by the release before the work queue: schema version 1, with two leads.
fn database_before_the_work_queue(path: &std::path::Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(MIGRATIONS[0]).unwrap();
    conn.execute_batch(
        "INSERT INTO leads (leadgen_id, name, status, notes, created_at, received_at, updated_at)
         VALUES ('111', 'Old Waiting', 'New Lead', NULL, 1000000, 2000000, 3000000),
                ('222', 'Old Called', 'Contacted', 'call back Tuesday', 1000000, 2000000, 4000000);
         PRAGMA user_version = 1;",
    )
    .unwrap();
}

#[tokio::test]
async fn an_existing_database_migrates_in_place_and_keeps_every_lead() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leads.db");
    database_before_the_work_queue(&path);

    let store = SqliteStore::open(&path).await.unwrap();
    let page = store.list(&Default::default()).await.unwrap();
    assert_eq!(page.count, 2);
    let called = page
        .leads
        .iter()
        .find(|lead| lead.leadgen_id.as_deref() == Some("222"))
        .unwrap();
    assert_eq!(called.status, LeadStatus::Contacted);
    assert_eq!(called.notes.as_deref(), Some("call back Tuesday"));
    assert_eq!(
        (called.owner.as_deref(), called.first_contact_at),
        (None, None)
    );
    let history = store.activity(called.id).await.unwrap().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].actor.as_str(), history[0].kind),
        ("system", ActivityKind::Stored)
    );
    // Leads from before the queue are not escalated all at once after the upgrade.
    let far_future = chrono::Utc::now() + chrono::Duration::days(1);
    let check = store
        .escalation_check(&crate::store::EscalationQuery {
            created_after: chrono::DateTime::UNIX_EPOCH,
            due_before: vec![far_future, far_future],
            due_limit: 10,
            marked_after: chrono::DateTime::UNIX_EPOCH,
            marked_limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(check, crate::store::EscalationCheck::default());
    drop(store);
    let version: i64 = Connection::open(&path)
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
}

/// A new database at `path` with the schema just before `migration`, which it has not run.
fn schema_before(path: &std::path::Path, migration: &str) -> Connection {
    let before = MIGRATIONS
        .iter()
        .position(|sql| *sql == migration)
        .expect("the migration is listed");
    let conn = Connection::open(path).unwrap();
    for sql in &MIGRATIONS[..before] {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", before as i64)
        .unwrap();
    conn
}

/// A database with history and queued Conversions API stages, left just before `migration`, opened
/// (so migrated) by this leadhook. The erase and export migrations rebuild `activity` (to allow a
/// new kind): the history and the stages must survive, and the stage trigger still work.
async fn migrated_over(dir: &std::path::Path, migration: &str) -> SqliteStore {
    let path = dir.join("leads.db");
    {
        let conn = schema_before(&path, migration);
        conn.execute_batch(
            "UPDATE capi_switch SET enabled = 1;
             INSERT INTO leads (leadgen_id, name, status, created_at, received_at, updated_at)
             VALUES ('333', 'Before Rebuild', 'Contacted', 1000000, 2000000, 3000000);
             INSERT INTO activity (lead_id, at, actor, kind) VALUES (1, 2000000, 'facebook', 'stored');
             INSERT INTO activity (lead_id, at, actor, kind, old, new)
             VALUES (1, 3000000, 'alice', 'status', 'New Lead', 'Contacted');",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let history = store.activity(1).await.unwrap().unwrap();
    let kinds: Vec<_> = history.iter().map(|entry| entry.kind).collect();
    assert_eq!(kinds, [ActivityKind::Stored, ActivityKind::Status]);
    assert_eq!(history[1].new.as_deref(), Some("Contacted"));
    let patch = leadhook_shared::LeadPatch {
        status: Some(LeadStatus::Won),
        ..Default::default()
    };
    store.update(1, &patch, "alice").await.unwrap();
    let figures = store
        .capi_figures(chrono::DateTime::UNIX_EPOCH)
        .await
        .unwrap();
    assert_eq!(
        figures.queued, 3,
        "the two stages from before and the new one"
    );
    store
}

/// Claims the Conversions API stages of [`migrated_over`]'s database: the two from before the
/// migration, under their ids, and the one it queued after.
async fn claim_the_three_stages(store: &SqliteStore) -> Vec<crate::store::Delivery> {
    use crate::store::Outbox;

    let queued = store
        .outbox_claim(crate::store::CAPI, 10, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        queued.iter().map(|d| d.id).collect::<Vec<_>>(),
        [1, 2, 3],
        "the stages from before kept their ids"
    );
    queued
}

#[tokio::test]
async fn the_erase_migration_keeps_history_and_queued_stages() {
    let dir = tempfile::tempdir().unwrap();
    let store = migrated_over(dir.path(), super::erase::MIGRATION).await;
    let erased = store.erase(1, "alice", None).await.unwrap().unwrap();
    assert!(erased.erased_at.is_some());
}

#[tokio::test]
async fn the_export_migration_keeps_history_and_queued_stages() {
    let dir = tempfile::tempdir().unwrap();
    let store = migrated_over(dir.path(), super::export::MIGRATION).await;
    store.record_exports(&[1], "carol").await.unwrap();
    let last = store.activity(1).await.unwrap().unwrap().pop().unwrap();
    assert_eq!(
        (last.kind, last.actor.as_str()),
        (ActivityKind::Exported, "carol")
    );
}

#[tokio::test]
async fn the_follow_ups_migration_keeps_history_and_queued_stages() {
    use crate::store::FollowUps;

    let dir = tempfile::tempdir().unwrap();
    let store = migrated_over(dir.path(), super::follow_ups::MIGRATION).await;
    let lead = store.get(1).await.unwrap().unwrap();
    assert_eq!((lead.next_step, lead.attempts), (None, 0));
    let attempt = leadhook_shared::NewAttempt {
        outcome: leadhook_shared::CallOutcome::WrongNumber,
        note: None,
    };
    let counted = store
        .record_attempt(1, &attempt, "alice", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(counted.attempts, 1);
    let last = store.activity(1).await.unwrap().unwrap().pop().unwrap();
    assert_eq!(
        (last.kind, last.new.as_deref()),
        (ActivityKind::Attempt, Some("wrong_number"))
    );
}

/// Leads stored before the stages were kept on the lead get them from their history, and a
/// status change after the migration adds its stage.
#[tokio::test]
async fn the_stages_migration_fills_the_stages_from_the_history() {
    use crate::store::{InsightsQuery, InsightsReads};
    use leadhook_shared::insights::Grouping;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leads.db");
    let before = MIGRATIONS
        .iter()
        .position(|sql| *sql == super::insights::STAGES_MIGRATION)
        .expect("the migration is listed");
    {
        let conn = Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..before] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO leads (leadgen_id, status, created_at, received_at, updated_at)
             VALUES ('1', 'Lost', 1000000, 1000000, 1000000),
                    ('2', 'Contacted', 1000000, 1000000, 1000000);
             INSERT INTO activity (lead_id, at, actor, kind, old, new)
             VALUES (1, 2000000, 'alice', 'status', 'New Lead', 'Qualified'),
                    (1, 3000000, 'alice', 'status', 'Qualified', 'Lost'),
                    (2, 2000000, 'bob', 'status', 'New Lead', 'Contacted');",
        )
        .unwrap();
        conn.pragma_update(None, "user_version", before as i64)
            .unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let patch = leadhook_shared::LeadPatch {
        status: Some(LeadStatus::Won),
        ..Default::default()
    };
    store.update(2, &patch, "bob").await.unwrap();
    let patch = leadhook_shared::LeadPatch {
        status: Some(LeadStatus::Contacted),
        ..Default::default()
    };
    store.update(2, &patch, "bob").await.unwrap();
    let query = InsightsQuery {
        by: Grouping::Campaign,
        answer: None,
        day_starts: vec![
            chrono::DateTime::UNIX_EPOCH,
            chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(1),
        ],
    };
    let figures = store.insights(&query).await.unwrap();
    let stages = (
        figures.total.qualified,
        figures.total.won,
        figures.total.lost,
    );
    assert_eq!(
        stages,
        (1, 1, 1),
        "lead 1 was qualified, then lost; lead 2 won, then went back to contacted"
    );
}

/// The person lookups every new lead runs stay prepared: SQLite re-plans a statement whose plan
/// depended on a bound value each time rusqlite returns it to the cache (it clears the values),
/// which cost 14 % of storing a piece of leads.
#[tokio::test]
async fn the_person_lookups_are_planned_once() {
    use leadhook_shared::Assignment;
    use leadhook_shared::team::actor::FACEBOOK;

    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("leads.db"))
        .await
        .unwrap();
    let submitted = chrono::Utc::now() - chrono::Duration::hours(1);
    // 40 leads of 20 people: every second lead is a repeat, matched by phone or by e-mail.
    let leads: Vec<_> = (0..40)
        .map(|n| {
            let person = n % 20;
            let mut lead = crate::writer::test_lead(
                &format!("person-{person}"),
                submitted + chrono::Duration::seconds(n),
            );
            lead.leadgen_id = format!("lead-{n}");
            lead.meta.phone = (person % 2 == 0).then(|| format!("+1 415 555 {person:04}"));
            crate::triage::Triage::default().read(&mut lead.meta);
            lead
        })
        .collect();
    let routing = crate::store::Routing {
        assignment: Assignment::Claim,
        reps: &[],
        repeat_window: chrono::Duration::days(30),
    };
    for piece in leads.chunks(8) {
        store.upsert_many(piece, FACEBOOK, routing).await.unwrap();
    }
    let inner = store.inner.lock().unwrap();
    for column in ["phone_e164", "email_key"] {
        let lookup = inner
            .conn
            .prepare_cached(&super::place::person_lookup(column))
            .unwrap();
        let runs = lookup.get_status(rusqlite::StatementStatus::Run);
        let planned_again = lookup.get_status(rusqlite::StatementStatus::RePrepare);
        assert!(runs >= 10, "{column}: the lookup ran {runs} times");
        assert_eq!(
            planned_again, 0,
            "{column}: planned again, after {runs} runs"
        );
    }
}

/// The paging migration rebuilds `capi_events` (to allow `dropped`) and `activity` (to allow
/// `escalated`): the history and the queued stages keep their ids, the outbox and stage
/// triggers still fire, a delivery can be dropped, and an escalation mark writes its row.
#[tokio::test]
async fn the_paging_migration_keeps_history_queued_stages_and_triggers() {
    use crate::store::Outbox;

    let dir = tempfile::tempdir().unwrap();
    // Queues a third stage (Won) through the recreated outbox trigger.
    let store = migrated_over(dir.path(), super::paging::MIGRATION).await;
    let stages: i64 = Connection::open(dir.path().join("leads.db"))
        .unwrap()
        .query_row("SELECT stages FROM leads WHERE id = 1", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(stages & 2, 2, "the stage trigger marked Won: {stages}");
    let queued = claim_the_three_stages(&store).await;
    store
        .outbox_drop(queued[0].id, "dropped on purpose")
        .await
        .unwrap();
    let figures = store
        .capi_figures(chrono::DateTime::UNIX_EPOCH)
        .await
        .unwrap();
    assert_eq!((figures.queued, figures.failed), (2, 0));

    Connection::open(dir.path().join("leads.db"))
        .unwrap()
        .execute("UPDATE leads SET status = 'New Lead' WHERE id = 1", [])
        .unwrap();
    assert!(
        store
            .take_escalation(1, 1, chrono::Utc::now())
            .await
            .unwrap()
    );
    let last = store.activity(1).await.unwrap().unwrap().pop().unwrap();
    assert_eq!(
        (last.kind, last.actor.as_str(), last.new.as_deref()),
        (ActivityKind::Escalated, "system", Some("1"))
    );
}

#[tokio::test]
async fn the_event_kinds_migration_keeps_history_and_queued_stages_and_routes_by_the_table() {
    use crate::store::{EventType, FollowUps, Outbox, Route};

    let dir = tempfile::tempdir().unwrap();
    // Queues a third stage (Won) through the queue trigger that now reads `outbox_event_kinds`.
    let store = migrated_over(dir.path(), super::event_kinds::MIGRATION).await;
    claim_the_three_stages(&store).await;
    store
        .outbox_routes(&[Route {
            destination: "crm".into(),
            event_type: EventType::FollowUpDue,
        }])
        .await
        .unwrap();
    let step = leadhook_shared::NextStep {
        at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        what: "Call back".into(),
    };
    store.set_next_step(1, Some(&step), "alice").await.unwrap();
    assert!(
        store
            .take_reminder(1, step.at, chrono::Utc::now())
            .await
            .unwrap()
    );
    let crm = store
        .outbox_claim("crm", 10, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        crm.iter()
            .map(|d| (d.lead_id, d.event_type.as_str()))
            .collect::<Vec<_>>(),
        [(1, "lead.follow_up_due")],
        "the new kind is allowed and queued by the table's mapping"
    );
}

/// The escalation and first-contact indexes become partial in place (a new lead, with neither
/// mark, writes no entry into them): the marks stored before are still found, through them.
#[tokio::test]
async fn the_marks_indexes_become_partial_and_still_serve_their_queries() {
    use crate::store::{EscalationQuery, StatsWindow};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leads.db");
    {
        let conn = schema_before(&path, super::queue::MARKS_INDEX_MIGRATION);
        conn.execute_batch(
            "INSERT INTO leads (leadgen_id, name, status, created_at, received_at, updated_at,
                                owner, first_contact_at, escalated_level, escalated_at)
             VALUES ('escalated', 'A', 'New Lead', 1000000, 1000000, 5000000, NULL, NULL, 1, 5000000),
                    ('contacted', 'B', 'Contacted', 1000000, 1000000, 4000000, 'alice', 4000000, 0, NULL),
                    ('waiting', 'C', 'New Lead', 1000000, 1000000, 1000000, NULL, NULL, 0, NULL);",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();

    let epoch = chrono::DateTime::UNIX_EPOCH;
    let check = store
        .escalation_check(&EscalationQuery {
            created_after: chrono::Utc::now(),
            due_before: Vec::new(),
            due_limit: 10,
            marked_after: epoch,
            marked_limit: 10,
        })
        .await
        .unwrap();
    let marked: Vec<_> = check
        .marked
        .iter()
        .map(|mark| (mark.lead.leadgen_id.as_deref(), mark.level))
        .collect();
    assert_eq!(marked, [(Some("escalated"), 1)]);
    let figures = store
        .queue_figures(StatsWindow {
            today_start: epoch,
            week_start: epoch,
            now: chrono::Utc::now(),
        })
        .await
        .unwrap();
    let contacts: Vec<_> = figures
        .contacts
        .iter()
        .map(|c| c.owner.as_deref())
        .collect();
    assert_eq!(contacts, [Some("alice")]);

    let inner = store.inner.lock().unwrap();
    for (index, query) in [
        ("leads_escalated", super::escalation::MARKED_SINCE.as_str()),
        ("leads_first_contact", super::queue::CONTACTS_SINCE),
    ] {
        let sql: String = inner
            .conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [index],
                |row| row.get(0),
            )
            .unwrap();
        assert!(sql.contains("IS NOT NULL"), "{index} is not partial: {sql}");
        let mut explain = inner
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {query}"))
            .unwrap();
        let unbound = vec![rusqlite::types::Null; explain.parameter_count()];
        let plan: Vec<String> = explain
            .query_map(rusqlite::params_from_iter(unbound), |row| row.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            plan.iter().any(|step| step.contains(index)),
            "{index} is not used: {plan:?}"
        );
    }
}
