//! The lead store conformance suite: every backend runs the same checks.
//! Add a backend with one `conformance!` line and a function that builds a fresh, empty store.

mod replica_suite;
mod suite;

use std::any::Any;
use std::sync::Arc;

use leadhook_local_supabase::LocalSupabase;
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
                a_lease_has_one_holder_until_it_expires_or_is_freed,
                one_of_many_concurrent_takers_wins,
                sweep_positions_are_kept_per_form,
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

/// A local Supabase (the real PostgREST on a fresh database with the migrations applied, behind a
/// Supabase-like gateway) and the store talking to it with a secret key.
async fn postgrest_store() -> Fixture {
    let supabase =
        LocalSupabase::with_migrations(leadhook_server::store::postgrest::MIGRATIONS).await;
    let store = leadhook_server::store::postgrest::PostgrestStore::new(
        &supabase.base_url,
        secrecy::SecretString::from(supabase.secret_key()),
    )
    .expect("build postgrest store");
    Fixture {
        store: Arc::new(store),
        _guard: Box::new(supabase),
    }
}

conformance!(sqlite, crate::sqlite_store);
conformance!(postgrest, crate::postgrest_store);
