//! What the stand-in knows: pages, forms, leads, subscriptions and the Page token's state.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use leadhook_shared::meta::{GRAPH_LEAD_FIELDS, parse_meta_time};
use serde_json::{Map, Value};

use super::TokenState;
use super::errors::GraphError;
use crate::deliver::LeadgenChange;

/// Meta's page size when a request gives no `limit`.
pub(super) const DEFAULT_PAGE_SIZE: usize = 25;
/// Largest `limit` the stand-in honours.
pub(super) const MAX_PAGE_SIZE: usize = 500;

/// Scopes of a healthy Page token for lead capture.
pub const FULL_SCOPES: &[&str] = &[
    "leads_retrieval",
    "pages_manage_metadata",
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_ads",
    "ads_management",
];

/// Lead fields Meta knows besides the ones leadhook asks for.
const OTHER_LEAD_FIELDS: &[&str] = &[
    "home_listing",
    "partner_name",
    "post",
    "retailer_item_id",
    "vehicle",
];
const FORM_FIELDS: &[&str] = &["id", "name", "status", "locale", "leads_count"];
const PAGE_FIELDS: &[&str] = &["id", "name", "has_lead_access"];

/// The Graph node types the stand-in serves, for `fields` checks.
#[derive(Debug, Clone, Copy)]
pub(super) enum NodeType {
    Page,
    LeadgenForm,
    Lead,
}

impl NodeType {
    pub(super) fn knows(self, field: &str) -> bool {
        match self {
            NodeType::Page => PAGE_FIELDS.contains(&field),
            NodeType::LeadgenForm => FORM_FIELDS.contains(&field),
            NodeType::Lead => GRAPH_LEAD_FIELDS
                .split(',')
                .chain(OTHER_LEAD_FIELDS.iter().copied())
                .any(|known| known == field),
        }
    }

    /// What Graph returns without `fields`.
    pub(super) fn default_fields(self) -> &'static [&'static str] {
        match self {
            NodeType::Page => &["id", "name"],
            NodeType::LeadgenForm => &["id", "name", "status", "locale"],
            NodeType::Lead => &["id", "created_time"],
        }
    }
}

pub(super) struct World {
    /// Page id → name.
    pub(super) pages: BTreeMap<String, String>,
    pub(super) forms: BTreeMap<String, StoredForm>,
    pub(super) leads: BTreeMap<String, StoredLead>,
    pub(super) lead_order: Vec<String>,
    /// Page id → the webhook fields it subscribed the app to.
    pub(super) subscriptions: BTreeMap<String, Vec<String>>,
    pub(super) token: TokenState,
    pub(super) token_changed_at: DateTime<Utc>,
    pub(super) leads_readable: bool,
    pub(super) next_lead_id: u64,
    /// The app's webhook subscription for Page objects (`GET /<app_id>/subscriptions`).
    pub(super) app_subscription: Option<AppSubscription>,
    /// Form id → its one test lead.
    pub(super) test_leads: BTreeMap<String, String>,
    /// Whether test leads are announced by a webhook (off: Meta cannot reach the callback).
    pub(super) delivers_webhooks: bool,
    /// Webhooks to send once the current request is answered: (callback URL, change).
    pub(super) outbox: Vec<(String, LeadgenChange)>,
}

/// The app's webhook subscription for one object type, as `GET /<app_id>/subscriptions` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSubscription {
    pub object: String,
    pub callback_url: String,
    pub active: bool,
    pub fields: Vec<String>,
}

impl AppSubscription {
    /// An active `page` subscription to `leadgen` webhooks sent to `callback_url`.
    pub fn leadgen(callback_url: impl Into<String>) -> AppSubscription {
        AppSubscription {
            object: "page".to_string(),
            callback_url: callback_url.into(),
            active: true,
            fields: vec!["leadgen".to_string()],
        }
    }
}

pub(super) struct StoredForm {
    pub(super) page_id: String,
    pub(super) name: String,
}

