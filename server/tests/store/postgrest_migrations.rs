//! The Supabase migrations on a real PostgreSQL (the tests' throwaway cluster): they apply twice, with
//! tokio-postgres and with `psql -f`, and leave the constraints, security and trigger in place.

use std::path::{Path, PathBuf};
use std::process::Command;

use leadhook_local_supabase::TestDatabase;
use leadhook_server::store::postgrest::MIGRATIONS;
use leadhook_sim::harness::poll_until;
use tokio_postgres::Client;

use super::migration_steps::apply_twice;

fn migrations_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations")
}

/// A database with the migrations applied twice (they are idempotent).
pub(crate) async fn migrated() -> TestDatabase {
    let database = TestDatabase::migrated(MIGRATIONS).await;
    for (file, sql) in MIGRATIONS {
        database
            .execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{file}, applied again: {e}"));
    }
    database
}

async fn sqlstate(client: &Client, sql: &str) -> String {
    let error = client
        .batch_execute(sql)
        .await
        .expect_err("the statement should fail");
    error
        .code()
        .map(|code| code.code().to_string())
        .unwrap_or_else(|| panic!("no SQLSTATE: {error}"))
}

async fn flag(client: &Client, sql: &str) -> bool {
    client.query_one(sql, &[]).await.unwrap().get(0)
}

#[test]
fn the_folder_holds_exactly_the_embedded_migrations_named_for_the_supabase_cli() {
    let mut files: Vec<String> = std::fs::read_dir(migrations_dir())
        .expect("migrations/ exists")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let embedded: Vec<&str> = MIGRATIONS.iter().map(|(file, _)| *file).collect();
    assert_eq!(files, embedded, "every file embedded, oldest first");
    for (file, sql) in MIGRATIONS {
        let (stamp, rest) = file.split_once('_').expect("<timestamp>_<name>.sql");
        assert!(
            stamp.len() == 14 && stamp.bytes().all(|b| b.is_ascii_digit()),
            "{file}"
        );
        let name = rest.strip_suffix(".sql").expect(".sql");
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{file}"
        );
        let on_disk = std::fs::read_to_string(migrations_dir().join(file)).unwrap();
        assert_eq!(&on_disk, sql, "{file} is embedded as it is on disk");
    }
}

