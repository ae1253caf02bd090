//! The ad spend check: the ad account's spend of the last 7 days is readable with the ads token.

use chrono::{Days, Utc};

use crate::config::{AdsConfig, Config};
use crate::graph::GraphClient;

use super::Check;

const NAME: &str = "ad spend (insights)";

/// Reads `act_<FB_AD_ACCOUNT_ID>/insights` for the last 7 days at campaign level, as the
/// insights do, with `FB_ADS_TOKEN` (or the Page token).
pub async fn check_account(config: &Config, ads: &AdsConfig) -> Check {
    let graph = match GraphClient::for_ads(config, ads) {
        Ok(graph) => graph,
        Err(error) => return Check::from_graph_error(NAME, &error),
    };
    let until = Utc::now().date_naive();
    let since = until.checked_sub_days(Days::new(6)).unwrap_or(until);
    match graph
        .ad_spend(&ads.account(), "campaign", since, until)
        .await
    {
        Ok(rows) => Check::pass(
            NAME,
            format!(
                "{} is readable: {} campaign(s) spent in the last 7 days; the insights show cost per lead",
                ads.account(),
                rows.len()
            ),
        ),
        Err(error) => Check::from_setting_read(
            NAME,
            &error,
            "set FB_ADS_TOKEN to a valid token with ads_read (a system user's, or your own)",
            "check FB_AD_ACCOUNT_ID (Ads Manager > the account menu) and give FB_ADS_TOKEN's user ads_read on that account",
        ),
    }
}
