//! The outbox's dispatcher: sends what the store queued (see [`crate::store::outbox`]) to each
//! channel of the channels file. The Conversions API is the outbox's other destination, sent by
//! [`crate::capi::CapiSender`].
//!
//! Each channel's kind has its [`Sender`]; the dispatcher knows nothing of kinds beyond
//! [`sender_for`]. The chat kinds and e-mail share one wording of each event
//! ([`message::Message`]) and only encode it for their medium (`Medium`). Each destination
//! runs its own loop: it claims up to its `concurrency` due deliveries under a lease, sends them
//! at once (each within its `timeout`), and settles each: sent when the receiver took it,
//! dead-lettered (`failed`) once it has been retried for `expire_after`, else due again after
//! the shared backoff (and no sooner than a 429's `Retry-After`). A destination that fails or hangs holds up only its own loop; the intake
//! and the other destinations never wait for it. A crash after a send and before the settle sends
//! the delivery again, with the same id, when its lease ends.

pub mod cli;
mod email;
mod first;
mod http;
pub mod message;
mod ntfy;
pub mod sign;
mod slack;
mod teams;
mod telegram;
mod wake;
mod webhook;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::future::join_all;
use leadhook_shared::Backoff;
use tokio_util::sync::CancellationToken;

use crate::claim_link::ClaimLinks;
use crate::clock::Clock;
use crate::config::{Channel, ChannelKind, ChannelsConfig};
use crate::feed::LiveFeed;
use crate::lease::replica_id;
use crate::limits::{
    CHANNEL_RETRY_BASE, CHANNEL_RETRY_CAP, OUTBOX_ROUTES_HOLD, OUTBOX_ROUTES_RENEW,
};
use crate::metrics::Metrics;
use crate::store::{Conversations, Delivery, LeadReader, Outbox};
pub use email::transport as smtp_transport;
use message::Message;
pub use ntfy::NtfySender;
use wake::Wake;
pub use webhook::WebhookSender;

/// What one attempt came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Attempt {
    Delivered,
    /// Worth trying again later; the reason is kept with the delivery.
    Failed(String),
    /// The receiver asked to be left alone for `after` (a 429's `Retry-After`): the retry waits
    /// at least that long.
    Throttled {
        reason: String,
        after: Duration,
    },
    /// Not now, and not a failure: due again at this time (a rep's quiet hours).
    Held(chrono::DateTime<Utc>),
    /// Not to be sent at all, on purpose, for this reason (the page no longer applies).
    Dropped(String),
    /// Never to be tried again, a failure (a first message the provider refused, or whose fate
    /// is unknown): dead-lettered at once.
    Rejected(String),
}

/// What some senders need beyond their channel.
#[derive(Clone)]
pub struct SenderContext {
    /// The work queue's clock: quiet hours are read by it.
    pub clock: Arc<dyn Clock>,
    /// Claim links for pages to phones; `None` when `LEADHOOK_CLAIM_SECRET` is unset.
    pub claim_links: Option<Arc<ClaimLinks>>,
    /// The leads' conversations, for the first-message kinds; `None` where no store is open
    /// (`channels test`, which sends no first message).
    pub conversations: Option<Arc<dyn Conversations>>,
    pub metrics: Arc<Metrics>,
}

/// Sends one delivery to one channel, as the channel's kind speaks.
#[async_trait::async_trait]
pub trait Sender: Send + Sync {
    /// One attempt, built from the lead as it is now.
    async fn send(&self, delivery: &Delivery, leads: &dyn LeadReader) -> Attempt;

    /// One test message, marked as a test, about no lead (`leadhook-server channels test`).
    async fn test(&self, channel: &str) -> Attempt;
}

/// A kind that sends an event as a worded [`Message`] (chat, e-mail): it only escapes the
/// message for its medium.
#[async_trait::async_trait]
trait Medium: Send + Sync {
    async fn deliver(&self, message: &Message) -> Attempt;
}

/// The [`Sender`] of a [`Medium`].
struct Worded<M>(M);

#[async_trait::async_trait]
impl<M: Medium> Sender for Worded<M> {
    async fn send(&self, delivery: &Delivery, leads: &dyn LeadReader) -> Attempt {
        match Message::for_delivery(delivery, leads).await {
            Ok(message) => self.0.deliver(&message).await,
            Err(reason) => Attempt::Failed(reason),
        }
    }

    async fn test(&self, channel: &str) -> Attempt {
        self.0.deliver(&Message::test(channel)).await
    }
}

/// Why a channel's sender cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("cannot make the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("cannot set up SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("a first message needs the store's conversations, and none is open here")]
    NoConversations,
}

