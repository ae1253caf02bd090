//! `upsert_many` checks every `LeadStore` must pass: a batch stores what the same leads stored one
//! by one would, with the same activity and `updated_at` behaviour, in one answer per input.

use chrono::{DateTime, Utc};
use leadhook_server::store::{LeadQuery, LeadStore, Routing, UPSERT_BATCH, Upserted};
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::team::actor::{FACEBOOK, SWEEPER};
use leadhook_shared::{ActivityKind, Lead, LeadPatch, LeadStatus, MetaFields};

use super::suite::{at, incoming};

/// A lead of scenario `prefix`: the same data in every scenario but for the `leadgen_id`.
fn lead(prefix: &str, key: &str, name: &str, created_at: DateTime<Utc>) -> IncomingLead {
    let mut lead = incoming(key, name, created_at);
    lead.leadgen_id = format!("{prefix}-{key}");
    lead
}

/// What a stored lead looks like apart from what differs between scenarios (ids, times).
#[derive(Debug, PartialEq)]
struct Seen {
    key: String,
    meta: MetaFields,
    status: LeadStatus,
    notes: Option<String>,
    owner: Option<String>,
    erased: bool,
    /// The history as (actor, kind, old, new).
    history: Vec<(String, ActivityKind, Option<String>, Option<String>)>,
}

async fn seen(store: &dyn LeadStore, prefix: &str, lead: &Lead) -> Seen {
    let history = store
        .activity(lead.id)
        .await
        .unwrap()
        .expect("lead exists")
        .into_iter()
        .map(|row| (row.actor, row.kind, row.old, row.new))
        .collect();
    Seen {
        key: lead
            .leadgen_id
            .as_deref()
            .and_then(|id| id.strip_prefix(&format!("{prefix}-")))
            .expect("a lead of this scenario")
            .to_string(),
        meta: lead.meta.clone(),
        status: lead.status,
        notes: lead.notes.clone(),
        owner: lead.owner.clone(),
        erased: lead.erased_at.is_some(),
        history,
    }
}

/// The leads stored before the delivery, and what reps did to them; returns them by key.
async fn before_delivery(
    store: &dyn LeadStore,
    prefix: &str,
    created: DateTime<Utc>,
) -> Vec<(&'static str, Lead)> {
    let mut stored = Vec::new();
    for key in ["changed", "same", "erased", "worked", "twice-old"] {
        let lead = store
            .upsert(&lead(prefix, key, "Old Name", created), FACEBOOK)
            .await
            .unwrap()
            .lead;
        stored.push((key, lead));
    }
    let worked = &stored[3].1;
    let patch = LeadPatch {
        status: Some(LeadStatus::Contacted),
        notes: Some("called, call back Friday".into()),
        owner: Some(Some("alice".into())),
    };
    stored[3].1 = store
        .update(worked.id, &patch, "alice")
        .await
        .unwrap()
        .unwrap();
    stored[2].1 = store
        .erase(stored[2].1.id, "bob", None)
        .await
        .unwrap()
        .unwrap();
    stored
}

/// What Meta delivers: new, changed, unchanged, erased (again with a name), rep-worked and
/// changed, a new lead twice and a stored lead twice.
fn delivery(prefix: &str, created: DateTime<Utc>) -> Vec<IncomingLead> {
    let mut changed = lead(prefix, "changed", "New Name", created);
    changed.meta.campaign_name = Some("Renamed campaign".into());
    vec![
        lead(prefix, "new", "Fresh Lead", created),
        changed,
        lead(prefix, "same", "Old Name", created),
        lead(prefix, "erased", "Erased Person", created),
        lead(prefix, "worked", "Worked Lead", created),
        lead(prefix, "twice-new", "First Try", created),
        lead(prefix, "twice-old", "Second Name", created),
        lead(prefix, "twice-new", "Second Try", created),
        lead(prefix, "twice-old", "Third Name", created),
    ]
}

/// Each position's final `key`, and whether it was inserted and whether it changed the store.
fn flags(prefix: &str, results: &[Upserted]) -> Vec<(String, bool, bool)> {
    results
        .iter()
        .map(|r| {
            let id = r.lead.leadgen_id.as_deref().unwrap_or_default();
            (
                id.trim_start_matches(&format!("{prefix}-")).to_string(),
                r.inserted,
                r.changed,
            )
        })
        .collect()
}

