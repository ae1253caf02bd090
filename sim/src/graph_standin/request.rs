//! A Graph request taken apart: `/<version>/<node>[/<edge>]`, its parameters and its kind.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Method, Uri, header};

use super::{CallKind, Shared};

/// A parsed Graph request: `/<version>/<node>[/<edge>]` with its parameters.
pub(super) struct GraphRequest {
    pub(super) method: Method,
    pub(super) version: String,
    pub(super) node: String,
    pub(super) edge: Option<String>,
    pub(super) params: BTreeMap<String, String>,
    pub(super) kind: CallKind,
    /// `/<version>/<node>[/<edge>]` with a `vN.N` version; anything else is an unknown path.
    pub(super) well_formed: bool,
    /// The raw body (the Conversions API takes JSON).
    pub(super) body: Vec<u8>,
}

impl GraphRequest {
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

pub(super) fn parse_request(
    shared: &Shared,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> GraphRequest {
    let mut params = parse_form(uri.query().unwrap_or_default().as_bytes());
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if method != Method::GET && !is_json {
        params.extend(parse_form(body));
    }
    if !params.contains_key("access_token") {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("OAuth "))
            });
        if let Some(token) = bearer {
            params.insert("access_token".into(), token.trim().to_string());
        }
    }
    let mut segments = uri.path().trim_matches('/').split('/').map(str::to_string);
    let version = segments.next().unwrap_or_default();
    let node = segments.next().unwrap_or_default();
    let edge = segments.next();
    let well_formed = segments.next().is_none() && is_graph_version(&version) && !node.is_empty();
    let kind = if !well_formed {
        CallKind::Other
    } else {
        match edge.as_deref() {
            Some("leads") => CallKind::FormLeads,
            Some("leadgen_forms") => CallKind::LeadgenForms,
            Some("subscribed_apps") => CallKind::SubscribedApps,
            Some("events") => CallKind::Events,
            Some("insights") => CallKind::AdsInsights,
            Some(_) => CallKind::Other,
            None if node == "debug_token" => CallKind::DebugToken,
            None => {
                let world = shared.world();
                if node == "me"
                    || node == shared.config.dataset_id
                    || world.pages.contains_key(&node)
                    || world.forms.contains_key(&node)
                {
                    CallKind::Other
                } else {
                    CallKind::Lead
                }
            }
        }
    };
    GraphRequest {
        method,
        version,
        node,
        edge,
        params,
        kind,
        well_formed,
        body: body.to_vec(),
    }
}

/// `v23.0` and the like.
fn is_graph_version(segment: &str) -> bool {
    segment.strip_prefix('v').is_some_and(|number| {
        number.split_once('.').is_some_and(|(major, minor)| {
            [major, minor]
                .iter()
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        })
    })
}

/// `application/x-www-form-urlencoded` pairs (query strings and POST bodies).
fn parse_form(text: &[u8]) -> BTreeMap<String, String> {
    let decode = |part: &[u8]| {
        let spaced: Vec<u8> = part
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        urlencoding::decode_binary(&spaced).into_owned()
    };
    text.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.iter().position(|&b| b == b'=') {
            Some(equals) => (decode(&pair[..equals]), decode(&pair[equals + 1..])),
            None => (decode(pair), Vec::new()),
        })
        .map(|(name, value)| {
            (
                String::from_utf8_lossy(&name).into_owned(),
                String::from_utf8_lossy(&value).into_owned(),
            )
        })
        .collect()
}
