//! What `store copy` refuses, and leaves alone: a target already in use, a Supabase without the
//! copy migration, a data dir a server runs on; and a row cap below the page size loses nothing.

use super::*;

#[tokio::test]
async fn a_target_already_in_use_is_refused_and_left_alone() {
    let (source_dir, target_dir) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let source = open_sqlite(source_dir.path()).await;
    source
        .upsert(&incoming(1), FACEBOOK)
        .await
        .expect("source lead");
    let target = open_sqlite(target_dir.path()).await;
    target
        .upsert(&incoming(2), FACEBOOK)
        .await
        .expect("target's own lead");
    let before = everything(&target).await;

    let error = copy(&source, &target, &ProgressBar::hidden())
        .await
        .expect_err("a store in use must be refused");
    let message = error.to_string();
    assert!(message.contains("already holds 1 leads"), "{message}");
    assert!(
        message.contains("fix: copy into a new, empty store"),
        "{message}"
    );
    assert_eq!(everything(&target).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supabase_without_the_copy_migration_is_refused_with_the_fix() {
    let before_copy = MIGRATIONS
        .iter()
        .position(|(name, _)| *name == "20261130130000_store_copy.sql")
        .expect("the copy's migration is listed");
    let (_supabase, postgrest) =
        supabase_from(LocalSupabase::builder().migrations(&MIGRATIONS[..before_copy])).await;
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = open_sqlite(dir.path()).await;
    sqlite.upsert(&incoming(1), FACEBOOK).await.expect("lead");

    let error = copy(&sqlite, &postgrest, &ProgressBar::hidden())
        .await
        .expect_err("the copy needs its migration");
    let message = error.to_string();
    assert!(
        message.contains("20261130130000_store_copy.sql"),
        "{message}"
    );
    assert!(message.contains("apply the migrations"), "{message}");
    // Read by key: this old schema cannot serve a whole lead to this server.
    assert!(postgrest.lead_keys().await.expect("keys").is_empty());
}

/// Supabase's row cap (`db-max-rows`) cuts every read short; the copy still reads everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_cap_below_the_page_size_loses_nothing() {
    let (_supabase, postgrest) =
        supabase_from(LocalSupabase::builder().migrations(MIGRATIONS).max_rows(70)).await;
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = open_sqlite(dir.path()).await;
    for n in 0..1_234 {
        let id = sqlite
            .upsert(&incoming(n), FACEBOOK)
            .await
            .expect("lead")
            .lead
            .id;
        let notes = LeadPatch {
            notes: Some(format!("note {n}")),
            ..LeadPatch::default()
        };
        sqlite.update(id, &notes, "alice").await.expect("notes");
    }
    copy(&sqlite, &postgrest, &ProgressBar::hidden())
        .await
        .expect("copy to supabase");
    let back_dir = tempfile::tempdir().expect("dir");
    let back = open_sqlite(back_dir.path()).await;
    copy(&postgrest, &back, &ProgressBar::hidden())
        .await
        .expect("copy back");
    assert_eq!(everything(&back).await, everything(&sqlite).await);
}

/// A server running on the data dir holds its lock: the copy stops before reading anything.
#[tokio::test]
async fn a_copy_refuses_a_data_dir_a_server_is_running_on() {
    let dir = tempfile::tempdir().expect("dir");
    open_sqlite(dir.path()).await;
    let _server = DataDirLock::acquire(dir.path()).expect("lock as a server does");
    for target in ["supabase", "sqlite"] {
        let output = Command::new(env!("CARGO_BIN_EXE_leadhook-server"))
            .args(["store", "copy", "--to", target])
            .env("LEADHOOK_DATA_DIR", dir.path())
            .env("SUPABASE_URL", "http://127.0.0.1:9/rest/v1")
            .env("SUPABASE_SECRET_KEY", "sb_secret_unused")
            .env_remove("SUPABASE_SERVICE_ROLE_KEY")
            .output()
            .expect("run the copy");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("another leadhook-server"),
            "{target}: {stderr}"
        );
    }
}
