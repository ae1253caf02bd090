//! The Supabase lead store: the `leads` table behind PostgREST (`https://<project>.supabase.co/rest/v1`).
//!
//! Requests are built with the `postgrest` crate and sent by `http.rs`. The crate hands back 4xx/5xx
//! answers as `Ok`, so every answer goes through `http::Reply`, which turns a non-2xx one into a
//! [`PostgrestError`] and from there into a classified [`StoreError`]. The schema (table, trigger, stats function, grants) is in
//! [`MIGRATIONS`]; the trigger stamps `updated_at`, so this side never sends it.

mod capi;
mod conversation;
mod copy;
mod erase;
mod error;
mod escalation;
mod follow_ups;
mod http;
mod insights;
mod key;
mod migrations;
mod outbox;
mod paging;
mod people;
mod query;
mod queue;
mod reads;
mod reminders;
mod replica;
mod replies;
mod reps;
mod upsert;

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::{ActivityKind, Cursor, Lead, LeadPatch, NewManualLead};
use postgrest::{Builder, Postgrest};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use error::PostgrestError;
pub use key::KeyKind;
pub use migrations::MIGRATIONS;

use super::{LeadQuery, LeadWrites, Routing, StoreError, Upserted};
use query::EVERY_COLUMN;

pub struct PostgrestStore {
    client: Postgrest,
    base_url: String,
    key_kind: KeyKind,
}

impl fmt::Debug for PostgrestStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgrestStore")
            .field("base_url", &self.base_url)
            .field("key_kind", &self.key_kind)
            .finish_non_exhaustive()
    }
}

impl PostgrestStore {
    /// A store talking to PostgREST at `base_url` (`https://<project>.supabase.co/rest/v1`; a
    /// trailing `/` is dropped) with a server key. Sends nothing yet: `ping` checks the setup.
    pub fn new(base_url: &str, key: SecretString) -> Result<PostgrestStore, StoreError> {
        let base_url = base_url.trim().trim_end_matches('/').to_string();
        let not_a_url = |why: String| StoreError::Misconfigured {
            message: format!("the PostgREST URL {base_url:?} {why}"),
            fix: error::FIX_URL.to_string(),
        };
        let parsed =
            url::Url::parse(&base_url).map_err(|e| not_a_url(format!("is invalid: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(not_a_url("is not http(s)".into()));
        }
        let key = key.expose_secret().trim();
        let key_kind = KeyKind::of(key)?;
        let mut client = Postgrest::new(base_url.clone()).insert_header("apikey", key);
        if key_kind == KeyKind::LegacyJwt {
            client = client.insert_header("Authorization", format!("Bearer {key}"));
        }
        tracing::info!(url = %base_url, key = %key_kind, "lead store: Supabase (PostgREST)");
        Ok(PostgrestStore {
            client,
            base_url,
            key_kind,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn key_kind(&self) -> KeyKind {
        self.key_kind
    }

    fn table(&self) -> Builder {
        self.client.from(query::TABLE)
    }

    /// The table with the status, search and cursor filters of `query`.
    fn filtered(&self, query: &LeadQuery) -> Builder {
        let mut builder = self.table();
        if let Some(status) = query.status {
            builder = builder.eq("status", status.as_str());
        }
        if let Some(trees) = query::logic_filters(query) {
            builder = builder.and(trees);
        }
        builder
    }

    /// How many leads match the filters of `query`, without fetching them.
    async fn count(&self, query: &LeadQuery) -> Result<u64, StoreError> {
        self.call(self.filtered(query).select("id").exact_count())
            .await?
            .total()
    }

    /// The newest change in the whole store, or the start when it is empty.
    async fn newest_change(&self) -> Result<Cursor, StoreError> {
        #[derive(Deserialize)]
        struct Change {
            id: i64,
            updated_at: DateTime<Utc>,
        }
        let rows: Vec<Change> = self
            .call(
                self.table()
                    .select("id,updated_at")
                    .order(query::NEWEST_CHANGE_FIRST)
                    .range(0, 0),
            )
            .await?
            .json()?;
        Ok(rows
            .first()
            .map(|row| Cursor::new(row.updated_at, row.id))
            .unwrap_or(Cursor::START))
    }
}

#[derive(Serialize)]
struct ManualColumns<'a> {
    name: &'a str,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    phone_e164: Option<&'a str>,
    phone_invalid: bool,
    email_key: Option<&'a str>,
    status: &'static str,
    notes: Option<&'a str>,
    is_manual: bool,
}

/// A row written with who wrote it (`changed_by`) and, when the owner changes, as what kind of
/// change: the activity trigger records both.
#[derive(Serialize)]
struct Written<'a, T: Serialize> {
    #[serde(flatten)]
    row: T,
    changed_by: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_change: Option<ActivityKind>,
}

/// A row to insert, with what the triggers that place it need: `leads_link` the duplicate window
/// in seconds, `leads_route` the reps who take turns (absent when new leads are not given out);
/// neither is stored (see migrations/20261207160000_people.sql). `triaged` tells the triage
/// backfill this server read the lead.
#[derive(Serialize)]
struct New<'a, T: Serialize> {
    #[serde(flatten)]
    written: Written<'a, T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    route_to: Option<&'a [String]>,
    link_window: i64,
    triaged: bool,
}

impl<'a, T: Serialize> New<'a, T> {
    fn placed(written: Written<'a, T>, routing: Routing<'a>) -> New<'a, T> {
        New {
            written,
            route_to: routing.turns(),
            link_window: routing.repeat_window.num_seconds().max(0),
            triaged: true,
        }
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Internal(error.to_string()))
}

#[async_trait]
impl LeadWrites for PostgrestStore {
    async fn upsert_many(
        &self,
        leads: &[IncomingLead],
        actor: &str,
        routing: Routing<'_>,
    ) -> Result<Vec<Upserted>, StoreError> {
        self.store_from_meta(leads, actor, routing).await
    }

