//! The leadhook server's `/api`, typed with the shared wire types.

use std::time::Duration;

use leadhook_shared::{
    Activity, ApiError, ApiOk, Attempted, Conversation, Cursor, Insights, InsightsParams, Lead,
    LeadDelivery, LeadPatch, Me, MeUpdate, NewAttempt, NewManualLead, NextStep, PersonLink, Rep,
    Stats, SyncReport,
};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::client_error::ClientError;
use crate::config::Settings;
use crate::leads::LeadRow;
use crate::sse::EventStream;

/// Most leads one `GET /api/leads` returns.
pub const PAGE_SIZE: usize = 1000;

/// What a page of `GET /api/leads` ([`leadhook_shared::ApiList`]) is read for: its leads, each
/// read as `T`, and the cursor to ask from next.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub cursor: Cursor,
}

impl<T> Page<T> {
    /// A short page is the last one: asking again would only bring an empty page.
    pub fn is_last(&self) -> bool {
        self.data.len() < PAGE_SIZE
    }
}

/// How a lead is read from the list and the event stream.
pub trait Listed: DeserializeOwned + Send + 'static {
    /// The reader needs no form answers, so the server is asked to leave them out of the list
    /// (`omit_fields=true`; a server without the parameter sends them and they are skipped).
    const WITHOUT_ANSWERS: bool;
}

/// `watch --json` prints every lead whole.
impl Listed for Lead {
    const WITHOUT_ANSWERS: bool = false;
}

/// The dashboard's list; its detail pane fetches the one lead it shows.
impl Listed for LeadRow {
    const WITHOUT_ANSWERS: bool = true;
}

/// Reads a JSON answer of the server. The body's UTF-8 is checked once, up front: reading from
/// bytes would check every string on its own, a tenth of a first load's time.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ClientError> {
    let text = std::str::from_utf8(body).map_err(|err| ClientError::Unexpected(err.to_string()))?;
    serde_json::from_str(text).map_err(|err| ClientError::Unexpected(err.to_string()))
}
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// A Graph API sweep can take a while on a page with many forms.
const SYNC_TIMEOUT: Duration = Duration::from_secs(300);

/// What `/api/health` says about the lead stages the server sends to Meta (Conversions API).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MetaFeedback {
    pub enabled: bool,
    #[serde(default)]
    pub sent_today: u64,
    /// Stages waiting after a failed attempt, and the latest reason.
    #[serde(default)]
    pub retrying: u64,
    #[serde(default)]
    pub retry_reason: Option<String>,
    /// Stages Meta will never take.
    #[serde(default)]
    pub failed: u64,
}

/// A channel of the server's outbox (Slack, a webhook, e-mail…) that is not delivering.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ChannelTrouble {
    #[serde(skip)]
    pub destination: String,
    /// Deliveries waiting after a failed attempt, and the latest reason.
    #[serde(default)]
    pub retrying: u64,
    #[serde(default)]
    pub retry_reason: Option<String>,
    /// Dead-lettered: never to be delivered.
    #[serde(default)]
    pub failed: u64,
}

/// What the server says about what leaves it: the Conversions API and the other channels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundFeedback {
    /// `None` when the server has no Conversions API.
    pub meta: Option<MetaFeedback>,
    /// Only the channels retrying or with dead letters.
    pub troubled: Vec<ChannelTrouble>,
}

/// The part of `/api/health` the dashboard shows (servers without CAPI have no `capi`, servers
/// from before the outbox no `outbox`).
#[derive(Deserialize)]
struct HealthView {
    #[serde(default)]
    capi: Option<MetaFeedback>,
    #[serde(default)]
    outbox: Option<OutboxView>,
}

#[derive(Deserialize)]
struct OutboxView {
    #[serde(default)]
    destinations: std::collections::BTreeMap<String, ChannelTrouble>,
}

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    server: String,
    token: Option<String>,
}

