use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::status::LeadStatus;

/// One answer of a lead form: most questions have one value, multiple-choice ones can have several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    One(String),
    Many(Vec<String>),
}

impl Answer {
    /// The answer as one line of text (several values joined with ", ").
    pub fn text(&self) -> String {
        match self {
            Answer::One(value) => value.clone(),
            Answer::Many(values) => values.join(", "),
        }
    }
}

/// Hands the Meta-side fields of a lead to the macro `$then`, as `$(#[doc] field: Type,)*`.
///
/// This list is the one place those fields are written down. [`MetaFields`] is defined from it
/// below; the SQLite store derives its column names, row reading and parameters from it, and the
/// PostgREST store (de)serialises [`MetaFields`] with serde. Adding a lead column is a schema
/// migration in each store plus one line here: nothing else lists the columns. (A field of a type
/// no Meta-side field had before also needs the SQLite store's `MetaColumn` to learn that type.)
#[macro_export]
macro_rules! with_meta_fields {
    ($then:ident) => {
        $then! {
            name: Option<String>,
            email: Option<String>,
            phone: Option<String>,
            /// `phone` in E.164 when it is a valid number by libphonenumber's rules (read with
            /// the page's default region); filled in by the server, never by Meta.
            #[serde(default)]
            phone_e164: Option<String>,
            /// `phone` is there but is not a valid number: kept as typed, and marked.
            #[serde(default)]
            phone_invalid: bool,
            /// `email` trimmed and lower-cased when it looks like an address: what a person is
            /// matched on beside the phone (see [`crate::person`]); filled in by the server.
            #[serde(default)]
            email_key: Option<String>,
            /// Why the server took the lead for junk as it arrived (a Meta test lead, no way to
            /// reach the person, an operator's rule); `None` for a lead that looked real. Junk is
            /// stored like every lead but not routed, notified or escalated, until a rep clears
            /// it ([`Lead::junk`]).
            #[serde(default)]
            junk_reason: Option<String>,
            /// When the person submitted the form.
            created_at: ::chrono::DateTime<::chrono::Utc>,
            page_id: Option<String>,
            form_id: Option<String>,
            form_name: Option<String>,
            ad_id: Option<String>,
            ad_name: Option<String>,
            adset_id: Option<String>,
            adset_name: Option<String>,
            campaign_id: Option<String>,
            campaign_name: Option<String>,
            platform: Option<String>,
            is_organic: bool,
            /// Every answer of the form, standard or custom, by question name.
            fields: ::std::collections::BTreeMap<String, $crate::lead::Answer>,
        }
    };
}

