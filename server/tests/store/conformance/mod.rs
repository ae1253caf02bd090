//! The lead store conformance suite: every backend runs the same checks.
//! Add a backend with one `conformance!` line and a function that builds a fresh, empty store.

mod bulk;
mod capi;
mod conversation;
mod erase;
mod escalation;
mod export;
mod follow_ups;
mod insights;
mod list;
mod outbox;
mod outbox_events;
mod paging;
mod people;
mod phones;
mod queue;
mod reminders;
mod replica_suite;
mod replies;
mod reps;
mod routing;
mod sql_kinds;
mod suite;

use std::any::Any;
use std::sync::Arc;

use futures::future::BoxFuture;

use leadhook_local_supabase::LocalSupabase;
use leadhook_server::store::LeadStore;
use leadhook_server::store::copy::CopyEnd;

/// A fresh, empty store plus whatever must stay alive while it is used (temp dirs, servers).
pub struct Fixture {
    pub store: Arc<dyn LeadStore>,
    pub _guard: Box<dyn Any + Send>,
    /// Opens the same store again, as a restarted server (or another replica) would.
    reopen: Box<dyn Fn() -> BoxFuture<'static, Arc<dyn LeadStore>> + Send + Sync>,
    /// Runs SQL on the database behind the store, as an older server or an operator would.
    sql: Box<dyn Fn(String) -> BoxFuture<'static, ()> + Send + Sync>,
    /// The same store as one end of a copy: leads written as they were, with their history.
    copy_end: Box<dyn Fn() -> BoxFuture<'static, Arc<dyn CopyEnd>> + Send + Sync>,
}

impl Fixture {
    pub async fn reopen(&self) -> Arc<dyn LeadStore> {
        (self.reopen)().await
    }

    /// Runs `sql` (written to mean the same on SQLite and PostgreSQL) on the store's database.
    pub async fn sql(&self, sql: &str) {
        (self.sql)(sql.to_string()).await
    }

    pub async fn copy_end(&self) -> Arc<dyn CopyEnd> {
        (self.copy_end)().await
    }
}

macro_rules! conformance {
    ($backend:ident, $make:path) => {
        mod $backend {
            conformance!(@in suite, $make;
                upsert_inserts_once_then_refreshes,
                redelivery_keeps_what_reps_changed,
                unchanged_redelivery_keeps_updated_at,
                fields_round_trip,
                manual_leads,
                update_of_unknown_lead_is_none,
                partial_updates,
                stats_count_by_window_status_and_form,
                ping_succeeds,
                a_lease_has_one_holder_until_it_expires_or_is_freed,
                one_of_many_concurrent_takers_wins,
                sweep_positions_are_kept_per_form,
            );
            conformance!(@in list, $make;
                list_is_newest_first_with_paging,
                list_filters_by_status_and_search,
                since_cursor_returns_only_changes,
                since_cursor_pages_without_gaps,
                visible_to_keeps_own_and_unowned_leads,
            );
            conformance!(@in bulk, $make;
                upsert_many_stores_like_one_by_one,
                upsert_many_of_nothing_is_empty,
                upsert_many_takes_more_than_one_batch,
            );
            conformance!(@in queue, $make;
                concurrent_claims_have_one_winner,
                release_leaves_the_lead_unowned,
                reassignment_changes_the_owner,
                every_change_is_recorded_with_its_actor,
                first_contact_is_set_once,
                queue_figures_count_waiting_contacts_and_owners,
            );
            conformance!(@in escalation, $make;
                escalation_marks_are_taken_once,
                an_escalation_check_finds_each_lead_at_its_highest_due_level,
            );
            conformance!(@in capi, $make;
                each_facebook_stage_is_queued_once,
                leases_retries_and_failures,
                switching_on_backfills_only_since_the_given_time,
            );
            conformance!(@in outbox, $make;
                routes_queue_one_delivery_per_event_and_destination,
                deliveries_are_leased_retried_and_dead_lettered_per_destination,
                a_leads_deliveries_read_back_newest_first_with_their_state,
            );
            conformance!(@in outbox_events, $make;
                follow_up_and_people_events_are_queued_for_their_routes,
            );
            conformance!(@in paging, $make;
                paging_settings_round_trip_and_leave_with_the_rep,
                a_claim_link_is_used_once,
                an_escalation_mark_queues_lead_escalated_with_its_history_row,
                held_deliveries_wait_uncounted_and_dropped_ones_are_done,
            );
            conformance!(@in erase, $make;
                erase_leaves_a_tombstone_that_redelivery_keeps,
                leads_are_found_by_person_and_by_age,
                retention_run_is_taken_once_a_day,
                a_patch_on_an_erased_lead_is_refused,
                erasures_are_counted_per_admin_from_the_history,
            );
            conformance!(@in export, $make;
                exports_are_in_the_history_and_change_nothing,
            );
            conformance!(@in follow_ups, $make;
                follow_ups_next_step_is_set_changed_cleared_and_recorded,
                follow_ups_closing_a_lead_clears_its_next_step,
                follow_ups_attempts_are_counted_and_follow_the_schedule,
                follow_ups_due_leads_are_listed_by_time_and_owner,
                follow_ups_erasing_removes_its_next_step_and_attempt_notes,
            );
            conformance!(@in reminders, $make;
                reminders_are_taken_once_per_step,
                reminders_skip_steps_cleared_closed_or_erased,
                reminders_have_one_taker_among_many,
                reps_keep_their_time_zone,
                figures_count_attempts_people_reached_and_overdue_steps,
            );
            conformance!(@in phones, $make;
                phones_are_stored_refreshed_and_filled_in_silently,
                phones_of_manual_leads_are_stored,
                erasing_removes_the_normalised_phone,
            );
            conformance!(@in reps, $make;
                reps_are_added_once_listed_oldest_first_and_touched,
                reps_rotate_with_and_without_grace_and_change_role,
                reps_removed_return_their_open_leads_to_the_queue,
            );
            conformance!(@in people, $make;
                repeats_are_linked_by_phone_then_email_and_keep_the_owner,
                links_keep_to_the_window_and_skip_erased_and_junk,
                junk_is_stored_unrouted_unescalated_and_cleared_by_a_rep,
                ten_leads_of_six_people_over_three_reps_give_each_person_one_owner,
                a_rep_merges_and_unlinks_leads,
                stats_count_people_beside_submissions,
                erasing_removes_links_and_keys,
            );
            conformance!(@with_fixture people, $make;
                concurrent_submissions_of_one_person_are_linked,
            );
            conformance!(@in conversation, $make;
                a_first_message_is_claimed_once_per_person_and_number,
                a_send_left_sending_becomes_unknown_and_never_starts_again,
                a_known_failure_restarts_only_its_own_message,
                opt_outs_block_the_start_until_the_number_opts_back_in,
                erasure_takes_the_conversation_and_keeps_the_opt_out,
            );
            conformance!(@in replies, $make;
                a_phone_finds_its_newest_lead_that_is_not_erased,
            );
            conformance!(@with_fixture conversation, $make;
                racing_replicas_start_one_first_message_per_person,
            );
            conformance!(@with_fixture insights, $make;
                insights_count_sources_people_stages_speeds_reps_and_days,
                insights_group_by_platform_organic_and_answers_and_count_an_empty_period,
                insights_count_a_person_once_across_sources,
            );
            conformance!(@with_fixture phones, $make;
                phones_of_earlier_leads_are_backfilled_without_a_change,
            );
            conformance!(@with_fixture routing, $make;
                a_routed_lead_is_never_visible_unowned,
                a_lead_is_never_unowned_to_a_concurrent_reader,
                round_robin_is_even_and_survives_restarts,
            );
        }
    };
    (@with_fixture $module:ident, $make:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                let fixture = $make().await;
                crate::conformance::$module::$test(&fixture).await;
            }
        )*
    };
    (@in $module:ident, $make:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                let fixture = $make().await;
                crate::conformance::$module::$test(&*fixture.store).await;
            }
        )*
    };
}