#[tokio::test]
async fn migrations_apply_twice_with_psql() {
    let database = TestDatabase::create().await;
    for round in 1..=2 {
        for (file, _) in MIGRATIONS {
            let output = Command::new("psql")
                .args([
                    "-X",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-d",
                    &database.url,
                    "-f",
                ])
                .arg(migrations_dir().join(file))
                .output()
                .expect("psql is installed");
            assert!(
                output.status.success(),
                "psql -f {file}, round {round}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    let client = database.connect().await;
    assert!(flag(&client, "SELECT to_regclass('public.leads') IS NOT NULL").await);
}

#[tokio::test]
async fn constraints_hold() {
    let database = migrated().await;
    let client = database.connect().await;
    client
        .batch_execute("INSERT INTO leads (leadgen_id, name) VALUES ('1', 'A')")
        .await
        .unwrap();
    assert_eq!(
        sqlstate(&client, "INSERT INTO leads (leadgen_id) VALUES ('1')").await,
        "23505",
        "leadgen_id is unique"
    );
    assert_eq!(
        sqlstate(&client, "UPDATE leads SET status = 'Hot'").await,
        "23514",
        "status is one of the allowed set"
    );
    for status in [
        "New Lead",
        "Contacted",
        "Qualified",
        "Unqualified",
        "Won",
        "Lost",
    ] {
        client
            .execute("UPDATE leads SET status = $1", &[&status])
            .await
            .unwrap();
    }
    assert_eq!(
        sqlstate(&client, "UPDATE leads SET fields = '[]'").await,
        "23514",
        "fields is an object"
    );
    // Manual leads have no leadgen_id, and many of them may exist.
    client
        .batch_execute("INSERT INTO leads (name, is_manual) VALUES ('B', true), ('C', true)")
        .await
        .unwrap();
    let defaults = client
        .query_one(
            "SELECT status, is_manual, is_organic, fields::text FROM leads WHERE leadgen_id = '1'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(defaults.get::<_, String>(3), "{}");
    assert!(!defaults.get::<_, bool>(1));
    for index in ["leads_newest_first", "leads_changes", "leads_status"] {
        let exists: bool = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&index])
            .await
            .unwrap()
            .get(0);
        assert!(exists, "index {index}");
    }
}

#[tokio::test]
async fn only_service_role_gets_in() {
    let database = migrated().await;
    let client = database.connect().await;
    client
        .batch_execute("INSERT INTO leads (leadgen_id) VALUES ('1')")
        .await
        .unwrap();
    assert!(
        flag(
            &client,
            "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.leads'::regclass"
        )
        .await
    );
    assert!(
        flag(
            &client,
            "SELECT has_table_privilege('service_role', 'public.leads', 'SELECT, INSERT, UPDATE, DELETE')
                AND has_table_privilege('service_role', 'public.leads', 'SELECT')
                AND has_table_privilege('service_role', 'public.leads', 'INSERT')
                AND has_table_privilege('service_role', 'public.leads', 'UPDATE')
                AND has_table_privilege('service_role', 'public.leads', 'DELETE')
                AND has_sequence_privilege('service_role', 'public.leads_id_seq', 'USAGE')
                AND has_function_privilege('service_role', 'public.lead_stats(timestamptz, timestamptz)', 'EXECUTE')"
        )
        .await
    );
    for role in ["anon", "authenticated"] {
        let any: bool = client
            .query_one(
                "SELECT has_table_privilege($1, 'public.leads', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                     OR has_sequence_privilege($1, 'public.leads_id_seq', 'USAGE, SELECT, UPDATE')
                     OR has_function_privilege($1, 'public.lead_stats(timestamptz, timestamptz)', 'EXECUTE')",
                &[&role],
            )
            .await
            .unwrap()
            .get(0);
        assert!(!any, "{role} has no access");
        assert_eq!(
            sqlstate(&client, &format!("SET ROLE {role}; SELECT * FROM leads")).await,
            "42501"
        );
        client.batch_execute("RESET ROLE").await.unwrap();
    }
    // service_role bypasses row level security, as on Supabase.
    client
        .batch_execute(
            "SET ROLE service_role;
             INSERT INTO leads (leadgen_id) VALUES ('2');
             UPDATE leads SET notes = 'seen';",
        )
        .await
        .unwrap();
    let seen: i64 = client
        .query_one("SELECT count(*) FROM leads WHERE notes = 'seen'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(seen, 2);
}

/// `updated_at` of the row a statement returns, in microseconds.
async fn stamp(client: &Client, sql: &str) -> i64 {
    let sql = format!(
        "WITH changed AS ({sql} RETURNING updated_at) \
         SELECT (extract(epoch FROM updated_at) * 1000000)::bigint FROM changed"
    );
    client.query_one(sql.as_str(), &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn updated_at_moves_only_on_real_changes_and_never_backwards() {
    let database = migrated().await;
    let client = database.connect().await;
    let inserted = stamp(
        &client,
        r#"INSERT INTO leads (leadgen_id, name, fields) VALUES ('1', 'A', '{"a": "b"}')"#,
    )
    .await;
    let same = stamp(
        &client,
        r#"INSERT INTO leads (leadgen_id, name, fields) VALUES ('1', 'A', '{"a":"b"}')
           ON CONFLICT (leadgen_id) DO UPDATE SET name = EXCLUDED.name, fields = EXCLUDED.fields"#,
    )
    .await;
    assert_eq!(same, inserted, "writing the same values is not a change");
    let forged = stamp(&client, "UPDATE leads SET updated_at = '2000-01-01'").await;
    assert_eq!(forged, inserted, "clients cannot set updated_at");
    let changed = stamp(&client, "UPDATE leads SET status = 'Won'").await;
    assert!(changed > inserted);

    // Even when the newest stamp is ahead of the clock, the next one is later still.
    client
        .batch_execute(
            "ALTER TABLE leads DISABLE TRIGGER leads_stamp_updated_at;
             UPDATE leads SET updated_at = now() + interval '1 hour';
             ALTER TABLE leads ENABLE TRIGGER leads_stamp_updated_at;",
        )
        .await
        .unwrap();
    let ahead = stamp(&client, "UPDATE leads SET notes = notes").await;
    let next = stamp(&client, "INSERT INTO leads (leadgen_id) VALUES ('2')").await;
    assert!(next > ahead, "{next} > {ahead}");
}

/// name, status, notes, owner, no first contact, escalation level, `stored` rows by `system`.
type MigratedLead = (
    String,
    String,
    Option<String>,
    Option<String>,
    bool,
    i16,
    i64,
);

#[tokio::test]
async fn the_work_queue_migrates_existing_leads_in_place() {
    let database = TestDatabase::migrated(&MIGRATIONS[..1]).await;
    database
        .execute(
            "INSERT INTO leads (leadgen_id, name, status, notes)
             VALUES ('1', 'Old Waiting', 'New Lead', NULL), ('2', 'Old Called', 'Contacted', 'call back')",
        )
        .await
        .unwrap();
    apply_twice(&database, &MIGRATIONS[1..]).await;
    let client = database.connect().await;
    let rows = client
        .query(
            "SELECT l.name, l.status, l.notes, l.owner, l.first_contact_at IS NULL, l.escalated_level,
                    (SELECT count(*) FROM activity AS a WHERE a.lead_id = l.id AND a.kind = 'stored' AND a.actor = 'system')
               FROM leads AS l ORDER BY l.leadgen_id",
            &[],
        )
        .await
        .unwrap();
    let leads: Vec<MigratedLead> = rows
        .iter()
        .map(|row| {
            (
                row.get(0),
                row.get(1),
                row.get(2),
                row.get(3),
                row.get(4),
                row.get(5),
                row.get(6),
            )
        })
        .collect();
    assert_eq!(
        leads,
        [
            (
                "Old Waiting".into(),
                "New Lead".into(),
                None,
                None,
                true,
                2,
                1
            ),
            (
                "Old Called".into(),
                "Contacted".into(),
                Some("call back".into()),
                None,
                true,
                2,
                1
            ),
        ],
        "kept, unowned, not escalated all at once, with a history (once, though applied twice)"
    );
    client
        .batch_execute("INSERT INTO leads (leadgen_id) VALUES ('3')")
        .await
        .unwrap();
    let level: i16 = client
        .query_one(
            "SELECT escalated_level FROM leads WHERE leadgen_id = '3'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(level, 0, "new leads start unescalated");
}

#[tokio::test]
async fn only_service_role_reaches_the_work_queue() {
    let database = migrated().await;
    let client = database.connect().await;
    for table in ["activity", "reps"] {
        assert!(
            flag(
                &client,
                &format!(
                    "SELECT relrowsecurity AND has_table_privilege('service_role', 'public.{table}', 'SELECT, INSERT, UPDATE, DELETE')
                       FROM pg_class WHERE oid = 'public.{table}'::regclass"
                )
            )
            .await,
            "{table}"
        );
    }
    let functions = [
        "public.assign_next_rep(bigint, text[])",
        "public.lead_queue_figures(timestamptz)",
        "public.leads_record_activity()",
        "public.leads_track_queue()",
        "public.record_exports(bigint[], text)",
    ];
    for function in functions {
        assert!(
            flag(
                &client,
                &format!(
                    "SELECT has_function_privilege('service_role', '{function}', 'EXECUTE')
                        AND NOT prosecdef FROM pg_proc WHERE oid = '{function}'::regprocedure"
                )
            )
            .await,
            "{function}"
        );
    }
    for role in ["anon", "authenticated"] {
        for table in ["activity", "reps"] {
            assert_eq!(
                sqlstate(&client, &format!("SET ROLE {role}; SELECT * FROM {table}")).await,
                "42501",
                "{role} on {table}"
            );
            client.batch_execute("RESET ROLE").await.unwrap();
        }
        for function in functions {
            let allowed: bool = client
                .query_one(
                    "SELECT has_function_privilege($1, $2::text::regprocedure, 'EXECUTE')",
                    &[&role, &function],
                )
                .await
                .unwrap()
                .get(0);
            assert!(!allowed, "{role} may not execute {function}");
        }
    }
}

/// A lead stored while another server switches the Conversions API on: either the storing
/// transaction sees the switch on and queues its `New Lead` stage, or the switch's backfill sees
/// the stored lead. Neither may miss the other (both used to read before the other committed).
#[tokio::test]
async fn a_lead_stored_while_the_conversions_api_switches_on_is_queued() {
    let database = migrated().await;
    let storing = database.connect().await;
    let switching = database.connect().await;
    storing
        .batch_execute(
            "BEGIN;
             INSERT INTO public.leads (leadgen_id, name, changed_by) VALUES ('90001', 'Racing Lead', 'facebook');",
        )
        .await
        .expect("store a lead in an open transaction");
    let switch_on = tokio::spawn(async move {
        switching
            .query_one(
                "SELECT public.capi_set_switch(true, now() - interval '7 days')",
                &[],
            )
            .await
            .expect("switch the Conversions API on")
            .get::<_, i64>(0)
    });
    // The lead commits once the switch has run, or waits for a lock the storing transaction holds.
    let observer = database.connect().await;
    let under_way = poll_until(
        std::time::Duration::from_secs(10),
        || async {
            switch_on.is_finished()
                || observer
                    .query_one(
                        "SELECT count(*) FROM pg_stat_activity
                          WHERE wait_event_type = 'Lock' AND query LIKE '%capi_set_switch%'",
                        &[],
                    )
                    .await
                    .expect("read pg_stat_activity")
                    .get::<_, i64>(0)
                    > 0
        },
        |&under_way| under_way,
    )
    .await;
    assert!(under_way, "the switch neither ran nor waited for the lead");
    storing.batch_execute("COMMIT").await.expect("commit");
    switch_on.await.expect("the switch finishes");
    let queued: i64 = storing
        .query_one(
            "SELECT count(*) FROM public.capi_events WHERE leadgen_id = '90001' AND stage = 'New Lead'",
            &[],
        )
        .await
        .expect("count queued stages")
        .get(0);
    assert_eq!(queued, 1, "the lead's New Lead stage is queued once");
}

/// 20261207140000_reminders.sql: taking a reminder mark is no change (no new cursor position, no
/// history), moving the step clears it, and the figures function of older servers still answers.
#[tokio::test]
async fn a_reminder_mark_is_no_change_and_a_moved_step_is_reminded_again() {
    let database = migrated().await;
    let client = database.connect().await;
    let stored = stamp(
        &client,
        "INSERT INTO leads (leadgen_id, name) VALUES ('1', 'A')",
    )
    .await;
    let planned = stamp(
        &client,
        "UPDATE leads SET next_step_at = now() + interval '1 hour', next_step_what = 'Call back',
                         changed_by = 'alice'",
    )
    .await;
    assert!(planned > stored);
    let history = "SELECT count(*) FROM activity";
    let rows: i64 = client.query_one(history, &[]).await.unwrap().get(0);
    let marked = stamp(&client, "UPDATE leads SET reminded_at = now()").await;
    assert_eq!(marked, planned, "a mark does not move the change cursor");
    let after: i64 = client.query_one(history, &[]).await.unwrap().get(0);
    assert_eq!(
        after,
        rows + 1,
        "its one history row queues lead.follow_up_due"
    );
    let row = client
        .query_one(
            "SELECT actor, kind, new = next_step_text(l.next_step_at, 'Call back')
               FROM activity AS a JOIN leads AS l ON l.id = a.lead_id ORDER BY a.id DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1), row.get(2)),
        ("system".to_string(), "reminded".to_string(), true)
    );

    client
        .batch_execute("UPDATE leads SET next_step_at = next_step_at + interval '1 day'")
        .await
        .unwrap();
    assert!(
        flag(&client, "SELECT reminded_at IS NULL FROM leads").await,
        "a moved step is a new follow-up"
    );

    let figures = |sql: &'static str| {
        let client = &client;
        async move {
            let text: String = client.query_one(sql, &[]).await.unwrap().get(0);
            serde_json::from_str::<serde_json::Value>(&text).unwrap()
        }
    };
    let old = figures("SELECT lead_queue_figures(now() - interval '7 days')::text").await;
    assert!(old.get("by_owner").is_some(), "{old}");
    let new = figures(
        "SELECT lead_queue_figures(now() - interval '7 days', now() + interval '2 days')::text",
    )
    .await;
    assert_eq!(new["follow_ups"]["overdue"], 1, "{new}");
}
