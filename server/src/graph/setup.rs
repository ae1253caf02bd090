//! Calls that check a setup rather than read leads: the app's webhook subscriptions, the page's
//! Leads Access, and test leads (`doctor` and `doctor --e2e`).

use secrecy::SecretString;
use serde::Deserialize;

use super::client::{Credentials, DataOf, GraphClient, Success, app_token};
use super::error::GraphError;

/// One of the app's webhook subscriptions (`GET /<app-id>/subscriptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AppSubscription {
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub callback_url: String,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub fields: Vec<SubscribedField>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SubscribedField {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
}

/// A page's `has_lead_access` (field names of Meta's Business SDK `HasLeadAccess`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct LeadAccess {
    #[serde(default)]
    pub can_access_lead: bool,
    #[serde(default)]
    pub app_has_leads_permission: Option<bool>,
    #[serde(default)]
    pub enabled_lead_access_manager: Option<bool>,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub failure_resolution: Option<String>,
}

#[derive(Deserialize)]
struct PageLeadAccess {
    #[serde(default)]
    has_lead_access: Option<LeadAccess>,
}

#[derive(Deserialize)]
struct Identified {
    id: String,
}

impl GraphClient {
    /// `GET /<version>/<app-id>/subscriptions` with the app token `<app-id>|<app-secret>`.
    pub async fn app_subscriptions(
        &self,
        app_id: &str,
        app_secret: &SecretString,
    ) -> Result<Vec<AppSubscription>, GraphError> {
        let app_token = app_token(app_id, app_secret);
        let list: DataOf<Vec<AppSubscription>> = self
            .call(
                reqwest::Method::GET,
                &format!("{app_id}/subscriptions"),
                &[],
                Credentials::App(&app_token),
            )
            .await?;
        Ok(list.data)
    }

    /// `GET /<version>/<page-id>?fields=has_lead_access`; `None` when Meta leaves the field out.
    pub async fn lead_access(&self, page_id: &str) -> Result<Option<LeadAccess>, GraphError> {
        let page: PageLeadAccess = self
            .call(
                reqwest::Method::GET,
                page_id,
                &[("fields", "has_lead_access")],
                Credentials::PageToken,
            )
            .await?;
        Ok(page.has_lead_access)
    }

    /// `GET /<version>/<form-id>/test_leads`: the ids of the form's test leads (Meta allows one).
    pub async fn test_leads(&self, form_id: &str) -> Result<Vec<String>, GraphError> {
        let list: DataOf<Vec<Identified>> = self
            .call(
                reqwest::Method::GET,
                &format!("{form_id}/test_leads"),
                &[],
                Credentials::PageToken,
            )
            .await?;
        Ok(list.data.into_iter().map(|lead| lead.id).collect())
    }

    /// `POST /<version>/<form-id>/test_leads`: a test lead with Meta's dummy answers; Meta
    /// announces it with a `leadgen` webhook like a real one. Returns its leadgen id.
    pub async fn create_test_lead(&self, form_id: &str) -> Result<String, GraphError> {
        let created: Identified = self
            .call(
                reqwest::Method::POST,
                &format!("{form_id}/test_leads"),
                &[],
                Credentials::PageToken,
            )
            .await?;
        Ok(created.id)
    }

    /// `DELETE /<version>/<lead-id>`: removes a test lead.
    pub async fn delete_lead(&self, leadgen_id: &str) -> Result<bool, GraphError> {
        let answer: Success = self
            .call(
                reqwest::Method::DELETE,
                leadgen_id,
                &[],
                Credentials::PageToken,
            )
            .await?;
        Ok(answer.success)
    }
}
