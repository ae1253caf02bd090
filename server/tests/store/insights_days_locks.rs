//! `20261208010000_insights_days.sql` under concurrent writes on a real PostgreSQL: a rep
//! claiming a lead (the unowned roll-up row to the rep's) while the rep releases another of the
//! same day and source (the rep's row to the unowned one) must both commit, not deadlock.
//!
//! The server's own lead writes never meet there: each takes the `updated_at` stamp's advisory
//! lock before the roll-ups and holds it to its commit. The writes that skip the stamp do meet
//! them: the store copy's (`X-Leadhook-Copy: history`), beside the server or another copy.
//!
//! Each round makes the collision certain rather than lucky: a third transaction (a copy, so it
//! holds no stamp lock) first moves a lead each way between the same two rows, so it holds both;
//! the two movers queue behind it, and it commits only once both are seen waiting, so both wake
//! at the same moment.

use std::time::{Duration, Instant};

use leadhook_local_supabase::TestDatabase;
use leadhook_server::store::postgrest::MIGRATIONS;
use tokio_postgres::{Client, Error};

use super::insights_days::rollup_differences;

const ROUNDS: usize = 40;
/// Leads each mover moves in its one statement: the more, the longer each holds the first roll-up
/// row before it takes the second.
const BATCH: i64 = 300;
/// How long a round waits for both movers to queue behind the holder before giving up.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(3);

/// Starts a transaction with PostgREST's request headers: the store copy's when `copying`.
fn begin(copying: bool) -> &'static str {
    if copying {
        "BEGIN; SELECT set_config('request.headers', '{\"x-leadhook-copy\": \"history\"}', true);"
    } else {
        "BEGIN; SELECT set_config('request.headers', '{}', true);"
    }
}

/// Moves the leads named `batch`* to the other roll-up row (unowned to alice's, alice's to
/// unowned) in one statement, in a transaction (the copy's when `copying`) that lingers a little
/// before committing; on failure says which SQLSTATE and why.
async fn move_leads(client: &Client, batch: &str, copying: bool) -> Result<(), String> {
    let sql = format!(
        "{}
         UPDATE leads SET owner = CASE WHEN owner IS NULL THEN 'alice' END, changed_by = 'alice'
          WHERE leadgen_id LIKE '{batch}%';
         SELECT pg_sleep(0.01);
         COMMIT;",
        begin(copying)
    );
    client.batch_execute(&sql).await.map_err(|error: Error| {
        let code = error.code().map_or("none", |code| code.code()).to_string();
        let message = error
            .as_db_error()
            .map_or(error.to_string(), |db| db.message().to_string());
        format!("{batch} (copying: {copying}): {code} {message}")
    })?;
    Ok(())
}

async fn backend_pid(client: &Client) -> i32 {
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
}

/// Waits until both `pids` wait for a lock: false if they have not after [`QUEUE_TIMEOUT`] (one
/// failed before it got there, say).
async fn both_wait(observer: &Client, pids: [i32; 2]) -> bool {
    let since = Instant::now();
    while since.elapsed() < QUEUE_TIMEOUT {
        let waiting: i64 = observer
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                  WHERE pid = ANY($1) AND wait_event_type = 'Lock'",
                &[&pids.to_vec()],
            )
            .await
            .unwrap()
            .get(0);
        if waiting == 2 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

#[tokio::test]
async fn opposite_moves_between_two_rollup_rows_both_commit() {
    let database = TestDatabase::migrated(MIGRATIONS).await;
    // Leads of one UTC day and source: `claimed` start unowned and `released` alice's, and every
    // round moves each batch to the other row, so the two always move in opposite directions.
    // The holder swaps `held1` (unowned) and `held2` (alice's).
    database
        .execute(&format!(
            "INSERT INTO leads (leadgen_id, created_at, campaign_id, form_id, owner)
             SELECT b.name || g, timestamptz '2026-12-01 10:00:00Z' + g * interval '1 second',
                    'c1', 'f1', b.owner
               FROM (VALUES ('claimed', NULL), ('released', 'alice')) AS b(name, owner)
              CROSS JOIN generate_series(1, {BATCH}) AS g
             UNION ALL
             VALUES ('held1', timestamptz '2026-12-01 11:00:00Z', 'c1', 'f1', NULL),
                    ('held2', timestamptz '2026-12-01 11:00:00Z', 'c1', 'f1', 'alice')"
        ))
        .await
        .unwrap();
    let observer = database.connect().await;
    let (holder, claimer, releaser) = (
        database.connect().await,
        database.connect().await,
        database.connect().await,
    );
    let pids = [backend_pid(&claimer).await, backend_pid(&releaser).await];

    // Which of the claim and the release the store copy writes: one, the other, or both.
    let writers = [(false, true), (true, false), (true, true)];
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        let (claim_copying, release_copying) = writers[round % writers.len()];
        holder
            .batch_execute(&format!(
                "{}
                 UPDATE leads SET owner = CASE WHEN owner IS NULL THEN 'alice' END, changed_by = 'bob'
                  WHERE leadgen_id IN ('held1', 'held2');",
                begin(true)
            ))
            .await
            .unwrap();
        let release_holder = async {
            let queued = both_wait(&observer, pids).await;
            holder.batch_execute("COMMIT").await.unwrap();
            queued
        };
        let (claim, release, queued) = tokio::join!(
            move_leads(&claimer, "claimed", claim_copying),
            move_leads(&releaser, "released", release_copying),
            release_holder
        );
        if !queued {
            failures.push(format!(
                "round {round}: the movers did not both queue behind the holder"
            ));
        }
        for (client, batch, copying, result) in [
            (&claimer, "claimed", claim_copying, claim),
            (&releaser, "released", release_copying, release),
        ] {
            if let Err(failure) = result {
                failures.push(format!("round {round}: {failure}"));
                // Made again alone, so that the next round still moves the two opposite ways.
                client.batch_execute("ROLLBACK").await.unwrap();
                move_leads(client, batch, copying).await.unwrap();
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures in {} rounds:\n{}",
        failures.len(),
        ROUNDS,
        failures.join("\n")
    );
    assert_eq!(
        rollup_differences(&observer).await,
        (0, 2 * BATCH + 2),
        "the roll-ups differ from the leads"
    );
}
