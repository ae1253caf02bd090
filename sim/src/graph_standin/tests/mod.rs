//! The stand-in over HTTP, as the server's Graph client sees it.

mod capi;
mod faults;
mod load;
mod reads;
mod setup;
mod tokens;

use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use leadhook_shared::meta::signature;
use leadhook_shared::meta::{GRAPH_LEAD_FIELDS, parse_meta_time};

use serde_json::{Value, json};

use super::*;
use crate::fake_leads::{DEFAULT_PAGE_ID, LeadFaker};

const VERSION: &str = "v23.0";

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn new(standin: &GraphStandin) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: format!("{}/{VERSION}", standin.base_url()),
            token: standin.config().page_token.clone(),
        }
    }

    /// GET `path` with the Page token and `query`.
    async fn get(&self, path: &str, query: &[(&str, &str)]) -> (StatusCode, HeaderMap, Value) {
        let request = self
            .http
            .get(format!("{}/{path}", self.base))
            .query(&[("access_token", self.token.as_str())])
            .query(query);
        send(request).await
    }
}

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, HeaderMap, Value) {
    let response = request.send().await.unwrap();
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap();
    assert!(body.is_ascii(), "Meta escapes non-ASCII: {body:?}");
    (status, headers, serde_json::from_slice(&body).unwrap())
}

fn assert_meta_error(
    (status, _, body): &(StatusCode, HeaderMap, Value),
    code: u64,
    subcode: Option<u64>,
) {
    assert_eq!(*status, StatusCode::BAD_REQUEST, "{body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(error["error_subcode"].as_u64(), subcode, "{body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        error["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("Exception"))
    );
    assert_eq!(error["fbtrace_id"].as_str().map(str::len), Some(11));
    assert!(error["is_transient"].is_boolean());
}

async fn standin() -> GraphStandin {
    GraphStandin::spawn(StandinConfig::default()).await.unwrap()
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_750_000_000 + seconds, 0).unwrap()
}

/// Adds `count` leads to one form, one a minute, and returns the form id.
fn add_leads(standin: &GraphStandin, count: i64) -> String {
    let mut faker = LeadFaker::new(42);
    let form_id = "555000111";
    standin.add_form(DEFAULT_PAGE_ID, form_id, "Spring Promo");
    for minute in 0..count {
        let mut lead = faker.next_lead(at(minute * 60));
        lead.form_id = form_id.to_string();
        standin.add_fake_lead(&lead);
    }
    form_id.to_string()
}
