//! The SQL that prepares a Supabase project (or any PostgreSQL 15+) for the PostgREST store.
//!
//! The files live in `migrations/` at the workspace root, named for the Supabase CLI so that
//! `supabase db push` applies them; `leadhook-server migrate --print` prints them for `psql`.

/// Every migration, oldest first: (file name, SQL). Each file is idempotent.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "20261129065055_create_leads.sql",
        include_str!("../../../../migrations/20261129065055_create_leads.sql"),
    ),
    (
        "20261130100000_work_queue.sql",
        include_str!("../../../../migrations/20261130100000_work_queue.sql"),
    ),
    (
        "20261130110000_replicas.sql",
        include_str!("../../../../migrations/20261130110000_replicas.sql"),
    ),
    (
        "20261130120000_capi.sql",
        include_str!("../../../../migrations/20261130120000_capi.sql"),
    ),
    (
        "20261130130000_store_copy.sql",
        include_str!("../../../../migrations/20261130130000_store_copy.sql"),
    ),
    (
        "20261130140000_erase.sql",
        include_str!("../../../../migrations/20261130140000_erase.sql"),
    ),
    (
        "20261130150000_capi_switch_race.sql",
        include_str!("../../../../migrations/20261130150000_capi_switch_race.sql"),
    ),
    (
        "20261201100000_route_on_insert.sql",
        include_str!("../../../../migrations/20261201100000_route_on_insert.sql"),
    ),
    (
        "20261207100000_erase_reason.sql",
        include_str!("../../../../migrations/20261207100000_erase_reason.sql"),
    ),
    (
        "20261207110000_export_activity.sql",
        include_str!("../../../../migrations/20261207110000_export_activity.sql"),
    ),
    (
        "20261207120000_rep_tokens.sql",
        include_str!("../../../../migrations/20261207120000_rep_tokens.sql"),
    ),
    (
        "20261207130000_follow_ups.sql",
        include_str!("../../../../migrations/20261207130000_follow_ups.sql"),
    ),
    (
        "20261207140000_reminders.sql",
        include_str!("../../../../migrations/20261207140000_reminders.sql"),
    ),
    (
        "20261207141000_erasure_counts.sql",
        include_str!("../../../../migrations/20261207141000_erasure_counts.sql"),
    ),
    (
        "20261207150000_phone_e164.sql",
        include_str!("../../../../migrations/20261207150000_phone_e164.sql"),
    ),
];
