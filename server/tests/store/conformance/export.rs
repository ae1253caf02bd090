//! Export audit checks every `LeadStore` must pass: one `exported` row per lead, the leads
//! themselves untouched.

use leadhook_server::store::{LeadQuery, LeadStore};
use leadhook_shared::ActivityKind;
use leadhook_shared::team::actor::FACEBOOK;

use super::suite::{at, incoming};

pub async fn exports_are_in_the_history_and_change_nothing(store: &dyn LeadStore) {
    let mut ids = Vec::new();
    for leadgen_id in ["801", "802", "803"] {
        let stored = store
            .upsert(&incoming(leadgen_id, "Jane Doe", at(1)), FACEBOOK)
            .await
            .unwrap();
        ids.push(stored.lead.id);
    }
    let before = store.list(&LeadQuery::default()).await.unwrap();

    let missing = ids.iter().max().unwrap() + 1000;
    store
        .record_exports(&[ids[0], ids[2], missing], "carol")
        .await
        .unwrap();
    store.record_exports(&[], "carol").await.unwrap();

    for (id, exported) in [(ids[0], true), (ids[1], false), (ids[2], true)] {
        let history = store.activity(id).await.unwrap().expect("lead exists");
        let kinds: Vec<_> = history
            .iter()
            .map(|row| (row.actor.as_str(), row.kind))
            .collect();
        let mut expected = vec![(FACEBOOK, ActivityKind::Stored)];
        if exported {
            expected.push(("carol", ActivityKind::Exported));
        }
        assert_eq!(kinds, expected, "lead {id}");
    }
    assert_eq!(store.activity(missing).await.unwrap(), None);

    let after = store.list(&LeadQuery::default()).await.unwrap();
    assert_eq!(after, before, "no lead changed, no cursor moved");
    let since = store
        .list(&LeadQuery {
            since: Some(before.cursor),
            ..LeadQuery::default()
        })
        .await
        .unwrap();
    assert!(since.leads.is_empty(), "{:?}", since.leads);
}
