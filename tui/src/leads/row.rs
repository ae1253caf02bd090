//! A lead as the list keeps it, and the one copy of the strings many leads repeat.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use leadhook_shared::answer_columns::AnswerColumn;
use leadhook_shared::{Lead, LeadStatus, NextStep};
use rustc_hash::FxHashSet;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::Key;
use super::answers::Answers;

/// A lead as the dashboard's list keeps it: what the table, the search, the filters, the header's
/// figures and the notifications read. The form answers (but those the answer columns read) and
/// the ad, ad set and campaign stay on the server until the detail pane asks for the lead
/// (`GET /api/leads/{id}`).
///
/// Read straight from a lead's JSON (`GET /api/leads`, `/api/events`); the other keys are skipped.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LeadRow {
    pub id: i64,
    pub name: Option<Box<str>>,
    pub email: Option<Box<str>>,
    pub phone: Option<Box<str>>,
    /// `phone` in E.164, when the server read it as a valid number (absent from older servers).
    #[serde(default)]
    pub phone_e164: Option<Box<str>>,
    /// The server marked `phone` as not a valid number.
    #[serde(default)]
    pub phone_invalid: bool,
    /// When the person submitted the form.
    #[serde(deserialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// One copy per form name, shared by the list's leads (see [`Interner`]).
    #[serde(default, deserialize_with = "shared")]
    pub form_name: Option<Arc<str>>,
    /// Which form, for the question each answer column reads on it; shared like `form_name`.
    #[serde(default, deserialize_with = "shared")]
    pub form_id: Option<Arc<str>>,
    /// The answers the answer columns read, and only those once the list has taken the row in
    /// (see [`Answers`]).
    #[serde(default, rename = "fields")]
    pub answers: Answers,
    pub status: LeadStatus,
    pub is_manual: bool,
    #[serde(deserialize_with = "timestamp")]
    pub updated_at: DateTime<Utc>,
    pub notes: Option<Box<str>>,
    /// One copy per rep, shared like `form_name`.
    #[serde(default, deserialize_with = "shared")]
    pub owner: Option<Arc<str>>,
    #[serde(default, deserialize_with = "optional_timestamp")]
    pub first_contact_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "optional_timestamp")]
    pub erased_at: Option<DateTime<Utc>>,
    /// Boxed: most leads have none, and the list may hold 100,000 rows.
    #[serde(default)]
    pub next_step: Option<Box<NextStep>>,
    #[serde(default)]
    pub attempts: u32,
    /// The person's first lead, when this one is a later submission of the same person.
    #[serde(default)]
    pub repeat_of: Option<i64>,
    /// Why the server took the lead for junk as it arrived; shared like `form_name` (a few rules
    /// give every reason).
    #[serde(default, deserialize_with = "shared")]
    pub junk_reason: Option<Arc<str>>,
    /// When a rep cleared the junk flag.
    #[serde(default, deserialize_with = "optional_timestamp")]
    pub junk_cleared_at: Option<DateTime<Utc>>,
}

/// A first load reads 100,000 leads, so their strings are read straight into what the row keeps,
/// with no owned copy in between (serde's `Arc<str>` goes through a `Box<str>`).
fn shared<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Arc<str>>, D::Error> {
    deserializer.deserialize_option(Maybe(|text| Ok(Arc::from(text))))
}

/// Timestamps are read with chrono's own RFC 3339 parser, which the server's timestamps are
/// written for: chrono's serde goes through its general format parser, several times slower.
/// Other forms chrono's serde reads still read.
fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.to_utc())
        .or_else(|_| text.parse())
        .map_err(|err| format!("{err}: {text:?}"))
}

fn timestamp<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(Text(parse_timestamp))
}

fn optional_timestamp<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    deserializer.deserialize_option(Maybe(parse_timestamp))
}

/// A string read into `T` by a function of the borrowed text.
struct Text<T>(fn(&str) -> Result<T, String>);

impl<T> Visitor<'_> for Text<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        (self.0)(text).map_err(E::custom)
    }
}

/// [`Text`] or null.
struct Maybe<T>(fn(&str) -> Result<T, String>);

impl<'de, T> Visitor<'de> for Maybe<T> {
    type Value = Option<T>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a string or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        deserializer.deserialize_str(Text(self.0)).map(Some)
    }
}

impl LeadRow {
    /// Where the lead sits in the newest-first order.
    pub fn key(&self) -> Key {
        Key {
            created_at: self.created_at,
            id: self.id,
        }
    }

    /// Who this lead's person is: the id of the person's first lead.
    pub fn person_id(&self) -> i64 {
        self.repeat_of.unwrap_or(self.id)
    }

