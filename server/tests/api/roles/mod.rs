//! Who may do what, over HTTP, on both stores: every `/api` route for every role against the
//! caller's own lead, another rep's and an unowned one ([`matrix`]), and what reps see with
//! `LEADHOOK_VISIBILITY=own` ([`visibility`]).

mod matrix;
mod visibility;

use leadhook_local_supabase::LocalSupabase;
use leadhook_server::config::{ServeArgs, StoreConfig};
use leadhook_shared::{ApiOk, Lead};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_from_args, spawn_graph};

/// The team: two reps, a manager and an admin, each with a `name:role:token` entry.
pub const TEAM: [(&str, &str); 4] = [
    ("alice", "rep"),
    ("zoe", "rep"),
    ("mia", "manager"),
    ("ada", "admin"),
];

pub fn token(name: &str) -> String {
    format!("{name}-token-0123456789")
}

/// The store a server of these tests keeps its leads in.
pub enum Backend {
    Sqlite,
    Supabase,
}

pub struct RolesApp {
    pub app: TestApp,
    _supabase: Option<LocalSupabase>,
}

impl std::ops::Deref for RolesApp {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

pub async fn spawn(backend: Backend, visibility: &str) -> RolesApp {
    spawn_with(backend, visibility, |_| {}).await
}

/// As [`spawn`], with more settings made by `edit_args`.
pub async fn spawn_with(
    backend: Backend,
    visibility: &str,
    edit_args: impl FnOnce(&mut ServeArgs),
) -> RolesApp {
    let supabase = match backend {
        Backend::Sqlite => None,
        Backend::Supabase => Some(
            LocalSupabase::with_migrations(leadhook_server::store::postgrest::MIGRATIONS).await,
        ),
    };
    let tokens = TEAM
        .iter()
        .map(|(name, role)| format!("{name}:{role}:{}", token(name)))
        .collect::<Vec<_>>()
        .join(",");
    let visibility = visibility.to_string();
    let store = supabase.as_ref().map(|supabase| StoreConfig::Supabase {
        url: supabase.base_url.clone(),
        key: supabase.secret_key().to_string().into(),
    });
    let app = spawn_app_from_args(
        spawn_graph().await,
        tempfile::tempdir().expect("temp dir"),
        |args| {
            args.api_tokens = Some(tokens.into());
            args.visibility = Some(visibility);
            edit_args(args);
        },
        |config| {
            if let Some(store) = store {
                config.store = store;
            }
        },
    )
    .await;
    RolesApp {
        app,
        _supabase: supabase,
    }
}

impl TestApp {
    pub async fn send_as(
        &self,
        name: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token(name));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("api request")
    }

    /// A manual lead entered by the admin, then given to `owner` (or left unowned).
    pub async fn lead_owned_by(&self, owner: Option<&str>) -> Lead {
        let created = self
            .send_as(
                "ada",
                reqwest::Method::POST,
                "/api/leads",
                Some(json!({"name": "Jane Doe", "phone": "+15550001111"})),
            )
            .await;
        assert_eq!(created.status(), 201);
        let lead = created.json::<ApiOk<Lead>>().await.expect("lead").data;
        let Some(owner) = owner else {
            return lead;
        };
        let given = self
            .send_as(
                "ada",
                reqwest::Method::PATCH,
                &format!("/api/leads/{}", lead.id),
                Some(json!({ "owner": owner })),
            )
            .await;
        assert_eq!(given.status(), 200);
        given.json::<ApiOk<Lead>>().await.expect("lead").data
    }
}