impl Client {
    pub fn new(settings: &Settings) -> Client {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("leadhook-tui/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Client {
            http,
            server: settings.server.clone(),
            token: settings.token.clone(),
        }
    }

    /// Leads created or changed after `since`, oldest change first, at most [`PAGE_SIZE`].
    pub async fn changes_since<T: Listed>(&self, since: Cursor) -> Result<Page<T>, ClientError> {
        let mut request = self
            .request(reqwest::Method::GET, "/api/leads")
            .query(&[
                ("since", since.to_string()),
                ("limit", PAGE_SIZE.to_string()),
            ])
            .timeout(REQUEST_TIMEOUT);
        if T::WITHOUT_ANSWERS {
            request = request.query(&[("omit_fields", "true")]);
        }
        self.send(request).await
    }

    /// A page of leads to export, whole, newest first, skipping the `offset` newest. The server
    /// records the export in each lead's history, and refuses (403, with its reason) a role that
    /// may not export.
    pub async fn export_page(&self, offset: usize) -> Result<Page<Lead>, ClientError> {
        let request = self
            .request(reqwest::Method::GET, "/api/leads/export")
            .query(&[("limit", PAGE_SIZE), ("offset", offset)])
            .timeout(REQUEST_TIMEOUT);
        self.send(request).await
    }

    /// One lead, whole.
    pub async fn lead(&self, id: i64) -> Result<Lead, ClientError> {
        let request = self
            .request(reqwest::Method::GET, &format!("/api/leads/{id}"))
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Lead>>(request).await.map(|ok| ok.data)
    }

    pub async fn update_lead(&self, id: i64, patch: &LeadPatch) -> Result<Lead, ClientError> {
        let request = self
            .request(reqwest::Method::PATCH, &format!("/api/leads/{id}"))
            .json(patch)
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Lead>>(request).await.map(|ok| ok.data)
    }

    pub async fn create_lead(&self, lead: &NewManualLead) -> Result<Lead, ClientError> {
        let request = self
            .request(reqwest::Method::POST, "/api/leads")
            .json(lead)
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Lead>>(request).await.map(|ok| ok.data)
    }

    /// Makes the caller the lead's owner; a lead someone else owns is refused (409, naming them).
    pub async fn claim(&self, id: i64) -> Result<Lead, ClientError> {
        self.post_lead(id, "claim").await
    }

    /// Gives the lead back: unowned again.
    pub async fn release(&self, id: i64) -> Result<Lead, ClientError> {
        self.post_lead(id, "release").await
    }

    async fn post_lead(&self, id: i64, action: &str) -> Result<Lead, ClientError> {
        let request = self
            .request(reqwest::Method::POST, &format!("/api/leads/{id}/{action}"))
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Lead>>(request).await.map(|ok| ok.data)
    }

    /// The rep this dashboard's token belongs to.
    pub async fn me(&self) -> Result<Me, ClientError> {
        let request = self
            .request(reqwest::Method::GET, "/api/reps/me")
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Me>>(request).await.map(|ok| ok.data)
    }

    pub async fn set_available(&self, available: bool) -> Result<Me, ClientError> {
        let request = self
            .request(reqwest::Method::PUT, "/api/reps/me")
            .json(&MeUpdate {
                available: Some(available),
                ..MeUpdate::default()
            })
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Me>>(request).await.map(|ok| ok.data)
    }

    /// Sets what `update` holds of the rep's own settings.
    pub async fn update_me(&self, update: &MeUpdate) -> Result<Me, ClientError> {
        let request = self
            .request(reqwest::Method::PUT, "/api/reps/me")
            .json(update)
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Me>>(request).await.map(|ok| ok.data)
    }

    /// Tells the server the rep's IANA time zone, for their reminders and "today".
    pub async fn set_time_zone(&self, zone: &str) -> Result<Me, ClientError> {
        let request = self
            .request(reqwest::Method::PUT, "/api/reps/me")
            .json(&MeUpdate {
                time_zone: Some(zone.to_string()),
                ..MeUpdate::default()
            })
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Me>>(request).await.map(|ok| ok.data)
    }

