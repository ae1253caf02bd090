//! The lead store conformance suite: every backend runs the same checks.
//! Add a backend with one `conformance!` line and a function that builds a fresh, empty store.

mod suite;

use std::any::Any;
use std::sync::Arc;

use leadhook_server::store::LeadStore;

/// A fresh, empty store plus whatever must stay alive while it is used (temp dirs, servers).
pub struct Fixture {
    pub store: Arc<dyn LeadStore>,
    pub _guard: Box<dyn Any + Send>,
}

macro_rules! conformance {
    ($backend:ident, $make:path) => {
        mod $backend {
            conformance!(@tests $make;
                upsert_inserts_once_then_refreshes,
                redelivery_keeps_what_reps_changed,
                unchanged_redelivery_keeps_updated_at,
                fields_round_trip,
                manual_leads,
                update_of_unknown_lead_is_none,
                partial_updates,
                list_is_newest_first_with_paging,
                list_filters_by_status_and_search,
                since_cursor_returns_only_changes,
                since_cursor_pages_without_gaps,
                stats_count_by_window_status_and_form,
                ping_succeeds,
            );
        }
    };
    (@tests $make:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                let fixture = $make().await;
                crate::suite::$test(&*fixture.store).await;
            }
        )*
    };
}

async fn sqlite_store() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = leadhook_server::store::sqlite::SqliteStore::open(&dir.path().join("leads.db"))
        .await
        .expect("open sqlite store");
    Fixture {
        store: Arc::new(store),
        _guard: Box::new(dir),
    }
}

/// A fresh database with the migrations applied, a PostgREST stand-in on it, and the store talking
/// to the stand-in with a secret key.
async fn postgrest_store() -> Fixture {
    const KEY: &str = "sb_secret_conformance";
    let database =
        postgrest_standin::TestDatabase::migrated(leadhook_server::store::postgrest::MIGRATIONS)
            .await;
    let standin = postgrest_standin::spawn(&database.url, KEY).await;
    let store = leadhook_server::store::postgrest::PostgrestStore::new(
        &standin.base_url,
        secrecy::SecretString::from(KEY),
    )
    .expect("build postgrest store");
    Fixture {
        store: Arc::new(store),
        // The stand-in stops before its database is dropped.
        _guard: Box::new((standin, database)),
    }
}

conformance!(sqlite, crate::sqlite_store);
conformance!(postgrest, crate::postgrest_store);
