//! PostgREST's error answers, and what each means for the intake worker.

use serde::Deserialize;
use thiserror::Error;

use crate::store::StoreError;

/// Where the fix for a misconfiguration is, in words an operator can act on. Each starts with the
/// short form the issue tracker and the docs use ("wrong key", "grant to service_role", "run the
/// migrations").
pub(super) const FIX_WRONG_KEY: &str = "wrong key: set SUPABASE_SECRET_KEY (sb_secret_...) or SUPABASE_SERVICE_ROLE_KEY \
     (the legacy service_role JWT) to a server key of this project (Project Settings > API Keys); \
     the anon and publishable keys cannot read leads";
pub(super) const FIX_GRANTS: &str = "grant to service_role: apply the migrations again, or run \
     `grant select, insert, update, delete on public.leads to service_role; \
     grant usage, select on sequence public.leads_id_seq to service_role; \
     grant execute on function public.lead_stats(timestamptz, timestamptz) to service_role;` \
     (and check that the key is the secret or service_role key)";
pub(super) const FIX_MIGRATIONS: &str = "run the migrations: `supabase db push` with leadhook's migrations/ folder, \
     or `leadhook-server migrate --print | psql \"$DATABASE_URL\"`";
pub(super) const FIX_URL: &str = "check SUPABASE_URL: it must be the project URL, https://<project>.supabase.co \
     (if it is, run the migrations)";

/// A non-2xx answer from PostgREST or from the Supabase gateway in front of it.
///
/// PostgREST's body is `{"code", "message", "details", "hint"}`; the gateway's has only `message`
/// and `hint`; a proxy may answer with anything, which then becomes the message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("PostgREST answered {status}{}: {message}{}",
    code.as_deref().map(|code| format!(" {code}")).unwrap_or_default(),
    hint.as_deref().map(|hint| format!(" (hint: {hint})")).unwrap_or_default())]
pub struct PostgrestError {
    pub status: u16,
    pub code: Option<String>,
    pub message: String,
    pub details: Option<String>,
    pub hint: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    hint: Option<String>,
}

/// Longest piece of a body that is not PostgREST's JSON kept as the message.
const MAX_FOREIGN_BODY: usize = 200;

impl PostgrestError {
    /// Reads the error out of a non-2xx answer.
    pub fn from_response(status: u16, body: &[u8]) -> PostgrestError {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(parsed) => PostgrestError {
                status,
                code: parsed.code.filter(|code| !code.is_empty()),
                message: parsed
                    .message
                    .unwrap_or_else(|| format!("HTTP {status} without a message")),
                details: parsed.details,
                hint: parsed.hint,
            },
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                PostgrestError {
                    status,
                    code: None,
                    message: if text.is_empty() {
                        format!("HTTP {status} with an empty body")
                    } else {
                        text.chars().take(MAX_FOREIGN_BODY).collect()
                    },
                    details: None,
                    hint: None,
                }
            }
        }
    }

    fn code_is(&self, wanted: &[&str]) -> bool {
        self.code
            .as_deref()
            .is_some_and(|code| wanted.contains(&code))
    }

    fn code_class(&self, class: &str) -> bool {
        self.code
            .as_deref()
            .is_some_and(|code| code.len() == 5 && code.starts_with(class))
    }
}