/// The sender for `channel`'s kind.
pub fn sender_for(
    channel: &Channel,
    context: &SenderContext,
) -> Result<Box<dyn Sender>, SenderError> {
    let timeout = channel.timeout;
    Ok(match &channel.kind {
        ChannelKind::Webhook(webhook) => Box::new(WebhookSender::new(channel, webhook)?),
        ChannelKind::Slack(slack) => Box::new(Worded(slack::Slack::new(slack, timeout)?)),
        ChannelKind::Teams(teams) => Box::new(Worded(teams::Teams::new(teams, timeout)?)),
        ChannelKind::Telegram(telegram) => {
            Box::new(Worded(telegram::Telegram::new(telegram, timeout)?))
        }
        ChannelKind::Email(email) => Box::new(Worded(email::Email::new(email, timeout)?)),
        ChannelKind::Ntfy(ntfy) => Box::new(NtfySender::new(channel, ntfy, context)?),
        ChannelKind::WhatsApp(whatsapp) => Box::new(first_sender(
            first::WhatsApp::new(whatsapp.clone(), timeout)?,
            context,
        )?),
        ChannelKind::Sms(sms) => Box::new(first_sender(
            first::Sms::new(sms.clone(), timeout)?,
            context,
        )?),
    })
}

fn first_sender<P: first::Provider>(
    provider: P,
    context: &SenderContext,
) -> Result<first::FirstSender<P>, SenderError> {
    first::FirstSender::new(
        provider,
        context.conversations.clone(),
        Arc::clone(&context.clock),
        Arc::clone(&context.metrics),
    )
}

/// Sends the outbox's deliveries to the channels until shutdown.
#[derive(Clone)]
pub struct Dispatcher {
    outbox: Arc<dyn Outbox>,
    leads: Arc<dyn LeadReader>,
    channels: Arc<ChannelsConfig>,
    metrics: Arc<Metrics>,
    context: SenderContext,
    /// What wakes an idle channel loop (see [`wake`]).
    feed: LiveFeed,
}

impl Dispatcher {
    pub fn new(
        outbox: Arc<dyn Outbox>,
        leads: Arc<dyn LeadReader>,
        channels: Arc<ChannelsConfig>,
        metrics: Arc<Metrics>,
        context: SenderContext,
        feed: LiveFeed,
    ) -> Dispatcher {
        Dispatcher {
            outbox,
            leads,
            channels,
            metrics,
            context,
            feed,
        }
    }

