//! Meta's error answers, as the Graph API sends them.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::meta_json;

/// A Meta error answer: `{"error":{"message","type","code","error_subcode","fbtrace_id","is_transient"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: u32,
    pub subcode: Option<u32>,
    pub message: String,
    /// `OAuthException` for most errors, `GraphMethodException` for unreadable objects.
    pub error_type: &'static str,
    pub is_transient: bool,
    /// For rate limits: the `estimated_time_to_regain_access` (minutes) in `X-Business-Use-Case-Usage`.
    pub regain_access_minutes: Option<u32>,
}

impl GraphError {
    /// The error Meta sends for `code` (and `subcode`), with its usual message and HTTP 400.
    pub fn new(code: u32, subcode: Option<u32>) -> GraphError {
        let message = match (code, subcode) {
            (1, _) => "An unknown error occurred",
            (2, _) => "An unexpected error has occurred. Please retry your request later.",
            (4, _) => "(#4) Application request limit reached",
            (17, _) => "(#17) User request limit reached",
            (32, _) => "(#32) Page request limit reached",
            (613, _) => "(#613) Calls to this api have exceeded the rate limit.",
            (80005, _) => {
                "(#80005) There have been too many leadgen api calls to this Page. Wait a bit and try again."
            }
            (341, _) => "(#341) Application limit reached",
            (190, Some(463)) => "Error validating access token: Session has expired.",
            (190, Some(460)) => {
                "Error validating access token: The session has been invalidated because the user changed their password."
            }
            (190, _) => "Invalid OAuth access token - Cannot parse access token",
            (100, Some(33)) => {
                "Unsupported get request. Object does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
            }
            (10, _) => "(#10) Application does not have permission for this action",
            (200..=299, _) => "(#200) Permissions error",
            _ => "An unknown error occurred",
        };
        GraphError {
            status: StatusCode::BAD_REQUEST,
            code,
            subcode,
            message: message.to_string(),
            error_type: if code == 100 && subcode == Some(33) {
                "GraphMethodException"
            } else {
                "OAuthException"
            },
            is_transient: matches!(code, 1 | 2 | 4 | 17 | 32 | 341 | 613 | 80005),
            regain_access_minutes: None,
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> GraphError {
        self.message = message.into();
        self
    }

    pub fn with_status(mut self, status: StatusCode) -> GraphError {
        self.status = status;
        self
    }

    /// 100/33: the object does not exist or this token cannot read it.
    pub(super) fn unreadable(id: &str) -> GraphError {
        GraphError::new(100, Some(33)).with_message(format!(
            "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        ))
    }

    pub(super) fn invalid_parameter(message: impl Into<String>) -> GraphError {
        GraphError::new(100, None).with_message(message)
    }

    fn is_rate_limit(&self) -> bool {
        matches!(self.code, 4 | 17 | 32 | 341 | 613 | 80005)
    }

    pub(super) fn body(&self) -> Value {
        let mut error = json!({
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        error["is_transient"] = json!(self.is_transient);
        error["fbtrace_id"] = json!(next_fbtrace_id());
        json!({ "error": error })
    }

    /// The HTTP answer; rate limits carry Meta's usage headers for `business_id` (the page).
    pub(super) fn response(&self, business_id: &str) -> Response {
        let mut response = json_response(self.status, &self.body());
        if self.is_rate_limit() {
            let usage = json!({ business_id: [{
                "type": "leadgen",
                "call_count": 100,
                "total_cputime": 100,
                "total_time": 100,
                "estimated_time_to_regain_access": self.regain_access_minutes.unwrap_or(0),
            }]});
            let app_usage = json!({"call_count": 100, "total_cputime": 100, "total_time": 100});
            let headers = response.headers_mut();
            for (name, value) in [
                ("x-business-use-case-usage", usage),
                ("x-app-usage", app_usage),
            ] {
                if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
                    headers.insert(name, value);
                }
            }
        }
        response
    }
}

pub(super) fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = meta_json::to_ascii_vec(body).expect("a JSON value always serializes");
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        bytes,
    )
        .into_response()
}

/// An opaque id like Meta's `fbtrace_id` (11 characters), different for every error.
fn next_fbtrace_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut mixed = COUNTER
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..11)
        .map(|_| {
            let character = ALPHABET[(mixed % ALPHABET.len() as u64) as usize] as char;
            mixed /= ALPHABET.len() as u64;
            character
        })
        .collect()
}
