//! The body of `POST /webhook`: `{"object": "page", "entry": [{"changes": [{"field": "leadgen", "value": {...}}]}]}`.

use serde::Deserialize;

use super::flex_id;

/// One lead announced by a webhook: Meta sends the IDs only, the answers are fetched from the Graph API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadgenEvent {
    pub leadgen_id: String,
    pub page_id: Option<String>,
    pub form_id: Option<String>,
    pub ad_id: Option<String>,
    pub adgroup_id: Option<String>,
    /// Unix seconds of the form submission, when Meta includes it.
    pub created_time: Option<i64>,
}

/// What one webhook delivery carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notification {
    /// Every leadgen change of every entry, in delivery order.
    pub events: Vec<LeadgenEvent>,
    /// Changes of other fields or objects, acknowledged and ignored.
    pub ignored: usize,
    /// Leadgen changes without a usable `leadgen_id`.
    pub malformed: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("the webhook body is not a JSON notification: {0}")]
pub struct PayloadError(#[from] serde_json::Error);

#[derive(Deserialize)]
struct RawNotification {
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    entry: Vec<RawEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(default, deserialize_with = "flex_id::deserialize")]
    id: Option<String>,
    #[serde(default)]
    changes: Vec<RawChange>,
}

#[derive(Deserialize)]
struct RawChange {
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    value: serde_json::Value,
}

#[derive(Deserialize)]
struct RawLeadgenValue {
    #[serde(default, deserialize_with = "flex_id::deserialize")]
    leadgen_id: Option<String>,
    #[serde(default, deserialize_with = "flex_id::deserialize")]
    page_id: Option<String>,
    #[serde(default, deserialize_with = "flex_id::deserialize")]
    form_id: Option<String>,
    #[serde(default, deserialize_with = "flex_id::deserialize")]
    ad_id: Option<String>,
    #[serde(default, deserialize_with = "flex_id::deserialize")]
    adgroup_id: Option<String>,
    #[serde(default)]
    created_time: Option<serde_json::Value>,
}

/// Parses a webhook body. Only a body that is not JSON at all (or not an object) is an error:
/// unknown objects and fields are counted as ignored, unusable leadgen changes as malformed.
pub fn parse_notification(body: &[u8]) -> Result<Notification, PayloadError> {
    let raw: RawNotification = serde_json::from_slice(body)?;
    let mut notification = Notification::default();
    let is_page = raw.object.as_deref().is_none_or(|object| object == "page");
    for entry in raw.entry {
        for change in entry.changes {
            if !is_page || change.field.as_deref() != Some("leadgen") {
                notification.ignored += 1;
                continue;
            }
            match leadgen_event(change.value, entry.id.as_deref()) {
                Some(event) => notification.events.push(event),
                None => notification.malformed += 1,
            }
        }
    }
    Ok(notification)
}

fn leadgen_event(value: serde_json::Value, entry_id: Option<&str>) -> Option<LeadgenEvent> {
    let value: RawLeadgenValue = serde_json::from_value(value).ok()?;
    Some(LeadgenEvent {
        leadgen_id: value.leadgen_id?,
        page_id: value.page_id.or_else(|| entry_id.map(str::to_string)),
        form_id: value.form_id,
        ad_id: value.ad_id,
        adgroup_id: value.adgroup_id,
        created_time: value.created_time.as_ref().and_then(unix_seconds),
    })
}

fn unix_seconds(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample in Meta's "webhooks for leadgen" documentation (with numeric IDs, as it shows them).
    const META_DOC_SAMPLE: &str = r#"{"object":"page","entry":[{"id":"153125381133","time":1438292065,"changes":[
      {"field":"leadgen","value":{"leadgen_id":"444444444444","page_id":"153125381133","form_id":"12312312312",
       "adgroup_id":"12312312312","ad_id":"12312312312","created_time":1440120384}}]}]}"#;

    #[test]
    fn parses_meta_documented_sample() {
        let n = parse_notification(META_DOC_SAMPLE.as_bytes()).unwrap();
        assert_eq!(
            n.events,
            vec![LeadgenEvent {
                leadgen_id: "444444444444".into(),
                page_id: Some("153125381133".into()),
                form_id: Some("12312312312".into()),
                ad_id: Some("12312312312".into()),
                adgroup_id: Some("12312312312".into()),
                created_time: Some(1440120384),
            }]
        );
        assert_eq!((n.ignored, n.malformed), (0, 0));
    }

    #[test]
    fn accepts_numeric_ids() {
        let body = r#"{"object":"page","entry":[{"id":153125381133,"time":1438292065,"changes":[
          {"field":"leadgen","value":{"leadgen_id":444444444444,"page_id":153125381133,"form_id":12312312312,
           "adgroup_id":0,"ad_id":0,"created_time":1440120384}}]}]}"#;
        let n = parse_notification(body.as_bytes()).unwrap();
        let event = &n.events[0];
        assert_eq!(event.leadgen_id, "444444444444");
        assert_eq!(event.page_id.as_deref(), Some("153125381133"));
        assert_eq!(event.form_id.as_deref(), Some("12312312312"));
        assert_eq!(event.ad_id, None, "ad_id 0 marks an organic or test lead");
        assert_eq!(event.adgroup_id, None);
    }

    #[test]
    fn takes_every_change_of_every_entry() {
        let change = |id: u32| {
            format!(
                r#"{{"field":"leadgen","value":{{"leadgen_id":"{id}","page_id":"1","form_id":"2"}}}}"#
            )
        };
        let body = format!(
            r#"{{"object":"page","entry":[{{"id":"1","changes":[{},{},{}]}},{{"id":"1","changes":[{},{},{}]}}]}}"#,
            change(1),
            change(2),
            change(3),
            change(4),
            change(5),
            change(6)
        );
        let n = parse_notification(body.as_bytes()).unwrap();
        let ids: Vec<_> = n.events.iter().map(|e| e.leadgen_id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3", "4", "5", "6"]);
    }

    #[test]
    fn ignores_other_fields_and_objects() {
        let body = r#"{"object":"page","entry":[{"id":"1","changes":[
            {"field":"feed","value":{"item":"status"}},
            {"field":"leadgen","value":{"leadgen_id":"9"}}]}]}"#;
        let n = parse_notification(body.as_bytes()).unwrap();
        assert_eq!(n.events.len(), 1);
        assert_eq!(
            n.events[0].page_id.as_deref(),
            Some("1"),
            "page falls back to the entry id"
        );
        assert_eq!(n.ignored, 1);

        let other_object = r#"{"object":"user","entry":[{"id":"1","changes":[{"field":"leadgen","value":{"leadgen_id":"9"}}]}]}"#;
        let n = parse_notification(other_object.as_bytes()).unwrap();
        assert!(n.events.is_empty());
        assert_eq!(n.ignored, 1);
    }

    #[test]
    fn counts_leadgen_changes_without_an_id_as_malformed() {
        let body = r#"{"object":"page","entry":[{"changes":[{"field":"leadgen","value":{"form_id":"2"}},{"field":"leadgen","value":"oops"}]}]}"#;
        let n = parse_notification(body.as_bytes()).unwrap();
        assert!(n.events.is_empty());
        assert_eq!(n.malformed, 2);
    }

    #[test]
    fn rejects_non_json() {
        assert!(parse_notification(b"not json").is_err());
        assert!(parse_notification(b"[1,2]").is_err());
        assert!(parse_notification(b"").is_err());
    }

    #[test]
    fn empty_object_is_an_empty_notification() {
        assert_eq!(parse_notification(b"{}").unwrap(), Notification::default());
    }
}