    /// Holds the file's routes in the store (every replica's writes queue by them from then on),
    /// retrying while the store is unreachable, then runs one loop per channel and renews the
    /// routes while it runs (see [`Outbox::outbox_hold_routes`]).
    pub async fn run(self, shutdown: CancellationToken) {
        let routes = self.channels.routes();
        let holder = replica_id();
        loop {
            match self
                .outbox
                .outbox_hold_routes(&holder, &routes, OUTBOX_ROUTES_HOLD, true)
                .await
            {
                Ok(()) => break,
                Err(error) => tracing::warn!(%error, "outbox: cannot write the routes yet"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(CHANNEL_RETRY_BASE) => {}
            }
        }
        tracing::info!(
            channels = self.channels.channels.len(),
            routes = routes.len(),
            "outbox: channels on"
        );
        for channel in &self.channels.channels {
            if let Some(rules) = channel.kind.first_rules()
                && rules.consent == crate::config::Consent::Off
            {
                tracing::warn!(
                    destination = %channel.name,
                    "first message: the consent check is off (consent = \"off\"): every \
                     lead of its forms gets the message; the law where the people live may \
                     require their consent"
                );
            }
        }
        let mut loops: Vec<_> = (0..self.channels.channels.len())
            .map(|index| {
                let dispatcher = self.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move { dispatcher.channel_loop(index, shutdown).await })
            })
            .collect();
        let outbox = Arc::clone(&self.outbox);
        loops.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(OUTBOX_ROUTES_RENEW) => {}
                }
                if let Err(error) = outbox
                    .outbox_hold_routes(&holder, &routes, OUTBOX_ROUTES_HOLD, false)
                    .await
                {
                    tracing::warn!(%error, "outbox: cannot renew the routes");
                }
            }
        }));
        for running in loops {
            let _ = running.await;
        }
    }

    async fn channel_loop(self, index: usize, shutdown: CancellationToken) {
        let channel = &self.channels.channels[index];
        let sender = match sender_for(channel, &self.context) {
            Ok(sender) => sender,
            Err(error) => {
                tracing::error!(destination = %channel.name, %error, "outbox: cannot build the channel's client");
                return;
            }
        };
        // Long enough for every attempt of a claim to time out, with room to settle.
        let lease = channel.timeout * 2 + Duration::from_secs(5);
        let mut wake = Wake::new(&self.feed);
        loop {
            let claimed = match self
                .outbox
                .outbox_claim(&channel.name, channel.concurrency, lease)
                .await
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(destination = %channel.name, %error, "outbox: cannot claim");
                    wake.due_in(CHANNEL_RETRY_BASE);
                    Vec::new()
                }
            };
            let full = claimed.len() as u32 == channel.concurrency;
            let (sender, shutdown_ref, this) = (sender.as_ref(), &shutdown, &self);
            let sends = claimed.into_iter().map(|delivery| async move {
                let attempt = tokio::select! {
                    attempt = sender.send(&delivery, this.leads.as_ref()) => attempt,
                    // Left to its lease: sent again, with the same id, after the restart.
                    _ = shutdown_ref.cancelled() => return None,
                };
                this.settle(channel, &delivery, attempt).await
            });
            for due_again in join_all(sends).await.into_iter().flatten() {
                wake.due_in(due_again);
            }
            if shutdown.is_cancelled() {
                return;
            }
            if !full {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    () = wake.wait() => {}
                }
            }
        }
    }

    /// Records what the attempt came to; how long until the delivery is due again, if it is.
    async fn settle(
        &self,
        channel: &Channel,
        delivery: &Delivery,
        attempt: Attempt,
    ) -> Option<Duration> {
        let destination = channel.name.as_str();
        let (settled, due_again) = match attempt {
            Attempt::Delivered => {
                self.metrics.outbox_delivery(destination, "sent");
                (self.outbox.outbox_sent(&[delivery.id]).await, None)
            }
            Attempt::Held(until) => {
                tracing::info!(destination, delivery_id = delivery.id, %until, "outbox: delivery held");
                self.metrics.outbox_delivery(destination, "held");
                let due_in = (until - Utc::now()).to_std().unwrap_or_default();
                (
                    self.outbox.outbox_hold(delivery.id, until).await,
                    Some(due_in),
                )
            }
            Attempt::Dropped(reason) => {
                tracing::info!(
                    destination,
                    delivery_id = delivery.id,
                    reason,
                    "outbox: delivery dropped"
                );
                self.metrics.outbox_delivery(destination, "dropped");
                (self.outbox.outbox_drop(delivery.id, &reason).await, None)
            }
            Attempt::Rejected(reason) => {
                tracing::warn!(
                    destination,
                    delivery_id = delivery.id,
                    reason,
                    "outbox: delivery refused for good"
                );
                self.metrics.outbox_delivery(destination, "dead");
                (self.outbox.outbox_failed(delivery.id, &reason).await, None)
            }
            Attempt::Failed(reason) => self.retry(channel, delivery, reason, Duration::ZERO).await,
            Attempt::Throttled { reason, after } => {
                self.retry(channel, delivery, reason, after).await
            }
        };
        if let Err(error) = settled {
            tracing::warn!(destination, delivery_id = delivery.id, %error, "outbox: cannot settle; its lease ends it");
        }
        due_again
    }

    /// A failed attempt: due again after the backoff, and no sooner than `at_least`, or
    /// dead-lettered once it has been retried for the channel's `expire_after`. With the wait
    /// until it is due again, unless dead-lettered.
    async fn retry(
        &self,
        channel: &Channel,
        delivery: &Delivery,
        reason: String,
        at_least: Duration,
    ) -> (Result<(), crate::store::StoreError>, Option<Duration>) {
        let destination = channel.name.as_str();
        let waited = (Utc::now() - delivery.queued_at)
            .to_std()
            .unwrap_or_default();
        if waited >= channel.expire_after {
            let reason = format!(
                "gave up after {} attempts over {}: {reason}",
                delivery.attempts,
                humantime::format_duration(Duration::from_secs(waited.as_secs()))
            );
            tracing::warn!(
                destination,
                delivery_id = delivery.id,
                reason,
                "outbox: delivery dead-lettered"
            );
            self.metrics.outbox_delivery(destination, "dead");
            (self.outbox.outbox_failed(delivery.id, &reason).await, None)
        } else {
            let wait = Backoff::new(CHANNEL_RETRY_BASE, CHANNEL_RETRY_CAP)
                .delay(delivery.attempts.saturating_sub(1))
                .max(at_least);
            tracing::info!(destination, delivery_id = delivery.id, reason, retry_in = ?wait, "outbox: delivery failed, will retry");
            self.metrics.outbox_delivery(destination, "retry");
            let retried = self
                .outbox
                .outbox_retry(&[delivery.id], wait, &reason)
                .await;
            (retried, Some(wait))
        }
    }
}
