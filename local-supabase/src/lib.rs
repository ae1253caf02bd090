//! The local Supabase leadhook's tests run the PostgREST store against:
//!
//! - a throwaway PostgreSQL cluster, started once per test process and removed when it ends
//!   (or the server `LEADHOOK_TEST_DATABASE_URL` names), see [`cluster`];
//! - per test a fresh database with Supabase's roles ([`TestDatabase`]);
//! - the real PostgREST 12 on it, configured as Supabase configures it ([`postgrest`]);
//! - a gateway that behaves like Supabase's: `/rest/v1`, `apikey`, secret and legacy keys
//!   ([`gateway`]);
//! - in front of all, a listener with fault switches: 503, refused connections, slowness
//!   ([`Faults`]). Other faults come from the database itself: revoke a grant, drop a table.
//!
//! Everything started is stopped when the test ends, also when it fails or panics, and when the
//! test process dies (see [`guarded`]).

pub mod cluster;
mod database;
mod faults;
pub mod gateway;
mod guarded;
pub mod postgrest;

use std::sync::Arc;

pub use database::TestDatabase;
pub use faults::Faults;
use gateway::{Gateway, Keys};
use postgrest::{Postgrest, Settings};

/// Supabase's default cap on the rows of one answer (`db-max-rows`).
pub const DEFAULT_MAX_ROWS: u32 = 1000;

/// How to set up a [`LocalSupabase`].
pub struct Builder {
    migrations: Option<&'static [(&'static str, &'static str)]>,
    max_rows: u32,
}

impl Builder {
    /// Applies `migrations` (file name, SQL) before PostgREST starts; without, the project is empty.
    pub fn migrations(mut self, migrations: &'static [(&'static str, &'static str)]) -> Builder {
        self.migrations = Some(migrations);
        self
    }

    /// The most rows one answer holds (Supabase's default is 1000).
    pub fn max_rows(mut self, max_rows: u32) -> Builder {
        self.max_rows = max_rows.max(1);
        self
    }

    pub async fn start(self) -> LocalSupabase {
        let database = match self.migrations {
            Some(migrations) => TestDatabase::migrated(migrations).await,
            None => TestDatabase::create().await,
        };
        let keys = Keys::generate();
        let postgrest = Postgrest::start(&Settings {
            db_uri: database.authenticator_url(),
            jwt_secret: keys.jwt_secret().to_string(),
            max_rows: self.max_rows,
        })
        .await;
        let gateway = Arc::new(Gateway {
            keys,
            upstream: postgrest.url.clone(),
            // Straight to PostgREST on loopback, whatever HTTP_PROXY says.
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap_or_else(|e| panic!("local-supabase: no HTTP client: {e}")),
        });
        let app = axum::Router::new()
            .fallback(gateway::handle)
            .with_state(Arc::clone(&gateway));
        let faults = Faults::serve(app).await;
        LocalSupabase {
            base_url: format!("http://{}/rest/v1", faults.addr()),
            faults,
            gateway,
            postgrest,
            database,
        }
    }
}

/// A running local Supabase project. Dropping it stops the servers and drops the database.
pub struct LocalSupabase {
    /// Like `https://<project>.supabase.co/rest/v1`: `http://127.0.0.1:<port>/rest/v1`.
    pub base_url: String,
    /// Fault switches of the front door.
    pub faults: Faults,
    gateway: Arc<Gateway>,
    // Fields drop in order: the front door and PostgREST go before their database.
    postgrest: Postgrest,
    pub database: TestDatabase,
}

impl LocalSupabase {
    pub fn builder() -> Builder {
        Builder {
            migrations: None,
            max_rows: DEFAULT_MAX_ROWS,
        }
    }

    /// A project with `migrations` applied, with Supabase's defaults.
    pub async fn with_migrations(
        migrations: &'static [(&'static str, &'static str)],
    ) -> LocalSupabase {
        LocalSupabase::builder()
            .migrations(migrations)
            .start()
            .await
    }

    /// The project's secret key (`sb_secret_...`).
    pub fn secret_key(&self) -> &str {
        &self.gateway.keys.secret
    }

    /// The project's legacy `service_role` key (a JWT).
    pub fn legacy_service_role_key(&self) -> &str {
        &self.gateway.keys.legacy_service_role
    }

    /// The project's legacy `anon` key (a JWT).
    pub fn legacy_anon_key(&self) -> &str {
        &self.gateway.keys.legacy_anon
    }

    /// Tells PostgREST the schema changed (`NOTIFY pgrst, 'reload schema'`, as Supabase's
    /// migrations do) and waits until it has reloaded its schema cache.
    pub async fn reload_schema(&self) {
        self.postgrest.reload_schema(&self.database).await;
    }
}

impl Drop for LocalSupabase {
    fn drop(&mut self) {
        self.faults.shut_down();
    }
}
