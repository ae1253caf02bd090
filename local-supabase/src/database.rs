//! Throwaway test databases, each on the server of [`crate::cluster`], with Supabase's roles.

use tokio_postgres::{Client, NoTls};

use crate::cluster;

/// Supabase's roles: PostgREST logs in as `authenticator` (no inherit) and switches to the role a
/// request's JWT names. Roles belong to the whole server, so this runs before every database is
/// made, under an advisory lock because concurrent `CREATE ROLE`/`GRANT` conflict.
const SUPABASE_ROLES: &str = "
do $$
begin
  perform pg_advisory_xact_lock(hashtext('leadhook-local-supabase roles'));
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  grant anon, authenticated, service_role to authenticator;
end
$$;";

/// A fresh, empty database (`leadhook_test_<random>`), dropped again when this is dropped.
pub struct TestDatabase {
    /// Connection URL of the new database, as its owner (a superuser).
    pub url: String,
    pub name: String,
    admin_url: String,
}

impl TestDatabase {
    /// Creates the database. Panics when there is no server: it is test scaffolding.
    pub async fn create() -> TestDatabase {
        let admin_url = cluster::admin_url().to_string();
        let name = format!("leadhook_test_{:016x}", rand::random::<u64>());
        let admin = connect(&admin_url).await;
        admin
            .batch_execute(SUPABASE_ROLES)
            .await
            .unwrap_or_else(|e| panic!("cannot create Supabase's roles: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&name)))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        TestDatabase {
            url: with_user_and_database(&admin_url, None, &name),
            name,
            admin_url,
        }
    }

    /// A fresh database with `migrations` (file name, SQL) applied in order.
    pub async fn migrated(migrations: &[(&str, &str)]) -> TestDatabase {
        let database = TestDatabase::create().await;
        for (file, sql) in migrations {
            database
                .execute(sql)
                .await
                .unwrap_or_else(|e| panic!("migration {file}: {e}"));
        }
        database
    }

    /// The URL PostgREST connects with: the `authenticator` role (trust auth, no password).
    pub fn authenticator_url(&self) -> String {
        with_user_and_database(&self.admin_url, Some("authenticator"), &self.name)
    }

    /// Runs SQL (one or more statements, e.g. a migration file) in the database, as its owner.
    pub async fn execute(&self, sql: &str) -> Result<(), tokio_postgres::Error> {
        connect(&self.url).await.batch_execute(sql).await
    }

    /// A connection as the owner, for checks and for breaking things on purpose.
    pub async fn connect(&self) -> Client {
        connect(&self.url).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let label = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&admin_url, NoTls)
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        quote_ident(&name)
                    ))
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("local-supabase: could not drop test database {label}: {error}");
        }
    }
}

fn with_user_and_database(url: &str, user: Option<&str>, database: &str) -> String {
    let mut url = url::Url::parse(url)
        .unwrap_or_else(|e| panic!("{} is not a URL: {e}", cluster::DATABASE_URL_ENV));
    if let Some(user) = user {
        // Trust auth: the superuser's password (if any) is not the authenticator's.
        let _ = url.set_username(user);
        let _ = url.set_password(None);
    }
    url.set_path(database);
    url.to_string()
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL for tests: {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
