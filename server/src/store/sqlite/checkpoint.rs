//! The lead store's WAL checkpoints, off the writers' path.
//!
//! By default SQLite checkpoints inside the commit that takes the WAL past 1,000 pages: that
//! commit copies the pages into the database file and syncs both files before it returns, so the
//! intake batch (and every rep's edit behind the store's lock) waits, and the burst of writes and
//! syncs lands on the disk the inbox syncs each acknowledged webhook to (BENCHMARKS.md, "ack
//! p99"). Here the writing connection never checkpoints (`wal_autocheckpoint=0`); a thread of the
//! store's own, with a connection of its own, runs a PASSIVE checkpoint every
//! [`CheckpointPolicy::every`]: it copies only the frames written since the last one, never waits
//! for a lock and never holds up a writer or a reader. The disk still receives the same pages, but
//! in small pieces ten times a second rather than in a burst per 1,000 pages inside a commit.
//!
//! A passive checkpoint cannot end the WAL: SQLite starts the file over only when a write begins
//! with every frame copied, and under sustained writes a new frame may always be there first. So
//! when the WAL holds [`CheckpointPolicy::truncate_pages`] frames or more, the checkpointer runs a
//! TRUNCATE checkpoint instead: it waits (up to `BUSY_WAIT`) for the transaction in progress,
//! copies the few frames not yet copied, holds the next writer back while it does, and empties
//! the file. The WAL on disk therefore stays under about `truncate_pages` pages plus what is
//! written in one period; under sustained load a writer waits for such a checkpoint (a few frames
//! and one sync) at most once per `truncate_pages` pages written. If a long read keeps the
//! TRUNCATE from finishing within `BUSY_WAIT`, it is tried again next period and the WAL grows
//! meanwhile by what is written until the read ends.
//!
//! Crash safety is SQLite's own: a checkpoint syncs the WAL before copying and the database before
//! the WAL is reused, whichever connection runs it. The inbox and its sync per acknowledged webhook
//! are untouched.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use super::StoreError;

/// How long a TRUNCATE checkpoint waits for the writer and the readers before it gives up until
/// the next period. While it waits for a reader (a long insights read) it holds new writes back,
/// so this is also the longest a write can wait for it.
const BUSY_WAIT: Duration = Duration::from_millis(250);

/// When the lead store checkpoints its WAL.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointPolicy {
    /// A passive checkpoint this often.
    pub every: Duration,
    /// A WAL of this many frames (pages of 4 KiB) or more is emptied with a TRUNCATE checkpoint.
    pub truncate_pages: i64,
}

impl CheckpointPolicy {
    /// Ten times a second, so each checkpoint (and each sync of the lead store that the inbox's
    /// syncs queue behind on one disk) is small: at 1,000 leads a second about 100 leads' pages.
    /// The WAL is emptied at 4,096 pages (16 MiB).
    pub const DEFAULT: CheckpointPolicy = CheckpointPolicy {
        every: Duration::from_millis(100),
        truncate_pages: 4_096,
    };
}

/// What the checkpointer has done, for tests and the curious.
#[derive(Debug, Default)]
pub struct CheckpointCounts {
    /// Checkpoints that copied every frame in the WAL when they ran.
    pub complete: AtomicU64,
    /// TRUNCATE checkpoints run because the WAL had reached the policy's size.
    pub truncations: AtomicU64,
    /// Checkpoints that failed (logged).
    pub failures: AtomicU64,
    /// Frames in the WAL at the last checkpoint.
    pub wal_frames: AtomicI64,
}

/// The checkpointer thread; dropping it stops the thread and waits for it.
pub struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    counts: Arc<CheckpointCounts>,
}

impl Checkpointer {
    /// Opens a connection of its own to the store at `path` (whose writers have automatic
    /// checkpoints off) and starts checkpointing by `policy`.
    pub fn start(path: &Path, policy: CheckpointPolicy) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(BUSY_WAIT).map_err(super::internal)?;
        // The checkpointer never checkpoints on its own account either (it writes nothing anyway).
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(super::internal)?;
        let counts = Arc::new(CheckpointCounts::default());
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("leads-checkpoint".into())
            .spawn({
                let counts = Arc::clone(&counts);
                move || run(&conn, policy, &counts, &stopped)
            })
            .map_err(|e| StoreError::Internal(format!("cannot start the checkpointer: {e}")))?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
            counts,
        })
    }

    pub fn counts(&self) -> &CheckpointCounts {
        &self.counts
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Dropping the sender wakes the thread, which ends after the checkpoint it may be in.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(
    conn: &Connection,
    policy: CheckpointPolicy,
    counts: &CheckpointCounts,
    stopped: &mpsc::Receiver<()>,
) {
    let mut failing = false;
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(policy.every) {
        match checkpoint_once(conn, policy, counts) {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("lead store checkpoints work again");
            }
            Ok(()) => {}
            Err(error) => {
                counts.failures.fetch_add(1, Ordering::Relaxed);
                if !failing {
                    failing = true;
                    tracing::warn!(%error, "lead store checkpoint failed; retrying every period");
                }
            }
        }
    }
}

/// `(busy, frames in the WAL, frames copied)` of `PRAGMA wal_checkpoint(<mode>)`.
fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<(bool, i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        Ok((row.get::<_, i64>(0)? != 0, row.get(1)?, row.get(2)?))
    })
}

