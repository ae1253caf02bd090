//! Every error a client can get, mapped to its HTTP status and JSON body in one place:
//! `{"success": false, "error": {"code": "...", "message": "..."}}`.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use leadhook_shared::{ApiError, ApiErrorBody};
use thiserror::Error;

use crate::inbox::InboxError;
use crate::store::StoreError;
use crate::webhook::signature::SignatureError;

#[derive(Debug, Error)]
pub enum AppError {
    #[error(
        "missing or invalid bearer token; send Authorization: Bearer <token> with a rep's token (an admin makes one with `leadhook-server reps add`)"
    )]
    Unauthorized,
    #[error(
        "your role ({role}) may not {}: that needs the {} role; ask an admin (leadhook-server reps set-role)",
        action.describe(),
        action.least_role()
    )]
    Forbidden {
        action: leadhook_shared::Action,
        role: leadhook_shared::Role,
    },
    #[error("{0}")]
    Signature(#[from] SignatureError),
    #[error("{0}")]
    TwilioSignature(&'static str),
    #[error(
        "Twilio is not set up on this server: set TWILIO_AUTH_TOKEN (or TWILIO_AUTH_TOKEN_FILE) and LEADHOOK_PUBLIC_URL"
    )]
    TwilioOff,
    #[error(
        "verification failed: hub.mode must be \"subscribe\" and hub.verify_token must match FB_VERIFY_TOKEN"
    )]
    VerificationFailed,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    InvalidJson(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("no lead with id {0}")]
    LeadNotFound(i64),
    #[error("no rep named {0:?} may call the API; list them with `leadhook-server reps list`")]
    RepNotFound(String),
    #[error("lead {id} is already claimed by {owner}")]
    AlreadyClaimed { id: i64, owner: String },
    #[error(
        "assignment is off on this server (LEADHOOK_ASSIGNMENT=none): leads have no owners to claim, release or assign"
    )]
    AssignmentOff,
    #[error(
        "no pages to sweep: set FB_PAGE_ID (and optionally FB_FORM_IDS) and restart the server"
    )]
    SyncNotConfigured,
    #[error(
        "request body too large: webhooks may be up to {webhook} bytes, API requests up to {api} bytes",
        webhook = crate::limits::MAX_WEBHOOK_BODY_BYTES,
        api = crate::limits::MAX_API_BODY_BYTES
    )]
    PayloadTooLarge,
    #[error("the request body did not arrive within {deadline:?}")]
    BodyTimeout { deadline: std::time::Duration },
    #[error("the server is receiving too many webhooks at once; try again shortly")]
    Overloaded,
    #[error("this token already has {limit} event streams open; close one first")]
    TooManyStreams { limit: usize },
    #[error(
        "you erased {limit} leads through the API in the last hour; try again in {} s, or erase many leads at once with the `leadhook-server erase` command on the server (--lead-id, --ids-from)",
        retry_after.as_secs()
    )]
    TooManyErasures {
        limit: usize,
        retry_after: std::time::Duration,
    },
    #[error(
        "too many failed API tokens from this address; try again in {retry_after_secs} seconds"
    )]
    TooManyFailedTokens { retry_after_secs: u64 },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("internal error; see the server log")]
    Internal(String),
    #[error("the inbox cannot take events right now")]
    Inbox(#[from] InboxError),
}

impl AppError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::Signature(_) => (StatusCode::FORBIDDEN, "invalid_signature"),
            AppError::TwilioSignature(_) => (StatusCode::FORBIDDEN, "invalid_signature"),
            AppError::TwilioOff => (StatusCode::NOT_FOUND, "twilio_not_configured"),
            AppError::VerificationFailed => (StatusCode::FORBIDDEN, "verification_failed"),
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::InvalidJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            AppError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            AppError::LeadNotFound(_) | AppError::RepNotFound(_) => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            AppError::AlreadyClaimed { .. } => (StatusCode::CONFLICT, "already_claimed"),
            AppError::AssignmentOff => (StatusCode::CONFLICT, "assignment_off"),
            AppError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            AppError::BodyTimeout { .. } => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
            AppError::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            AppError::TooManyStreams { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_streams"),
            AppError::TooManyErasures { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_erasures")
            }
            AppError::TooManyFailedTokens { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_failed_tokens")
            }
            AppError::SyncNotConfigured => (StatusCode::CONFLICT, "sync_not_configured"),
            AppError::Store(StoreError::Rejected(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "store_rejected")
            }
            AppError::Store(StoreError::Unavailable(_) | StoreError::Misconfigured { .. }) => {
                (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable")
            }
            AppError::Store(StoreError::Erased { .. }) => (StatusCode::CONFLICT, "lead_erased"),
            AppError::Store(StoreError::Internal(_)) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
            AppError::Inbox(_) => (StatusCode::SERVICE_UNAVAILABLE, "inbox_unavailable"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let retry_after = match &self {
            AppError::TooManyErasures { retry_after, .. } => Some(retry_after.as_secs()),
            AppError::TooManyFailedTokens { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let message = match &self {
            AppError::Store(StoreError::Erased { id }) => format!(
                "lead {id} was erased: it keeps no personal data and cannot be changed; if the person gets in touch again, enter them as a new lead"
            ),
            // Internal details go to the log, not to clients.
            AppError::Store(error) => {
                tracing::error!("store error answering a request: {error}");
                match error {
                    StoreError::Internal(_) => "internal error; see the server log".to_string(),
                    _ => "the lead store is unavailable; try again shortly (GET /api/health tells why)".to_string(),
                }
            }
            AppError::Internal(detail) => {
                tracing::error!("internal error answering a request: {detail}");
                self.to_string()
            }
            AppError::Inbox(error) => {
                tracing::error!("inbox error answering a webhook: {error}");
                self.to_string()
            }
            _ => self.to_string(),
        };
        let body = ApiError {
            success: false,
            error: ApiErrorBody {
                code: code.to_string(),
                message,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => AppError::Unprocessable(e.body_text()),
            JsonRejection::MissingJsonContentType(_) => AppError::BadRequest(
                "send the body as JSON with Content-Type: application/json".into(),
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                AppError::PayloadTooLarge
            }
            other => AppError::InvalidJson(other.body_text()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::BadRequest(rejection.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::BadRequest(rejection.body_text())
    }
}

impl From<BytesRejection> for AppError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::BadRequest(rejection.body_text())
        }
    }
}
