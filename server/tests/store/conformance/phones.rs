//! The normalised phone in every `LeadStore`: stored with the lead, refreshed by a re-delivery
//! that changes the phone, filled in silently (no change cursor, no history) when only it is new,
//! by a re-delivery or by the backfill, and removed by an erase.

use std::collections::HashMap;

use leadhook_server::config::PhoneRegions;
use leadhook_server::store::{LeadStore, Routing, TriageBackfill, TriageWrites};
use leadhook_server::triage::Triage;
use leadhook_server::triage::backfill::backfill_all;
use leadhook_server::triage::junk::META_TEST_LEAD;
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::team::actor::FACEBOOK;
use leadhook_shared::{ActivityKind, Lead, NewManualLead};

use super::Fixture;
use super::suite::{at, incoming};

const PLACEHOLDER: &str = "<test lead: dummy data for phone_number>";

fn with_phone(leadgen_id: &str, phone: Option<&str>) -> IncomingLead {
    // One submission time, so deliveries of one lead differ only where a test says.
    let submitted = at(2)
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .expect("a time")
        .and_utc();
    let mut lead = incoming(leadgen_id, &format!("Person {leadgen_id}"), submitted);
    lead.meta.phone = phone.map(str::to_string);
    lead
}

fn normalised(mut lead: IncomingLead) -> IncomingLead {
    lead.meta.normalize("US".parse().ok());
    lead
}

async fn lead(store: &dyn LeadStore, id: i64) -> Lead {
    store.get(id).await.unwrap().expect("the lead exists")
}

async fn history(store: &dyn LeadStore, id: i64) -> Vec<(ActivityKind, Option<String>)> {
    let rows = store.activity(id).await.unwrap().expect("history");
    rows.into_iter().map(|row| (row.kind, row.new)).collect()
}

pub async fn phones_are_stored_refreshed_and_filled_in_silently(store: &dyn LeadStore) {
    let first = normalised(with_phone("8101", Some("(650) 253-0000")));
    let stored = store.upsert(&first, FACEBOOK).await.unwrap().lead;
    assert_eq!(
        stored.meta.phone.as_deref(),
        Some("(650) 253-0000"),
        "kept as typed"
    );
    assert_eq!(stored.meta.phone_e164.as_deref(), Some("+16502530000"));
    assert!(!stored.meta.phone_invalid);
    assert_eq!(lead(store, stored.id).await.meta, stored.meta);

    let same = store.upsert(&first, FACEBOOK).await.unwrap();
    assert!(!same.changed, "an identical re-delivery changes nothing");

    // Another phone, one that is no number: stored, marked, a change like any re-delivery.
    let placeholder = normalised(with_phone("8101", Some(PLACEHOLDER)));
    let changed = store.upsert(&placeholder, FACEBOOK).await.unwrap();
    assert!(changed.changed);
    assert_eq!(changed.lead.meta.phone.as_deref(), Some(PLACEHOLDER));
    assert_eq!(changed.lead.meta.phone_e164, None);
    assert!(changed.lead.meta.phone_invalid);
    let read = lead(store, stored.id).await;
    assert!(read.meta.phone_invalid && read.meta.phone_e164.is_none());
    assert_eq!(
        history(store, stored.id).await.last(),
        Some(&(ActivityKind::Redelivered, Some("phone".to_string()))),
        "the raw phone is the change; its normalised form is not listed"
    );

    // A lead stored before phones were read, delivered again: only the derived value is new.
    let old = store
        .upsert(&with_phone("8102", Some("+44 20 7946 0958")), FACEBOOK)
        .await
        .unwrap()
        .lead;
    assert_eq!(old.meta.phone_e164, None);
    let again = store
        .upsert(
            &normalised(with_phone("8102", Some("+44 20 7946 0958"))),
            FACEBOOK,
        )
        .await
        .unwrap();
    assert!(
        !again.changed,
        "filling in the normalised phone is not a change"
    );
    assert_eq!(again.lead.updated_at, old.updated_at);
    let read = lead(store, old.id).await;
    assert_eq!(read.meta.phone_e164.as_deref(), Some("+442079460958"));
    assert_eq!(read.updated_at, old.updated_at);
    assert_eq!(history(store, old.id).await.len(), 1, "only `stored`");
}

pub async fn phones_of_manual_leads_are_stored(store: &dyn LeadStore) {
    let mut new = NewManualLead {
        name: "Walk In".into(),
        phone: Some("030 1234567".into()),
        ..NewManualLead::default()
    };
    new.normalize("DE".parse().ok());
    let stored = store
        .create_manual(&new, "alice", Routing::UNOWNED)
        .await
        .unwrap();
    assert_eq!(stored.meta.phone_e164.as_deref(), Some("+49301234567"));
    assert_eq!(
        lead(store, stored.id).await.meta.phone_e164,
        stored.meta.phone_e164
    );
}

