//! Settings of the Conversions API for CRM: where lead stages go and what each is called.

use std::collections::BTreeMap;
use std::time::Duration;

use leadhook_shared::LeadStatus;
use secrecy::{ExposeSecret, SecretString};

use super::{ConfigError, parse_duration, required_secret};
use crate::capi::JUNK_STAGE;

/// Sending each stage of each Facebook lead to a CRM dataset (`FB_DATASET_ID`).
#[derive(Debug, Clone)]
pub struct CapiConfig {
    pub dataset_id: String,
    pub token: SecretString,
    /// The event name of each status (every status has one).
    pub stages: BTreeMap<LeadStatus, String>,
    /// The event name a lead stored as junk is reported with (`Junk=...`; default `Junk`).
    pub junk_event: String,
    /// How long changes gather before a request goes out.
    pub batch_wait: Duration,
    /// How long one request may take; a claimed batch is leased for this plus a margin.
    pub timeout: Duration,
    /// Longest pause between retries while Meta fails or rate-limits.
    pub retry_cap: Duration,
}

impl CapiConfig {
    pub fn event_name(&self, status: LeadStatus) -> &str {
        self.stages
            .get(&status)
            .map_or(status.as_str(), String::as_str)
    }
}

/// The raw CAPI settings, as `ServeArgs` holds them.
pub(super) struct CapiArgs {
    pub dataset_id: Option<String>,
    pub token: Option<SecretString>,
    pub stages: Option<String>,
    pub batch_wait: Option<String>,
    pub timeout: Option<String>,
    pub retry_cap: Option<String>,
}

/// Longest event name accepted from `LEADHOOK_CAPI_STAGES`.
const MAX_EVENT_NAME: usize = 100;

pub(super) fn parse(
    args: CapiArgs,
    page_token: &SecretString,
) -> Result<Option<CapiConfig>, ConfigError> {
    let Some(dataset_id) = args
        .dataset_id
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty())
    else {
        return Ok(None);
    };
    if !dataset_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConfigError::invalid(
            "FB_DATASET_ID",
            format!("\"{dataset_id}\" is not a numeric dataset (pixel) id"),
        ));
    }
    let token = match args.token {
        Some(token) if !token.expose_secret().trim().is_empty() => required_secret(
            Some(token),
            "FB_CAPI_TOKEN",
            "give a token allowed to send events to the dataset",
        )?,
        _ => page_token.clone(),
    };
    let (stages, junk_event) = parse_stages(args.stages)?;
    Ok(Some(CapiConfig {
        dataset_id,
        token,
        stages,
        junk_event,
        batch_wait: parse_duration(
            args.batch_wait,
            "LEADHOOK_CAPI_BATCH_WAIT",
            Duration::from_secs(3),
            Duration::from_millis(10)..=Duration::from_secs(3600),
        )?,
        timeout: parse_duration(
            args.timeout,
            "LEADHOOK_CAPI_TIMEOUT",
            Duration::from_secs(30),
            Duration::from_millis(100)..=Duration::from_secs(300),
        )?,
        retry_cap: parse_duration(
            args.retry_cap,
            "LEADHOOK_CAPI_RETRY_CAP",
            Duration::from_secs(300),
            Duration::from_millis(100)..=Duration::from_secs(86_400),
        )?,
    }))
}

/// `Status=Event name` pairs, comma-separated; statuses not named keep their own name. `Junk`
/// names the event of a lead stored as junk.
fn parse_stages(
    value: Option<String>,
) -> Result<(BTreeMap<LeadStatus, String>, String), ConfigError> {
    const VAR: &str = "LEADHOOK_CAPI_STAGES";
    let mut stages: BTreeMap<LeadStatus, String> = LeadStatus::ALL
        .iter()
        .map(|status| (*status, status.as_str().to_string()))
        .collect();
    let mut junk_event = JUNK_STAGE.to_string();
    for pair in value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (stage, name) = pair.split_once('=').ok_or_else(|| {
            ConfigError::invalid(VAR, format!("\"{pair}\" is not Status=Event name"))
        })?;
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_EVENT_NAME
            || name.chars().any(char::is_control)
        {
            return Err(ConfigError::invalid(
                VAR,
                format!(
                    "the event name of {} must be 1 to {MAX_EVENT_NAME} printable characters",
                    stage.trim()
                ),
            ));
        }
        if stage.trim().eq_ignore_ascii_case(JUNK_STAGE) {
            junk_event = name.to_string();
            continue;
        }
        let status: LeadStatus = stage.trim().parse().map_err(|e| {
            ConfigError::invalid(VAR, format!("{e}, or Junk for leads stored as junk"))
        })?;
        stages.insert(status, name.to_string());
    }
    Ok((stages, junk_event))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dataset: Option<&str>, stages: Option<&str>) -> CapiArgs {
        CapiArgs {
            dataset_id: dataset.map(str::to_string),
            token: None,
            stages: stages.map(str::to_string),
            batch_wait: None,
            timeout: None,
            retry_cap: None,
        }
    }

    #[test]
    fn off_without_a_dataset_and_defaults_with_one() {
        let page = SecretString::from("page-token");
        assert!(parse(args(None, None), &page).unwrap().is_none());
        let config = parse(args(Some("1234567890"), None), &page)
            .unwrap()
            .unwrap();
        for status in LeadStatus::ALL {
            assert_eq!(config.event_name(status), status.as_str());
        }
        assert_eq!(config.junk_event, "Junk");
        assert_eq!(config.batch_wait, Duration::from_secs(3));
    }

    #[test]
    fn stages_rename_statuses_and_bad_ones_are_named() {
        let page = SecretString::from("page-token");
        let config = parse(
            args(
                Some("1"),
                Some("Won=Purchase, Lost = Lost deal, junk=Junk lead"),
            ),
            &page,
        )
        .unwrap()
        .unwrap();
        assert_eq!(config.event_name(LeadStatus::Won), "Purchase");
        assert_eq!(config.event_name(LeadStatus::Lost), "Lost deal");
        assert_eq!(config.event_name(LeadStatus::Contacted), "Contacted");
        assert_eq!(config.junk_event, "Junk lead");
        for (dataset, stages) in [
            ("pixel", None),
            ("1", Some("Won")),
            ("1", Some("Sold=x")),
            ("1", Some("Won=")),
        ] {
            assert!(
                matches!(
                    parse(args(Some(dataset), stages), &page),
                    Err(ConfigError::Invalid { .. })
                ),
                "{dataset} {stages:?}"
            );
        }
    }
}
