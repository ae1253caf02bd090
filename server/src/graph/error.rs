//! Graph API failures, classified by what the inbox worker and the sweeper should do about them (see meta-facts.md).

use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GraphError {
    /// Network trouble, timeouts, 5xx, codes 1 and 2: try again soon.
    #[error("Graph API temporarily failing: {0}")]
    Transient(String),
    /// Codes 4, 17, 32, 613, 80005, 341: pause Graph calls.
    #[error("Graph API rate limit reached (code {code}){}", retry_after.map(|d| format!(", access regained in about {}s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        code: i64,
        retry_after: Option<Duration>,
    },
    /// Code 190: nothing works until a new token is configured.
    #[error("Page token rejected (code 190{}): {message}; create a long-lived Page token and set FB_PAGE_ACCESS_TOKEN", subcode.map(|s| format!("/{s}")).unwrap_or_default())]
    TokenInvalid {
        subcode: Option<i64>,
        message: String,
    },
    /// Codes 10 and 200–299: the token lacks a permission.
    #[error(
        "permission missing (code {code}): {message}; grant leads_retrieval, pages_manage_metadata, pages_show_list, pages_read_engagement and ads_management to the app and make a new Page token"
    )]
    PermissionDenied { code: i64, message: String },
    /// Code 100: the object does not exist or this app may not read it.
    #[error(
        "lead not readable (code 100): {message}; give the app access in the Page's Leads Access Manager and check the app is live"
    )]
    NotReadable { message: String },
    /// Any other error Meta returns, or an answer we cannot read.
    #[error("Graph API error: {0}")]
    Other(String),
}

impl GraphError {
    /// Whether the same call may succeed later without anyone changing the setup.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            GraphError::Transient(_) | GraphError::RateLimited { .. }
        )
    }

    /// Short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            GraphError::Transient(_) => "transient",
            GraphError::RateLimited { .. } => "rate_limited",
            GraphError::TokenInvalid { .. } => "token_invalid",
            GraphError::PermissionDenied { .. } => "permission_denied",
            GraphError::NotReadable { .. } => "not_readable",
            GraphError::Other(_) => "other",
        }
    }
}

#[derive(Debug, Deserialize)]
struct ErrorEnvelope {
    error: MetaError,
}

#[derive(Debug, Deserialize)]
struct MetaError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    error_subcode: Option<i64>,
    #[serde(default)]
    is_transient: Option<bool>,
}

/// Classifies a non-2xx answer (or a 2xx with an `error` body) from its status, body and headers.
pub fn classify(status: u16, body: &[u8], headers: &reqwest::header::HeaderMap) -> GraphError {
    let Ok(ErrorEnvelope { error }) = serde_json::from_slice::<ErrorEnvelope>(body) else {
        return if status >= 500 || status == 429 {
            GraphError::Transient(format!("HTTP {status}"))
        } else {
            GraphError::Other(format!("HTTP {status} without a Graph error body"))
        };
    };
    let message: String = error.message.chars().take(300).collect();
    match error.code {
        Some(code @ (4 | 17 | 32 | 613 | 80005 | 341)) => GraphError::RateLimited {
            code,
            retry_after: regain_time(headers),
        },
        Some(190) => GraphError::TokenInvalid {
            subcode: error.error_subcode,
            message,
        },
        Some(code @ (10 | 200..=299)) => GraphError::PermissionDenied { code, message },
        Some(100) => GraphError::NotReadable { message },
        Some(1 | 2) => GraphError::Transient(format!(
            "code {}: {message}",
            error.code.unwrap_or_default()
        )),
        _ if error.is_transient == Some(true) || status >= 500 => GraphError::Transient(message),
        Some(code) => GraphError::Other(format!("code {code}: {message}")),
        None => GraphError::Other(message),
    }
}

/// `X-Business-Use-Case-Usage: {"<id>":[{"estimated_time_to_regain_access":<minutes>,...}]}`
fn regain_time(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let usage: serde_json::Value =
        serde_json::from_slice(headers.get("x-business-use-case-usage")?.as_bytes()).ok()?;
    let minutes = usage
        .as_object()?
        .values()
        .flat_map(|entries| entries.as_array().into_iter().flatten())
        .filter_map(|entry| entry.get("estimated_time_to_regain_access")?.as_u64())
        .max()?;
    Some(Duration::from_secs(minutes * 60))
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::*;

    fn body(code: i64, subcode: Option<i64>) -> Vec<u8> {
        serde_json::json!({"error": {"message": "msg", "type": "OAuthException", "code": code,
            "error_subcode": subcode, "fbtrace_id": "A1"}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn classifies_meta_codes() {
        let none = HeaderMap::new();
        assert!(matches!(
            classify(400, &body(1, None), &none),
            GraphError::Transient(_)
        ));
        assert!(matches!(
            classify(400, &body(2, None), &none),
            GraphError::Transient(_)
        ));
        for code in [4, 17, 32, 613, 80005, 341] {
            assert!(
                matches!(
                    classify(400, &body(code, None), &none),
                    GraphError::RateLimited { .. }
                ),
                "{code}"
            );
        }
        assert_eq!(
            classify(400, &body(190, Some(463)), &none),
            GraphError::TokenInvalid {
                subcode: Some(463),
                message: "msg".into()
            }
        );
        for code in [10, 200, 299] {
            assert!(matches!(
                classify(403, &body(code, None), &none),
                GraphError::PermissionDenied { .. }
            ));
        }
        assert!(matches!(
            classify(400, &body(100, Some(33)), &none),
            GraphError::NotReadable { .. }
        ));
        assert!(matches!(
            classify(500, b"<html>oops</html>", &none),
            GraphError::Transient(_)
        ));
        assert!(matches!(
            classify(404, b"nope", &none),
            GraphError::Other(_)
        ));
    }

    #[test]
    fn reads_the_advertised_regain_time() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-business-use-case-usage",
            HeaderValue::from_static(r#"{"123":[{"type":"lead_retrieval","call_count":100,"estimated_time_to_regain_access":7}]}"#),
        );
        assert_eq!(
            classify(400, &body(80005, None), &headers),
            GraphError::RateLimited {
                code: 80005,
                retry_after: Some(Duration::from_secs(420))
            }
        );
    }

    #[test]
    fn token_errors_tell_the_fix() {
        let message = classify(400, &body(190, Some(463)), &HeaderMap::new()).to_string();
        assert!(message.contains("FB_PAGE_ACCESS_TOKEN"), "{message}");
    }
}
