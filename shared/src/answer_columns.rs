//! Form answers as named columns (`LEADHOOK_ANSWER_COLUMNS`): a custom question's key, per form
//! or for every form, read as "budget", "timeline", "zip". The server parses the setting and
//! serves it with `/api/reps/me`; the dashboard shows the columns in the table, the details and
//! the CSV; the insights group by them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Lead;

/// Most named columns.
pub const MAX_COLUMNS: usize = 20;
/// Longest column name, in bytes (`[a-z0-9_]`).
pub const MAX_NAME_LEN: usize = 32;
/// Longest question key, in bytes.
pub const MAX_QUESTION_LEN: usize = 200;

/// Which form uses the mapping of [`AnswerColumn::questions`]: this key for every other form.
pub const EVERY_FORM: &str = "*";

/// One named column: the question each form asks it with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerColumn {
    pub name: String,
    /// Question key by form id, and [`EVERY_FORM`] for forms not named.
    pub questions: BTreeMap<String, String>,
}

impl AnswerColumn {
    /// The question this column reads on `form_id`'s leads.
    pub fn question(&self, form_id: Option<&str>) -> Option<&str> {
        form_id
            .and_then(|form| self.questions.get(form))
            .or_else(|| self.questions.get(EVERY_FORM))
            .map(String::as_str)
    }

    /// The lead's answer in this column (several values joined with ", ").
    pub fn value(&self, lead: &Lead) -> Option<String> {
        let question = self.question(lead.meta.form_id.as_deref())?;
        lead.meta.fields.get(question).map(|answer| answer.text())
    }
}

/// Every named column, in the order the setting lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AnswerColumns(pub Vec<AnswerColumn>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerColumnsError {
    #[error("\"{0}\" is not column=question or form_id:column=question")]
    Entry(String),
    #[error(
        "column name \"{0}\" must be 1 to {MAX_NAME_LEN} lower-case letters, digits or underscores"
    )]
    Name(String),
    #[error(
        "question \"{0}\" must be 1 to {MAX_QUESTION_LEN} bytes without quotes, backslashes or control characters"
    )]
    Question(String),
    #[error("form id \"{0}\" must be digits")]
    Form(String),
    #[error("column {column} is given twice for {form}")]
    Twice { column: String, form: String },
    #[error("at most {MAX_COLUMNS} columns")]
    TooMany,
}

impl AnswerColumns {
    /// Reads `budget=what_is_your_budget?,timeline=when_to_start,123456:zip=postcode`.
    pub fn parse(setting: &str) -> Result<AnswerColumns, AnswerColumnsError> {
        let mut columns: Vec<AnswerColumn> = Vec::new();
        for entry in setting.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (target, question) = entry
                .split_once('=')
                .ok_or_else(|| AnswerColumnsError::Entry(entry.to_string()))?;
            let (form, name) = match target.split_once(':') {
                Some((form, name)) => (form.trim(), name.trim()),
                None => (EVERY_FORM, target.trim()),
            };
            let question = question.trim();
            if name.is_empty()
                || name.len() > MAX_NAME_LEN
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(AnswerColumnsError::Name(name.to_string()));
            }
            if question.is_empty()
                || question.len() > MAX_QUESTION_LEN
                || question
                    .chars()
                    .any(|c| c.is_control() || matches!(c, '"' | '\'' | '\\'))
            {
                return Err(AnswerColumnsError::Question(question.to_string()));
            }
            if form != EVERY_FORM && (form.is_empty() || !form.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(AnswerColumnsError::Form(form.to_string()));
            }
            let at = match columns.iter().position(|column| column.name == name) {
                Some(at) => at,
                None if columns.len() == MAX_COLUMNS => return Err(AnswerColumnsError::TooMany),
                None => {
                    columns.push(AnswerColumn {
                        name: name.to_string(),
                        questions: BTreeMap::new(),
                    });
                    columns.len() - 1
                }
            };
            if columns[at]
                .questions
                .insert(form.to_string(), question.to_string())
                .is_some()
            {
                return Err(AnswerColumnsError::Twice {
                    column: name.to_string(),
                    form: form.to_string(),
                });
            }
        }
        Ok(AnswerColumns(columns))
    }

    pub fn get(&self, name: &str) -> Option<&AnswerColumn> {
        self.0.iter().find(|column| column.name == name)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `question` is read by some column (its answer is kept in a list without answers).
    pub fn reads(&self, question: &str) -> bool {
        self.0
            .iter()
            .any(|column| column.questions.values().any(|q| q == question))
    }

    /// The lead's value in every column, in order (`None` where it has no answer).
    pub fn values(&self, lead: &Lead) -> Vec<Option<String>> {
        self.0.iter().map(|column| column.value(lead)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_read_per_form_and_for_every_form() {
        let columns = AnswerColumns::parse(
            "budget=what_is_your_budget?, 123:budget=budget_eur ,zip=postcode",
        )
        .expect("valid");
        let budget = columns.get("budget").expect("budget");
        assert_eq!(budget.question(Some("123")), Some("budget_eur"));
        assert_eq!(budget.question(Some("999")), Some("what_is_your_budget?"));
        assert_eq!(budget.question(None), Some("what_is_your_budget?"));
        assert_eq!(columns.0.len(), 2);
        assert!(columns.reads("postcode") && !columns.reads("email"));
        assert_eq!(AnswerColumns::parse(""), Ok(AnswerColumns::default()));
    }

    #[test]
    fn bad_settings_say_what_is_wrong() {
        for (setting, error) in [
            ("budget", AnswerColumnsError::Entry("budget".into())),
            ("Budget=x", AnswerColumnsError::Name("Budget".into())),
            ("budget=", AnswerColumnsError::Question(String::new())),
            ("budget=it's", AnswerColumnsError::Question("it's".into())),
            ("abc:budget=x", AnswerColumnsError::Form("abc".into())),
            (
                "budget=x,budget=y",
                AnswerColumnsError::Twice {
                    column: "budget".into(),
                    form: "*".into(),
                },
            ),
        ] {
            assert_eq!(AnswerColumns::parse(setting), Err(error), "{setting}");
        }
        let many: Vec<String> = (0..=MAX_COLUMNS).map(|n| format!("c{n}=q{n}")).collect();
        assert_eq!(
            AnswerColumns::parse(&many.join(",")),
            Err(AnswerColumnsError::TooMany)
        );
    }
}