impl From<PostgrestError> for StoreError {
    /// Sorts an answer into retry later (Unavailable), fix the setup (Misconfigured), bad data
    /// (Rejected) or a bug of ours (Internal).
    fn from(error: PostgrestError) -> StoreError {
        let misconfigured = |fix: &str| StoreError::Misconfigured {
            message: error.to_string(),
            fix: fix.to_string(),
        };
        // Missing table, function or column: the schema is older than this leadhook.
        let schema_missing = [
            "PGRST205", "PGRST202", "PGRST204", "42P01", "42883", "42703", "42P10",
        ];
        match error.status {
            // The gateway's "No API key found" / "Invalid API key", a bad JWT, or a key whose role
            // is anon (42501 answered with 401).
            401 => misconfigured(FIX_WRONG_KEY),
            403 => misconfigured(FIX_GRANTS),
            _ if error.code_is(&["42501"]) => misconfigured(FIX_GRANTS),
            _ if error.code_is(&schema_missing) => misconfigured(FIX_MIGRATIONS),
            404 => misconfigured(FIX_URL),
            408 | 429 | 500..=599 => StoreError::Unavailable(error.to_string()),
            // Data the database refused: check, not-null and unique violations, bad input syntax.
            _ if error.code_class("22") || error.code_class("23") => {
                StoreError::Rejected(error.to_string())
            }
            _ => StoreError::Internal(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, body: &str) -> StoreError {
        PostgrestError::from_response(status, body.as_bytes()).into()
    }

    fn fix_of(error: StoreError) -> String {
        match error {
            StoreError::Misconfigured { fix, .. } => fix,
            other => panic!("expected Misconfigured, got {other:?}"),
        }
    }

    #[test]
    fn reads_all_four_keys() {
        let error = PostgrestError::from_response(
            403,
            br#"{"code":"42501","message":"permission denied for table leads","details":null,"hint":"grant it"}"#,
        );
        assert_eq!(error.code.as_deref(), Some("42501"));
        assert_eq!(error.message, "permission denied for table leads");
        assert_eq!(error.details, None);
        assert_eq!(error.hint.as_deref(), Some("grant it"));
        assert_eq!(
            error.to_string(),
            "PostgREST answered 403 42501: permission denied for table leads (hint: grant it)"
        );
    }

    #[test]
    fn gateway_and_foreign_bodies() {
        let gateway = PostgrestError::from_response(
            401,
            br#"{"message":"Invalid API key","hint":"Double check the key"}"#,
        );
        assert_eq!(gateway.code, None);
        assert_eq!(gateway.message, "Invalid API key");
        let html = PostgrestError::from_response(502, b"<html>Bad Gateway</html>");
        assert_eq!(html.message, "<html>Bad Gateway</html>");
        let empty = PostgrestError::from_response(503, b"");
        assert_eq!(empty.message, "HTTP 503 with an empty body");
    }

    #[test]
    fn retry_on_5xx_and_throttling() {
        for status in [500, 502, 503, 504, 408, 429] {
            assert!(
                matches!(classify(status, "{}"), StoreError::Unavailable(_)),
                "{status}"
            );
        }
        assert!(matches!(
            classify(
                503,
                r#"{"code":"PGRST001","message":"Database client error","details":null,"hint":null}"#
            ),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn configuration_errors_name_their_fix() {
        assert!(fix_of(classify(401, r#"{"message":"Invalid API key"}"#)).starts_with("wrong key"));
        assert!(
            fix_of(classify(
                401,
                r#"{"message":"No API key found in request"}"#
            ))
            .starts_with("wrong key")
        );
        assert!(
            fix_of(classify(
                403,
                r#"{"code":"42501","message":"permission denied for table leads","details":null,"hint":null}"#
            ))
            .starts_with("grant to service_role")
        );
        assert!(
            fix_of(classify(
                404,
                r#"{"code":"PGRST205","message":"Could not find the table 'public.leads' in the schema cache","details":null,"hint":null}"#
            ))
            .starts_with("run the migrations")
        );
        assert!(
            fix_of(classify(
                400,
                r#"{"code":"PGRST204","message":"Could not find the 'x' column","details":null,"hint":null}"#
            ))
            .starts_with("run the migrations")
        );
        assert!(fix_of(classify(404, "")).starts_with("check SUPABASE_URL"));
    }

    #[test]
    fn bad_data_and_bugs() {
        assert!(matches!(
            classify(
                400,
                r#"{"code":"23514","message":"violates check constraint","details":null,"hint":null}"#
            ),
            StoreError::Rejected(_)
        ));
        assert!(matches!(
            classify(
                400,
                r#"{"code":"PGRST100","message":"failed to parse filter","details":null,"hint":null}"#
            ),
            StoreError::Internal(_)
        ));
    }
}
