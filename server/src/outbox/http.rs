//! What the HTTP kinds (webhooks, Slack, Teams, Telegram) share: their client, and reading a
//! receiver's answer into an [`Attempt`]. Their URLs may hold a key (a chat webhook's, a bot
//! token), so no URL is ever in a reason or a log.

use std::time::Duration;

use reqwest::StatusCode;

use super::Attempt;
use crate::limits::{CHANNEL_ANSWER_BYTES, CHANNEL_RETRY_AFTER_CAP};

/// The client of one channel: `timeout` for each attempt, connecting included; no redirects (a
/// redirected POST would carry the body somewhere the file does not name).
pub fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("leadhook/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A receiver's answer, as far as it matters.
pub struct Answer {
    pub status: StatusCode,
    /// Its `Retry-After` in seconds, held to [`CHANNEL_RETRY_AFTER_CAP`].
    pub retry_after: Option<Duration>,
    /// The start of its body.
    pub text: String,
}

impl Answer {
    /// The attempt, as a receiver that answers 2xx to a message it took would have it.
    pub fn attempt(self) -> Attempt {
        if self.status.is_success() {
            return Attempt::Delivered;
        }
        let reason = self.reason();
        match self.retry_after {
            Some(after) if self.status == StatusCode::TOO_MANY_REQUESTS => {
                Attempt::Throttled { reason, after }
            }
            _ => Attempt::Failed(reason),
        }
    }

    pub fn reason(&self) -> String {
        let text = self.text.trim();
        if text.is_empty() {
            format!("the receiver answered {}", self.status)
        } else {
            format!("the receiver answered {}: {text}", self.status)
        }
    }
}

/// Sends `request`; `Err` is the attempt when no answer came.
pub async fn send(request: reqwest::RequestBuilder) -> Result<Answer, Attempt> {
    match answer(request).await {
        Ok(answer) => Ok(answer),
        Err(error) if error.is_timeout() => Err(Attempt::Failed("timed out".into())),
        Err(error) => Err(Attempt::Failed(without_url(error))),
    }
}

/// Sends `request`: its answer, or the error when none came.
pub async fn answer(request: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
    let answer = request.send().await?;
    let status = answer.status();
    let retry_after = answer
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(|seconds| Duration::from_secs(seconds).min(CHANNEL_RETRY_AFTER_CAP));
    let text = answer.text().await.unwrap_or_default();
    Ok(Answer {
        status,
        retry_after,
        text: text.chars().take(CHANNEL_ANSWER_BYTES).collect(),
    })
}

/// Sends `request` to a receiver that answers 2xx to a message it took: the attempt.
pub async fn attempt(request: reqwest::RequestBuilder) -> Attempt {
    match send(request).await {
        Ok(answer) => answer.attempt(),
        Err(attempt) => attempt,
    }
}

/// `error` and its causes, with no URL in them.
pub fn without_url(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text
}
