//! The lead stores, in one test binary (one link instead of four): the conformance suite every
//! backend passes, the Supabase store and its migrations against the real PostgREST 12 and
//! PostgreSQL, and `store copy` between the two.

mod conformance;
mod copy;
mod erase_migration;
mod history_statements;
mod insights_days;
mod insights_days_locks;
mod migration_steps;
mod outbox_migration;
mod outbox_routes;
mod postgrest_migrations;
mod postgrest_store;
mod speed_migration;
mod stages_migration;
