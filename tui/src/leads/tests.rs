//! The list kept sorted, filtered and counted as leads merge.

use super::*;
use crate::fixtures::{now as fixed_now, row as test_lead};

fn ids(leads: &Leads) -> Vec<i64> {
    leads.visible().iter().map(|key| key.id).collect()
}

#[test]
fn keeps_newest_first_and_replaces_by_id() {
    let mut leads = Leads::default();
    assert!(leads.upsert(test_lead(1, "Ann", 30)));
    assert!(leads.upsert(test_lead(2, "Bob", 10)));
    assert!(leads.upsert(test_lead(3, "Cy", 20)));
    assert_eq!(ids(&leads), [2, 3, 1]);

    let mut contacted = test_lead(3, "Cy", 20);
    contacted.status = LeadStatus::Contacted;
    assert!(!leads.upsert(contacted));
    assert_eq!(leads.len(), 3);
    assert_eq!(leads.count_with_status(LeadStatus::NewLead), 2);
    assert_eq!(leads.count_with_status(LeadStatus::Contacted), 1);
}

#[test]
fn a_hidden_lead_leaves_the_list_and_the_counts() {
    let mut leads = Leads::default();
    for id in 1..=3 {
        leads.upsert(test_lead(id, "Ann", id * 10));
    }
    assert!(leads.remove(1));
    assert!(!leads.remove(1), "gone already");
    assert_eq!(ids(&leads), [2, 3]);
    assert_eq!(leads.len(), 2);
    assert_eq!(leads.count_with_status(LeadStatus::NewLead), 2);
    assert!(leads.get(1).is_none());
    // The lead moved into the freed slot is still found and updated in place.
    let mut contacted = test_lead(3, "Ann", 30);
    contacted.status = LeadStatus::Contacted;
    assert!(!leads.upsert(contacted));
    assert_eq!(
        leads.get(3).map(|lead| lead.status),
        Some(LeadStatus::Contacted)
    );
    assert_eq!(leads.len(), 2);
}

#[test]
fn filter_by_status_and_search_then_merge_keeps_it_applied() {
    let mut leads = Leads::default();
    for (id, name) in [(1, "Jane Doe"), (2, "John Roe"), (3, "Janet Poe")] {
        leads.upsert(test_lead(id, name, id * 10));
    }
    leads.set_filter(Filter {
        status: None,
        query: "jan".into(),
        ..Filter::default()
    });
    assert_eq!(ids(&leads), [1, 3]);
    leads.upsert(test_lead(4, "Jan Smith", 1));
    leads.upsert(test_lead(5, "Bo", 2));
    assert_eq!(ids(&leads), [4, 1, 3]);

    leads.set_filter(Filter {
        status: Some(LeadStatus::Contacted),
        query: "jan".into(),
        ..Filter::default()
    });
    assert!(ids(&leads).is_empty());
}

#[test]
fn phone_search_ignores_formatting() {
    let mut leads = Leads::default();
    let mut lead = test_lead(1, "Ann", 1);
    lead.phone = Some("+1 (555) 123-4567".into());
    leads.upsert(lead);
    leads.upsert(test_lead(2, "Bob", 2));
    for query in ["5551234", "555 123", "(555) 123-45"] {
        leads.set_filter(Filter {
            status: None,
            query: query.into(),
            ..Filter::default()
        });
        assert_eq!(ids(&leads), [1], "{query}");
    }
}

#[test]
fn search_ignores_case_in_any_script() {
    let mut leads = Leads::default();
    leads.upsert(test_lead(1, "ÉMILIE Dupont", 1));
    leads.upsert(test_lead(2, "Bob", 2));
    for query in ["émilie", "DUPONT", "Émi", "bob"] {
        leads.set_filter(Filter {
            status: None,
            query: query.into(),
            ..Filter::default()
        });
        let expected = if query == "bob" { 2 } else { 1 };
        assert_eq!(ids(&leads), [expected], "{query}");
    }
}

#[test]
fn narrowing_a_search_gives_the_same_rows_as_a_full_scan() {
    let names = ["Jane", "Janet", "Jan", "Bob", "janine", "Ajax"];
    let mut narrowed = Leads::default();
    for (id, name) in names.iter().enumerate() {
        narrowed.upsert(test_lead(id as i64, name, id as i64));
    }
    for query in ["j", "ja", "jan", "jane", "janet"] {
        narrowed.set_filter(Filter {
            status: None,
            query: query.into(),
            ..Filter::default()
        });
        let mut fresh = Leads::default();
        for (id, name) in names.iter().enumerate() {
            fresh.upsert(test_lead(id as i64, name, id as i64));
        }
        fresh.set_filter(narrowed.filter().clone());
        assert_eq!(ids(&narrowed), ids(&fresh), "{query}");
    }
}

