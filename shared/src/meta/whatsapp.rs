//! WhatsApp Cloud API webhooks (`object: whatsapp_business_account`, field `messages`): the
//! statuses of the business's messages and the person's own messages, read by the server and
//! written by the simulator's stand-in. Follows Meta's "Webhooks: messages" reference (the
//! `statuses` and `messages` arrays of a change's `value`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use thiserror::Error;

/// The `object` of a WhatsApp Business Account webhook.
pub const WHATSAPP_OBJECT: &str = "whatsapp_business_account";

/// Whether a webhook body is a WhatsApp one (its `object`), without reading the rest.
pub fn is_whatsapp(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Object {
        object: Option<String>,
    }
    serde_json::from_slice::<Object>(body)
        .ok()
        .and_then(|object| object.object)
        .is_some_and(|object| object == WHATSAPP_OBJECT)
}

/// Why a WhatsApp webhook could not be read; nothing of it is applied.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum WhatsAppPayloadError {
    #[error("the body is not a WhatsApp webhook: {0}")]
    Json(String),
    #[error("status {index} has no message id (`id`)")]
    StatusWithoutId { index: usize },
    #[error("status {index} is \"{status}\", not one of sent, delivered, read, failed")]
    UnknownStatus { index: usize, status: String },
    #[error("message {index} has no `from` or no `id`")]
    MessageWithoutSender { index: usize },
    #[error("message {index}'s `from` is not a phone number (digits, at most 15)")]
    SenderNotANumber { index: usize },
}

/// A status WhatsApp reports for a message the business sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhatsAppStatusKind {
    Sent,
    Delivered,
    Read,
    Failed,
}

/// Meta's error of a failed message (`errors[0]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsAppError {
    pub code: i64,
    #[serde(default)]
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppStatus {
    /// The message's `wamid…`.
    pub id: String,
    pub status: WhatsAppStatusKind,
    pub error: Option<WhatsAppError>,
    /// The person's `wa_id` the message went to.
    pub recipient: Option<String>,
}

/// A message from the person: `from` is their `wa_id` (E.164 digits without `+`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppInbound {
    pub from: String,
    pub id: String,
    /// The text of a `text` message; other types are kept as `[<type>]`.
    pub text: String,
}

/// What one webhook reported, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WhatsAppUpdate {
    pub statuses: Vec<WhatsAppStatus>,
    pub messages: Vec<WhatsAppInbound>,
    /// Changes of other fields (`message_template_status_update`…), not read.
    pub ignored: usize,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    entry: Vec<RawEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(default)]
    changes: Vec<RawChange>,
}

#[derive(Deserialize)]
struct RawChange {
    field: Option<String>,
    #[serde(default)]
    value: RawValue,
}

#[derive(Deserialize, Default)]
struct RawValue {
    #[serde(default)]
    statuses: Vec<RawStatus>,
    #[serde(default)]
    messages: Vec<RawMessage>,
}

#[derive(Deserialize)]
struct RawStatus {
    id: Option<String>,
    status: Option<String>,
    recipient_id: Option<String>,
    #[serde(default)]
    errors: Vec<WhatsAppError>,
}

#[derive(Deserialize)]
struct RawMessage {
    from: Option<String>,
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<RawText>,
}

#[derive(Deserialize)]
struct RawText {
    body: Option<String>,
}

/// Reads a WhatsApp webhook whole: one malformed status or message refuses all of it.
pub fn parse_whatsapp(body: &[u8]) -> Result<WhatsAppUpdate, WhatsAppPayloadError> {
    let raw: Raw =
        serde_json::from_slice(body).map_err(|e| WhatsAppPayloadError::Json(e.to_string()))?;
    let mut update = WhatsAppUpdate::default();
    for change in raw.entry.into_iter().flat_map(|entry| entry.changes) {
        if change.field.as_deref() != Some("messages") {
            update.ignored += 1;
            continue;
        }
        for raw in change.value.statuses {
            let index = update.statuses.len();
            update.statuses.push(status(raw, index)?);
        }
        for raw in change.value.messages {
            let index = update.messages.len();
            update.messages.push(inbound(raw, index)?);
        }
    }
    Ok(update)
}

fn status(raw: RawStatus, index: usize) -> Result<WhatsAppStatus, WhatsAppPayloadError> {
    let id = raw
        .id
        .filter(|id| !id.trim().is_empty())
        .ok_or(WhatsAppPayloadError::StatusWithoutId { index })?;
    let text = raw.status.unwrap_or_default();
    let status = serde_json::from_value(Value::String(text.clone())).map_err(|_| {
        WhatsAppPayloadError::UnknownStatus {
            index,
            status: text,
        }
    })?;
    Ok(WhatsAppStatus {
        id,
        status,
        error: raw.errors.into_iter().next(),
        recipient: raw.recipient_id,
    })
}

