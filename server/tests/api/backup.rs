use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use leadhook_server::backup::{self, BackupProgress};
use rusqlite::{Connection, OpenFlags};

use crate::helpers::*;

const BURST: usize = 1000;

/// A backup taken while 1,000 webhooks arrive is a sound database pair that holds every lead
/// acknowledged before it began: stored in the lead store, or still waiting in the inbox (which
/// the server completes after a restore).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_webhook_traffic_is_sound_and_loses_no_acknowledged_lead() {
    let graph = spawn_graph().await;
    let ids: Vec<String> = (0..BURST).map(|i| format!("77{i:05}")).collect();
    for id in &ids {
        graph.add_lead(
            PAGE_ID,
            FORM_ID,
            graph_lead(id, &[("full_name", &[&format!("Backup {id}")])]),
        );
    }
    let app = Arc::new(spawn_app_with(graph, tempfile::tempdir().unwrap(), |_| {}).await);

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut burst = tokio::task::JoinSet::new();
    // 16 senders at a time, so the burst is still arriving while the backup runs.
    let senders = Arc::new(tokio::sync::Semaphore::new(16));
    for id in ids {
        let (app, acknowledged, sent, senders) = (
            app.clone(),
            acknowledged.clone(),
            sent.clone(),
            senders.clone(),
        );
        burst.spawn(async move {
            let _turn = senders.acquire_owned().await.expect("semaphore open");
            let response = app.post_signed(&notification(&[&id])).await;
            if response.status() == 200 {
                acknowledged.lock().unwrap().push(id);
            }
            sent.fetch_add(1, Ordering::SeqCst);
        });
    }
    while sent.load(Ordering::SeqCst) < 200 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    let before_backup: Vec<String> = acknowledged.lock().unwrap().clone();
    let backups = tempfile::tempdir().unwrap();
    let target = backups.path().join("backup");
    let (data_dir, copy_dir) = (app.data_dir().to_path_buf(), target.clone());
    let copied = tokio::task::spawn_blocking(move || {
        let mut steps = Vec::new();
        let copied = backup::back_up(&data_dir, &copy_dir, |step| {
            if let BackupProgress::Copied(copy) = step {
                steps.push(copy.path.clone());
            }
        });
        (copied, steps)
    })
    .await
    .expect("backup thread");
    let sent_when_done = sent.load(Ordering::SeqCst);
    let (copied, steps) = copied;
    let copied = copied.expect("backup succeeds under traffic");
    while burst.join_next().await.is_some() {}

    assert!(
        sent_when_done < BURST,
        "webhooks were still arriving when the backup ended ({sent_when_done} of {BURST} sent)"
    );
    assert_eq!(copied.len(), 2);
    for file in ["inbox.db", "leads.db"] {
        let path = target.join(file);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{file} is private");
        assert_eq!(integrity(&path), "ok", "{file} passes integrity_check");
    }
    let stored = column_set(
        &target.join("leads.db"),
        "SELECT leadgen_id FROM leads WHERE leadgen_id IS NOT NULL",
    );
    let waiting = column_set(
        &target.join("inbox.db"),
        "SELECT leadgen_id FROM events WHERE state <> 'done'",
    );
    let missing: Vec<&String> = before_backup
        .iter()
        .filter(|id| !stored.contains(*id) && !waiting.contains(*id))
        .collect();
    assert!(
        before_backup.len() >= 200,
        "{} acknowledged before the backup",
        before_backup.len()
    );
    assert!(
        missing.is_empty(),
        "acknowledged before the backup but not in it: {missing:?}"
    );
    assert_eq!(
        steps,
        vec![target.join("inbox.db"), target.join("leads.db")],
        "progress reported each copy, the inbox first"
    );
}

fn open_copy(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("the copy opens")
}

fn integrity(path: &Path) -> String {
    open_copy(path)
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check runs")
}

fn column_set(path: &Path, sql: &str) -> BTreeSet<String> {
    let conn = open_copy(path);
    let mut statement = conn.prepare(sql).expect("query prepares");
    statement
        .query_map([], |row| row.get(0))
        .expect("query runs")
        .collect::<Result<_, _>>()
        .expect("rows read")
}
