//! What the search (`/`) asks for: words matched against the name, phone and email, and
//! `name:value` terms matched against an answer column (`budget:5000`: the budget answer holds
//! "5000", whatever the case). A word is a term only when `name` is one of the server's answer
//! columns, so an e-mail address or a time with a colon is still searched as typed.

use leadhook_shared::answer_columns::{AnswerColumn, AnswerColumns};

use super::LeadRow;

/// A search, read with the columns the server names.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Search {
    /// The words that are not terms, lower-cased, one space between them.
    pub needle: String,
    /// Each term's column and its lower-cased value; a lead matches when it matches them all.
    pub terms: Vec<(AnswerColumn, String)>,
}

impl Search {
    pub fn parse(query: &str, columns: &AnswerColumns) -> Search {
        let query = query.trim().to_lowercase();
        let mut terms = Vec::new();
        let mut words = Vec::new();
        for word in query.split_whitespace() {
            let column = word
                .split_once(':')
                .and_then(|(name, value)| Some((columns.get(name)?, value)));
            match column {
                Some((column, value)) => terms.push((column.clone(), value.to_string())),
                None => words.push(word),
            }
        }
        // Without terms the query is searched as typed, spaces and all.
        let needle = if terms.is_empty() {
            query
        } else {
            words.join(" ")
        };
        Search { needle, terms }
    }

    /// Whether every term holds for `row` (an empty value asks for any answer at all).
    pub fn terms_match(&self, row: &LeadRow) -> bool {
        self.terms.iter().all(|(column, value)| {
            row.answer(column)
                .is_some_and(|answer| contains_folded(answer, value))
        })
    }

    /// True when every lead this search finds is also found by `wider`.
    pub fn narrows(&self, wider: &Search) -> bool {
        self.needle.contains(&wider.needle)
            && wider.terms.iter().all(|(column, value)| {
                self.terms
                    .iter()
                    .any(|(mine, narrower)| mine.name == column.name && narrower.contains(value))
            })
    }
}

/// Whether `text`, lower-cased, contains the lower-case `needle`; ASCII text (most answers) is
/// compared without a lower-cased copy, as a search scans every lead on each key.
fn contains_folded(text: &str, needle: &str) -> bool {
    if !text.is_ascii() {
        return text.to_lowercase().contains(needle);
    }
    let (text, needle) = (text.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || text
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::lead;

    fn columns() -> AnswerColumns {
        AnswerColumns::parse("budget=what_is_your_budget?,zip=postcode").expect("valid")
    }

    fn with_budget(budget: &str) -> LeadRow {
        let mut jane = lead(1, "Jane Doe", 5);
        jane.meta.fields.insert(
            "what_is_your_budget?".into(),
            leadhook_shared::Answer::One(budget.into()),
        );
        LeadRow::from(&jane)
    }

    #[test]
    fn terms_name_a_column_and_the_other_words_stay_the_needle() {
        let search = Search::parse("  Jane  BUDGET:5k doe mail:x@y ", &columns());
        assert_eq!(search.needle, "jane doe mail:x@y", "mail is no column");
        let terms: Vec<(&str, &str)> = search
            .terms
            .iter()
            .map(|(column, value)| (column.name.as_str(), value.as_str()))
            .collect();
        assert_eq!(terms, [("budget", "5k")]);
        assert_eq!(
            Search::parse("jane  doe", &columns()).needle,
            "jane  doe",
            "without terms, as typed"
        );
        assert!(
            Search::parse("budget:1", &AnswerColumns::default())
                .terms
                .is_empty()
        );
    }

    #[test]
    fn a_term_matches_the_answer_in_any_case() {
        let columns = columns();
        let search = |query: &str| Search::parse(query, &columns);
        let row = with_budget("Über 5000 EUR");
        assert!(search("budget:5000").terms_match(&row));
        assert!(search("budget:eur").terms_match(&row));
        assert!(search("budget:über").terms_match(&row));
        assert!(search("budget:").terms_match(&row), "any budget");
        assert!(!search("budget:6000").terms_match(&row));
        assert!(!search("zip:").terms_match(&row), "no zip answer");
        assert!(search("budget:5000 budget:eur").terms_match(&row));
        assert!(search("budget:5000 budget:eur").terms_match(&with_budget("5000 eur")));
        assert!(!search("budget:5000").terms_match(&with_budget("$5,000")));
    }

    #[test]
    fn narrowing_knows_terms_from_words() {
        let columns = columns();
        let search = |query: &str| Search::parse(query, &columns);
        assert!(search("budget:5000").narrows(&search("budget:50")));
        assert!(search("budget:5000 jane").narrows(&search("budget:5000")));
        assert!(search("budget:5000 jane").narrows(&search("jan")));
        // A term is not a word: "budget:5" finds leads whose name holds neither.
        assert!(!search("budget:5").narrows(&search("budget")));
        assert!(!search("budget:5000").narrows(&search("5000")));
        assert!(!search("zip:5000").narrows(&search("budget:5000")));
    }
}
