use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use leadhook_shared::Role;

use crate::app::AppState;
use crate::error::AppError;

/// Who a request comes from: the rep whose token it carries, and their role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

/// Accepts `Authorization: Bearer <token>` for any token in `LEADHOOK_API_TOKENS`.
pub async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or(AppError::Unauthorized)?;
    // Compare against every token so the time taken does not tell which one nearly matched.
    let rep = state
        .config
        .api_tokens
        .iter()
        .fold(None, |found, candidate| {
            let matches: bool = candidate
                .token
                .expose_secret()
                .as_bytes()
                .ct_eq(presented.as_bytes())
                .into();
            found.or(matches.then(|| Caller {
                name: candidate.name.clone(),
                role: candidate.role,
            }))
        })
        .ok_or(AppError::Unauthorized)?;
    request.extensions_mut().insert(rep);
    Ok(next.run(request).await)
}
