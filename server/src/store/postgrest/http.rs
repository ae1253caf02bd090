//! Sending a request built with the `postgrest` crate, and reading PostgREST's answer whole.
//!
//! Every request carries its preferences in ONE `Prefer` header, comma-joined (RFC 7240): a proxy
//! that keeps only one of several headers of a name would otherwise drop half of them (seen:
//! `return=representation` lost, so an insert answered 201 with an empty body).

use std::time::Duration;

use postgrest::Builder;
use serde::de::DeserializeOwned;

use super::{PostgrestError, PostgrestStore, error, query};
use crate::store::StoreError;
use crate::store::error::Answer;

/// How long one request may take, connecting included, before the store counts as unavailable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

const PREFER: &str = "prefer";

/// PostgREST's answer to an insert whose key exists already.
const CONFLICT: u16 = 409;

impl PostgrestStore {
    /// Inserts `row` into `table`, a table keyed by its `name` column, unless a row of that name
    /// exists: `false` then.
    pub(super) async fn insert_new(
        &self,
        table: &str,
        key: &str,
        row: &serde_json::Value,
    ) -> Result<bool, StoreError> {
        let reply = self
            .send(
                self.client
                    .from(table)
                    .select(key)
                    .insert(super::to_json(row)?),
            )
            .await?;
        if reply.status == CONFLICT {
            return Ok(false);
        }
        reply.success()?;
        Ok(true)
    }

    /// Sends a request; any HTTP answer is `Ok`, only an unreachable server is an error.
    pub(super) async fn send(&self, builder: Builder) -> Result<Reply, StoreError> {
        self.send_preferring(builder, None).await
    }

    /// Sends a request with one more preference than the `postgrest` crate has a call for, in the
    /// same `Prefer` header as the crate's own.
    pub(super) async fn send_preferring(
        &self,
        builder: Builder,
        preference: Option<&str>,
    ) -> Result<Reply, StoreError> {
        let base_url = &self.base_url;
        let (client, request) = builder.build().build_split();
        let mut request = request.map_err(|error| cannot_build(base_url, error))?;
        // The crate's reqwest 0.11 types are not nameable here: the header value's type is inferred.
        let headers = request.headers_mut();
        let existing = headers
            .get_all(PREFER)
            .iter()
            .filter_map(|value| value.to_str().ok());
        if let Some(joined) = joined_preferences(existing, preference) {
            let value = joined.parse().map_err(|error| {
                StoreError::Internal(format!("cannot send the preferences {joined:?}: {error}"))
            })?;
            headers.insert(PREFER, value);
        }
        *request.timeout_mut() = Some(REQUEST_TIMEOUT);
        let response = client.execute(request).await.map_err(|error| {
            if error.is_builder() {
                cannot_build(base_url, error)
            } else if error.is_timeout() {
                StoreError::Unavailable(format!(
                    "PostgREST at {base_url} did not answer within {}s",
                    REQUEST_TIMEOUT.as_secs()
                ))
            } else {
                StoreError::Unavailable(format!("cannot reach PostgREST at {base_url}: {error}"))
            }
        })?;
        let status = response.status().as_u16();
        let content_range = response
            .headers()
            .get("content-range")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let body = response
            .bytes()
            .await
            .map_err(|error| {
                StoreError::Unavailable(format!(
                    "PostgREST at {base_url} broke off its answer: {error}"
                ))
            })?
            .to_vec();
        tracing::trace!(status, "PostgREST answered");
        Ok(Reply {
            status,
            content_range,
            body,
        })
    }

    /// Sends a request that must succeed.
    pub(super) async fn call(&self, builder: Builder) -> Result<Reply, StoreError> {
        Ok(self.send(builder).await?.success()?)
    }
}

fn cannot_build(base_url: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Misconfigured {
        message: format!("cannot build a request to {base_url}: {error}"),
        fix: error::FIX_URL.to_string(),
    }
}

/// Every preference of a request (each `Prefer` header it has, then `extra`) as one header value.
fn joined_preferences<'a>(
    headers: impl Iterator<Item = &'a str>,
    extra: Option<&'a str>,
) -> Option<String> {
    let preferences: Vec<&str> = headers.chain(extra).collect();
    (!preferences.is_empty()).then(|| preferences.join(","))
}

/// An HTTP answer from PostgREST, read whole.
pub(super) struct Reply {
    pub(super) status: u16,
    content_range: Option<String>,
    pub(super) body: Vec<u8>,
}

impl Reply {
    pub(super) fn success(self) -> Result<Reply, PostgrestError> {
        if (200..300).contains(&self.status) {
            Ok(self)
        } else {
            Err(PostgrestError::from_response(self.status, &self.body))
        }
    }

    /// The body of a successful answer to a read or to a write that is not idempotent.
    pub(super) fn json<T: DeserializeOwned>(&self) -> Result<T, StoreError> {
        self.read(Answer::Other)
    }

    /// The body of a successful answer to a write keyed on `leadgen_id`: doing it again stores
    /// nothing twice, so an answer that cannot be read is retried like an outage.
    pub(super) fn written<T: DeserializeOwned>(&self) -> Result<T, StoreError> {
        self.read(Answer::IdempotentWrite)
    }

    fn read<T: DeserializeOwned>(&self, answer: Answer) -> Result<T, StoreError> {
        serde_json::from_slice(&self.body).map_err(|error| {
            StoreError::unreadable(
                answer,
                format!(
                    "PostgREST answered {} with a body leadhook cannot read ({} bytes): {error}",
                    self.status,
                    self.body.len()
                ),
            )
        })
    }

    /// The total of an exact count.
    pub(super) fn total(&self) -> Result<u64, StoreError> {
        self.content_range
            .as_deref()
            .and_then(query::content_range_total)
            .ok_or_else(|| {
                StoreError::Internal(format!(
                    "PostgREST sent no count (Content-Range: {:?})",
                    self.content_range
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_travel_in_one_header() {
        assert_eq!(
            joined_preferences(
                ["return=representation"].into_iter(),
                Some("resolution=ignore-duplicates")
            )
            .as_deref(),
            Some("return=representation,resolution=ignore-duplicates")
        );
        assert_eq!(
            joined_preferences(["return=minimal", "count=exact"].into_iter(), None).as_deref(),
            Some("return=minimal,count=exact")
        );
        assert_eq!(joined_preferences(std::iter::empty(), None), None);
    }

    /// The answer a gateway produced by dropping `return=representation`: 201, empty body.
    #[test]
    fn an_unreadable_answer_is_retried_only_for_an_idempotent_write() {
        let empty = Reply {
            status: 201,
            content_range: None,
            body: Vec::new(),
        };
        let write = empty.written::<Vec<serde_json::Value>>().unwrap_err();
        assert!(
            matches!(write, StoreError::Unavailable(_)) && write.is_retryable(),
            "{write:?}"
        );
        let other = empty.json::<Vec<serde_json::Value>>().unwrap_err();
        assert!(
            matches!(other, StoreError::Internal(_)) && !other.is_retryable(),
            "{other:?}"
        );
    }
}
