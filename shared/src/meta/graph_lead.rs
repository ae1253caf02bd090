//! A lead as the Graph API returns it (`GET /<version>/<leadgen_id>?fields=...`), and its parsing
//! into the lead leadhook stores.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::flex_id;
use crate::lead::{Answer, MetaFields};

/// The fields leadhook asks the Graph API for, for one lead or a form's leads.
pub const GRAPH_LEAD_FIELDS: &str = "id,created_time,field_data,ad_id,ad_name,adset_id,adset_name,campaign_id,campaign_name,form_id,is_organic,platform,custom_disclaimer_responses";

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GraphLead {
    #[serde(default, deserialize_with = "flex_id::deserialize")]
    pub id: Option<String>,
    #[serde(default)]
    pub created_time: Option<String>,
    #[serde(default)]
    pub field_data: Vec<FieldData>,
    #[serde(default, deserialize_with = "flex_id::deserialize")]
    pub ad_id: Option<String>,
    #[serde(default)]
    pub ad_name: Option<String>,
    #[serde(default, deserialize_with = "flex_id::deserialize")]
    pub adset_id: Option<String>,
    #[serde(default)]
    pub adset_name: Option<String>,
    #[serde(default, deserialize_with = "flex_id::deserialize")]
    pub campaign_id: Option<String>,
    #[serde(default)]
    pub campaign_name: Option<String>,
    #[serde(default, deserialize_with = "flex_id::deserialize")]
    pub form_id: Option<String>,
    #[serde(default)]
    pub is_organic: Option<bool>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub custom_disclaimer_responses: Vec<DisclaimerResponse>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FieldData {
    pub name: String,
    /// Optional questions can come without `values` or with an empty array.
    #[serde(default)]
    pub values: Option<Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DisclaimerResponse {
    #[serde(default)]
    pub checkbox_key: Option<String>,
    #[serde(default)]
    pub is_checked: Option<serde_json::Value>,
}

/// A lead from Meta, parsed and ready to be upserted into the lead store (keyed by `leadgen_id`).
/// Serialises as the columns an upsert writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncomingLead {
    pub leadgen_id: String,
    #[serde(flatten)]
    pub meta: MetaFields,
}

#[derive(Debug, thiserror::Error)]
pub enum LeadParseError {
    #[error("the Graph API lead is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the Graph API lead has no id")]
    MissingId,
}

impl GraphLead {
    pub fn from_json(body: &[u8]) -> Result<GraphLead, LeadParseError> {
        Ok(serde_json::from_slice(body)?)
    }
}

/// Turns a Graph API lead into the stored shape.
///
/// `fallback_created_at` is used when `created_time` is missing or unreadable, so that a lead with
/// an odd timestamp is still kept rather than dropped.
pub fn parse_graph_lead(
    lead: GraphLead,
    fallback_created_at: DateTime<Utc>,
) -> Result<IncomingLead, LeadParseError> {
    let leadgen_id = lead.id.ok_or(LeadParseError::MissingId)?;
    let mut fields = BTreeMap::new();
    for field in lead.field_data {
        let values: Vec<String> = field
            .values
            .unwrap_or_default()
            .into_iter()
            .filter_map(value_text)
            .collect();
        let answer = match <[String; 1]>::try_from(values) {
            Ok([one]) => Answer::One(one),
            Err(values) if values.is_empty() => continue,
            Err(values) => Answer::Many(values),
        };
        fields.insert(field.name, answer);
    }
    for disclaimer in lead.custom_disclaimer_responses {
        if let Some(key) = disclaimer.checkbox_key.filter(|key| !key.is_empty()) {
            let checked = matches!(disclaimer.is_checked, Some(serde_json::Value::Bool(true)))
                || matches!(&disclaimer.is_checked, Some(serde_json::Value::String(s)) if s == "1" || s == "true");
            fields
                .entry(key)
                .or_insert_with(|| Answer::One(if checked { "yes" } else { "no" }.to_string()));
        }
    }

    let answer = |name: &str| {
        fields
            .get(name)
            .map(Answer::text)
            .filter(|text| !text.is_empty())
    };
    let name = answer("full_name").or_else(|| {
        let joined = [answer("first_name"), answer("last_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        (!joined.is_empty()).then_some(joined)
    });
    let email = answer("email").or_else(|| answer("work_email"));
    let phone = answer("phone_number").or_else(|| answer("work_phone_number"));
    let created_at = lead
        .created_time
        .as_deref()
        .and_then(parse_meta_time)
        .unwrap_or(fallback_created_at);

    Ok(IncomingLead {
        leadgen_id,
        meta: MetaFields {
            name,
            email,
            phone,
            phone_e164: None,
            phone_invalid: false,
            email_key: None,
            junk_reason: None,
            created_at,
            page_id: None,
            form_id: lead.form_id,
            form_name: None,
            ad_id: lead.ad_id,
            ad_name: non_empty(lead.ad_name),
            adset_id: lead.adset_id,
            adset_name: non_empty(lead.adset_name),
            campaign_id: lead.campaign_id,
            campaign_name: non_empty(lead.campaign_name),
            platform: non_empty(lead.platform),
            is_organic: lead.is_organic.unwrap_or(false),
            fields,
        },
    })
}

/// Meta writes times as `2015-02-28T08:49:14+0000`; RFC 3339 is accepted too.
pub fn parse_meta_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

fn value_text(value: serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn parse(json: &str) -> IncomingLead {
        parse_graph_lead(
            GraphLead::from_json(json.as_bytes()).unwrap(),
            Utc.timestamp_opt(0, 0).unwrap(),
        )
        .unwrap()
    }

    /// The sample lead of Meta's "Retrieving leads" documentation.
    #[test]
    fn parses_meta_documented_lead() {
        let lead = parse(
            r#"{"id":"444444444444","created_time":"2015-02-28T08:49:14+0000","ad_id":"5555","form_id":"6666",
             "field_data":[{"name":"full_name","values":["Joe Example"]},{"name":"email","values":["joe@example.com"]},
                           {"name":"phone_number","values":["+15555555555"]}]}"#,
        );
        assert_eq!(lead.leadgen_id, "444444444444");
        assert_eq!(lead.meta.name.as_deref(), Some("Joe Example"));
        assert_eq!(lead.meta.email.as_deref(), Some("joe@example.com"));
        assert_eq!(lead.meta.phone.as_deref(), Some("+15555555555"));
        assert_eq!(
            lead.meta.created_at,
            Utc.with_ymd_and_hms(2015, 2, 28, 8, 49, 14).unwrap()
        );
        assert_eq!(lead.meta.ad_id.as_deref(), Some("5555"));
        assert_eq!(lead.meta.form_id.as_deref(), Some("6666"));
        assert_eq!(lead.meta.fields.len(), 3);
        assert_eq!(
            lead.meta.fields["full_name"],
            Answer::One("Joe Example".into())
        );
        assert!(!lead.meta.is_organic);
    }

    #[test]
    fn missing_and_empty_values_are_no_answer() {
        let lead = parse(
            r#"{"id":"1","field_data":[{"name":"full_name","values":["Ana"]},{"name":"city"},{"name":"zip_code","values":[]}]}"#,
        );
        assert_eq!(lead.meta.fields.keys().collect::<Vec<_>>(), ["full_name"]);
    }

    #[test]
    fn multiple_choice_answers_keep_every_value() {
        let lead = parse(
            r#"{"id":"1","field_data":[{"name":"which_products?","values":["Solar","Battery"]},{"name":"budget","values":[5000]}]}"#,
        );
        assert_eq!(
            lead.meta.fields["which_products?"],
            Answer::Many(vec!["Solar".into(), "Battery".into()])
        );
        assert_eq!(lead.meta.fields["which_products?"].text(), "Solar, Battery");
        assert_eq!(lead.meta.fields["budget"], Answer::One("5000".into()));
    }

    #[test]
    fn name_falls_back_to_first_and_last_name() {
        let lead = parse(
            r#"{"id":"1","field_data":[{"name":"first_name","values":["José"]},{"name":"last_name","values":["Muñoz"]}]}"#,
        );
        assert_eq!(lead.meta.name.as_deref(), Some("José Muñoz"));
        let only_first =
            parse(r#"{"id":"1","field_data":[{"name":"first_name","values":["José"]}]}"#);
        assert_eq!(only_first.meta.name.as_deref(), Some("José"));
    }

    #[test]
    fn email_and_phone_fall_back_to_work_fields() {
        let lead = parse(
            r#"{"id":"1","field_data":[{"name":"work_email","values":["a@corp.example"]},{"name":"work_phone_number","values":["+4930123"]}]}"#,
        );
        assert_eq!(lead.meta.email.as_deref(), Some("a@corp.example"));
        assert_eq!(lead.meta.phone.as_deref(), Some("+4930123"));
    }

    #[test]
    fn unicode_escaped_answers_are_decoded() {
        let lead = parse(
            r#"{"id":"1","field_data":[{"name":"full_name","values":["Jos\u00e9 G\u00f6tz"]}]}"#,
        );
        assert_eq!(lead.meta.name.as_deref(), Some("José Götz"));
    }

    #[test]
    fn ids_as_numbers_and_organic_flags() {
        let lead = parse(
            r#"{"id":444444444444,"form_id":6666,"ad_id":0,"is_organic":true,"platform":"ig","campaign_name":"Spring",
             "custom_disclaimer_responses":[{"checkbox_key":"marketing_optin","is_checked":"1"}]}"#,
        );
        assert_eq!(lead.leadgen_id, "444444444444");
        assert_eq!(lead.meta.form_id.as_deref(), Some("6666"));
        assert_eq!(lead.meta.ad_id, None);
        assert!(lead.meta.is_organic);
        assert_eq!(lead.meta.platform.as_deref(), Some("ig"));
        assert_eq!(lead.meta.campaign_name.as_deref(), Some("Spring"));
        assert_eq!(
            lead.meta.fields["marketing_optin"],
            Answer::One("yes".into())
        );
    }

    #[test]
    fn created_time_forms() {
        let expected = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        assert_eq!(parse_meta_time("2024-05-01T12:00:00+0000"), Some(expected));
        assert_eq!(parse_meta_time("2024-05-01T14:00:00+0200"), Some(expected));
        assert_eq!(parse_meta_time("2024-05-01T12:00:00+00:00"), Some(expected));
        assert_eq!(parse_meta_time("yesterday"), None);
        let fallback = parse(r#"{"id":"1","created_time":"garbage"}"#);
        assert_eq!(fallback.meta.created_at, Utc.timestamp_opt(0, 0).unwrap());
    }

    #[test]
    fn a_lead_without_id_is_an_error() {
        let lead = GraphLead::from_json(br#"{"field_data":[]}"#).unwrap();
        assert!(matches!(
            parse_graph_lead(lead, Utc::now()),
            Err(LeadParseError::MissingId)
        ));
    }
}
