use std::sync::Arc;
use std::time::Duration;

use leadhook_shared::meta::signature::appsecret_proof;
use leadhook_shared::meta::{GRAPH_LEAD_FIELDS, GraphLead};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use super::error::{GraphError, classify};
use crate::config::{CapiConfig, Config};

/// Talks to `<graph_url>/<version>/...` with the Page token.
///
/// Every call carries `appsecret_proof` (HMAC of the token keyed with the App Secret), which Meta
/// requires when the app enables "Require App Secret". Errors never contain the token: reqwest's
/// errors are stripped of their URL. At most `concurrency` calls of one client (and its clones) are
/// in flight at once; the others wait their turn.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    in_flight: Arc<Semaphore>,
    base: String,
    token: SecretString,
    appsecret_proof: SecretString,
}

impl GraphClient {
    pub fn new(
        graph_url: &str,
        version: &str,
        token: SecretString,
        app_secret: &SecretString,
        timeout: Duration,
        concurrency: usize,
    ) -> Result<GraphClient, GraphError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("leadhook/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                GraphError::Other(format!("cannot build the HTTP client: {}", e.without_url()))
            })?;
        let appsecret_proof = SecretString::from(appsecret_proof(
            app_secret.expose_secret().as_bytes(),
            token.expose_secret().as_bytes(),
        ));
        Ok(GraphClient {
            http,
            in_flight: Arc::new(Semaphore::new(concurrency.max(1))),
            base: format!("{}/{}", graph_url.trim_end_matches('/'), version),
            token,
            appsecret_proof,
        })
    }

    /// The client of a server configured by `config`.
    pub fn for_config(config: &Config) -> Result<GraphClient, GraphError> {
        GraphClient::new(
            &config.graph_url,
            &config.graph_version,
            config.page_access_token.clone(),
            &config.app_secret,
            config.graph_timeout,
            config.graph_concurrency,
        )
    }

    /// The Conversions API client: the CAPI token (with its own proof) and request timeout.
    pub fn for_capi(config: &Config, capi: &CapiConfig) -> Result<GraphClient, GraphError> {
        GraphClient::new(
            &config.graph_url,
            &config.graph_version,
            capi.token.clone(),
            &config.app_secret,
            capi.timeout,
            config.graph_concurrency,
        )
    }

    /// `GET /<version>/<leadgen_id>?fields=...`
    pub async fn lead(&self, leadgen_id: &str) -> Result<GraphLead, GraphError> {
        self.get(leadgen_id, &[("fields", GRAPH_LEAD_FIELDS)]).await
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, GraphError> {
        self.call(reqwest::Method::GET, path, query, Credentials::PageToken)
            .await
    }

    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        credentials: Credentials<'_>,
    ) -> Result<T, GraphError> {
        let url = format!(
            "{}/{}",
            self.base,
            urlencoding::encode(path).replace("%2F", "/")
        );
        let request = self.http.request(method, &url).query(query);
        let request = match credentials {
            Credentials::PageToken => request.query(&[
                ("access_token", self.token.expose_secret()),
                ("appsecret_proof", self.appsecret_proof.expose_secret()),
            ]),
            Credentials::App(token) => request.query(&[("access_token", token.expose_secret())]),
        };
        self.answer(request).await
    }

    /// `POST /<version>/<path>` with a JSON body, the token and its `appsecret_proof`.
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, GraphError> {
        let request = self
            .http
            .post(format!("{}/{path}", self.base))
            .query(&[
                ("access_token", self.token.expose_secret()),
                ("appsecret_proof", self.appsecret_proof.expose_secret()),
            ])
            .json(body);
        self.answer(request).await
    }

    /// Sends `request` and reads Meta's answer, classifying any error.
    async fn answer<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, GraphError> {
        let _turn = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| GraphError::Other("the Graph API client was closed".into()))?;
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport_error)?;
        if !status.is_success() {
            return Err(classify(status.as_u16(), &body, &headers));
        }
        let unexpected = |e: serde_json::Error| {
            GraphError::Other(format!("unexpected answer from the Graph API: {e}"))
        };
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(unexpected)?;
        if value.get("error").is_some() {
            // A 200 can still carry an error object.
            return Err(classify(status.as_u16(), &body, &headers));
        }
        serde_json::from_value(value).map_err(unexpected)
    }
}

/// Which token a call carries.
pub(super) enum Credentials<'a> {
    /// The configured Page token, with its `appsecret_proof`.
    PageToken,
    /// An app access token (`<app-id>|<app-secret>`), for `debug_token`.
    App(&'a SecretString),
}

fn transport_error(error: reqwest::Error) -> GraphError {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    GraphError::Transient(format!("{what}: {}", error.without_url()))
}

#[derive(serde::Deserialize)]
struct Named {
    #[serde(default)]
    name: Option<String>,
}

