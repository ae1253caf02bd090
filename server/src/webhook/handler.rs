use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use chrono::Utc;
use leadhook_shared::meta::parse_notification;
use leadhook_shared::meta::whatsapp::is_whatsapp;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::body::{announced_length, read_within};
use super::signature::{ClaimedSignature, SIGNATURE_HEADER};
use crate::admission::WebhookReservation;
use crate::app::AppState;
use crate::error::AppError;
use crate::limits::{MAX_WEBHOOK_BODY_BYTES, WEBHOOK_BODY_DEADLINE};

/// `GET /webhook?hub.mode=subscribe&hub.challenge=<n>&hub.verify_token=<token>`: echo the challenge.
pub async fn verify_subscription(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<impl IntoResponse, AppError> {
    let mode = params.get("hub.mode").map(String::as_str);
    let token = params
        .get("hub.verify_token")
        .map(String::as_bytes)
        .unwrap_or_default();
    let expected = state.config.verify_token.expose_secret().as_bytes();
    let token_matches: bool = token.ct_eq(expected).into();
    match params.get("hub.challenge") {
        Some(challenge) if mode == Some("subscribe") && token_matches => {
            state.metrics.handshake(true);
            tracing::info!("webhook subscription verified by Meta");
            Ok((
                [(CONTENT_TYPE, "text/plain; charset=utf-8")],
                challenge.clone(),
            ))
        }
        _ => {
            state.metrics.handshake(false);
            tracing::warn!(
                mode = mode.unwrap_or("(none)"),
                "webhook verification refused"
            );
            Err(AppError::VerificationFailed)
        }
    }
}

/// `POST /webhook`: refuse what is too big or unsigned before reading it, read the body within
/// its size, deadline and the shared byte budget, verify the signature over the raw bytes, commit
/// every leadgen event to the inbox (or apply a WhatsApp webhook to the store,
/// [`crate::replies::whatsapp`]), and only then answer 200.
pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, AppError> {
    let (body, _reservation) = admit(&state, &headers, body).await.inspect_err(|error| {
        state.metrics.webhook_rejected(rejection_reason(error));
        tracing::warn!("webhook refused: {error}");
    })?;
    if is_whatsapp(&body) {
        let applied = crate::replies::whatsapp::apply(&state.replies, &body)
            .await
            .inspect_err(|error| {
                state.metrics.webhook_rejected("whatsapp_refused");
                tracing::warn!("WhatsApp webhook refused: {error}");
            })?;
        state.status.webhook_received(Utc::now());
        return Ok(axum::Json(
            serde_json::json!({ "success": true, "received": applied }),
        ));
    }
    let notification = parse_notification(&body).map_err(|error| {
        state.metrics.webhook_rejected("invalid_json");
        AppError::InvalidJson(error.to_string())
    })?;
    if notification.malformed > 0 {
        tracing::warn!(
            count = notification.malformed,
            "leadgen changes without a leadgen_id were ignored"
        );
    }
    let events = notification.events.len();
    let added = state.inbox.enqueue(notification.events).await?;
    state.status.webhook_received(Utc::now());
    state.metrics.webhook_accepted(added);
    tracing::debug!(
        events,
        added,
        ignored = notification.ignored,
        "webhook accepted"
    );
    Ok(axum::Json(
        serde_json::json!({ "success": true, "received": events }),
    ))
}

/// The raw body of a webhook, signature checked, with the share of the byte budget it holds
/// until answered. What can be refused without reading the body is refused first.
async fn admit(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Bytes, WebhookReservation), AppError> {
    announced_length(headers, MAX_WEBHOOK_BODY_BYTES)?;
    let signature = ClaimedSignature::parse(headers.get(SIGNATURE_HEADER).map(|v| v.as_bytes()))?;
    let (body, reservation) = read_bounded(state, headers, body).await?;
    signature.verify(state.config.app_secret.expose_secret().as_bytes(), &body)?;
    Ok((body, reservation))
}

/// A provider's body (Meta's, Twilio's) read within its size, deadline and the shared byte
/// budget, with the share it holds until answered.
pub(crate) async fn read_bounded(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Bytes, WebhookReservation), AppError> {
    let announced = announced_length(headers, MAX_WEBHOOK_BODY_BYTES)?;
    let reservation = state.admission.reserve_webhook(announced)?;
    let body = read_within(body, MAX_WEBHOOK_BODY_BYTES, WEBHOOK_BODY_DEADLINE).await?;
    Ok((body, reservation))
}

/// Short label for the metrics.
fn rejection_reason(error: &AppError) -> &'static str {
    match error {
        AppError::Signature(error) => error.reason(),
        AppError::PayloadTooLarge => "too_large",
        AppError::BodyTimeout { .. } => "body_timeout",
        AppError::Overloaded => "overloaded",
        _ => "unreadable_body",
    }
}
