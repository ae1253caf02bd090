//! Connections to PostgreSQL: a small pool for the stand-in, and throwaway test databases.

use std::sync::Mutex;

use tokio_postgres::{Client, Config, NoTls};

/// Idle connections, reused across requests. PostgREST keeps a pool too; each request runs in its
/// own transaction, so a connection never carries state from one request to the next.
pub struct Pool {
    config: Config,
    idle: Mutex<Vec<Client>>,
}

impl Pool {
    pub fn new(database_url: &str) -> Result<Pool, tokio_postgres::Error> {
        let mut config: Config = database_url.parse()?;
        config.application_name("postgrest-standin");
        Ok(Pool {
            config,
            idle: Mutex::new(Vec::new()),
        })
    }

    pub async fn get(&self) -> Result<Client, tokio_postgres::Error> {
        let reusable = self
            .idle
            .lock()
            .map(|mut idle| std::iter::from_fn(|| idle.pop()).find(|client| !client.is_closed()))
            .unwrap_or(None);
        if let Some(client) = reusable {
            return Ok(client);
        }
        let (client, connection) = self.config.connect(NoTls).await?;
        tokio::spawn(async move {
            // Ends when the client is dropped or the server goes away; nothing to report then.
            let _ = connection.await;
        });
        // Supabase's databases run in UTC; timestamps come back as `...+00:00`.
        client.batch_execute("SET TIME ZONE 'UTC'").await?;
        Ok(client)
    }

    pub fn put(&self, client: Client) {
        if client.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(client);
        }
    }
}

/// The server the test databases are created on; `LEADHOOK_TEST_DATABASE_URL` overrides it.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh, empty database (`leadhook_test_<random>`), dropped again when this is dropped.
pub struct TestDatabase {
    /// Connection URL of the new database.
    pub url: String,
    pub name: String,
    admin_url: String,
}

impl TestDatabase {
    /// Creates the database. Panics when the server cannot be reached: it is test scaffolding.
    pub async fn create() -> TestDatabase {
        let admin_url = std::env::var("LEADHOOK_TEST_DATABASE_URL")
            .unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string());
        let name = format!("leadhook_test_{:016x}", rand::random::<u64>());
        let admin = connect(&admin_url).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&name)))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let mut url = url::Url::parse(&admin_url)
            .unwrap_or_else(|e| panic!("LEADHOOK_TEST_DATABASE_URL is not a URL: {e}"));
        url.set_path(&name);
        TestDatabase {
            url: url.to_string(),
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
            eprintln!("postgrest-standin: could not drop test database {label}: {error}");
        }
    }
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

/// An SQL identifier, double-quoted.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
