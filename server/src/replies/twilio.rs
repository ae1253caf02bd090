//! `POST /twilio/sms` (also `/twilio/status`): Twilio's status callbacks and inbound SMS, form
//! posts signed with `X-Twilio-Signature` over `LEADHOOK_PUBLIC_URL` + the path Twilio called
//! and the parameters ([`leadhook_shared::twilio`]). Applied before the answer, like WhatsApp's.

use axum::body::Body;
use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use leadhook_shared::twilio::{SIGNATURE_HEADER, verify};
use secrecy::ExposeSecret;

use super::{Inbound, ProviderError, StatusReport};
use crate::app::AppState;
use crate::error::AppError;
use crate::store::{MessageChannel, MessageStatus};

/// The empty TwiML answer: nothing is sent back to the person (Twilio's own keyword handling
/// answers STOP/START).
const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#;

pub async fn receive(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, AppError> {
    let result = apply(&state, &uri, &headers, body).await;
    if let Err(error) = &result {
        state.metrics.webhook_rejected("twilio_refused");
        tracing::warn!("Twilio request refused: {error}");
    }
    result?;
    Ok(([(CONTENT_TYPE, "text/xml; charset=utf-8")], EMPTY_TWIML))
}

async fn apply(
    state: &AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<(), AppError> {
    let Some(twilio) = &state.config.twilio else {
        return Err(AppError::TwilioOff);
    };
    let claimed = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
        .ok_or(AppError::TwilioSignature(
            "missing X-Twilio-Signature header",
        ))?
        .to_string();
    let (body, _reservation) = crate::webhook::read_bounded(state, headers, body).await?;
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let path = uri.path_and_query().map_or("/", |path| path.as_str());
    let url = format!("{}{path}", twilio.public_url);
    if !verify(
        twilio.auth_token.expose_secret().as_bytes(),
        &url,
        &params,
        &claimed,
    ) {
        return Err(AppError::TwilioSignature(
            "X-Twilio-Signature does not match: check TWILIO_AUTH_TOKEN, and that \
             LEADHOOK_PUBLIC_URL is the address configured in Twilio",
        ));
    }
    let params = Params(params);
    let param = |name: &str| params.get(name);
    let sid = param("MessageSid")
        .or_else(|| param("SmsSid"))
        .filter(|sid| !sid.is_empty())
        .ok_or_else(|| AppError::BadRequest("MessageSid is missing".into()))?;
    let status = param("MessageStatus").or_else(|| param("SmsStatus"));
    if status.is_some_and(|status| status != "received") {
        return report_status(state, sid, status.unwrap_or_default(), &params).await;
    }
    let from = param("From").unwrap_or_default();
    if !is_e164(from) {
        return Err(AppError::BadRequest(
            "From must be the sender's number in E.164 (+ and up to 15 digits)".into(),
        ));
    }
    state
        .replies
        .inbound(&Inbound {
            channel: MessageChannel::Sms,
            provider_id: sid.to_string(),
            from: from.to_string(),
            text: param("Body").unwrap_or_default().to_string(),
        })
        .await?;
    Ok(())
}

async fn report_status(
    state: &AppState,
    sid: &str,
    status: &str,
    params: &Params,
) -> Result<(), AppError> {
    let param = |name: &str| params.get(name);
    let status = match status {
        "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "read" => MessageStatus::Read,
        "failed" | "undelivered" => MessageStatus::Failed,
        // queued, accepted, sending, scheduled…: nothing the message row does not say already.
        "queued" | "accepted" | "sending" | "scheduled" | "canceled" => return Ok(()),
        other => {
            return Err(AppError::BadRequest(format!(
                "MessageStatus \"{other}\" is not a Twilio message status"
            )));
        }
    };
    let error = match param("ErrorCode").filter(|code| !code.is_empty()) {
        Some(code) => Some(ProviderError {
            code: code
                .parse()
                .map_err(|_| AppError::BadRequest("ErrorCode must be a number".into()))?,
            title: param("ErrorMessage").unwrap_or_default().to_string(),
        }),
        None => None,
    };
    state
        .replies
        .status(&StatusReport {
            channel: MessageChannel::Sms,
            provider_id: sid.to_string(),
            status,
            error,
            recipient: param("To").filter(|to| is_e164(to)).map(str::to_string),
        })
        .await?;
    Ok(())
}

/// A form post's parameters, in the order sent.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}