    pub async fn set_next_step(&self, id: i64, step: &NextStep) -> Result<Lead, ClientError> {
        let request = self
            .request(reqwest::Method::PUT, &format!("/api/leads/{id}/next-step"))
            .json(step)
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Lead>>(request).await.map(|ok| ok.data)
    }

    pub async fn clear_next_step(&self, id: i64) -> Result<Lead, ClientError> {
        let request = self
            .request(
                reqwest::Method::DELETE,
                &format!("/api/leads/{id}/next-step"),
            )
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Lead>>(request).await.map(|ok| ok.data)
    }

    /// Lead `id`, and the submissions linked to it, become submissions of `same_as`'s person.
    pub async fn merge_person(&self, id: i64, same_as: i64) -> Result<Lead, ClientError> {
        let request = self
            .request(reqwest::Method::PUT, &format!("/api/leads/{id}/person"))
            .json(&PersonLink { same_as })
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Lead>>(request).await.map(|ok| ok.data)
    }

    /// Undoes lead `id`'s link to its person: a person of its own again.
    pub async fn unlink_person(&self, id: i64) -> Result<Lead, ClientError> {
        self.delete_lead_part(id, "person").await
    }

    /// Clears lead `id`'s junk flag.
    pub async fn clear_junk(&self, id: i64) -> Result<Lead, ClientError> {
        self.delete_lead_part(id, "junk").await
    }

    async fn delete_lead_part(&self, id: i64, part: &str) -> Result<Lead, ClientError> {
        let request = self
            .request(reqwest::Method::DELETE, &format!("/api/leads/{id}/{part}"))
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Lead>>(request).await.map(|ok| ok.data)
    }

    /// Records a call attempt; the answer carries the lead and, when the cadence ran out, the
    /// statuses to close it as.
    pub async fn attempt(&self, id: i64, attempt: &NewAttempt) -> Result<Attempted, ClientError> {
        let request = self
            .request(reqwest::Method::POST, &format!("/api/leads/{id}/attempts"))
            .json(attempt)
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Attempted>>(request)
            .await
            .map(|ok| ok.data)
    }

    /// The team's figures (`GET /api/stats`), "today" in `tz_offset_minutes`.
    pub async fn stats(&self, tz_offset_minutes: i32) -> Result<Stats, ClientError> {
        let request = self
            .request(reqwest::Method::GET, "/api/stats")
            .query(&[("tz_offset_minutes", tz_offset_minutes)])
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Stats>>(request).await.map(|ok| ok.data)
    }

    /// The manager's figures for a period (`GET /api/insights`); a role that may not see them
    /// is refused (403, with its reason).
    pub async fn insights(&self, params: &InsightsParams) -> Result<Insights, ClientError> {
        let request = self
            .request(reqwest::Method::GET, "/api/insights")
            .query(params)
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Insights>>(request)
            .await
            .map(|ok| ok.data)
    }

    /// Every rep with availability and today's figures, "today" in `tz_offset_minutes`.
    pub async fn reps(&self, tz_offset_minutes: i32) -> Result<Vec<Rep>, ClientError> {
        let request = self
            .request(reqwest::Method::GET, "/api/reps")
            .query(&[("tz_offset_minutes", tz_offset_minutes)])
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Vec<Rep>>>(request)
            .await
            .map(|ok| ok.data)
    }

    /// Where lead `id`'s events went beyond the terminal, newest first.
    pub async fn deliveries(&self, id: i64) -> Result<Vec<LeadDelivery>, ClientError> {
        let request = self
            .request(reqwest::Method::GET, &format!("/api/leads/{id}/deliveries"))
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Vec<LeadDelivery>>>(request)
            .await
            .map(|ok| ok.data)
    }

