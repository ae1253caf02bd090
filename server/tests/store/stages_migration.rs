//! `20261207173000_insights_stages.sql` on a real PostgreSQL: leads stored before it get the
//! stages their history shows, and every later status change (an older server's too) adds its
//! own, without the history seeing a change of the lead.

use leadhook_local_supabase::TestDatabase;

use super::migration_steps::{apply_twice, split_at};

const STAGES_MIGRATION: &str = "20261207173000_insights_stages.sql";

#[tokio::test]
async fn the_stages_migration_fills_the_stages_from_the_history_and_the_trigger_keeps_them() {
    let (before, from_it) = split_at(STAGES_MIGRATION);
    let database = TestDatabase::migrated(before).await;
    database
        .execute(
            "INSERT INTO leads (leadgen_id, status) VALUES ('1', 'Lost'), ('2', 'Contacted');
             INSERT INTO activity (lead_id, actor, kind, old, new)
             SELECT id, 'alice', 'status', 'New Lead', 'Qualified' FROM leads WHERE leadgen_id = '1'
             UNION ALL SELECT id, 'alice', 'status', 'Qualified', 'Lost' FROM leads WHERE leadgen_id = '1'
             UNION ALL SELECT id, 'bob', 'status', 'New Lead', 'Contacted' FROM leads WHERE leadgen_id = '2';",
        )
        .await
        .unwrap();
    apply_twice(&database, from_it).await;
    database
        .execute("UPDATE leads SET status = 'Won', changed_by = 'bob' WHERE leadgen_id = '2'")
        .await
        .unwrap();
    let client = database.connect().await;
    let rows = client
        .query(
            "SELECT leadgen_id, stages FROM leads ORDER BY leadgen_id",
            &[],
        )
        .await
        .unwrap();
    let stages: Vec<(String, i16)> = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    assert_eq!(
        stages,
        [("1".into(), 1 | 4), ("2".into(), 2)],
        "lead 1 was qualified, then lost; lead 2 won after the migration"
    );
    let kinds = client
        .query(
            "SELECT a.kind, a.new FROM activity AS a JOIN leads AS l ON l.id = a.lead_id
              WHERE l.leadgen_id = '2' ORDER BY a.id",
            &[],
        )
        .await
        .unwrap();
    let kinds: Vec<(String, Option<String>)> =
        kinds.iter().map(|row| (row.get(0), row.get(1))).collect();
    assert_eq!(
        kinds.last(),
        Some(&("status".into(), Some("Won".into()))),
        "marking the stage is no change of the lead in its history: {kinds:?}"
    );
    let redelivered: Vec<(String, Option<String>)> = client
        .query(
            "SELECT l.leadgen_id, a.new FROM activity AS a JOIN leads AS l ON l.id = a.lead_id
              WHERE a.kind = 'redelivered'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        redelivered,
        [],
        "the migration and the stages changed no lead's data"
    );
}