pub async fn phones_of_earlier_leads_are_backfilled_without_a_change(fixture: &Fixture) {
    let store = &*fixture.store;
    let mut german = with_phone("8201", Some("030 1234567"));
    german.meta.page_id = Some("153125381133".into());
    let leads = [
        german,
        with_phone("8202", Some("(650) 253-0000")),
        with_phone("8203", Some(PLACEHOLDER)),
        with_phone("8204", None),
        with_phone("8205", Some("+44 20 7946 0958")),
        with_phone("8206", Some("(650) 253-0001")),
    ];
    let mut ids = Vec::new();
    for lead in &leads {
        ids.push(store.upsert(lead, FACEBOOK).await.unwrap().lead.id);
    }
    store.erase(ids[5], "alice", None).await.unwrap();
    let before: Vec<Lead> = futures::future::join_all(ids.iter().map(|&id| lead(store, id))).await;
    let histories: Vec<_> =
        futures::future::join_all(ids.iter().map(|&id| history(store, id))).await;
    assert!(before.iter().all(|lead| lead.meta.phone_e164.is_none()));
    // As a server from before the triage stored them.
    fixture
        .sql("UPDATE leads SET triaged = false WHERE leadgen_id LIKE '820%'")
        .await;

    let triage = Triage {
        regions: PhoneRegions {
            default: "US".parse().ok(),
            pages: HashMap::from([("153125381133".to_string(), "DE".parse().unwrap())]),
        },
        ..Triage::default()
    };
    let backfill: &dyn TriageBackfill = store;
    let writes: &dyn TriageWrites = store;
    assert_eq!(
        backfill_all(backfill, writes, &triage).await.unwrap(),
        5,
        "every lead not erased, with or without a phone"
    );

    let after: Vec<Lead> = futures::future::join_all(ids.iter().map(|&id| lead(store, id))).await;
    let phones: Vec<_> = after
        .iter()
        .map(|lead| (lead.meta.phone_e164.as_deref(), lead.meta.phone_invalid))
        .collect();
    assert_eq!(
        phones,
        [
            (Some("+49301234567"), false),
            (Some("+16502530000"), false),
            (None, true),
            (None, false),
            (Some("+442079460958"), false),
            (None, false),
        ]
    );
    let junk: Vec<_> = after
        .iter()
        .map(|lead| lead.meta.junk_reason.as_deref())
        .collect();
    assert_eq!(junk, [None, None, Some(META_TEST_LEAD), None, None, None]);
    assert_eq!(
        after[0].meta.email_key.as_deref(),
        Some("person.8201@example.com")
    );
    for ((before, after), history_before) in before.iter().zip(&after).zip(&histories) {
        assert_eq!(
            after.updated_at, before.updated_at,
            "the change cursor stays"
        );
        assert_eq!(after.meta.phone, before.meta.phone, "the raw phone stays");
        assert_eq!(
            &history(store, after.id).await,
            history_before,
            "no history"
        );
    }
    // Done is done: a second run (a restart) finds nothing left.
    assert_eq!(backfill_all(backfill, writes, &triage).await.unwrap(), 0);
}

pub async fn erasing_removes_the_normalised_phone(store: &dyn LeadStore) {
    let stored = store
        .upsert(
            &normalised(with_phone("8301", Some("(650) 253-0000"))),
            FACEBOOK,
        )
        .await
        .unwrap()
        .lead;
    assert!(stored.meta.phone_e164.is_some());
    let erased = store
        .erase(stored.id, "alice", None)
        .await
        .unwrap()
        .expect("the lead exists");
    assert_eq!(
        (erased.meta.phone_e164, erased.meta.phone_invalid),
        (None, false)
    );
    let marked = store
        .upsert(&normalised(with_phone("8302", Some(PLACEHOLDER))), FACEBOOK)
        .await
        .unwrap()
        .lead;
    let erased = store
        .erase(marked.id, "alice", None)
        .await
        .unwrap()
        .unwrap();
    assert!(!erased.meta.phone_invalid, "not even the mark stays");

    // Meta delivers the lead again: it stays erased, without a phone of any form.
    let again = store
        .upsert(
            &normalised(with_phone("8301", Some("(650) 253-0000"))),
            FACEBOOK,
        )
        .await
        .unwrap();
    assert!(!again.changed);
    let read = lead(store, stored.id).await;
    assert_eq!((read.meta.phone, read.meta.phone_e164), (None, None));
}