impl GraphClient {
    /// `GET /<version>/<form_id>?fields=name`: the form's name as reps know it.
    pub async fn form_name(&self, form_id: &str) -> Result<Option<String>, GraphError> {
        self.object_name(form_id).await
    }

    /// `GET /<version>/<id>?fields=name`: any object's name (a form, a CRM dataset).
    pub async fn object_name(&self, id: &str) -> Result<Option<String>, GraphError> {
        Ok(self.get::<Named>(id, &[("fields", "name")]).await?.name)
    }
}

/// One page of a Graph API edge with cursor paging.
#[derive(serde::Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    data: Vec<T>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(serde::Deserialize)]
struct Paging {
    #[serde(default)]
    cursors: Option<Cursors>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(serde::Deserialize)]
struct Cursors {
    #[serde(default)]
    after: Option<String>,
}

/// A lead form of a page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct LeadForm {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// Most pages one listing follows; a guard against a paging loop.
const MAX_PAGES: usize = 1000;

impl GraphClient {
    /// Follows `paging.cursors.after` until `paging.next` is absent.
    pub(super) async fn all_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<T>, GraphError> {
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut params = query.to_vec();
            if let Some(cursor) = after.as_deref() {
                params.push(("after", cursor));
            }
            let page: Page<T> = self.get(path, &params).await?;
            items.extend(page.data);
            match page.paging {
                Some(Paging {
                    next: Some(_),
                    cursors:
                        Some(Cursors {
                            after: Some(cursor),
                        }),
                }) => after = Some(cursor),
                _ => return Ok(items),
            }
        }
        Err(GraphError::Other(format!(
            "{path}: more than {MAX_PAGES} pages, stopped following"
        )))
    }

    /// `GET /<version>/<page_id>/leadgen_forms`
    pub async fn leadgen_forms(&self, page_id: &str) -> Result<Vec<LeadForm>, GraphError> {
        self.all_pages(
            &format!("{page_id}/leadgen_forms"),
            &[("fields", "id,name,status"), ("limit", "100")],
        )
        .await
    }

    /// `GET /<version>/<form_id>/leads` created after `after_unix` (seconds), every page.
    pub async fn form_leads(
        &self,
        form_id: &str,
        after_unix: i64,
    ) -> Result<Vec<GraphLead>, GraphError> {
        let filtering = format!(
            r#"[{{"field":"time_created","operator":"GREATER_THAN","value":{after_unix}}}]"#
        );
        self.all_pages(
            &format!("{form_id}/leads"),
            &[
                ("fields", GRAPH_LEAD_FIELDS),
                ("filtering", &filtering),
                ("limit", "100"),
            ],
        )
        .await
    }
}

/// What `debug_token` says about the Page token.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct TokenInfo {
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub is_valid: bool,
    /// Unix seconds; 0 means it never expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub profile_id: Option<String>,
}

#[derive(serde::Deserialize)]
pub(super) struct DataOf<T> {
    pub(super) data: T,
}

/// An app subscribed to a page's webhooks.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct SubscribedApp {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub subscribed_fields: Vec<String>,
}

#[derive(serde::Deserialize)]
pub(super) struct Success {
    #[serde(default)]
    pub(super) success: bool,
}

/// The app access token `<app-id>|<app-secret>`, for calls about the app rather than the page.
pub(super) fn app_token(app_id: &str, app_secret: &SecretString) -> SecretString {
    SecretString::from(format!("{app_id}|{}", app_secret.expose_secret()))
}

impl GraphClient {
    /// `GET /<version>/debug_token?input_token=<page token>` with the app token `<app-id>|<app-secret>`.
    pub async fn debug_token(
        &self,
        app_id: &str,
        app_secret: &SecretString,
    ) -> Result<TokenInfo, GraphError> {
        let app_token = app_token(app_id, app_secret);
        let info: DataOf<TokenInfo> = self
            .call(
                reqwest::Method::GET,
                "debug_token",
                &[("input_token", self.token.expose_secret())],
                Credentials::App(&app_token),
            )
            .await?;
        Ok(info.data)
    }

    /// `GET /<version>/<page_id>/subscribed_apps`
    pub async fn subscribed_apps(&self, page_id: &str) -> Result<Vec<SubscribedApp>, GraphError> {
        let apps: DataOf<Vec<SubscribedApp>> =
            self.get(&format!("{page_id}/subscribed_apps"), &[]).await?;
        Ok(apps.data)
    }

    /// `POST /<version>/<page_id>/subscribed_apps?subscribed_fields=leadgen`
    pub async fn subscribe_leadgen(&self, page_id: &str) -> Result<bool, GraphError> {
        let answer: Success = self
            .call(
                reqwest::Method::POST,
                &format!("{page_id}/subscribed_apps"),
                &[("subscribed_fields", "leadgen")],
                Credentials::PageToken,
            )
            .await?;
        Ok(answer.success)
    }
}