    /// Lead `id`'s conversation with the person, oldest first.
    pub async fn conversation(&self, id: i64) -> Result<Conversation, ClientError> {
        let request = self
            .request(reqwest::Method::GET, &format!("/api/leads/{id}/messages"))
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Conversation>>(request)
            .await
            .map(|ok| ok.data)
    }

    /// A lead's history, oldest first.
    pub async fn activity(&self, id: i64) -> Result<Vec<Activity>, ClientError> {
        let request = self
            .request(reqwest::Method::GET, &format!("/api/leads/{id}/activity"))
            .timeout(REQUEST_TIMEOUT);
        self.send::<ApiOk<Vec<Activity>>>(request)
            .await
            .map(|ok| ok.data)
    }

    /// Asks the server to sweep the Graph API for leads its webhook missed.
    pub async fn sync(&self) -> Result<SyncReport, ClientError> {
        let request = self
            .request(reqwest::Method::POST, "/api/leads/sync")
            .timeout(SYNC_TIMEOUT);
        self.send::<ApiOk<SyncReport>>(request)
            .await
            .map(|ok| ok.data)
    }

    /// The Conversions API's state and the troubled channels, from `/api/health`.
    pub async fn outbound_feedback(&self) -> Result<OutboundFeedback, ClientError> {
        let request = self
            .request(reqwest::Method::GET, "/api/health")
            .timeout(REQUEST_TIMEOUT);
        let health = self.send::<ApiOk<HealthView>>(request).await?.data;
        let troubled = health
            .outbox
            .map(|outbox| outbox.destinations)
            .unwrap_or_default()
            .into_iter()
            .filter(|(destination, figures)| {
                destination != leadhook_shared::delivery::CAPI
                    && (figures.retrying > 0 || figures.failed > 0)
            })
            .map(|(destination, figures)| ChannelTrouble {
                destination,
                ..figures
            })
            .collect();
        Ok(OutboundFeedback {
            meta: health.capi,
            troubled,
        })
    }

    /// Opens the Server-Sent Events stream of lead changes after `since`.
    pub async fn events(&self, since: Cursor) -> Result<EventStream, ClientError> {
        let request = self
            .request(reqwest::Method::GET, "/api/events")
            .header("Accept", "text/event-stream")
            .header("Last-Event-ID", since.to_string());
        let response = request.send().await.map_err(|err| self.unreachable(&err))?;
        let response = self.check(response).await?;
        Ok(EventStream::new(response.bytes_stream()))
    }

    fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.server));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ClientError> {
        let response = request.send().await.map_err(|err| self.unreachable(&err))?;
        let response = self.check(response).await?;
        let body = response
            .bytes()
            .await
            .map_err(|err| self.unreachable(&err))?;
        decode(&body)
    }

    /// Turns an error status into a [`ClientError`], reading the `ApiError` envelope if any.
    async fn check(&self, response: Response) -> Result<Response, ClientError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status == StatusCode::UNAUTHORIZED {
            return Err(ClientError::Unauthorized);
        }
        let body = response.bytes().await.unwrap_or_default();
        let envelope = serde_json::from_slice::<ApiError>(&body).ok();
        Err(match (status, envelope) {
            (StatusCode::NOT_FOUND, envelope) => ClientError::NotFound(
                envelope.map_or_else(|| "no such endpoint".to_string(), |e| e.error.message),
            ),
            (_, Some(envelope)) => ClientError::Rejected {
                code: envelope.error.code,
                message: envelope.error.message,
            },
            (status, None) => ClientError::Unexpected(format!("HTTP {status}")),
        })
    }

    fn unreachable(&self, err: &reqwest::Error) -> ClientError {
        // reqwest's own message is generic ("error sending request"); the innermost cause
        // ("Connection refused") is what tells the user what is wrong.
        let mut cause: &dyn std::error::Error = err;
        while let Some(source) = cause.source() {
            cause = source;
        }
        let reason = if err.is_timeout() {
            "timed out".to_string()
        } else {
            cause.to_string()
        };
        ClientError::Unreachable {
            server: self.server.clone(),
            reason,
        }
    }
}
