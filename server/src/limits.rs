//! Every limit that keeps the server up under hostile or broken clients, in one place.
//! The README's "Security" section explains each one; none needs tuning for a sales team.

use std::time::Duration;

/// Largest `POST /webhook` body. Meta batches at most 1,000 changes per POST, about 200 bytes
/// each: such a batch is under 300 KB, so 1 MiB leaves room without letting a body hold much.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 1024 * 1024;

/// The whole webhook body must arrive within this time of its head.
pub const WEBHOOK_BODY_DEADLINE: Duration = Duration::from_secs(10);

/// Bytes all large webhook bodies being received may reserve at once (16 bodies of the largest
/// size). Past it a large webhook gets 503 at once; Meta retries it later.
pub const WEBHOOK_BUFFER_BUDGET_BYTES: usize = 16 * MAX_WEBHOOK_BODY_BYTES;

/// Bodies announcing at most this many bytes (Meta's usual delivery of a few changes is 1-2 KB)
/// need no share of the budget, so clients stalling large bodies cannot hold Meta's small ones
/// back. Their memory is bounded by [`MAX_CONNECTIONS`] times this.
pub const SMALL_WEBHOOK_BODY_BYTES: usize = 16 * 1024;

/// A client must send a request's head within this time of connecting or of its previous
/// answer, so idle keep-alive connections are closed after it too.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections served at once, at most. Lowered to fit the open-file limit (see
/// [`FILES_KEPT_FREE`]); further connections wait in the listen queue.
pub const MAX_CONNECTIONS: usize = 2048;
/// Connections the metrics listener serves at once: a scraper or two, never a crowd, so it takes
/// almost nothing from the open files the public port needs.
pub const MAX_METRICS_CONNECTIONS: usize = 8;

/// Open files kept free for the databases, the Graph API client and the log.
pub const FILES_KEPT_FREE: u64 = 64;

/// `GET /api/events` streams one API token may hold open at once.
pub const MAX_EVENT_STREAMS_PER_TOKEN: usize = 8;

/// Largest `offset` of a lead list: what SQL's OFFSET takes.
pub const MAX_LIST_OFFSET: u64 = i64::MAX as u64;

/// Largest note on a lead, in bytes of UTF-8.
pub const MAX_NOTES_BYTES: usize = 64 * 1024;

/// Longest name of a manual lead, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Longest email of a manual lead, in bytes: the longest address SMTP can carry (RFC 5321).
pub const MAX_EMAIL_BYTES: usize = 254;

/// Longest phone number of a manual lead, in characters (room for extensions and notes like
/// "ext. 12").
pub const MAX_PHONE_CHARS: usize = 64;

/// Longest text of a lead's next step ("Call back", "Send the quote"), in characters.
pub const MAX_NEXT_STEP_CHARS: usize = 200;

/// Largest note of a call attempt, in bytes of UTF-8.
pub const MAX_ATTEMPT_NOTE_BYTES: usize = 4 * 1024;

/// Longest reason of an erasure (the data-subject request's reference), in characters.
pub const MAX_ERASE_REASON_CHARS: usize = 200;

/// Erasures one rep may make through the API per [`ERASURE_WINDOW`]; bulk erasure goes
/// through `leadhook-server erase`. Counted from the history in the store, so every replica and
/// restart counts the same erasures.
pub const ERASURES_PER_REP: usize = 10;

/// The sliding window [`ERASURES_PER_REP`] counts in.
pub const ERASURE_WINDOW: Duration = Duration::from_secs(60 * 60);

/// Largest `/api` request body (a note of [`MAX_NOTES_BYTES`] written as JSON escapes, plus the
/// other fields).
pub const MAX_API_BODY_BYTES: usize = 512 * 1024;

/// On shutdown, how long requests in flight (and event streams) may take to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Most rules a junk rules file (`LEADHOOK_JUNK_RULES`) may hold; each lead is checked against
/// every rule as it arrives.
pub const MAX_JUNK_RULES: usize = 10_000;

/// Largest junk rules file, read whole at start.
pub const MAX_JUNK_RULES_BYTES: u64 = 1024 * 1024;

/// How long Meta's answer about ad spend is reused: Meta updates spend a few times an hour, and
/// each read counts against the ad account's rate limit.
pub const SPEND_FRESH_FOR: Duration = Duration::from_secs(10 * 60);

/// How long a failed spend read is remembered before Meta is asked again, so a broken token
/// does not cost a Graph call per dashboard refresh.
pub const SPEND_FAILURE_KEPT_FOR: Duration = Duration::from_secs(60);

/// Most (level, period) answers about ad spend kept at once; the oldest goes first.
pub const SPEND_CACHE_ENTRIES: usize = 64;