#[test]
fn counts_by_creation_time() {
    let mut leads = Leads::default();
    for minutes in [5, 90, 60 * 30] {
        leads.upsert(test_lead(minutes, "x", minutes));
    }
    let now = fixed_now();
    assert_eq!(leads.created_since(now - chrono::Duration::hours(1)), 1);
    assert_eq!(leads.created_since(now - chrono::Duration::days(1)), 2);
    assert_eq!(leads.created_since(now - chrono::Duration::days(7)), 3);
}

#[test]
fn a_big_page_merges_like_one_by_one_upserts() {
    let page = |ids: std::ops::Range<i64>| {
        ids.map(|id| {
            let mut lead = test_lead(id, &format!("Person {id}"), (id * 7) % 500);
            if id % 3 == 0 {
                lead.status = LeadStatus::Won;
            }
            lead
        })
        .collect::<Vec<_>>()
    };
    let filter = Filter {
        status: Some(LeadStatus::Won),
        query: "person 1".into(),
        ..Filter::default()
    };
    let mut bulk = Leads::default();
    bulk.set_filter(filter.clone());
    let mut single = Leads::default();
    single.set_filter(filter);
    // Overlapping pages: ids 50..100 come back, some with another status.
    let mut second = page(50..200);
    for lead in &mut second[..20] {
        lead.status = LeadStatus::Lost;
    }
    for batch in [page(0..100), second] {
        let new_in_bulk = bulk.merge(batch.clone());
        let new_one_by_one: Vec<i64> = batch
            .into_iter()
            .filter_map(|lead| {
                let id = lead.id;
                single.upsert(lead).then_some(id)
            })
            .collect();
        assert_eq!(new_in_bulk, new_one_by_one);
    }
    assert_eq!(bulk.order, single.order);
    assert_eq!(ids(&bulk), ids(&single));
    for status in LeadStatus::ALL {
        assert_eq!(
            bulk.count_with_status(status),
            single.count_with_status(status)
        );
    }
}

/// Pages newer than the list (the first load in order of change), older (a backfill) and in
/// between end up as one by one upserts would leave them.
#[test]
fn pages_before_after_and_among_the_list_merge_in_order() {
    let page = |minutes: std::ops::Range<i64>| {
        minutes
            .map(|m| test_lead(1000 + m, &format!("Person {m}"), m))
            .collect::<Vec<_>>()
    };
    let mut bulk = Leads::default();
    let mut single = Leads::default();
    for batch in [
        page(400..500),
        page(100..200),
        page(700..800),
        page(150..750),
    ] {
        bulk.merge(batch.clone());
        for lead in batch {
            single.upsert(lead);
        }
        assert_eq!(bulk.order, single.order);
        assert!(bulk.order.is_sorted());
    }
    assert_eq!(bulk.len(), 700);
}

