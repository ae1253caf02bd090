//! Push from PostgreSQL: with `DATABASE_URL`, one session per server `LISTEN`s on
//! [`CHANNEL`], where every write to the leads notifies its newest change cursor in its own
//! transaction (`migrations/20261207190000_change_notify.sql`). A notification only wakes the
//! [`ChangeFollower`](super::ChangeFollower), which reads the changes after its own cursor as it
//! always does: a notification that never arrives loses nothing, the next read finds its change.
//!
//! While this session is not listening (connecting, lost, or refused by a transaction-mode
//! pooler), the follower polls every `LEADHOOK_FOLLOW_INTERVAL_MS`; the [`PushStatus`] in
//! `/api/health` says which and why. The session reconnects with backoff, and the follower reads
//! the changes it missed as soon as the session listens again.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use leadhook_shared::Cursor;
use leadhook_shared::backoff::Backoff;
use serde::Serialize;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio_postgres::AsyncMessage;
use tokio_postgres_rustls::MakeRustlsConnect;
use tokio_util::sync::CancellationToken;

use crate::config::DatabaseConfig;
use crate::limits::{
    LISTEN_CONNECT_TIMEOUT, LISTEN_PING_INTERVAL, LISTEN_PING_TIMEOUT, LISTEN_PROBE_TIMEOUT,
    LISTEN_RETRY_BASE, LISTEN_RETRY_CAP,
};

/// The channel the leads' trigger notifies.
pub const CHANNEL: &str = "leadhook_changes";

/// How this server learns of lead changes made elsewhere, as `/api/health` shows it (`push`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum PushStatus {
    /// The store is this server's alone (SQLite): each change is announced as it is made.
    Local,
    /// PostgreSQL pushes every change to this server's session, named `session` in
    /// `pg_stat_activity.application_name`.
    Listening { session: String, database: String },
    /// The follower reads the store's changes every `interval_ms`, because of `reason`.
    Polling { interval_ms: u64, reason: String },
}

impl PushStatus {
    pub fn is_listening(&self) -> bool {
        matches!(self, PushStatus::Listening { .. })
    }
}

/// What the follower watches: the listening state, and the newest cursor notified.
#[derive(Clone)]
pub struct Pushed {
    pub status: watch::Receiver<PushStatus>,
    pub notified: watch::Receiver<Option<Cursor>>,
}

/// Why the session is not listening.
#[derive(Debug, Error)]
enum ListenError {
    #[error("cannot connect to {database}: {source}")]
    Connect {
        database: String,
        source: tokio_postgres::Error,
    },
    #[error("{database} did not answer {what} within {wait:?}")]
    Timeout {
        database: String,
        what: &'static str,
        wait: Duration,
    },
    #[error("{database} refused {what}: {source}")]
    Refused {
        database: String,
        what: &'static str,
        source: tokio_postgres::Error,
    },
    #[error(
        "{database} took LISTEN but never delivered this session's own test notification (within \
         {wait:?}): a transaction-mode pooler (Supabase's port 6543) cannot LISTEN; set DATABASE_URL \
         to the direct connection or the session pooler (port 5432)"
    )]
    NoRoundTrip { database: String, wait: Duration },
    #[error("the listening connection to {database} was lost: {reason}")]
    Lost { database: String, reason: String },
}

/// One server's listening session; [`ChangeListener::run`] keeps it up.
pub struct ChangeListener {
    database: DatabaseConfig,
    /// `leadhook-listen-<8 hex>`, this server's `application_name`.
    session: String,
    poll_interval: Duration,
    status: watch::Sender<PushStatus>,
    notified: Arc<watch::Sender<Option<Cursor>>>,
}