/// The listening connection to PostgreSQL (`DATABASE_URL`): how long connecting and `LISTEN`
/// may take before it counts as failed and the follower keeps polling.
pub const LISTEN_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the connection's own test notification may take to come back. A transaction-mode
/// pooler never brings it back (its sessions are not the client's).
pub const LISTEN_PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a quiet listening connection is asked `SELECT 1`, so a connection that died without
/// a word (a dropped NAT entry, a pooler restart) is found out within this plus
/// [`LISTEN_PING_TIMEOUT`]; PostgreSQL serves it without touching a table, and PostgREST never
/// sees it.
pub const LISTEN_PING_INTERVAL: Duration = Duration::from_secs(30);
pub const LISTEN_PING_TIMEOUT: Duration = Duration::from_secs(10);
/// Reconnecting after the listening connection failed: first after about this, doubling...
pub const LISTEN_RETRY_BASE: Duration = Duration::from_secs(1);
/// ...up to this; the follower polls meanwhile.
pub const LISTEN_RETRY_CAP: Duration = Duration::from_secs(60);
/// How often an outgoing channel with nothing to send asks the outbox anyway, when nothing woke
/// it (see `outbox::wake`): for what another replica left to retry, or a crashed one leased.
pub const OUTBOX_IDLE_POLL: Duration = Duration::from_secs(5);

/// A lead's newest deliveries `GET /api/leads/{id}/deliveries` answers (its events times its
/// channels; older ones stay in the outbox).
pub const LEAD_DELIVERIES_SHOWN: u32 = 50;

/// Channels (of every kind) a channels file may name.
pub const MAX_CHANNELS: usize = 32;

/// Requests one channel may have in flight at once: its `concurrency` (default 4).
pub const CHANNEL_CONCURRENCY: std::ops::RangeInclusive<u32> = 1..=32;
pub const DEFAULT_CHANNEL_CONCURRENCY: u32 = 4;

/// How long one attempt of a channel may take, connecting included: its `timeout` (default 10 s).
pub const CHANNEL_TIMEOUT: std::ops::RangeInclusive<Duration> =
    Duration::from_millis(100)..=Duration::from_secs(60);
pub const DEFAULT_CHANNEL_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a channel's delivery is retried before it is dead-lettered: its `expire_after`
/// (default a day).
pub const CHANNEL_EXPIRY: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(7 * 24 * 3600);
pub const DEFAULT_CHANNEL_EXPIRY: Duration = Duration::from_secs(24 * 3600);

/// The first retry of a channel's failed attempt waits about this long, doubling (with jitter) up
/// to [`CHANNEL_RETRY_CAP`].
pub const CHANNEL_RETRY_BASE: Duration = Duration::from_secs(1);
pub const CHANNEL_RETRY_CAP: Duration = Duration::from_secs(15 * 60);

/// Bytes of a receiver's answer read (for the reason kept with a failure); the rest is dropped.
pub const CHANNEL_ANSWER_BYTES: usize = 512;

/// Largest channels file (`LEADHOOK_CHANNELS`) read.
pub const MAX_CHANNELS_FILE_BYTES: u64 = 256 * 1024;

/// How long a server's outbox routes hold in a shared store (Supabase) without renewal: a
/// server that died stops adding its channels' routes this long after its last renewal.
pub const OUTBOX_ROUTES_HOLD: Duration = Duration::from_secs(5 * 60);
/// How often a running server renews its outbox routes (well within [`OUTBOX_ROUTES_HOLD`]).
pub const OUTBOX_ROUTES_RENEW: Duration = Duration::from_secs(30);
/// Largest `ca_file` of an e-mail channel read (a PEM bundle of the CAs an SMTP server's
/// certificate may chain to; a whole public bundle is about 250 KB).
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;
/// Recipients (`to`) of one e-mail channel; more is a mailing list's job.
pub const MAX_EMAIL_RECIPIENTS: usize = 20;
/// Characters of one piece of lead text (a name, a form's name) in a chat message or an e-mail;
/// the rest becomes "…". Keeps every message under the services' limits (Slack's 40,000
/// characters, Telegram's 4,096, a Teams card's 28 KB).
pub const MESSAGE_FIELD_CHARS: usize = 200;
/// Longest wait a receiver's `Retry-After` (Slack's 429, Telegram's `retry_after`) may ask of a
/// retry; a longer one is held to this.
pub const CHANNEL_RETRY_AFTER_CAP: Duration = Duration::from_secs(15 * 60);
/// How long a claim link in a page to a phone works (`/claim/<token>`).
pub const CLAIM_LINK_TTL: Duration = Duration::from_secs(12 * 3600);
/// Longest claim token read; anything longer is not one of ours (404 before any work).
pub const MAX_CLAIM_TOKEN_BYTES: usize = 512;
/// Shortest claim-link secret (`LEADHOOK_CLAIM_SECRET`): the HMAC key that makes links unforgeable.
pub const MIN_CLAIM_SECRET_BYTES: usize = 32;