pub(super) struct StoredLead {
    pub(super) form_id: String,
    pub(super) created: i64,
    pub(super) fields: Map<String, Value>,
}

impl World {
    pub(super) fn add_form(&mut self, page_id: &str, form_id: &str, name: Option<&str>) {
        self.pages
            .entry(page_id.to_string())
            .or_insert_with(|| format!("Page {page_id}"));
        let form = self
            .forms
            .entry(form_id.to_string())
            .or_insert_with(|| StoredForm {
                page_id: page_id.to_string(),
                name: format!("Form {form_id}"),
            });
        if let Some(name) = name {
            form.name = name.to_string();
        }
    }

    pub(super) fn add_lead(
        &mut self,
        page_id: &str,
        form_id: &str,
        mut fields: Map<String, Value>,
    ) -> String {
        self.add_form(page_id, form_id, None);
        let id = match fields.get("id") {
            Some(Value::String(id)) => id.clone(),
            Some(Value::Number(id)) => id.to_string(),
            _ => {
                self.next_lead_id += 1;
                self.next_lead_id.to_string()
            }
        };
        fields.insert("id".into(), Value::String(id.clone()));
        fields
            .entry("form_id")
            .or_insert_with(|| Value::String(form_id.to_string()));
        let created = match fields.get("created_time").and_then(Value::as_str) {
            Some(time) => parse_meta_time(time).unwrap_or_else(Utc::now),
            None => {
                let now = Utc::now();
                fields.insert(
                    "created_time".into(),
                    Value::String(now.format("%Y-%m-%dT%H:%M:%S%z").to_string()),
                );
                now
            }
        };
        let lead = StoredLead {
            form_id: form_id.to_string(),
            created: created.timestamp(),
            fields,
        };
        if self.leads.insert(id.clone(), lead).is_none() {
            self.lead_order.push(id.clone());
        }
        id
    }

    /// Removes a lead (and its test-lead mark); `false` when there is no such lead.
    pub(super) fn remove_lead(&mut self, id: &str) -> bool {
        if self.leads.remove(id).is_none() {
            return false;
        }
        self.lead_order.retain(|other| other != id);
        self.test_leads.retain(|_, lead| lead != id);
        true
    }

    /// Whether Meta would send `page_id`'s leadgen webhooks to the app's callback, and where.
    pub(super) fn leadgen_callback(&self, page_id: &str) -> Option<String> {
        let page_subscribed = self
            .subscriptions
            .get(page_id)
            .is_some_and(|fields| fields.iter().any(|field| field == "leadgen"));
        let app = self.app_subscription.as_ref()?;
        let app_listens =
            app.object == "page" && app.active && app.fields.iter().any(|field| field == "leadgen");
        (self.delivers_webhooks && page_subscribed && app_listens).then(|| app.callback_url.clone())
    }

    pub(super) fn scopes(&self) -> Vec<&'static str> {
        match &self.token {
            TokenState::MissingScopes(missing) => FULL_SCOPES
                .iter()
                .copied()
                .filter(|scope| !missing.iter().any(|m| m == scope))
                .collect(),
            _ => FULL_SCOPES.to_vec(),
        }
    }

    pub(super) fn require_scope(&self, scope: &str) -> Result<(), GraphError> {
        if self.scopes().contains(&scope) {
            Ok(())
        } else {
            Err(GraphError::new(200, None).with_message(format!(
                "(#200) Requires {scope} permission to manage the object"
            )))
        }
    }

    /// When the token expires: 0 for never, as `debug_token` reports it.
    pub(super) fn token_expires_at(&self) -> i64 {
        match self.token {
            TokenState::Expired => self.token_changed_at.timestamp() - 60,
            TokenState::ShortLived => self.token_changed_at.timestamp() + 3600,
            TokenState::Valid | TokenState::MissingScopes(_) => 0,
        }
    }
}
