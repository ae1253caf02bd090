//! Reading a webhook body within bounds: its size, its deadline, and the shared byte budget.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_LENGTH;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};

use crate::error::AppError;

/// The body length the client announced, refused at once when over `max` (before any is read).
pub fn announced_length(headers: &HeaderMap, max: usize) -> Result<Option<usize>, AppError> {
    let Some(value) = headers.get(CONTENT_LENGTH) else {
        return Ok(None);
    };
    let length: u64 = value
        .to_str()
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .ok_or_else(|| AppError::BadRequest("Content-Length must be a number of bytes".into()))?;
    match usize::try_from(length) {
        Ok(length) if length <= max => Ok(Some(length)),
        _ => Err(AppError::PayloadTooLarge),
    }
}

/// Reads the whole body, at most `max` bytes, within `deadline`.
pub async fn read_within(body: Body, max: usize, deadline: Duration) -> Result<Bytes, AppError> {
    let collected = tokio::time::timeout(deadline, Limited::new(body, max).collect())
        .await
        .map_err(|_| AppError::BodyTimeout { deadline })?;
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(AppError::PayloadTooLarge),
        Err(error) => Err(AppError::BadRequest(format!(
            "cannot read the body: {error}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn announced_lengths_are_checked_before_reading() {
        let mut headers = HeaderMap::new();
        assert!(matches!(announced_length(&headers, 10), Ok(None)));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("10"));
        assert!(matches!(announced_length(&headers, 10), Ok(Some(10))));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("11"));
        assert!(matches!(
            announced_length(&headers, 10),
            Err(AppError::PayloadTooLarge)
        ));
        headers.insert(
            CONTENT_LENGTH,
            HeaderValue::from_static("99999999999999999999999"),
        );
        assert!(matches!(
            announced_length(&headers, 10),
            Err(AppError::BadRequest(_))
        ));
    }

    #[tokio::test]
    async fn bodies_past_the_limit_are_refused() {
        let body = Body::from(vec![b'x'; 11]);
        let read = read_within(body, 10, Duration::from_secs(1)).await;
        assert!(matches!(read, Err(AppError::PayloadTooLarge)));
        let body = Body::from(vec![b'x'; 10]);
        assert_eq!(
            read_within(body, 10, Duration::from_secs(1))
                .await
                .unwrap()
                .len(),
            10
        );
    }
}