macro_rules! define_meta_fields {
    ($($(#[$doc:meta])* $field:ident: $type:ty,)*) => {
        /// What Meta says about a lead (a rep fills in name, email and phone of a manual lead).
        /// Flattened into [`Lead`] and [`IncomingLead`](crate::meta::IncomingLead), so on the wire
        /// its fields sit beside theirs. Its fields are listed in [`with_meta_fields`].
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub struct MetaFields {
            $($(#[$doc])* pub $field: $type,)*
        }
    };
}

with_meta_fields!(define_meta_fields);

/// A lead as the API serves it. Timestamps are RFC 3339 UTC on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lead {
    pub id: i64,
    /// Meta's lead id; `None` for leads a rep entered by hand.
    pub leadgen_id: Option<String>,
    #[serde(flatten)]
    pub meta: MetaFields,
    pub status: LeadStatus,
    pub is_manual: bool,
    /// When leadhook first stored the lead.
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub notes: Option<String>,
    /// The rep who works this lead; `None` while nobody has claimed it or been assigned it.
    #[serde(default)]
    pub owner: Option<String>,
    /// When `owner` last changed to a rep.
    #[serde(default)]
    pub owned_at: Option<DateTime<Utc>>,
    /// When a rep first moved the lead off `New Lead`; set once, never moved.
    #[serde(default)]
    pub first_contact_at: Option<DateTime<Utc>>,
    /// When the person's data was erased (a data-subject request or retention); what is left is
    /// a tombstone without name, email, phone, answers or notes.
    #[serde(default)]
    pub erased_at: Option<DateTime<Utc>>,
    /// What a rep plans to do next, and when; `Won`, `Lost` and `Unqualified` clear it.
    #[serde(default)]
    pub next_step: Option<crate::NextStep>,
    /// Call attempts recorded on the lead (`POST /api/leads/{id}/attempts`).
    #[serde(default)]
    pub attempts: u32,
    /// The person's first lead, when this one is a later submission of the same person (matched
    /// on phone or e-mail, or merged by a rep). Always a lead that is itself no repeat: links are
    /// never chained. `None` for a person's first (or only) lead.
    #[serde(default)]
    pub repeat_of: Option<i64>,
    /// When a rep cleared the junk flag (`DELETE /api/leads/{id}/junk`).
    #[serde(default)]
    pub junk_cleared_at: Option<DateTime<Utc>>,
}

impl Lead {
    /// A lead from Meta as it is stored on arrival at `received_at`: `New Lead`, nobody's,
    /// untouched by a rep.
    pub fn arrived(
        id: i64,
        leadgen_id: Option<String>,
        meta: MetaFields,
        received_at: DateTime<Utc>,
    ) -> Lead {
        Lead {
            id,
            leadgen_id,
            meta,
            status: LeadStatus::NewLead,
            is_manual: false,
            received_at,
            updated_at: received_at,
            notes: None,
            owner: None,
            owned_at: None,
            first_contact_at: None,
            erased_at: None,
            next_step: None,
            attempts: 0,
            repeat_of: None,
            junk_cleared_at: None,
        }
    }

    /// The best short label for the lead; see [`display_name`].
    pub fn display_name(&self) -> String {
        let meta = &self.meta;
        display_name(
            self.id,
            self.erased_at.is_some(),
            [&meta.name, &meta.email, &meta.phone].map(Option::as_deref),
        )
    }

    /// Who this lead's person is: the id of the person's first lead.
    pub fn person_id(&self) -> i64 {
        self.repeat_of.unwrap_or(self.id)
    }

    /// Why the lead is junk, while it is (flagged as it arrived and not cleared by a rep).
    pub fn junk(&self) -> Option<&str> {
        self.meta
            .junk_reason
            .as_deref()
            .filter(|_| self.junk_cleared_at.is_none())
    }

    /// Time from the form being submitted to a rep's first contact, once there was one.
    pub fn speed_to_lead(&self) -> Option<chrono::Duration> {
        self.first_contact_at.map(|at| at - self.meta.created_at)
    }
}

/// The best short label for lead `id`: "erased" once erased, else the first of name, email and
/// phone (`contact`, in that order) that is there, else its id. Shared with clients that keep
/// only these parts of a lead.
pub fn display_name(id: i64, erased: bool, contact: [Option<&str>; 3]) -> String {
    if erased {
        return "erased".to_string();
    }
    contact
        .into_iter()
        .flatten()
        .next()
        .map(str::to_string)
        .unwrap_or_else(|| format!("Lead #{id}"))
}

/// Body of `PATCH /api/leads/{id}`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LeadStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Reassigns the lead: `"owner": "bob"` gives it to bob, `"owner": null` leaves it unowned;
    /// without the key the owner stays as it is.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub owner: Option<Option<String>>,
}

impl LeadPatch {
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && self.notes.is_none() && self.owner.is_none()
    }
}

/// Body of `PUT /api/leads/{id}/person`: the lead is the same person as lead `same_as` (a rep's
/// merge). The lead, and any submissions linked to it, join `same_as`'s person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonLink {
    pub same_as: i64,
}

/// Tells a key given as `null` (`Some(None)`) from a missing key (`None`, by `default`).
pub fn present<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Body of `POST /api/leads`: a lead a rep took by phone or in person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewManualLead {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LeadStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Set by the server from `phone`, as [`MetaFields::phone_e164`]; never read from a client.
    #[serde(skip)]
    pub phone_e164: Option<String>,
    /// Set by the server from `phone`, as [`MetaFields::phone_invalid`].
    #[serde(skip)]
    pub phone_invalid: bool,
    /// Set by the server from `email`, as [`MetaFields::email_key`].
    #[serde(skip)]
    pub email_key: Option<String>,
}

impl NewManualLead {
    /// Fills in what a person is matched on: the phone read with `region` (see
    /// [`crate::phone`]) and the e-mail's key (see [`crate::person`]).
    pub fn normalize(&mut self, region: Option<crate::phone::Region>) {
        (self.phone_e164, self.phone_invalid) = crate::phone::stored(self.phone.as_deref(), region);
        self.email_key = crate::person::email_key(self.email.as_deref());
    }
}

impl MetaFields {
    /// Fills in what a person is matched on: the phone read with `region` (see
    /// [`crate::phone`]) and the e-mail's key (see [`crate::person`]).
    pub fn normalize(&mut self, region: Option<crate::phone::Region>) {
        (self.phone_e164, self.phone_invalid) = crate::phone::stored(self.phone.as_deref(), region);
        self.email_key = crate::person::email_key(self.email.as_deref());
    }

