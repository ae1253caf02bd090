//! A gateway in front of PostgREST that behaves like Supabase's (Kong): tables under `/rest/v1`, an
//! `apikey` header required, a secret key (`sb_secret_...`) turned into a short-lived
//! `service_role` JWT, a legacy JWT key passed on as the bearer.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The most a request body may hold (Supabase's gateway allows more; the tests send far less).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The keys of the local project, as the Supabase dashboard shows them.
pub struct Keys {
    /// A new-style secret key: `sb_secret_...`, not a JWT.
    pub secret: String,
    /// The legacy `service_role` key: a JWT signed with the project's JWT secret.
    pub legacy_service_role: String,
    /// The legacy `anon` key.
    pub legacy_anon: String,
    jwt_secret: String,
}

impl Keys {
    pub fn generate() -> Keys {
        let random = |len: usize| -> String {
            use rand::distr::{Alphanumeric, SampleString};
            Alphanumeric.sample_string(&mut rand::rng(), len)
        };
        let jwt_secret = random(48);
        // Ten years, as Supabase's legacy keys.
        let legacy = |role: &str| sign(&jwt_secret, role, 10 * 365 * 24 * 3600);
        Keys {
            secret: format!("sb_secret_{}", random(32)),
            legacy_service_role: legacy("service_role"),
            legacy_anon: legacy("anon"),
            jwt_secret,
        }
    }

    /// The `jwt-secret` PostgREST checks tokens with.
    pub fn jwt_secret(&self) -> &str {
        &self.jwt_secret
    }
}

/// An HS256 JWT for `role`, as Supabase issues them.
fn sign(jwt_secret: &str, role: &str, lifetime_secs: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0);
    let claims = json!({"iss": "supabase", "ref": "local", "role": role, "iat": now, "exp": now + lifetime_secs});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(jwt_secret.as_bytes()),
    )
    .unwrap_or_else(|e| panic!("cannot sign a JWT: {e}"))
}

pub struct Gateway {
    pub keys: Keys,
    /// PostgREST's own address, e.g. `http://127.0.0.1:3000`.
    pub upstream: String,
    pub client: reqwest::Client,
}

/// Kong's own answers carry only `message` (and sometimes `hint`), never a `code`.
fn kong_error(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Hop-by-hop headers, and those the gateway sets itself.
const NOT_FORWARDED: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "content-length",
];

fn forwardable(headers: &HeaderMap) -> HeaderMap {
    headers
        .iter()
        .filter(|(name, _)| !NOT_FORWARDED.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

pub async fn handle(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let Some(rest) = request
        .uri()
        .path()
        .strip_prefix("/rest/v1")
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
    else {
        return kong_error(
            StatusCode::NOT_FOUND,
            json!({"message": "no Route matched with those values"}),
        );
    };
    let mut target = format!("{}{rest}", gateway.upstream);
    if let Some(query) = request.uri().query() {
        target = format!("{target}?{query}");
    }
    let mut headers = forwardable(request.headers());
    let Some(apikey) = request
        .headers()
        .get("apikey")
        .and_then(|v| v.to_str().ok())
    else {
        return kong_error(
            StatusCode::UNAUTHORIZED,
            json!({"message": "No API key found in request",
                   "hint": "No `apikey` request header or url param was found."}),
        );
    };
    let keys = &gateway.keys;
    let bearer = if apikey == keys.secret {
        // A secret key stands for the service role; a user's JWT, if sent, goes on as it is.
        sign(keys.jwt_secret(), "service_role", 3600)
    } else if apikey == keys.legacy_service_role || apikey == keys.legacy_anon {
        apikey.to_string()
    } else {
        return kong_error(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Invalid API key",
                   "hint": "Double check your Supabase `anon` or `service_role` API key."}),
        );
    };
    if !headers.contains_key(header::AUTHORIZATION) {
        let value = HeaderValue::from_str(&format!("Bearer {bearer}"))
            .unwrap_or_else(|e| panic!("a JWT is a header value: {e}"));
        headers.insert(header::AUTHORIZATION, value);
    }
    let method = request.method().clone();
    let Ok(body) = to_bytes(request.into_body(), MAX_BODY_BYTES).await else {
        return kong_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"message": "Request size limit exceeded"}),
        );
    };
    let upstream = gateway
        .client
        .request(method, target)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let upstream = match upstream {
        Ok(response) => response,
        Err(_) => {
            return kong_error(
                StatusCode::BAD_GATEWAY,
                json!({"message": "An invalid response was received from the upstream server"}),
            );
        }
    };
    let status = upstream.status();
    let headers = forwardable(upstream.headers());
    match upstream.bytes().await {
        Ok(body) => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = status;
            *response.headers_mut() = headers;
            response
        }
        Err(_) => kong_error(
            StatusCode::BAD_GATEWAY,
            json!({"message": "An invalid response was received from the upstream server"}),
        ),
    }
}
