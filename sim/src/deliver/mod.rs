//! Leadgen webhooks the way Meta delivers them: the notification body (several entries and changes
//! on request, IDs as strings or numbers, non-ASCII escaped), its `X-Hub-Signature-256`, the POST
//! to the callback URL and Meta-like retries.

mod body;

use std::time::Duration;

use leadhook_shared::Backoff;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};

pub use body::{BodyStyle, IdStyle, LeadgenChange, notification_body};
use leadhook_shared::meta::signature::{SIGNATURE_HEADER, sign};

/// Meta's webhook requests identify themselves with this user agent.
const META_USER_AGENT: &str = "facebookexternalua";
/// How long one delivery waits for the callback to answer.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a failed delivery (an error status or no answer) is tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first one included.
    pub attempts: u32,
    /// Wait before the third try; it doubles for each further one, up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// One try, no retries.
    pub fn once() -> RetryPolicy {
        RetryPolicy {
            attempts: 1,
            first_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    /// Like Meta: retry at once, then less and less often (Meta keeps going for 36 hours).
    pub fn like_meta(attempts: u32, first_delay: Duration) -> RetryPolicy {
        RetryPolicy {
            attempts,
            first_delay,
            max_delay: first_delay.saturating_mul(64),
        }
    }

    /// The wait before try number `attempt` (1-based): none before the second, then the shared
    /// backoff from `first_delay`.
    fn delay_before(&self, attempt: u32) -> Duration {
        match attempt {
            0..=2 => Duration::ZERO,
            _ => self.backoff().delay(attempt - 3),
        }
    }

    fn backoff(&self) -> Backoff {
        Backoff::new(self.first_delay, self.max_delay)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::once()
    }
}

/// How a delivery ended: the last HTTP status and how many tries it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub status: StatusCode,
    pub attempts: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("cannot connect to {url}: is leadhook-server running at {url}?")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the webhook POST to {url} failed: {source}")]
    Request {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot set up the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// Posts signed notifications to one callback URL.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    http: reqwest::Client,
    callback_url: String,
    app_secret: SecretString,
    retry: RetryPolicy,
}

impl WebhookSender {
    pub fn new(
        callback_url: impl Into<String>,
        app_secret: SecretString,
    ) -> Result<WebhookSender, DeliveryError> {
        let http = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .user_agent(META_USER_AGENT)
            .build()
            .map_err(DeliveryError::Client)?;
        Ok(WebhookSender {
            http,
            callback_url: callback_url.into(),
            app_secret,
            retry: RetryPolicy::once(),
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> WebhookSender {
        self.retry = retry;
        self
    }

    pub fn callback_url(&self) -> &str {
        &self.callback_url
    }

    /// Builds the notification for `changes`, signs and posts it.
    pub async fn send_leads(
        &self,
        changes: &[LeadgenChange],
        style: &BodyStyle,
    ) -> Result<Delivery, DeliveryError> {
        let body = notification_body(changes, style, chrono::Utc::now().timestamp());
        self.send_body(body).await
    }

    /// Signs `body` as it is and posts it, retrying per the policy on an error status or no answer.
    /// The same bytes (and signature) go out on every try, as with Meta.
    pub async fn send_body(&self, body: Vec<u8>) -> Result<Delivery, DeliveryError> {
        let signature = sign(self.app_secret.expose_secret().as_bytes(), &body);
        let attempts = self.retry.attempts.max(1);
        let mut attempt = 1;
        loop {
            tokio::time::sleep(self.retry.delay_before(attempt)).await;
            let sent = self
                .http
                .post(&self.callback_url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, &signature)
                .body(body.clone())
                .send()
                .await;
            let outcome = match sent {
                Ok(response) => Ok(Delivery {
                    status: response.status(),
                    attempts: attempt,
                }),
                Err(source) if source.is_connect() => Err(DeliveryError::Unreachable {
                    url: self.callback_url.clone(),
                    source,
                }),
                Err(source) => Err(DeliveryError::Request {
                    url: self.callback_url.clone(),
                    source,
                }),
            };
            let delivered = matches!(&outcome, Ok(delivery) if delivery.status.is_success());
            if delivered || attempt >= attempts {
                return outcome;
            }
            tracing::debug!(attempt, url = %self.callback_url, "webhook delivery failed; retrying");
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use leadhook_shared::meta::{LeadgenEvent, parse_notification};
    use serde_json::json;

    use super::body::tests::change;
    use super::*;
    use crate::meta_json;
    use crate::test_receiver::Receiver;
    use leadhook_shared::meta::signature::verify;

    const SECRET: &str = "app-secret";

    #[tokio::test]
    async fn posts_a_signed_body_the_server_can_verify() {
        let receiver = Receiver::spawn().await;
        let sender = WebhookSender::new(receiver.url(), SecretString::from(SECRET)).unwrap();
        let delivery = sender
            .send_leads(&[change("1", "2", Some("3"))], &BodyStyle::default())
            .await
            .unwrap();
        assert_eq!(
            delivery,
            Delivery {
                status: StatusCode::OK,
                attempts: 1
            }
        );
        let received = receiver.received();
        let webhook = &received[0];
        assert_eq!(
            verify(
                SECRET.as_bytes(),
                webhook.signature.as_deref().map(str::as_bytes),
                &webhook.body
            ),
            Ok(())
        );
        assert_eq!(webhook.user_agent.as_deref(), Some(META_USER_AGENT));
        let events = parse_notification(&webhook.body).unwrap().events;
        assert_eq!(
            events,
            [LeadgenEvent {
                leadgen_id: "1".into(),
                page_id: Some("2".into()),
                form_id: Some("12312312312".into()),
                ad_id: Some("3".into()),
                adgroup_id: Some("3".into()),
                created_time: Some(1440120384),
            }]
        );
    }

    #[tokio::test]
    async fn signs_the_escaped_bytes_as_sent() {
        let receiver = Receiver::spawn().await;
        let sender = WebhookSender::new(receiver.url(), SecretString::from(SECRET)).unwrap();
        let body =
            meta_json::to_ascii_vec(&json!({"object": "page", "entry": [{"id": "1", "changes": [
            {"field": "feed", "value": {"message": "Zoë Brontë"}}]}]}))
            .unwrap();
        assert!(body.windows(6).any(|window| window == br"\u00eb"));
        sender.send_body(body.clone()).await.unwrap();
        let received = receiver.received();
        assert_eq!(received[0].body, body);
        let signature = received[0].signature.as_deref().map(str::as_bytes);
        assert_eq!(verify(SECRET.as_bytes(), signature, &body), Ok(()));
    }

    /// Sends one lead's notification and returns the outcome.
    async fn send_one(sender: &WebhookSender) -> Delivery {
        sender
            .send_leads(&[change("1", "2", None)], &BodyStyle::default())
            .await
            .unwrap()
    }

    fn delivery(status: StatusCode, attempts: u32) -> Delivery {
        Delivery { status, attempts }
    }

    #[tokio::test]
    async fn retries_like_meta_until_accepted() {
        let receiver = Receiver::spawn().await;
        receiver.answer_with([StatusCode::INTERNAL_SERVER_ERROR, StatusCode::BAD_GATEWAY]);
        let sender = WebhookSender::new(receiver.url(), SecretString::from(SECRET))
            .unwrap()
            .with_retry(RetryPolicy::like_meta(5, Duration::from_millis(10)));
        assert_eq!(send_one(&sender).await, delivery(StatusCode::OK, 3));
        let received = receiver.received();
        assert_eq!(received.len(), 3);
        assert!(
            received
                .iter()
                .all(|webhook| webhook.body == received[0].body)
        );

        receiver.answer_with([StatusCode::FORBIDDEN; 3]);
        let once = WebhookSender::new(receiver.url(), SecretString::from(SECRET)).unwrap();
        assert_eq!(send_one(&once).await, delivery(StatusCode::FORBIDDEN, 1));
    }

    #[test]
    fn retry_delays_grow_after_an_immediate_retry() {
        let policy = RetryPolicy::like_meta(10, Duration::from_secs(1));
        let steps: Vec<u64> = (0..8).map(|n| policy.backoff().step(n).as_secs()).collect();
        assert_eq!(steps, [1, 2, 4, 8, 16, 32, 64, 64]);
        assert_eq!(policy.delay_before(1), Duration::ZERO);
        assert_eq!(policy.delay_before(2), Duration::ZERO);
        for n in 3..=10 {
            let (delay, step) = (policy.delay_before(n), policy.backoff().step(n - 3));
            assert!(delay >= step / 2 && delay <= step, "try {n}: {delay:?}");
        }
    }

    #[tokio::test]
    async fn says_when_nothing_listens() {
        let url = crate::test_receiver::closed_port_url().await;
        let sender = WebhookSender::new(url.clone(), SecretString::from(SECRET)).unwrap();
        let error = sender.send_body(b"{}".to_vec()).await.unwrap_err();
        assert!(
            matches!(error, DeliveryError::Unreachable { .. }),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains(&format!("is leadhook-server running at {url}?"))
        );
        assert!(!format!("{error:?}{error}").contains(SECRET));
    }
}
