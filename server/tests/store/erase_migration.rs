//! `20261207100000_erase_reason.sql` on a real PostgreSQL: the erase row keeps a reason, and the
//! call of older servers still works.

use crate::postgrest_migrations::migrated;

/// leadgen_id, name, erased, the erase row's actor and reason.
type ErasedRow = (String, Option<String>, bool, String, Option<String>);

/// A server of an older version, beside newer ones, still erases with `erase_lead(id, actor)`
/// (no reason); the newer one records its reason on the erase row.
#[tokio::test]
async fn erase_lead_takes_a_reason_and_the_older_call_still_works() {
    let database = migrated().await;
    let client = database.connect().await;
    client
        .batch_execute(
            "INSERT INTO leads (leadgen_id, name, notes) VALUES ('1', 'Old Call', 'secret'), ('2', 'New Call', 'secret');
             SELECT * FROM public.erase_lead((SELECT id FROM leads WHERE leadgen_id = '1'), 'alice');
             SELECT * FROM public.erase_lead((SELECT id FROM leads WHERE leadgen_id = '2'), 'bob', 'DSR-9');",
        )
        .await
        .unwrap();
    let rows = client
        .query(
            "SELECT l.leadgen_id, l.name, l.erased_at IS NOT NULL, a.actor, a.new
               FROM leads l JOIN activity a ON a.lead_id = l.id AND a.kind = 'erase'
              ORDER BY l.leadgen_id",
            &[],
        )
        .await
        .unwrap();
    let seen: Vec<ErasedRow> = rows
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)))
        .collect();
    assert_eq!(
        seen,
        [
            ("1".into(), None, true, "alice".into(), None),
            ("2".into(), None, true, "bob".into(), Some("DSR-9".into())),
        ]
    );
}
