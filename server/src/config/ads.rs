//! Settings of the ad spend read for the insights: which ad account, with which token.

use secrecy::{ExposeSecret, SecretString};

use super::{ConfigError, required_secret};

/// Reading what the ads cost from Meta's ads insights (`FB_AD_ACCOUNT_ID`).
#[derive(Debug, Clone)]
pub struct AdsConfig {
    /// The ad account's number, without `act_`.
    pub account_id: String,
    /// A token with `ads_read` on the account.
    pub token: SecretString,
}

impl AdsConfig {
    /// The account as the Marketing API names it: `act_<number>`.
    pub fn account(&self) -> String {
        format!("act_{}", self.account_id)
    }
}

/// `None` when no ad account is set; the token defaults to the Page token.
pub(super) fn parse(
    account_id: Option<String>,
    token: Option<SecretString>,
    page_token: &SecretString,
) -> Result<Option<AdsConfig>, ConfigError> {
    let Some(account) = account_id
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty())
    else {
        return Ok(None);
    };
    let number = account.strip_prefix("act_").unwrap_or(&account);
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConfigError::invalid(
            "FB_AD_ACCOUNT_ID",
            format!(
                "\"{account}\" is not an ad account id; give its number (Ads Manager > the account \
                 menu), with or without act_"
            ),
        ));
    }
    let token = match token {
        Some(token) if !token.expose_secret().trim().is_empty() => required_secret(
            Some(token),
            "FB_ADS_TOKEN",
            "give a token with the ads_read permission on the ad account",
        )?,
        _ => page_token.clone(),
    };
    Ok(Some(AdsConfig {
        account_id: number.to_string(),
        token,
    }))
}