async fn sqlite_store() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("leads.db");
    let open = move || -> BoxFuture<'static, Arc<dyn LeadStore>> {
        let path = path.clone();
        Box::pin(async move {
            let store = leadhook_server::store::sqlite::SqliteStore::open(&path)
                .await
                .expect("open sqlite store");
            Arc::new(store) as Arc<dyn LeadStore>
        })
    };
    let sql_path = dir.path().join("leads.db");
    let sql = move |sql: String| -> BoxFuture<'static, ()> {
        let path = sql_path.clone();
        Box::pin(async move {
            let conn = rusqlite::Connection::open(&path).expect("open the SQLite file");
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .expect("busy timeout");
            conn.execute_batch(&sql).expect("SQL runs on SQLite");
        })
    };
    let copy_path = dir.path().join("leads.db");
    let copy_end = move || -> BoxFuture<'static, Arc<dyn CopyEnd>> {
        let path = copy_path.clone();
        Box::pin(async move {
            let store = leadhook_server::store::sqlite::SqliteStore::open(&path)
                .await
                .expect("open sqlite store");
            Arc::new(store) as Arc<dyn CopyEnd>
        })
    };
    Fixture {
        store: open().await,
        _guard: Box::new(dir),
        reopen: Box::new(open),
        sql: Box::new(sql),
        copy_end: Box::new(copy_end),
    }
}

/// A local Supabase (the real PostgREST on a fresh database with the migrations applied, behind a
/// Supabase-like gateway) and the store talking to it with a secret key.
async fn postgrest_store() -> Fixture {
    let supabase = Arc::new(
        LocalSupabase::with_migrations(leadhook_server::store::postgrest::MIGRATIONS).await,
    );
    let (url, key) = (supabase.base_url.clone(), supabase.secret_key().to_string());
    let database = Arc::clone(&supabase);
    let sql = move |sql: String| -> BoxFuture<'static, ()> {
        let database = Arc::clone(&database);
        Box::pin(async move {
            database
                .database
                .execute(&sql)
                .await
                .expect("SQL runs on PostgreSQL");
        })
    };
    let open = move || -> BoxFuture<'static, Arc<dyn LeadStore>> {
        let store = leadhook_server::store::postgrest::PostgrestStore::new(
            &url,
            secrecy::SecretString::from(key.clone()),
        )
        .expect("build postgrest store");
        Box::pin(async move { Arc::new(store) as Arc<dyn LeadStore> })
    };
    let (copy_url, copy_key) = (supabase.base_url.clone(), supabase.secret_key().to_string());
    let copy_end = move || -> BoxFuture<'static, Arc<dyn CopyEnd>> {
        let store = leadhook_server::store::postgrest::PostgrestStore::new(
            &copy_url,
            secrecy::SecretString::from(copy_key.clone()),
        )
        .expect("build postgrest store");
        Box::pin(async move { Arc::new(store) as Arc<dyn CopyEnd> })
    };
    Fixture {
        store: open().await,
        _guard: Box::new(supabase),
        reopen: Box::new(open),
        sql: Box::new(sql),
        copy_end: Box::new(copy_end),
    }
}

conformance!(sqlite, crate::conformance::sqlite_store);
conformance!(postgrest, crate::conformance::postgrest_store);