    /// Why the lead is junk, while it is (flagged as it arrived, not cleared by a rep).
    pub fn junk(&self) -> Option<&str> {
        self.junk_reason
            .as_deref()
            .filter(|_| self.junk_cleared_at.is_none())
    }

    /// "erased", else name, else email, else phone, else its id.
    pub fn display_name(&self) -> String {
        leadhook_shared::lead::display_name(
            self.id,
            self.erased_at.is_some(),
            [&self.name, &self.email, &self.phone].map(Option::as_deref),
        )
    }

    /// Time from the form being submitted to a rep's first contact, once there was one.
    pub fn speed_to_lead(&self) -> Option<Duration> {
        self.first_contact_at.map(|at| at - self.created_at)
    }

    /// The phone as the dashboard shows it in `width` characters: a valid number in the
    /// international format (`+49 30 1234567`) when it fits, else compact (E.164), else cut with
    /// "…"; an unread one as typed, `true` when the server marked it as not a number.
    pub fn phone_shown(&self, width: usize) -> Option<(String, bool)> {
        if let Some(e164) = self.phone_e164.as_deref() {
            let international = leadhook_shared::phone::international(e164);
            let shown = match international {
                Some(international) if international.chars().count() <= width => international,
                _ => cut_visibly(e164, width),
            };
            return Some((shown, false));
        }
        let phone = self.phone.as_deref()?;
        // An invalid phone is shown after a "? " mark.
        let room = if self.phone_invalid {
            width.saturating_sub(2)
        } else {
            width
        };
        Some((cut_visibly(phone, room), self.phone_invalid))
    }

    /// The lead's answer in `column` (several values joined with ", "), as the lead gave it.
    pub fn answer(&self, column: &AnswerColumn) -> Option<&str> {
        self.answers.get(column.question(self.form_id.as_deref())?)
    }

    /// What `y` copies as the phone: E.164 when there is one, else the phone as typed.
    pub fn phone_to_copy(&self) -> Option<&str> {
        self.phone_e164.as_deref().or(self.phone.as_deref())
    }
}

/// `text` in `width` characters, ending in "…" when cut: a rep must not dial a number missing
/// its last digits without seeing so.
fn cut_visibly(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    text.chars()
        .take(width.saturating_sub(1))
        .chain(std::iter::once('…'))
        .collect()
}

impl From<&Lead> for LeadRow {
    fn from(lead: &Lead) -> LeadRow {
        let boxed = |text: &Option<String>| text.as_deref().map(Box::from);
        let shared = |text: &Option<String>| text.as_deref().map(Arc::from);
        LeadRow {
            id: lead.id,
            name: boxed(&lead.meta.name),
            email: boxed(&lead.meta.email),
            phone: boxed(&lead.meta.phone),
            phone_e164: boxed(&lead.meta.phone_e164),
            phone_invalid: lead.meta.phone_invalid,
            created_at: lead.meta.created_at,
            form_name: shared(&lead.meta.form_name),
            form_id: shared(&lead.meta.form_id),
            answers: lead
                .meta
                .fields
                .iter()
                .map(|(question, answer)| (question.as_str(), answer))
                .collect(),
            status: lead.status,
            is_manual: lead.is_manual,
            updated_at: lead.updated_at,
            notes: boxed(&lead.notes),
            owner: shared(&lead.owner),
            first_contact_at: lead.first_contact_at,
            erased_at: lead.erased_at,
            next_step: lead.next_step.clone().map(Box::new),
            attempts: lead.attempts,
            repeat_of: lead.repeat_of,
            junk_reason: shared(&lead.meta.junk_reason),
            junk_cleared_at: lead.junk_cleared_at,
        }
    }
}

/// One copy of each form name, form id, owner, junk reason and question an answer column reads,
/// however many leads name it. It keeps every string it was given, so it never holds more than
/// a few per lead the list has seen; in practice a few dozen forms, reps, junk rules and
/// questions. (Page admins name forms and word questions, the server's config names reps and
/// the columns' questions, and the server's rules word the reasons, so a fast hash is safe.)
#[derive(Debug, Default)]
pub(super) struct Interner(FxHashSet<Arc<str>>);