impl ChangeListener {
    /// The listener and what its follower watches; nothing connects before [`Self::run`].
    pub fn new(database: DatabaseConfig, poll_interval: Duration) -> (ChangeListener, Pushed) {
        let session = format!("leadhook-listen-{:08x}", rand::random::<u32>());
        let (status, status_rx) = watch::channel(PushStatus::Polling {
            interval_ms: millis(poll_interval),
            reason: format!("connecting to {} to listen", database.describe()),
        });
        let (notified, notified_rx) = watch::channel(None);
        let listener = ChangeListener {
            database,
            session,
            poll_interval,
            status,
            notified: Arc::new(notified),
        };
        let pushed = Pushed {
            status: status_rx,
            notified: notified_rx,
        };
        (listener, pushed)
    }

    /// Listens until `shutdown`, reconnecting with backoff whenever the session fails.
    pub async fn run(self, shutdown: CancellationToken) {
        let tls = match super::listen_tls::connector() {
            Ok(tls) => tls,
            Err(error) => {
                self.polling(format!("cannot set up TLS: {error}"));
                tracing::error!("cannot listen for lead changes, polling instead: TLS: {error}");
                return;
            }
        };
        let backoff = Backoff::new(LISTEN_RETRY_BASE, LISTEN_RETRY_CAP);
        let mut failures = 0;
        loop {
            let error = match self.listen(&tls, &shutdown).await {
                Ok(()) => return,
                Err((error, listened)) => {
                    if listened {
                        failures = 0;
                    }
                    error
                }
            };
            if shutdown.is_cancelled() {
                return;
            }
            let wait = backoff.delay(failures);
            if failures == 0 {
                tracing::warn!(
                    "not listening for lead changes, polling every {} ms instead: {error}",
                    millis(self.poll_interval)
                );
            } else {
                tracing::debug!("still not listening for lead changes: {error}");
            }
            failures = failures.saturating_add(1);
            self.polling(format!(
                "{error}; listening again in {} s",
                wait.as_secs().max(1)
            ));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    fn polling(&self, reason: String) {
        self.status.send_replace(PushStatus::Polling {
            interval_ms: millis(self.poll_interval),
            reason,
        });
    }

    /// One session: connects, listens, proves a notification comes back, then waits for the
    /// session to end. `Ok` only at shutdown; the error says whether it had listened.
    async fn listen(
        &self,
        tls: &MakeRustlsConnect,
        shutdown: &CancellationToken,
    ) -> Result<(), (ListenError, bool)> {
        let database = self.database.describe();
        let mut settings = self.database.connection().clone();
        settings
            .application_name(&self.session)
            .connect_timeout(LISTEN_CONNECT_TIMEOUT)
            .keepalives(true);
        let timeout = |what| ListenError::Timeout {
            database: database.clone(),
            what,
            wait: LISTEN_CONNECT_TIMEOUT,
        };
        let refused = |what, source| ListenError::Refused {
            database: database.clone(),
            what,
            source,
        };
        let (client, connection) =
            tokio::time::timeout(LISTEN_CONNECT_TIMEOUT, settings.connect(tls.clone()))
                .await
                .map_err(|_| (timeout("the connection"), false))?
                .map_err(|source| {
                    let database = database.clone();
                    (ListenError::Connect { database, source }, false)
                })?;
        let probe = Arc::new(Notify::new());
        let probe_payload = format!("probe:{}", self.session);
        let mut driver = Driver(tokio::spawn(drive(
            connection,
            Arc::clone(&self.notified),
            Arc::clone(&probe),
            probe_payload.clone(),
        )));
        tokio::time::timeout(LISTEN_CONNECT_TIMEOUT, client.batch_execute(LISTEN))
            .await
            .map_err(|_| (timeout("LISTEN"), false))?
            .map_err(|source| (refused("LISTEN", source), false))?;
        // From another session: on a transaction-mode pooler this one's backend is not ours
        // between statements, and a backend's own notification would reach whichever client it
        // serves at that moment, so only a notification from elsewhere proves we listen.
        let mut prober = settings.clone();
        prober.application_name(format!("{}-probe", self.session));
        tokio::time::timeout(
            LISTEN_CONNECT_TIMEOUT,
            notify_once(&prober, tls, &probe_payload),
        )
        .await
        .map_err(|_| (timeout("the test notification"), false))?
        .map_err(|source| (refused("the test notification", source), false))?;
        tokio::select! {
            _ = probe.notified() => {}
            _ = tokio::time::sleep(LISTEN_PROBE_TIMEOUT) => {
                let wait = LISTEN_PROBE_TIMEOUT;
                return Err((ListenError::NoRoundTrip { database, wait }, false));
            }
            reason = &mut driver.0 => {
                let reason = ended(reason);
                return Err((ListenError::Lost { database, reason }, false));
            }
        }
        tracing::info!(session = %self.session, "listening for lead changes on {database}");
        self.status.send_replace(PushStatus::Listening {
            session: self.session.clone(),
            database: database.clone(),
        });
        let mut ping = tokio::time::interval(LISTEN_PING_INTERVAL);
        ping.tick().await;
        loop {
            tokio::select! {
                reason = &mut driver.0 => {
                    let reason = ended(reason);
                    return Err((ListenError::Lost { database, reason }, true));
                }
                _ = ping.tick() => {
                    match tokio::time::timeout(LISTEN_PING_TIMEOUT, client.simple_query("SELECT 1")).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(error)) => {
                            let reason = error.to_string();
                            return Err((ListenError::Lost { database, reason }, true));
                        }
                        Err(_) => {
                            let reason = format!("no answer to SELECT 1 within {LISTEN_PING_TIMEOUT:?}");
                            return Err((ListenError::Lost { database, reason }, true));
                        }
                    }
                }
                _ = shutdown.cancelled() => return Ok(()),
            }
        }
    }
}

