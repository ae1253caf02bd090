//! The list with the server's answer columns: rows trimmed to the answers the columns read as
//! they are taken in, and `name:value` searches.

use std::sync::Arc;

use leadhook_shared::Answer;
use leadhook_shared::answer_columns::AnswerColumns;

use super::*;
use crate::fixtures::lead;

fn columns() -> AnswerColumns {
    AnswerColumns::parse("budget=what_is_your_budget?,zip=postcode").expect("valid")
}

/// Lead `id` with every answer a lead from `/api/events` carries, and a budget.
fn with_budget(id: i64, name: &str, budget: &str) -> LeadRow {
    let mut lead = lead(id, name, id);
    lead.meta
        .fields
        .insert("what_is_your_budget?".into(), Answer::One(budget.into()));
    LeadRow::from(&lead)
}

fn questions(leads: &Leads, id: i64) -> Vec<String> {
    let row = leads.get(id).expect("kept");
    let mut questions: Vec<String> = row
        .answers
        .pairs()
        .iter()
        .map(|(question, _)| question.to_string())
        .collect();
    questions.sort();
    questions
}

fn search(leads: &mut Leads, query: &str) -> Vec<i64> {
    leads.set_filter(Filter {
        query: query.into(),
        ..Filter::default()
    });
    leads.visible().iter().map(|key| key.id).collect()
}

#[test]
fn rows_keep_only_the_answers_the_columns_read() {
    let mut leads = Leads::default();
    // Before `/api/reps/me` told the columns, a row is kept as it came.
    leads.upsert(with_budget(1, "Ann", "5000"));
    assert_eq!(questions(&leads, 1).len(), 5);

    leads.set_answer_columns(columns());
    assert_eq!(questions(&leads, 1), ["what_is_your_budget?"]);
    leads.upsert(with_budget(2, "Bob", "7000"));
    assert_eq!(questions(&leads, 2), ["what_is_your_budget?"]);
    let budget = leads.answer_columns().get("budget").expect("budget");
    let answers = [1, 2].map(|id| leads.get(id).and_then(|row| row.answer(budget)));
    assert_eq!(answers, [Some("5000"), Some("7000")]);
    let zip = leads.answer_columns().get("zip").expect("zip");
    assert_eq!(leads.get(2).and_then(|row| row.answer(zip)), None);

    // The two rows share one copy of the question.
    let question = |id| Arc::clone(&leads.get(id).expect("kept").answers.pairs()[0].0);
    assert!(Arc::ptr_eq(&question(1), &question(2)));

    // A server that names no columns: no answers at all.
    leads.set_answer_columns(AnswerColumns::default());
    leads.upsert(with_budget(3, "Cy", "1"));
    assert!(questions(&leads, 1).is_empty() && questions(&leads, 3).is_empty());
}

#[test]
fn a_column_term_searches_the_answer_alone_or_with_words() {
    let mut leads = Leads::default();
    leads.set_answer_columns(columns());
    leads.upsert(with_budget(1, "Jane Doe", "5000 EUR"));
    leads.upsert(with_budget(2, "John Roe", "15000"));
    leads.upsert(with_budget(3, "Janet Poe", "2000"));
    leads.upsert(LeadRow::from(&lead(4, "No Budget", 4)));

    assert_eq!(search(&mut leads, "budget:5000"), [1, 2]);
    assert_eq!(search(&mut leads, "BUDGET:eur"), [1]);
    assert_eq!(search(&mut leads, "jan budget:5000"), [1]);
    assert_eq!(search(&mut leads, "budget:5000 roe"), [2]);
    assert_eq!(search(&mut leads, "budget:"), [1, 2, 3]);
    assert!(search(&mut leads, "zip:1").is_empty());
    // Not a column: searched as text, like an address with a colon.
    assert!(search(&mut leads, "price:5000").is_empty());
}

#[test]
fn narrowing_a_column_search_gives_the_same_rows_as_a_full_scan() {
    let rows = || {
        [
            ("Jane", "5000"),
            ("Bob", "budget 50"),
            ("Budge", "500"),
            ("Al", "6000"),
        ]
        .into_iter()
        .enumerate()
        .map(|(id, (name, budget))| with_budget(id as i64 + 1, name, budget))
    };
    let mut narrowed = Leads::default();
    narrowed.set_answer_columns(columns());
    rows().for_each(|row| {
        narrowed.upsert(row);
    });
    for query in [
        "b",
        "budget",
        "budget:",
        "budget:5",
        "budget:50",
        "budget:500 j",
    ] {
        let shown = search(&mut narrowed, query);
        let mut fresh = Leads::default();
        fresh.set_answer_columns(columns());
        rows().for_each(|row| {
            fresh.upsert(row);
        });
        assert_eq!(shown, search(&mut fresh, query), "{query}");
    }
}

#[test]
fn columns_told_after_a_search_read_its_terms_anew() {
    let mut leads = Leads::default();
    leads.upsert(with_budget(1, "Jane", "5000"));
    assert!(
        search(&mut leads, "budget:5000").is_empty(),
        "no columns yet"
    );
    leads.set_answer_columns(columns());
    let shown: Vec<i64> = leads.visible().iter().map(|key| key.id).collect();
    assert_eq!(shown, [1]);
}
