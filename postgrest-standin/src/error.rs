//! Error answers: PostgREST's four-key body, the gateway's two-key one, and 501 for request shapes
//! the stand-in does not implement.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub const JSON: &str = "application/json; charset=utf-8";

/// Why a request did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// PostgREST's own error: `{"code", "message", "details", "hint"}`.
    Api {
        status: StatusCode,
        code: String,
        message: String,
        details: Option<String>,
        hint: Option<String>,
    },
    /// The Supabase gateway's error: `{"message", "hint"}`, no code.
    Gateway {
        status: StatusCode,
        message: &'static str,
        hint: Option<&'static str>,
    },
    /// A request shape the stand-in does not implement.
    NotImplemented(String),
}

impl Failure {
    pub fn api(status: StatusCode, code: &str, message: impl Into<String>) -> Failure {
        Failure::Api {
            status,
            code: code.to_string(),
            message: message.into(),
            details: None,
            hint: None,
        }
    }

    pub fn with_details(mut self, text: impl Into<String>) -> Failure {
        if let Failure::Api { details, .. } = &mut self {
            *details = Some(text.into());
        }
        self
    }

    /// A query-string parse error (PGRST100).
    pub fn parse(what: &str, value: &str, details: impl Into<String>) -> Failure {
        Failure::api(
            StatusCode::BAD_REQUEST,
            "PGRST100",
            format!("failed to parse {what} ({value})"),
        )
        .with_details(details)
    }

    pub fn not_implemented(shape: impl Into<String>) -> Failure {
        Failure::NotImplemented(shape.into())
    }

    /// What PostgREST answers for an error from PostgreSQL (`pgErrorStatus` in its source).
    /// `authenticated` is whether the request carried a JWT: 42501 is then 403, else 401.
    pub fn from_postgres(error: &tokio_postgres::Error, authenticated: bool) -> Failure {
        let Some(db) = error.as_db_error() else {
            // Lost the connection: PostgREST answers 503 and reconnects.
            return Failure::api(
                StatusCode::SERVICE_UNAVAILABLE,
                "PGRST001",
                "Database client error. Retrying the connection.",
            )
            .with_details(error.to_string());
        };
        let code = db.code().code();
        let status = status_for(code, db.message(), authenticated);
        Failure::Api {
            status,
            code: code.to_string(),
            message: db.message().to_string(),
            details: db.detail().map(str::to_string),
            hint: db.hint().map(str::to_string),
        }
    }
}

fn status_for(code: &str, message: &str, authenticated: bool) -> StatusCode {
    let class = code.get(..2).unwrap_or("");
    let number = match code {
        "23503" | "23505" => 409,
        "25006" => 405,
        "21000" if message.ends_with("requires a WHERE clause") => 400,
        "21000" => 500,
        "53400" => 500,
        "57P01" => 503,
        "P0001" => 400,
        "42883" | "42P01" => 404,
        "42P17" => 500,
        "42501" if authenticated => 403,
        "42501" => 401,
        _ => match class {
            "08" | "53" => 503,
            "09" | "25" | "2D" | "38" | "39" | "3B" | "40" | "54" | "55" | "57" | "58" | "F0"
            | "HV" | "P0" | "XX" => 500,
            "0L" | "0P" | "28" => 403,
            _ => 400,
        },
    };
    StatusCode::from_u16(number).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

pub fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    response
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Api {
                status,
                code,
                message,
                details,
                hint,
            } => json_response(
                status,
                json!({"code": code, "message": message, "details": details, "hint": hint})
                    .to_string(),
            ),
            Failure::Gateway {
                status,
                message,
                hint,
            } => {
                let body = match hint {
                    Some(hint) => json!({"message": message, "hint": hint}),
                    None => json!({"message": message}),
                };
                json_response(status, body.to_string())
            }
            Failure::NotImplemented(shape) => {
                eprintln!("postgrest-standin: 501, request shape not implemented: {shape}");
                tracing::error!(%shape, "postgrest-standin: request shape not implemented");
                json_response(
                    StatusCode::NOT_IMPLEMENTED,
                    json!({
                        "code": "STANDIN501",
                        "message": format!("postgrest-standin does not implement {shape}"),
                        "details": null,
                        "hint": "implement it in postgrest-standin (from shared/postgrest-facts.md) or send what it implements",
                    })
                    .to_string(),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_codes_map_like_postgrest() {
        let status = |code, authenticated| status_for(code, "", authenticated).as_u16();
        assert_eq!(status("23505", true), 409);
        assert_eq!(status("23502", true), 400);
        assert_eq!(status("23514", true), 400);
        assert_eq!(status("22P02", true), 400);
        assert_eq!(status("22007", true), 400);
        assert_eq!(status("42501", true), 403);
        assert_eq!(status("42501", false), 401);
        assert_eq!(status("42P01", true), 404);
        assert_eq!(status("42P10", true), 400);
        assert_eq!(status("42703", true), 400);
        assert_eq!(status("08006", true), 503);
        assert_eq!(status("57014", true), 500);
        assert_eq!(status("XX000", true), 500);
        assert_eq!(
            status_for("21000", "UPDATE requires a WHERE clause", true).as_u16(),
            400
        );
    }
}
