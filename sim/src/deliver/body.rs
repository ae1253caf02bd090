//! The body of a `leadgen` notification as Meta writes it: several entries and changes on
//! request, IDs as strings or numbers, non-ASCII escaped.

use serde_json::{Value, json};

use crate::fake_leads::FakeLead;
use crate::meta_json;

/// One `leadgen` change: the IDs Meta announces, without the answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadgenChange {
    pub leadgen_id: String,
    pub page_id: String,
    pub form_id: String,
    /// Missing for organic leads.
    pub ad_id: Option<String>,
    /// The ad again, under its old name; missing for organic leads.
    pub adgroup_id: Option<String>,
    /// Unix seconds of the form submission.
    pub created_time: i64,
}

impl From<&FakeLead> for LeadgenChange {
    fn from(lead: &FakeLead) -> Self {
        let ad_id = lead.ad.as_ref().map(|ad| ad.ad_id.clone());
        LeadgenChange {
            leadgen_id: lead.id.clone(),
            page_id: lead.page_id.clone(),
            form_id: lead.form_id.clone(),
            adgroup_id: ad_id.clone(),
            ad_id,
            created_time: lead.created_at.timestamp(),
        }
    }
}

/// How IDs are written: strings in real deliveries, numbers in Meta's documentation sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IdStyle {
    #[default]
    Strings,
    Numbers,
}

/// The shape of a notification body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyStyle {
    pub ids: IdStyle,
    /// Most changes in one entry; `0` puts every consecutive change of a page in one entry.
    pub changes_per_entry: usize,
    /// Write non-ASCII characters as `\u00e9`, as Meta does.
    pub escape_non_ascii: bool,
}

impl Default for BodyStyle {
    fn default() -> Self {
        BodyStyle {
            ids: IdStyle::Strings,
            changes_per_entry: 0,
            escape_non_ascii: true,
        }
    }
}

/// `{"object":"page","entry":[{"id":<page>,"time":<sent_at>,"changes":[{"field":"leadgen","value":{...}}]}]}`.
/// A new entry starts when the page changes or the entry holds `changes_per_entry` changes.
pub fn notification_body(changes: &[LeadgenChange], style: &BodyStyle, sent_at: i64) -> Vec<u8> {
    let id = |text: &str| match style.ids {
        IdStyle::Numbers => text
            .parse::<u64>()
            .map_or_else(|_| json!(text), |n| json!(n)),
        IdStyle::Strings => json!(text),
    };
    let mut entries: Vec<(&str, Vec<Value>)> = Vec::new();
    for change in changes {
        let mut value = json!({
            "leadgen_id": id(&change.leadgen_id),
            "page_id": id(&change.page_id),
            "form_id": id(&change.form_id),
            "created_time": change.created_time,
        });
        for (name, ad) in [("ad_id", &change.ad_id), ("adgroup_id", &change.adgroup_id)] {
            if let Some(ad) = ad {
                value[name] = id(ad);
            }
        }
        let change_json = json!({"field": "leadgen", "value": value});
        match entries.last_mut() {
            Some((page, entry_changes))
                if *page == change.page_id
                    && (style.changes_per_entry == 0
                        || entry_changes.len() < style.changes_per_entry) =>
            {
                entry_changes.push(change_json);
            }
            _ => entries.push((&change.page_id, vec![change_json])),
        }
    }
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|(page, changes)| json!({"id": id(page), "time": sent_at, "changes": changes}))
        .collect();
    meta_json::to_vec(
        &json!({"object": "page", "entry": entries}),
        style.escape_non_ascii,
    )
    .expect("a JSON value always serializes")
}

#[cfg(test)]
pub(super) mod tests {
    use chrono::TimeZone;
    use leadhook_shared::meta::parse_notification;

    use super::*;
    use crate::fake_leads::LeadFaker;

    pub(crate) fn change(leadgen_id: &str, page_id: &str, ad: Option<&str>) -> LeadgenChange {
        LeadgenChange {
            leadgen_id: leadgen_id.into(),
            page_id: page_id.into(),
            form_id: "12312312312".into(),
            ad_id: ad.map(str::to_string),
            adgroup_id: ad.map(str::to_string),
            created_time: 1440120384,
        }
    }

    #[test]
    fn body_matches_metas_sample() {
        let body = notification_body(
            &[change("444444444444", "153125381133", Some("12312312312"))],
            &BodyStyle::default(),
            1438292065,
        );
        let expected = r#"{"object":"page","entry":[{"id":"153125381133","time":1438292065,"changes":[
          {"field":"leadgen","value":{"leadgen_id":"444444444444","page_id":"153125381133","form_id":"12312312312",
           "adgroup_id":"12312312312","ad_id":"12312312312","created_time":1440120384}}]}]}"#;
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            serde_json::from_str::<Value>(expected).unwrap()
        );
    }

    #[test]
    fn ids_as_numbers_on_request() {
        let style = BodyStyle {
            ids: IdStyle::Numbers,
            ..BodyStyle::default()
        };
        let body = notification_body(&[change("444444444444", "153125381133", None)], &style, 1);
        let json: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["entry"][0]["id"], 153125381133_u64);
        assert_eq!(
            json["entry"][0]["changes"][0]["value"]["leadgen_id"],
            444444444444_u64
        );
        assert!(
            json["entry"][0]["changes"][0]["value"]
                .get("ad_id")
                .is_none()
        );
        let events = parse_notification(&body).unwrap().events;
        assert_eq!(events[0].leadgen_id, "444444444444");
        assert_eq!(events[0].ad_id, None);
    }

    #[test]
    fn batches_entries_and_changes() {
        let changes: Vec<_> = (1..=5)
            .map(|n| change(&n.to_string(), if n <= 3 { "p1" } else { "p2" }, Some("9")))
            .collect();
        let body = |changes_per_entry| {
            let style = BodyStyle {
                changes_per_entry,
                ..BodyStyle::default()
            };
            serde_json::from_slice::<Value>(&notification_body(&changes, &style, 1)).unwrap()
        };
        let sizes = |json: Value| -> Vec<(String, usize)> {
            json["entry"]
                .as_array()
                .unwrap()
                .iter()
                .map(|entry| {
                    let page = entry["id"].as_str().unwrap().to_string();
                    (page, entry["changes"].as_array().unwrap().len())
                })
                .collect()
        };
        assert_eq!(sizes(body(0)), [("p1".into(), 3), ("p2".into(), 2)]);
        assert_eq!(
            sizes(body(2)),
            [("p1".into(), 2), ("p1".into(), 1), ("p2".into(), 2)]
        );
        let all = parse_notification(&notification_body(&changes, &BodyStyle::default(), 1));
        let ids: Vec<_> = all
            .unwrap()
            .events
            .into_iter()
            .map(|e| e.leadgen_id)
            .collect();
        assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    }

    #[test]
    fn fake_leads_become_changes() {
        let created = chrono::Utc.timestamp_opt(1_750_000_000, 0).unwrap();
        let mut faker = LeadFaker::new(3).on_page("777");
        let leads: Vec<_> = (0..30).map(|_| faker.next_lead(created)).collect();
        for lead in &leads {
            let change = LeadgenChange::from(lead);
            assert_eq!(change.page_id, "777");
            assert_eq!(change.created_time, 1_750_000_000);
            assert_eq!(change.ad_id.is_none(), lead.is_organic);
            assert_eq!(change.adgroup_id, change.ad_id);
        }
    }
}