#[test]
fn hundred_thousand_leads_load_and_search_quickly() {
    let started = std::time::Instant::now();
    let mut leads = Leads::default();
    // The first load: pages of 1000, oldest first, each lead newer than all before it.
    for page in 0..100 {
        let batch = (page * 1000..(page + 1) * 1000)
            .map(|id| test_lead(id, &format!("Person {id}"), 200_000 - id))
            .collect();
        leads.merge(batch);
    }
    assert_eq!(leads.len(), 100_000);
    assert_eq!(leads.visible()[0].id, 99_999);
    leads.upsert(test_lead(200_000, "Newest", 0));
    leads.set_filter(Filter {
        status: None,
        query: "person 9999".into(),
        ..Filter::default()
    });
    assert_eq!(leads.visible().len(), 11);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

/// `id` as a later submission of `person`'s.
fn repeat(id: i64, person: i64, minutes_ago: i64) -> LeadRow {
    let mut row = test_lead(id, "Jane", minutes_ago);
    row.repeat_of = Some(person);
    row
}

fn junk(id: i64, minutes_ago: i64) -> LeadRow {
    let mut row = test_lead(id, "Test", minutes_ago);
    row.junk_reason = Some("Meta test lead".into());
    row
}

#[test]
fn a_person_is_one_row_whichever_order_their_submissions_come_in() {
    let rows = vec![
        repeat(5, 1, 5),
        test_lead(2, "Bob", 20),
        test_lead(1, "Jane", 30),
        repeat(7, 1, 1),
        junk(9, 3),
    ];
    let mut one_by_one = Leads::default();
    for row in rows.clone() {
        one_by_one.upsert(row);
    }
    let mut reversed = Leads::default();
    for row in rows.iter().rev().cloned() {
        reversed.upsert(row);
    }
    let mut big = Leads::default();
    big.merge(
        (10..50)
            .map(|id| test_lead(id, "Filler", 1000 + id))
            .collect(),
    );
    big.merge(
        rows.into_iter()
            .chain((50..90).map(|id| test_lead(id, "Filler", 1000 + id)))
            .collect(),
    );
    for leads in [&one_by_one, &reversed] {
        assert_eq!(ids(leads), [7, 2]);
        assert_eq!((leads.people(), leads.junk(), leads.len()), (2, 1, 5));
    }
    assert_eq!(ids(&big)[..2], [7, 2]);
    assert_eq!(big.people(), 82);
}

#[test]
fn unlinking_and_removing_regroup_the_person() {
    let mut leads = Leads::default();
    for row in [test_lead(1, "Jane", 30), repeat(5, 1, 5)] {
        leads.upsert(row);
    }
    assert_eq!((ids(&leads), leads.people()), (vec![5], 1));
    // Undone: #5 is a person of its own.
    leads.upsert(test_lead(5, "Jane", 5));
    assert_eq!((ids(&leads), leads.people()), (vec![5, 1], 2));
    // Linked again, then its first lead hidden from this rep: the rest still shows.
    leads.upsert(repeat(5, 1, 5));
    assert!(leads.remove(1));
    assert_eq!((ids(&leads), leads.people()), (vec![5], 1));
    assert!(leads.remove(5));
    assert_eq!((ids(&leads), leads.people()), (vec![], 0));
}

#[test]
fn junk_shows_only_when_asked_and_never_heads_a_real_persons_row() {
    let mut leads = Leads::default();
    let mut junk_repeat = junk(5, 1);
    junk_repeat.repeat_of = Some(1);
    for row in [test_lead(1, "Jane", 30), junk_repeat, junk(9, 3)] {
        leads.upsert(row);
    }
    assert_eq!(
        ids(&leads),
        [1],
        "Jane as her real lead; the test lead hidden"
    );
    assert_eq!(leads.submissions(1).len(), 1);
    leads.set_filter(Filter {
        junk: true,
        ..Filter::default()
    });
    assert_eq!(
        ids(&leads),
        [5, 9],
        "Jane's newest submission heads her row"
    );
    assert_eq!(leads.submissions(1).len(), 2);
    assert_eq!(leads.people(), 2);
    // Cleared: counted as real from now on.
    let mut cleared = junk(9, 3);
    cleared.junk_cleared_at = Some(fixed_now());
    leads.upsert(cleared);
    assert_eq!(leads.junk(), 1);
    leads.set_filter(Filter::default());
    assert_eq!(ids(&leads), [9, 1]);
    assert_eq!(
        leads.count_with_status(LeadStatus::NewLead),
        2,
        "junk has no status count"
    );
}

/// Pages with repeats, junk, leads twice in a page and people linked and unlinked between pages
/// end up as one by one upserts leave them, rows and counts alike.
#[test]
fn pages_of_people_merge_like_one_by_one_upserts() {
    let lead = |id: i64, page: i64| {
        let mut row = test_lead(id, &format!("P{id}"), (id * 13) % 300);
        // Every fifth lead repeats the one five before it, in the second page only some do.
        if id % 5 == 0 && id >= 5 && (page == 0 || id % 2 == 0) {
            row.repeat_of = Some(id - 5 - (id - 5) % 5 + 1);
        }
        if id % 7 == 0 {
            row.junk_reason = Some("Meta test lead".into());
        }
        row
    };
    let first: Vec<LeadRow> = (1..80).map(|id| lead(id, 0)).collect();
    let mut second: Vec<LeadRow> = (40..120).map(|id| lead(id, 1)).collect();
    // The same lead twice in a page: first as a repeat, last as a person of its own.
    second.push(repeat(41, 1, 3));
    second.push(test_lead(41, "P41", 3));
    for junk_shown in [false, true] {
        let filter = Filter {
            junk: junk_shown,
            ..Filter::default()
        };
        let mut bulk = Leads::default();
        bulk.set_filter(filter.clone());
        let mut single = Leads::default();
        single.set_filter(filter);
        for page in [first.clone(), second.clone()] {
            bulk.merge(page.clone());
            for row in page {
                single.upsert(row);
            }
            assert_eq!(ids(&bulk), ids(&single));
            assert_eq!(bulk.order, single.order);
            assert_eq!(
                (bulk.people(), bulk.junk(), bulk.len()),
                (single.people(), single.junk(), single.len())
            );
        }
        // Every person is one row: no id shows twice, no submission beside its person's row.
        let shown = ids(&bulk);
        let persons: std::collections::HashSet<i64> = shown
            .iter()
            .map(|id| bulk.get(*id).unwrap().person_id())
            .collect();
        assert_eq!(persons.len(), shown.len());
        assert_eq!(bulk.people(), shown.len());
    }
}
