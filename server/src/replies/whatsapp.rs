//! WhatsApp's `messages` webhooks on `POST /webhook` (the same App Secret signature, checked by
//! the caller): statuses of our messages and the person's texts, applied whole before the 200.

use leadhook_shared::meta::whatsapp::{WhatsAppStatusKind, WhatsAppUpdate, parse_whatsapp};

use super::{Inbound, ProviderError, Replies, StatusReport};
use crate::error::AppError;
use crate::store::{MessageChannel, MessageStatus};

/// Applies a signed WhatsApp webhook; a malformed one is refused with nothing applied.
pub async fn apply(replies: &Replies, body: &[u8]) -> Result<usize, AppError> {
    let update = parse_whatsapp(body).map_err(|error| AppError::BadRequest(error.to_string()))?;
    let WhatsAppUpdate {
        statuses,
        messages,
        ignored,
    } = update;
    if ignored > 0 {
        tracing::debug!(ignored, "WhatsApp changes of other fields ignored");
    }
    let applied = statuses.len() + messages.len();
    for status in statuses {
        replies
            .status(&StatusReport {
                channel: MessageChannel::WhatsApp,
                provider_id: status.id,
                status: message_status(status.status),
                error: status.error.map(|error| ProviderError {
                    code: error.code,
                    title: error.title,
                }),
                recipient: status.recipient,
            })
            .await?;
    }
    for message in messages {
        replies
            .inbound(&Inbound {
                channel: MessageChannel::WhatsApp,
                provider_id: message.id,
                from: message.from,
                text: message.text,
            })
            .await?;
    }
    Ok(applied)
}

fn message_status(status: WhatsAppStatusKind) -> MessageStatus {
    match status {
        WhatsAppStatusKind::Sent => MessageStatus::Sent,
        WhatsAppStatusKind::Delivered => MessageStatus::Delivered,
        WhatsAppStatusKind::Read => MessageStatus::Read,
        WhatsAppStatusKind::Failed => MessageStatus::Failed,
    }
}
