//! `20261207214000_history_per_statement.sql` on a real PostgreSQL: the statement triggers that
//! write an insert's history and outbox rows write exactly what the row triggers before them did.
//! The same mix of writes runs on a database migrated up to the file before and on one with it;
//! the activity, outbox (`capi_events`) and lead rows, ids included, must be the same (times
//! aside: they are the clock's).

use leadhook_local_supabase::TestDatabase;
use leadhook_server::store::postgrest::MIGRATIONS;
use tokio_postgres::SimpleQueryMessage;

use super::migration_steps::split_at;

const STATEMENT_MIGRATION: &str = "20261207214000_history_per_statement.sql";

/// Routed leads, junk, repeats, manual leads, changes, an erasure, an export, CAPI on and off,
/// channel routes, a copy: see the file.
const MIX: &str = include_str!("history_statements/mix.sql");

/// Every row the triggers write or touch, as text, in id order; times (and `speed_secs`, made
/// of them) left out.
const DUMPS: [&str; 4] = [
    "SELECT id, lead_id, actor, kind, old, new FROM activity ORDER BY id",
    "SELECT c.id, c.destination, c.event_type, c.activity_id, c.lead_id, c.leadgen_id, c.stage,
            c.state, c.attempts, c.at = c.queued_at, c.at = a.at
       FROM capi_events AS c JOIN activity AS a ON a.id = c.activity_id ORDER BY c.id",
    "SELECT (to_jsonb(l) - array['created_at', 'received_at', 'updated_at', 'owned_at',
            'escalated_at', 'first_contact_at', 'next_step_at', 'reminded_at',
            'junk_cleared_at', 'erased_at', 'speed_secs'])::text, erased_at IS NULL
       FROM leads AS l ORDER BY id",
    "SELECT name, last_assigned_at IS NOT NULL FROM reps ORDER BY name",
];

async fn written(database: &TestDatabase) -> Vec<Vec<String>> {
    database.execute(MIX).await.expect("the mix runs");
    let client = database.connect().await;
    let mut dumps = Vec::new();
    for dump in DUMPS {
        let mut rows = Vec::new();
        for message in client.simple_query(dump).await.unwrap() {
            if let SimpleQueryMessage::Row(row) = message {
                let cells: Vec<&str> = (0..row.len())
                    .map(|i| row.get(i).unwrap_or("NULL"))
                    .collect();
                rows.push(cells.join("|"));
            }
        }
        dumps.push(rows);
    }
    dumps
}

async fn count(database: &TestDatabase, sql: &str) -> i64 {
    database
        .connect()
        .await
        .query_one(sql, &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn the_statement_triggers_write_what_the_row_triggers_wrote() {
    let (before, _) = split_at(STATEMENT_MIGRATION);
    let rows = TestDatabase::migrated(before).await;
    let statements = TestDatabase::migrated(MIGRATIONS).await;
    let before = written(&rows).await;
    let after = written(&statements).await;

    // The mix reaches every kind of row the insert triggers write.
    let every_kind = "SELECT count(DISTINCT kind) FROM activity
                       WHERE kind IN ('stored', 'assign', 'linked', 'submitted_again')";
    assert_eq!(count(&statements, every_kind).await, 4);
    let every_destination = "SELECT count(DISTINCT destination || event_type) FROM capi_events";
    assert_eq!(count(&statements, every_destination).await, 8);
    let copied = "SELECT count(*) FROM activity WHERE lead_id = 100000";
    assert_eq!(
        count(&statements, copied).await,
        1,
        "a copy's history is its own"
    );
    assert!(before[0].len() > 1_000 && before[1].len() > 1_000 && before[2].len() > 500);

    for (dump, (before, after)) in DUMPS.iter().zip(before.iter().zip(&after)) {
        let first_difference = before.iter().zip(after).position(|(b, a)| b != a);
        assert!(
            first_difference.is_none() && before.len() == after.len(),
            "{dump}\n{} rows with the row triggers, {} with the statement triggers; first \
             difference at row {first_difference:?}:\n{:?}\n{:?}",
            before.len(),
            after.len(),
            first_difference.map(|i| &before[i]),
            first_difference.map(|i| &after[i]),
        );
    }
}

#[tokio::test]
async fn the_statement_triggers_replace_the_insert_row_triggers() {
    let database = TestDatabase::migrated(MIGRATIONS).await;
    let triggers = "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND (
           (tgname IN ('leads_record_inserts', 'outbox_queue_inserted') AND tgtype & 1 = 0)
        OR (tgname IN ('leads_record_activity', 'leads_record_link') AND tgtype & 4 = 0)
        OR tgname = 'outbox_queue')";
    // Two statement triggers (FOR EACH ROW bit clear), two row triggers no longer on INSERT.
    assert_eq!(count(&database, triggers).await, 4);
}
