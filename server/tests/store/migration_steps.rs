//! The Supabase migrations as the migration tests step through them: a database migrated up to
//! a file, then that file and the rest applied, each twice (every file must be idempotent).

use leadhook_local_supabase::TestDatabase;
use leadhook_server::store::postgrest::MIGRATIONS;

pub type Migration = (&'static str, &'static str);

/// The migrations before `file`, and `file` with the ones after it.
pub fn split_at(file: &str) -> (&'static [Migration], &'static [Migration]) {
    let at = MIGRATIONS
        .iter()
        .position(|(name, _)| *name == file)
        .unwrap_or_else(|| panic!("{file} is not in MIGRATIONS"));
    MIGRATIONS.split_at(at)
}

/// Applies `migrations` to `database` in order, each twice.
pub async fn apply_twice(database: &TestDatabase, migrations: &[Migration]) {
    for (file, sql) in migrations {
        for _ in 0..2 {
            database
                .execute(sql)
                .await
                .unwrap_or_else(|e| panic!("{file}: {e}"));
        }
    }
}
