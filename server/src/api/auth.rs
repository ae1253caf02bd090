use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;

use leadhook_shared::Role;

use crate::app::AppState;
use crate::error::AppError;

/// Who a request comes from: the rep whose token it carries, and their role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

/// The token of `Authorization: Bearer <token>`, if the request carries one.
pub(super) fn presented_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// Accepts `Authorization: Bearer <token>` for a token of `LEADHOOK_API_TOKENS` or of a rep in
/// the store (see [`crate::reps::RepCache`]), looked up by its SHA-256.
pub async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let presented = presented_token(request.headers()).ok_or(AppError::Unauthorized)?;
    let rep = state
        .reps
        .authenticate(presented)
        .ok_or(AppError::Unauthorized)?;
    request.extensions_mut().insert(rep);
    Ok(next.run(request).await)
}