pub async fn upsert_many_stores_like_one_by_one(store: &dyn LeadStore) {
    let created = at(5);
    let before_single = before_delivery(store, "single", created).await;
    let before_bulk = before_delivery(store, "bulk", created).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let mut one_by_one = Vec::new();
    for lead in delivery("single", created) {
        one_by_one.push(store.upsert(&lead, SWEEPER).await.unwrap());
    }
    let bulk = store
        .upsert_many(&delivery("bulk", created), SWEEPER, Routing::UNOWNED)
        .await
        .unwrap();

    assert_eq!(bulk.len(), 9, "one answer per input");
    // Unchanged and erased leads change nothing; a lead given twice changes the store once.
    let expected_flags = |twice_changed: bool| -> Vec<(String, bool, bool)> {
        [
            ("new", true, true),
            ("changed", false, true),
            ("same", false, false),
            ("erased", false, false),
            ("worked", false, true),
            ("twice-new", true, true),
            ("twice-old", false, true),
            ("twice-new", false, twice_changed),
            ("twice-old", false, twice_changed),
        ]
        .iter()
        .map(|(key, inserted, changed)| (key.to_string(), *inserted, *changed))
        .collect()
    };
    assert_eq!(flags("bulk", &bulk), expected_flags(false));
    assert_eq!(flags("single", &one_by_one), expected_flags(true));

    // The later delivery of a lead given twice wins, and both positions get its result.
    for (first, second, name) in [(5, 7, "Second Try"), (6, 8, "Third Name")] {
        assert_eq!(bulk[first].lead, bulk[second].lead);
        assert_eq!(bulk[first].lead.meta.name.as_deref(), Some(name));
    }
    // The answers are the stored rows.
    for result in &bulk {
        assert_eq!(
            store.get(result.lead.id).await.unwrap().as_ref(),
            Some(&result.lead)
        );
    }

    // Same rows and history as one by one, but for the leads given twice: one by one stores
    // them twice, a batch once.
    for (single, bulk) in one_by_one.iter().zip(&bulk).take(5) {
        let single_lead = store.get(single.lead.id).await.unwrap().unwrap();
        assert_eq!(
            seen(store, "single", &single_lead).await,
            seen(store, "bulk", &bulk.lead).await
        );
    }
    let twice_new = seen(store, "bulk", &bulk[5].lead).await;
    assert_eq!(
        twice_new.history,
        [(SWEEPER.to_string(), ActivityKind::Stored, None, None)]
    );
    let twice_old = seen(store, "bulk", &bulk[6].lead).await;
    assert_eq!(
        twice_old.history.iter().map(|h| h.1).collect::<Vec<_>>(),
        [ActivityKind::Stored, ActivityKind::Redelivered]
    );
    assert_eq!(twice_old.history[1].0, SWEEPER);

    // updated_at moves only where something changed; the erased lead stays as it was.
    for (before, results) in [(&before_single, &one_by_one), (&before_bulk, &bulk)] {
        let after = |key: &str| {
            let id = before.iter().find(|(k, _)| *k == key).unwrap().1.id;
            results
                .iter()
                .find(|r| r.lead.id == id)
                .unwrap()
                .lead
                .clone()
        };
        for (key, old) in before.iter() {
            let new = after(key);
            match *key {
                "same" | "erased" => assert_eq!(new.updated_at, old.updated_at, "{key}"),
                _ => assert!(new.updated_at > old.updated_at, "{key}"),
            }
        }
        let erased = after("erased");
        assert!(erased.erased_at.is_some());
        assert_eq!(erased.meta.name, None, "an erased lead stays erased");
        let worked = after("worked");
        assert_eq!(worked.meta.name.as_deref(), Some("Worked Lead"));
        assert_eq!(worked.status, LeadStatus::Contacted);
        assert_eq!(worked.notes.as_deref(), Some("called, call back Friday"));
        assert_eq!(worked.owner.as_deref(), Some("alice"));
    }
}

pub async fn upsert_many_of_nothing_is_empty(store: &dyn LeadStore) {
    assert_eq!(
        store
            .upsert_many(&[], FACEBOOK, Routing::UNOWNED)
            .await
            .unwrap(),
        Vec::new()
    );
    assert_eq!(store.list(&LeadQuery::default()).await.unwrap().count, 0);
}

pub async fn upsert_many_takes_more_than_one_batch(store: &dyn LeadStore) {
    let created = at(2);
    let total = UPSERT_BATCH * 2 + 3;
    // Some are stored already: the last ones, so they fall in the last piece.
    let known: Vec<IncomingLead> = (total - 5..total)
        .map(|i| lead("big", &i.to_string(), "Known", created))
        .collect();
    store
        .upsert_many(&known, FACEBOOK, Routing::UNOWNED)
        .await
        .unwrap();
    let mut batch: Vec<IncomingLead> = (0..total)
        .map(|i| lead("big", &i.to_string(), &format!("Person {i}"), created))
        .collect();
    // The first lead again at the end: across pieces, stored once with the later data.
    let mut again = lead("big", "0", "Person 0 again", created);
    again.meta.form_name = Some("Autumn Promo".into());
    batch.push(again);

    let results = store
        .upsert_many(&batch, FACEBOOK, Routing::UNOWNED)
        .await
        .unwrap();
    assert_eq!(results.len(), batch.len());
    for (i, (result, sent)) in results.iter().zip(&batch).enumerate() {
        assert_eq!(
            result.lead.leadgen_id.as_deref(),
            Some(sent.leadgen_id.as_str())
        );
        let new = i < total - 5;
        assert_eq!(result.inserted, new, "position {i}");
        if i > 0 && i < total {
            assert_eq!(result.lead.meta.name, sent.meta.name, "position {i}");
        }
    }
    assert_eq!(results[0].lead, results[total].lead);
    assert_eq!(results[0].lead.meta.name.as_deref(), Some("Person 0 again"));
    assert_eq!(
        results[0].lead.meta.form_name.as_deref(),
        Some("Autumn Promo")
    );
    let ids: std::collections::HashSet<i64> = results.iter().map(|r| r.lead.id).collect();
    assert_eq!(ids.len(), total);
    assert_eq!(
        store.list(&LeadQuery::default()).await.unwrap().count,
        total as u64
    );
}