    /// These fields without what the server derives from them (normalised phone, e-mail key,
    /// junk reason): two deliveries whose forms match are the same data.
    pub fn as_delivered(&self) -> MetaFields {
        MetaFields {
            phone_e164: None,
            phone_invalid: false,
            email_key: None,
            junk_reason: None,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiList;

    /// A lead as `/api/leads` served it before the Meta-side fields got their own struct.
    const WIRE_LEAD: &str = r#"{
        "id": 7, "leadgen_id": "444444444444", "name": "Joe Example", "email": "joe@example.com",
        "phone": "+15555555555", "status": "Contacted", "is_manual": false,
        "created_at": "2015-02-28T08:49:14Z", "received_at": "2015-02-28T08:49:15.250Z",
        "updated_at": "2015-03-01T10:00:00.000001Z", "page_id": "1111", "form_id": "6666",
        "form_name": "Spring Promo", "ad_id": "5555", "ad_name": "Ad One", "adset_id": "4444",
        "adset_name": "Adset One", "campaign_id": "3333", "campaign_name": "Campaign One",
        "platform": "ig", "is_organic": true,
        "fields": {"full_name": "Joe Example", "which_products?": ["Solar", "Battery"]},
        "notes": "call back Tuesday"
    }"#;

    fn wire_value() -> serde_json::Value {
        serde_json::from_str(WIRE_LEAD).unwrap()
    }

    #[test]
    fn a_lead_serialises_to_the_same_wire_shape() {
        let lead: Lead = serde_json::from_str(WIRE_LEAD).unwrap();
        let mut expected = wire_value();
        // A lead from a server without owners reads as unowned and is written with the new keys.
        for key in [
            "owner",
            "owned_at",
            "first_contact_at",
            "erased_at",
            "next_step",
            "phone_e164",
            "email_key",
            "junk_reason",
            "repeat_of",
            "junk_cleared_at",
        ] {
            expected[key] = serde_json::Value::Null;
        }
        expected["attempts"] = 0.into();
        // A server from before phones were read: the raw phone, not marked.
        expected["phone_invalid"] = false.into();
        assert_eq!(serde_json::to_value(&lead).unwrap(), expected);
    }

    #[test]
    fn speed_to_lead_runs_from_the_form_to_the_first_contact() {
        let mut lead: Lead = serde_json::from_str(WIRE_LEAD).unwrap();
        assert_eq!(lead.speed_to_lead(), None);
        lead.first_contact_at = Some(lead.meta.created_at + chrono::Duration::seconds(95));
        assert_eq!(lead.speed_to_lead(), Some(chrono::Duration::seconds(95)));
    }

    #[test]
    fn a_patch_tells_null_owner_from_no_owner() {
        let keep: LeadPatch = serde_json::from_str(r#"{"status": "Won"}"#).unwrap();
        assert_eq!(keep.owner, None);
        let unown: LeadPatch = serde_json::from_str(r#"{"owner": null}"#).unwrap();
        assert_eq!(unown.owner, Some(None));
        assert!(!unown.is_empty());
        let give: LeadPatch = serde_json::from_str(r#"{"owner": "bob"}"#).unwrap();
        assert_eq!(give.owner, Some(Some("bob".to_string())));
        assert_eq!(
            serde_json::to_value(&unown).unwrap(),
            serde_json::json!({"owner": null})
        );
    }

    #[test]
    fn the_dashboard_reads_the_wire_shape() {
        // The tui decodes `ApiList` pages and single `Lead`s with these very types.
        let page = serde_json::json!({
            "success": true, "data": [wire_value()], "count": 1,
            "cursor": "1425204000000001.7"
        });
        let page: ApiList = serde_json::from_value(page).unwrap();
        let lead = &page.data[0];
        assert_eq!(lead.id, 7);
        assert_eq!(lead.leadgen_id.as_deref(), Some("444444444444"));
        assert_eq!(lead.status, LeadStatus::Contacted);
        assert_eq!(lead.meta.name.as_deref(), Some("Joe Example"));
        assert_eq!(lead.meta.campaign_name.as_deref(), Some("Campaign One"));
        assert!(lead.meta.is_organic);
        assert_eq!(
            lead.meta.fields["which_products?"],
            Answer::Many(vec!["Solar".into(), "Battery".into()])
        );
        assert_eq!(lead.notes.as_deref(), Some("call back Tuesday"));
        assert_eq!(lead.display_name(), "Joe Example");
    }
}
