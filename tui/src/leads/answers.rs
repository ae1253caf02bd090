//! The few form answers a list row keeps: those the server's answer columns
//! (`LEADHOOK_ANSWER_COLUMNS`) read, for the table, the details, the CSV and the search.
//!
//! The list may hold 100,000 rows, so a row keeps no other answer: the list the server sends with
//! `omit_fields=true` has only these, and a lead from `/api/events` (which carries every answer)
//! is trimmed to them as the list takes it in ([`Answers::retain_read`]).

use std::fmt;
use std::sync::Arc;

use leadhook_shared::Answer;
use leadhook_shared::answer_columns::AnswerColumns;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

/// A question key and the answer's text (several values joined with ", "), as the lead gave
/// them: lead text, neutralised where it is shown.
type Pair = (Arc<str>, Box<str>);

/// The answers a row keeps; none for most rows, so no allocation then.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers(Option<Box<[Pair]>>);

impl Answers {
    /// The answer to `question`, if the row kept one.
    pub fn get(&self, question: &str) -> Option<&str> {
        self.pairs()
            .iter()
            .find(|(asked, _)| &**asked == question)
            .map(|(_, answer)| &**answer)
    }

    pub(super) fn pairs(&self) -> &[Pair] {
        self.0.as_deref().unwrap_or_default()
    }

    pub(super) fn pairs_mut(&mut self) -> &mut [Pair] {
        self.0.as_deref_mut().unwrap_or_default()
    }

    /// Keeps only the answers some column reads on a lead of `form_id`'s form.
    pub(super) fn retain_read(&mut self, columns: &AnswerColumns, form_id: Option<&str>) {
        let Some(pairs) = self.0.take() else {
            return;
        };
        let kept: Vec<Pair> = pairs
            .into_iter()
            .filter(|(question, _)| {
                columns
                    .0
                    .iter()
                    .any(|column| column.question(form_id) == Some(&**question))
            })
            .collect();
        self.0 = (!kept.is_empty()).then(|| kept.into_boxed_slice());
    }
}

impl<'a> FromIterator<(&'a str, &'a Answer)> for Answers {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a Answer)>>(answers: I) -> Answers {
        let pairs: Vec<Pair> = answers
            .into_iter()
            .map(|(question, answer)| (Arc::from(question), answer.text().into_boxed_str()))
            .collect();
        Answers((!pairs.is_empty()).then(|| pairs.into_boxed_slice()))
    }
}

/// A lead's `fields` object (question → one value or several), or null.
impl<'de> Deserialize<'de> for Answers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Answers, D::Error> {
        deserializer.deserialize_option(FieldsVisitor)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Answers;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an object of form answers or null")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Answers, E> {
        Ok(Answers::default())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Answers, E> {
        Ok(Answers::default())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Answers, D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Answers, M::Error> {
        let mut pairs = Vec::new();
        while let Some((question, answer)) = map.next_entry::<std::borrow::Cow<str>, Answer>()? {
            pairs.push((Arc::from(&*question), answer.text().into_boxed_str()));
        }
        Ok(Answers(
            (!pairs.is_empty()).then(|| pairs.into_boxed_slice()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> AnswerColumns {
        AnswerColumns::parse("budget=what_is_your_budget?,2002:zip=postcode,zip=zip_code")
            .expect("valid")
    }

    fn answers(json: serde_json::Value) -> Answers {
        serde_json::from_value(json).expect("answers")
    }

    #[test]
    fn reads_one_value_or_several_joined() {
        let read = answers(serde_json::json!({
            "what_is_your_budget?": "5000",
            "which_products?": ["Solar", "Battery"],
        }));
        assert_eq!(read.get("what_is_your_budget?"), Some("5000"));
        assert_eq!(read.get("which_products?"), Some("Solar, Battery"));
        assert_eq!(read.get("postcode"), None);
        assert_eq!(answers(serde_json::Value::Null), Answers::default());
        assert_eq!(answers(serde_json::json!({})), Answers::default());
    }

    #[test]
    fn only_the_answers_a_column_reads_on_the_leads_form_are_kept() {
        let all = answers(serde_json::json!({
            "what_is_your_budget?": "5000",
            "postcode": "10115",
            "zip_code": "90210",
            "email": "jane@example.com",
        }));
        let kept = |form: &str| {
            let mut kept = all.clone();
            kept.retain_read(&columns(), Some(form));
            let mut questions: Vec<String> =
                kept.pairs().iter().map(|(q, _)| q.to_string()).collect();
            questions.sort();
            questions
        };
        assert_eq!(kept("2002"), ["postcode", "what_is_your_budget?"]);
        assert_eq!(kept("9"), ["what_is_your_budget?", "zip_code"]);

        let mut none = all;
        none.retain_read(&AnswerColumns::default(), Some("2002"));
        assert_eq!(none, Answers::default(), "no columns, no answers kept");
    }
}
