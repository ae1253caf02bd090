//! The Marketing API's ads insights: what an ad account spent per campaign, ad set or ad.

use chrono::NaiveDate;
use serde::Deserialize;

use super::{GraphClient, GraphError};
use crate::config::{AdsConfig, Config};

/// One row of `GET /<version>/act_<id>/insights?level=...`: the id of its level, and the spend
/// as Meta writes it (a decimal string in the account's currency).
#[derive(Debug, Clone, Deserialize)]
pub struct SpendRow {
    #[serde(default)]
    pub campaign_id: Option<String>,
    #[serde(default)]
    pub adset_id: Option<String>,
    #[serde(default)]
    pub ad_id: Option<String>,
    #[serde(default)]
    pub campaign_name: Option<String>,
    #[serde(default)]
    pub adset_name: Option<String>,
    #[serde(default)]
    pub ad_name: Option<String>,
    #[serde(default)]
    pub spend: Option<String>,
    #[serde(default)]
    pub account_currency: Option<String>,
}

impl SpendRow {
    /// The id of the object the row is about, at `level`.
    pub fn id(&self, level: &str) -> Option<&str> {
        match level {
            "campaign" => self.campaign_id.as_deref(),
            "adset" => self.adset_id.as_deref(),
            "ad" => self.ad_id.as_deref(),
            _ => None,
        }
    }

    /// The name of the object the row is about, at `level`.
    pub fn name(&self, level: &str) -> Option<&str> {
        match level {
            "campaign" => self.campaign_name.as_deref(),
            "adset" => self.adset_name.as_deref(),
            "ad" => self.ad_name.as_deref(),
            _ => None,
        }
    }
}

impl GraphClient {
    /// The client of the ads insights: the ads token (with its own proof).
    pub fn for_ads(config: &Config, ads: &AdsConfig) -> Result<GraphClient, GraphError> {
        GraphClient::new(
            &config.graph_url,
            &config.graph_version,
            ads.token.clone(),
            &config.app_secret,
            config.graph_timeout,
            config.graph_concurrency,
        )
    }

    /// What `account` (`act_<number>`) spent per object of `level` (`campaign`, `adset`, `ad`)
    /// from `since` through `until` (days in the ad account's time zone), every page.
    pub async fn ad_spend(
        &self,
        account: &str,
        level: &str,
        since: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<SpendRow>, GraphError> {
        let time_range = format!(r#"{{"since":"{since}","until":"{until}"}}"#);
        let fields = format!("{level}_id,{level}_name,spend,account_currency");
        self.all_pages(
            &format!("{account}/insights"),
            &[
                ("level", level),
                ("fields", &fields),
                ("time_range", &time_range),
                ("limit", "500"),
            ],
        )
        .await
    }
}