fn inbound(raw: RawMessage, index: usize) -> Result<WhatsAppInbound, WhatsAppPayloadError> {
    let (Some(from), Some(id)) = (raw.from, raw.id.filter(|id| !id.trim().is_empty())) else {
        return Err(WhatsAppPayloadError::MessageWithoutSender { index });
    };
    let digits = from.trim_start_matches('+');
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WhatsAppPayloadError::SenderNotANumber { index });
    }
    let kind = raw.kind.unwrap_or_else(|| "text".to_string());
    let text = match raw.text.and_then(|text| text.body) {
        Some(body) if kind == "text" => body,
        _ => format!("[{kind}]"),
    };
    Ok(WhatsAppInbound {
        from: digits.to_string(),
        id,
        text,
    })
}

/// A webhook as Meta sends it with one `messages` change (what the simulator signs and posts).
pub fn whatsapp_webhook(phone_number_id: &str, value: Value) -> Value {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = json!({"phone_number_id": phone_number_id});
    json!({
        "object": WHATSAPP_OBJECT,
        "entry": [{"id": "waba-standin", "changes": [{"field": "messages", "value": value}]}],
    })
}

/// The `value` of a status webhook.
pub fn status_value(
    wamid: &str,
    status: WhatsAppStatusKind,
    recipient: &str,
    error: Option<&WhatsAppError>,
    timestamp: i64,
) -> Value {
    let mut status_json = json!({
        "id": wamid,
        "status": status,
        "timestamp": timestamp.to_string(),
        "recipient_id": recipient,
    });
    if let Some(error) = error {
        status_json["errors"] = json!([error]);
    }
    json!({ "statuses": [status_json] })
}

/// The `value` of a person's text message.
pub fn text_value(from: &str, name: &str, wamid: &str, text: &str, timestamp: i64) -> Value {
    json!({
        "contacts": [{"profile": {"name": name}, "wa_id": from}],
        "messages": [{"from": from, "id": wamid, "timestamp": timestamp.to_string(),
                      "type": "text", "text": {"body": text}}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(value: Value) -> Vec<u8> {
        serde_json::to_vec(&whatsapp_webhook("1055", value)).unwrap()
    }

    #[test]
    fn reads_what_the_builders_write() {
        let error = WhatsAppError {
            code: 131050,
            title: "Unable to deliver".into(),
        };
        let failed = body(status_value(
            "wamid.A",
            WhatsAppStatusKind::Failed,
            "15550001",
            Some(&error),
            1,
        ));
        assert!(is_whatsapp(&failed));
        let update = parse_whatsapp(&failed).unwrap();
        assert_eq!(
            update.statuses,
            [WhatsAppStatus {
                id: "wamid.A".into(),
                status: WhatsAppStatusKind::Failed,
                error: Some(error),
                recipient: Some("15550001".into()),
            }]
        );
        let reply = parse_whatsapp(&body(text_value("15550001", "Jane", "wamid.B", "Hi", 2)));
        assert_eq!(
            reply.unwrap().messages,
            [WhatsAppInbound {
                from: "15550001".into(),
                id: "wamid.B".into(),
                text: "Hi".into(),
            }]
        );
    }

    #[test]
    fn a_malformed_status_or_message_refuses_the_whole_body() {
        let unknown = json!({"statuses": [{"id": "wamid.A", "status": "bounced"}]});
        assert_eq!(
            parse_whatsapp(&body(unknown)),
            Err(WhatsAppPayloadError::UnknownStatus {
                index: 0,
                status: "bounced".into()
            })
        );
        let no_id = json!({"statuses": [{"status": "read"}]});
        assert!(matches!(
            parse_whatsapp(&body(no_id)),
            Err(WhatsAppPayloadError::StatusWithoutId { .. })
        ));
        let not_a_number = json!({"messages": [{"from": "jane", "id": "w", "type": "text"}]});
        assert!(matches!(
            parse_whatsapp(&body(not_a_number)),
            Err(WhatsAppPayloadError::SenderNotANumber { .. })
        ));
        assert!(parse_whatsapp(b"[1, 2]").is_err());
        assert!(!is_whatsapp(br#"{"object":"page","entry":[]}"#));
    }

    #[test]
    fn other_fields_and_types_are_named_not_dropped() {
        let image = json!({"messages": [{"from": "1555", "id": "w", "type": "image"}]});
        assert_eq!(
            parse_whatsapp(&body(image)).unwrap().messages[0].text,
            "[image]"
        );
        let other = json!({"object": WHATSAPP_OBJECT, "entry": [{"changes": [
            {"field": "message_template_status_update", "value": {}}]}]});
        assert_eq!(
            parse_whatsapp(&serde_json::to_vec(&other).unwrap())
                .unwrap()
                .ignored,
            1
        );
    }
}