fn checkpoint_once(
    conn: &Connection,
    policy: CheckpointPolicy,
    counts: &CheckpointCounts,
) -> rusqlite::Result<()> {
    let (_, mut frames, mut copied) = checkpoint(conn, "PASSIVE")?;
    if frames >= policy.truncate_pages {
        let (busy, after, done) = checkpoint(conn, "TRUNCATE")?;
        if !busy {
            counts.truncations.fetch_add(1, Ordering::Relaxed);
        }
        (frames, copied) = (after, done);
    }
    counts.wal_frames.store(frames, Ordering::Relaxed);
    if frames == copied {
        counts.complete.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use chrono::Utc;
    use leadhook_shared::team::actor::FACEBOOK;
    use rusqlite::Connection;

    use super::CheckpointPolicy;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{LeadReader, LeadWrites, Routing};
    use crate::writer::test_lead;

    /// Stores `count` leads `<prefix>-<n>` in pieces of 500, as the intake does.
    async fn write_leads(store: &SqliteStore, prefix: &str, count: usize) {
        let now = Utc::now();
        let leads: Vec<_> = (0..count)
            .map(|n| test_lead(&format!("{prefix}-{n}"), now))
            .collect();
        for piece in leads.chunks(500) {
            store
                .upsert_many(piece, FACEBOOK, Routing::UNOWNED)
                .await
                .unwrap();
        }
    }

    fn wal_bytes(db: &Path) -> u64 {
        std::fs::metadata(db.with_extension("db-wal")).map_or(0, |m| m.len())
    }

    /// Leads in the database file alone, as a copy without its WAL would see it.
    fn leads_in_the_database_file(db: &Path) -> i64 {
        let copy = tempfile::tempdir().unwrap();
        let alone = copy.path().join("leads.db");
        std::fs::copy(db, &alone).unwrap();
        Connection::open(&alone)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM leads", [], |row| row.get(0))
            .unwrap_or(0)
    }

    /// With automatic checkpoints off, only the checkpointer moves what is written into the
    /// database file.
    #[tokio::test]
    async fn the_checkpointer_copies_what_is_written_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("leads.db");
        let policy = CheckpointPolicy {
            every: Duration::from_millis(20),
            truncate_pages: i64::MAX,
        };
        let store = SqliteStore::open_with(&db, Some(policy)).await.unwrap();
        write_leads(&store, "copied", 1_500).await;
        let copied = eventually(|| leads_in_the_database_file(&db) == 1_500).await;
        assert!(
            copied,
            "after 10 s the database file alone holds {} of 1,500 leads (checkpoints: {:?})",
            leads_in_the_database_file(&db),
            store.checkpoints().unwrap()
        );
        assert!(
            store
                .checkpoints()
                .unwrap()
                .complete
                .load(Ordering::Relaxed)
                > 0
        );
        assert_eq!(
            store
                .checkpoints()
                .unwrap()
                .failures
                .load(Ordering::Relaxed),
            0
        );
    }

    /// Under writes back to back the WAL is emptied once it reaches the policy's size (a passive
    /// checkpoint never shrinks the file), and ends at most that size.
    /// How large it grows meanwhile depends on when the checkpointer's thread gets a core (on a
    /// loaded machine, a whole round of writes can pass between two of its looks), so that is
    /// shown, not held to a bound.
    #[tokio::test]
    async fn the_wal_is_emptied_once_past_its_size_under_sustained_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("leads.db");
        let policy = CheckpointPolicy {
            every: Duration::from_millis(10),
            truncate_pages: 256,
        };
        let store = SqliteStore::open_with(&db, Some(policy)).await.unwrap();
        let page_size: u32 = Connection::open(&db)
            .unwrap()
            .query_row("PRAGMA page_size", [], |row| row.get(0))
            .unwrap();
        let limit = 256 * u64::from(page_size);
        let mut largest = 0;
        for round in 0..30 {
            write_leads(&store, &format!("round{round}"), 500).await;
            largest = largest.max(wal_bytes(&db));
        }
        let counts = store.checkpoints().unwrap();
        let emptied = eventually(|| {
            counts.truncations.load(Ordering::Relaxed) > 0 && wal_bytes(&db) <= limit
        })
        .await;
        assert!(
            emptied,
            "after 10 s the WAL is {} bytes, over the policy's {limit} (largest {largest}; {counts:?})",
            wal_bytes(&db)
        );
        assert_eq!(store.list(&Default::default()).await.unwrap().count, 15_000);
    }

    /// Leads written across many checkpoints (which here keep up, so the WAL starts over without
    /// a TRUNCATE) are all there after the store is closed and opened again.
    #[tokio::test]
    async fn leads_written_across_checkpoints_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("leads.db");
        let policy = CheckpointPolicy {
            every: Duration::from_millis(5),
            truncate_pages: 128,
        };
        let store = SqliteStore::open_with(&db, Some(policy)).await.unwrap();
        for round in 0..10 {
            write_leads(&store, &format!("kept{round}"), 500).await;
        }
        let checkpoints = store
            .checkpoints()
            .unwrap()
            .complete
            .load(Ordering::Relaxed);
        assert!(checkpoints > 1, "{checkpoints} complete checkpoints");
        drop(store);
        let store = SqliteStore::open(&db).await.unwrap();
        let page = store.list(&Default::default()).await.unwrap();
        assert_eq!(page.count, 5_000);
        let lead = store.get(1).await.unwrap().expect("the first lead");
        assert_eq!(lead.leadgen_id.as_deref(), Some("kept0-0"));
        assert_eq!(lead.meta.name.as_deref(), Some("Person kept0-0"));
    }

    /// Asks `done` every 20 ms for up to 10 s.
    async fn eventually(done: impl Fn() -> bool) -> bool {
        for _ in 0..500 {
            if done() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        done()
    }
}
