//! One Conversions API event from a queued stage, checked the way Meta checks it.

use chrono::{DateTime, Utc};
use leadhook_shared::LeadStatus;
use serde_json::{Value, json};

use crate::config::CapiConfig;
use crate::store::QueuedStage;

/// How far back Meta takes CRM events.
pub const MAX_EVENT_AGE: chrono::TimeDelta = chrono::TimeDelta::days(7);
/// Clock difference between Meta and this server tolerated around a lead's creation.
const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// The stage the stores queue for a lead stored as junk (both stores' CAPI triggers write it).
pub const JUNK_STAGE: &str = "Junk";
/// Our name in `custom_data.lead_event_source`.
pub const LEAD_EVENT_SOURCE: &str = "leadhook";

/// An event ready to send, with the outbox row it came from.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub outbox_id: i64,
    pub body: Value,
}

/// Builds the event of `stage`, or says why Meta would refuse it (checked at `now`).
pub fn prepare(
    stage: &QueuedStage,
    config: &CapiConfig,
    now: DateTime<Utc>,
) -> Result<Prepared, String> {
    let lead_id: u64 = stage
        .leadgen_id
        .parse()
        .map_err(|_| format!("leadgen id {:?} is not numeric", stage.leadgen_id))?;
    if stage.at < now - MAX_EVENT_AGE {
        return Err(format!(
            "changed at {}, more than 7 days ago: Meta takes CRM events up to 7 days old",
            stage.at.format("%Y-%m-%d %H:%M:%SZ")
        ));
    }
    // Meta's clock stamps the lead, ours the change: a change a little before the creation is
    // skew (the lead was stored the moment it arrived) and is sent at the creation time.
    let event_time = stage.at.timestamp().max(stage.lead_created_at.timestamp());
    if stage.at < stage.lead_created_at - CLOCK_SKEW {
        return Err(format!(
            "changed at {}, before the lead was created at {}",
            stage.at.format("%Y-%m-%d %H:%M:%SZ"),
            stage.lead_created_at.format("%Y-%m-%d %H:%M:%SZ")
        ));
    }
    let event_name = if stage.stage == JUNK_STAGE {
        config.junk_event.as_str()
    } else {
        let status: LeadStatus = stage.stage.parse().map_err(|e| format!("{e}"))?;
        config.event_name(status)
    };
    Ok(Prepared {
        outbox_id: stage.id,
        body: json!({
            "event_name": event_name,
            "event_time": event_time,
            "action_source": "system_generated",
            "user_data": {"lead_id": lead_id},
            "custom_data": {"event_source": "crm", "lead_event_source": LEAD_EVENT_SOURCE},
            "event_id": stage.event_id,
        }),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use secrecy::SecretString;

    use super::*;

    fn config() -> CapiConfig {
        CapiConfig {
            dataset_id: "1".into(),
            token: SecretString::from("t"),
            stages: BTreeMap::from([(LeadStatus::Won, "Purchase".to_string())]),
            junk_event: "Worthless".into(),
            batch_wait: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            retry_cap: Duration::from_secs(1),
        }
    }

    fn stage(leadgen_id: &str, age: chrono::TimeDelta, stage: &str) -> QueuedStage {
        let now = Utc::now();
        QueuedStage {
            id: 7,
            event_id: "leadhook-3-9".into(),
            leadgen_id: leadgen_id.into(),
            stage: stage.into(),
            at: now - age,
            lead_created_at: now - chrono::TimeDelta::days(8),
        }
    }

    #[test]
    fn the_event_has_metas_fields_and_types() {
        let queued = stage("1234567890123456", chrono::TimeDelta::hours(1), "Won");
        let event = prepare(&queued, &config(), Utc::now()).unwrap().body;
        assert_eq!(
            event,
            json!({"event_name": "Purchase", "event_time": queued.at.timestamp(),
                "action_source": "system_generated", "user_data": {"lead_id": 1234567890123456u64},
                "custom_data": {"event_source": "crm", "lead_event_source": "leadhook"},
                "event_id": "leadhook-3-9"})
        );
    }

    #[test]
    fn old_early_and_non_numeric_stages_are_refused() {
        let now = Utc::now();
        let old = stage(
            "1234567890123456",
            chrono::TimeDelta::days(7) + chrono::TimeDelta::minutes(1),
            "Won",
        );
        assert!(
            prepare(&old, &config(), now)
                .unwrap_err()
                .contains("7 days")
        );
        let mut early = stage("1234567890123456", chrono::TimeDelta::hours(1), "Won");
        early.lead_created_at = now;
        assert!(
            prepare(&early, &config(), now)
                .unwrap_err()
                .contains("before the lead")
        );
        let mut skewed = stage(
            "1234567890123456",
            chrono::TimeDelta::seconds(30),
            "New Lead",
        );
        skewed.lead_created_at = now;
        let event = prepare(&skewed, &config(), now).unwrap().body;
        assert_eq!(event["event_time"], now.timestamp(), "sent at the creation");
        let text = stage("lead-1", chrono::TimeDelta::hours(1), "Won");
        assert!(
            prepare(&text, &config(), now)
                .unwrap_err()
                .contains("not numeric")
        );
    }
}