const LISTEN: &str = "LISTEN leadhook_changes";

/// Sends `payload` on [`CHANNEL`] from a session of its own, closed again at once.
async fn notify_once(
    settings: &tokio_postgres::Config,
    tls: &MakeRustlsConnect,
    payload: &str,
) -> Result<(), tokio_postgres::Error> {
    let (client, connection) = settings.connect(tls.clone()).await?;
    let connection = tokio::spawn(connection);
    let sent = client
        .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
        .await;
    drop(client);
    // The session ends once the client is gone; its outcome is of no interest.
    let _ = connection.await;
    sent.map(|_| ())
}

/// The connection's task, stopped when the session is given up.
struct Driver(JoinHandle<String>);

impl Drop for Driver {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn ended(joined: Result<String, tokio::task::JoinError>) -> String {
    joined.unwrap_or_else(|error| format!("its task stopped: {error}"))
}

/// Runs the connection and hands on what PostgreSQL pushes: a change cursor newer than any seen
/// before wakes the follower, this session's own probe wakes `probe`. Returns why it ended.
async fn drive<S, T>(
    mut connection: tokio_postgres::Connection<S, T>,
    notified: Arc<watch::Sender<Option<Cursor>>>,
    probe: Arc<Notify>,
    probe_payload: String,
) -> String
where
    S: AsyncRead + AsyncWrite + Unpin,
    T: AsyncRead + AsyncWrite + Unpin,
{
    let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
    while let Some(message) = messages.next().await {
        match message {
            Ok(AsyncMessage::Notification(notification)) if notification.channel() == CHANNEL => {
                let payload = notification.payload();
                if payload == probe_payload {
                    probe.notify_one();
                } else if let Ok(cursor) = payload.parse::<Cursor>() {
                    notified.send_if_modified(|seen| {
                        let newer = seen.is_none_or(|seen| cursor > seen);
                        if newer {
                            *seen = Some(cursor);
                        }
                        newer
                    });
                }
                // Anything else (another server's probe) is not a change.
            }
            Ok(_) => {}
            Err(error) => return error.to_string(),
        }
    }
    "the server closed it".to_string()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