impl Interner {
    /// Points `row`'s form name, form id, owner, junk reason and kept questions at the shared
    /// copies. Call it once the row's answers are trimmed to those the columns read.
    pub(super) fn share(&mut self, row: &mut LeadRow) {
        let texts = [
            &mut row.form_name,
            &mut row.form_id,
            &mut row.owner,
            &mut row.junk_reason,
        ];
        let questions = row
            .answers
            .pairs_mut()
            .iter_mut()
            .map(|(question, _)| question);
        for text in texts.into_iter().flatten().chain(questions) {
            match self.0.get(&**text) {
                Some(shared) => *text = Arc::clone(shared),
                None => {
                    self.0.insert(Arc::clone(text));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::lead;

    /// A rep dials what the table shows: a number too long for the column is shown compact
    /// (E.164), and one too long even for that ends in "…", never silently short of a digit.
    #[test]
    fn a_phone_is_never_cut_short_of_a_digit() {
        let mut polish = lead(1, "Małgorzata", 5);
        polish.meta.phone = Some("58 645 10 96".into());
        polish.meta.phone_e164 = Some("+48586451096".into());
        let row = LeadRow::from(&polish);
        let shown = |width| row.phone_shown(width).map(|(phone, _)| phone);
        assert_eq!(shown(16).as_deref(), Some("+48 58 645 10 96"));
        assert_eq!(shown(15).as_deref(), Some("+48586451096"));
        assert_eq!(shown(10).as_deref(), Some("+48586451…"));

        let mut typed = lead(2, "Priya", 5);
        typed.meta.phone = Some("<test lead: dummy data for phone_number>".into());
        typed.meta.phone_invalid = true;
        let row = LeadRow::from(&typed);
        assert_eq!(row.phone_shown(16), Some(("<test lead: d…".into(), true)));
    }

    #[test]
    fn reads_a_lead_from_the_servers_json_and_skips_the_rest() {
        let mut full = lead(7, "Jane Doe", 5);
        full.owner = Some("alice".into());
        full.notes = Some("call back".into());
        full.repeat_of = Some(3);
        full.meta.junk_reason = Some("Meta test lead".into());
        full.junk_cleared_at = Some(full.updated_at);
        let json = serde_json::to_string(&full).unwrap();
        let row: LeadRow = serde_json::from_str(&json).unwrap();
        assert_eq!(row, LeadRow::from(&full));
        assert_eq!(row.display_name(), full.display_name());
        assert_eq!(
            (row.person_id(), row.junk()),
            (full.person_id(), full.junk())
        );
        assert_eq!((row.person_id(), row.junk()), (3, None), "cleared junk");

        // A server from before owners (no owner keys) and one that left the answers out.
        let mut value = serde_json::to_value(&full).unwrap();
        let object = value.as_object_mut().unwrap();
        for key in [
            "owner",
            "owned_at",
            "first_contact_at",
            "erased_at",
            "fields",
        ] {
            object.remove(key);
        }
        let row: LeadRow = serde_json::from_value(value).unwrap();
        assert_eq!(row.owner, None);
        assert_eq!(row.name.as_deref(), Some("Jane Doe"));
    }

    #[test]
    fn timestamps_read_as_chrono_reads_them() {
        let at = |text: &str| {
            let json = serde_json::json!({"id": 1, "created_at": text, "status": "New Lead",
                "is_manual": true, "updated_at": text, "first_contact_at": text});
            serde_json::from_value::<LeadRow>(json).map(|row| row.created_at)
        };
        for text in [
            "2026-03-10T15:00:02Z",
            "2026-03-10T15:00:02.123456789Z",
            "2026-03-10T16:00:02+01:00",
            "2026-03-10 15:00:02Z",
        ] {
            let chrono: DateTime<Utc> = serde_json::from_value(text.into()).unwrap();
            assert_eq!(at(text).unwrap(), chrono, "{text}");
        }
        assert!(at("yesterday").is_err());
    }

    #[test]
    fn equal_strings_end_up_as_one_copy() {
        let mut strings = Interner::default();
        let mut rows: Vec<LeadRow> = (1..=3)
            .map(|id| LeadRow::from(&lead(id, "x", id)))
            .collect();
        rows[2].owner = Some("alice".into());
        rows[1].owner = Some("alice".into());
        for row in &mut rows {
            strings.share(row);
        }
        let forms: Vec<&Arc<str>> = rows
            .iter()
            .filter_map(|row| row.form_name.as_ref())
            .collect();
        assert!(Arc::ptr_eq(forms[0], forms[1]) && Arc::ptr_eq(forms[1], forms[2]));
        let (Some(a), Some(b)) = (&rows[1].owner, &rows[2].owner) else {
            panic!("owners kept");
        };
        assert!(Arc::ptr_eq(a, b));
        assert_eq!(
            strings.0.len(),
            7,
            "Spring Promo, its form id 2002, alice and the four questions answered"
        );
    }
}