    async fn create_manual(
        &self,
        lead: &NewManualLead,
        rep: &str,
        routing: Routing<'_>,
    ) -> Result<Lead, StoreError> {
        let body = to_json(&New::placed(
            Written {
                row: ManualColumns {
                    name: &lead.name,
                    email: lead.email.as_deref(),
                    phone: lead.phone.as_deref(),
                    phone_e164: lead.phone_e164.as_deref(),
                    phone_invalid: lead.phone_invalid,
                    email_key: lead.email_key.as_deref(),
                    status: lead.status.unwrap_or_default().as_str(),
                    notes: lead.notes.as_deref(),
                    is_manual: true,
                },
                changed_by: rep,
                owner_change: None,
            },
            routing,
        ))?;
        // Not idempotent (no leadgen_id): an unreadable answer is not retried.
        self.call(self.table().select(EVERY_COLUMN).insert(body))
            .await?
            .json::<Vec<Lead>>()?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Internal("PostgREST returned no row for a write".into()))
    }

    async fn update(
        &self,
        id: i64,
        patch: &LeadPatch,
        rep: &str,
    ) -> Result<Option<Lead>, StoreError> {
        let updated = if patch.is_empty() {
            None
        } else {
            let body = Written {
                row: patch,
                changed_by: rep,
                owner_change: patch.owner.is_some().then_some(ActivityKind::Assign),
            };
            let live = self
                .table()
                .eq("id", id.to_string())
                .is("erased_at", "null");
            self.patch_lead(live, &body).await?
        };
        match updated {
            Some(lead) => Ok(Some(lead)),
            // Nothing patched: no such lead, an erased one, or an empty patch to read back.
            None => self.unchanged(id).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_is_checked_and_trimmed() {
        let store = PostgrestStore::new(
            "https://abc.supabase.co/rest/v1/",
            SecretString::from("sb_secret_x"),
        )
        .unwrap();
        assert_eq!(store.base_url(), "https://abc.supabase.co/rest/v1");
        assert_eq!(store.key_kind(), KeyKind::Secret);
        assert!(!format!("{store:?}").contains("sb_secret_x"));
        assert!(matches!(
            PostgrestStore::new("abc.supabase.co", SecretString::from("sb_secret_x")),
            Err(StoreError::Misconfigured { .. })
        ));
    }
}
