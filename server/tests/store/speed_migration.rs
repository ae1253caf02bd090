//! `20261207211000_insights_speed_on_lead.sql` on a real PostgreSQL: leads stored before it get
//! their speed to lead (`speed_secs`) in place, an older server's writes, which never name it,
//! keep it, and neither the migration nor the column is a change of the lead in its history.

use leadhook_local_supabase::TestDatabase;

use super::migration_steps::{apply_twice, split_at};

const SPEED_MIGRATION: &str = "20261207211000_insights_speed_on_lead.sql";

#[tokio::test]
async fn the_speed_migration_fills_the_speed_in_place_and_every_writer_keeps_it() {
    let (before, from_it) = split_at(SPEED_MIGRATION);
    let database = TestDatabase::migrated(before).await;
    // Copied leads (the triggers stand aside) keep the times they were given: one contacted after
    // 90.9 s, one whose first contact reads a minute before the form (a clock off), one not yet.
    database
        .execute(
            r#"SELECT pg_catalog.set_config('request.headers', '{"x-leadhook-copy": "history"}', false);
             INSERT INTO leads (leadgen_id, status, created_at, first_contact_at) VALUES
               ('1', 'Contacted', '2026-03-01 10:00:00+00', '2026-03-01 10:01:30.9+00'),
               ('2', 'Contacted', '2026-03-01 10:00:00+00', '2026-03-01 09:59:00+00'),
               ('3', 'New Lead', now() - interval '1 hour', null);
             SELECT pg_catalog.set_config('request.headers', '{}', false);"#,
        )
        .await
        .unwrap();
    let client = database.connect().await;
    let stamps = "SELECT leadgen_id, updated_at::text FROM leads ORDER BY leadgen_id";
    let stamped_before: Vec<(String, String)> = client
        .query(stamps, &[])
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    apply_twice(&database, from_it).await;
    let speeds = "SELECT leadgen_id, speed_secs FROM leads ORDER BY leadgen_id";
    let filled: Vec<(String, Option<i64>)> = client
        .query(speeds, &[])
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        filled,
        [
            ("1".into(), Some(90)),
            ("2".into(), Some(0)),
            ("3".into(), None)
        ],
        "whole seconds, never negative, none before the first contact"
    );
    let stamped_after: Vec<(String, String)> = client
        .query(stamps, &[])
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        stamped_after, stamped_before,
        "filling the speed is no change of a lead"
    );

    // An older server's writes, which never name the column: its first contact sets the speed.
    database
        .execute(
            "UPDATE leads SET status = 'Contacted', changed_by = 'bob' WHERE leadgen_id = '3';
             INSERT INTO leads (leadgen_id, status) VALUES ('4', 'New Lead');",
        )
        .await
        .unwrap();
    let row = client
        .query_one(
            "SELECT speed_secs,
                    floor(extract(epoch from first_contact_at - created_at))::bigint
               FROM leads WHERE leadgen_id = '3'",
            &[],
        )
        .await
        .unwrap();
    let (speed, expected): (Option<i64>, i64) = (row.get(0), row.get(1));
    assert!(
        expected >= 3600,
        "contacted an hour after the form: {expected}"
    );
    assert_eq!(speed, Some(expected), "the first contact's speed");
    let fresh: Option<i64> = client
        .query_one("SELECT speed_secs FROM leads WHERE leadgen_id = '4'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(fresh, None, "a new lead has no speed yet");

    let kinds: Vec<(String, Option<String>)> = client
        .query(
            "SELECT a.kind, a.new FROM activity AS a JOIN leads AS l ON l.id = a.lead_id
              WHERE l.leadgen_id = '3' ORDER BY a.id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        kinds,
        [("status".into(), Some("Contacted".into()))],
        "the speed is no change of the lead in its history"
    );
}
