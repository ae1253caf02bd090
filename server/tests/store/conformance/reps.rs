//! Rep directory checks every `LeadStore` must pass: reps with roles and token hashes, rotation
//! with a grace period, and removal that returns a rep's open leads to the queue.

use chrono::{Duration, SubsecRound, Utc};
use leadhook_server::store::{LeadStore, Rotation, StoredRep};
use leadhook_shared::team::actor::{FACEBOOK, SYSTEM};
use leadhook_shared::{ActivityKind, LeadPatch, LeadStatus, Role};

use super::suite::{at, incoming};

async fn rep(store: &dyn LeadStore, name: &str) -> Option<StoredRep> {
    store
        .list_reps()
        .await
        .unwrap()
        .into_iter()
        .find(|rep| rep.name == name)
}

pub async fn reps_are_added_once_listed_oldest_first_and_touched(store: &dyn LeadStore) {
    let created = Utc::now().trunc_subsecs(6);
    assert!(
        store
            .add_rep("bob", Role::Manager, "hash-b", created)
            .await
            .unwrap()
    );
    assert!(
        store
            .add_rep("ann", Role::Rep, "hash-a", created + Duration::seconds(1))
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_rep("ann", Role::Admin, "hash-c", created)
            .await
            .unwrap(),
        "a taken name is refused"
    );
    let listed = store.list_reps().await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|rep| (rep.name.as_str(), rep.role, rep.token_hash.as_str()))
            .collect::<Vec<_>>(),
        [
            ("bob", Role::Manager, "hash-b"),
            ("ann", Role::Rep, "hash-a")
        ]
    );
    assert_eq!(listed[0].created_at, created);
    assert_eq!(listed[0].last_used_at, None);
    let used = created + Duration::minutes(3);
    store.touch_rep("bob", used).await.unwrap();
    store.touch_rep("nobody", used).await.unwrap();
    assert_eq!(rep(store, "bob").await.unwrap().last_used_at, Some(used));
}

pub async fn reps_rotate_with_and_without_grace_and_change_role(store: &dyn LeadStore) {
    let now = Utc::now().trunc_subsecs(6);
    store.add_rep("ann", Role::Rep, "old", now).await.unwrap();
    let until = now + Duration::hours(1);
    let graced = Rotation {
        token_hash: "new",
        previous_valid_until: Some(until),
    };
    assert!(store.rotate_rep("ann", graced).await.unwrap());
    let ann = rep(store, "ann").await.unwrap();
    assert!(ann.accepts("new", now));
    assert!(
        ann.accepts("old", now),
        "the old token works during the grace"
    );
    assert!(!ann.accepts("old", until), "and not after it");
    let abrupt = Rotation {
        token_hash: "newer",
        previous_valid_until: None,
    };
    assert!(store.rotate_rep("ann", abrupt).await.unwrap());
    let ann = rep(store, "ann").await.unwrap();
    assert!(ann.accepts("newer", now));
    assert!(
        !ann.accepts("new", now),
        "no grace: the old token stops at once"
    );
    assert_eq!(ann.previous_token_hash, None);
    assert!(!store.rotate_rep("nobody", abrupt).await.unwrap());

    assert!(store.set_rep_role("ann", Role::Manager).await.unwrap());
    assert_eq!(rep(store, "ann").await.unwrap().role, Role::Manager);
    assert!(!store.set_rep_role("nobody", Role::Admin).await.unwrap());
}

pub async fn reps_removed_return_their_open_leads_to_the_queue(store: &dyn LeadStore) {
    store
        .add_rep("ann", Role::Rep, "hash-a", Utc::now())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for leadgen_id in ["901", "902", "903"] {
        let stored = store
            .upsert(&incoming(leadgen_id, "Jane Doe", at(1)), FACEBOOK)
            .await
            .unwrap();
        ids.push(stored.lead.id);
    }
    let (open, won, others) = (ids[0], ids[1], ids[2]);
    store.claim(open, "ann").await.unwrap();
    store.claim(won, "ann").await.unwrap();
    let patch = LeadPatch {
        status: Some(LeadStatus::Won),
        ..LeadPatch::default()
    };
    store.update(won, &patch, "ann").await.unwrap();
    store.claim(others, "bob").await.unwrap();

    assert_eq!(store.remove_rep("ann", SYSTEM).await.unwrap(), Some(1));
    let owner = |id| async move { store.get(id).await.unwrap().unwrap().owner };
    assert_eq!(owner(open).await, None);
    assert_eq!(owner(won).await.as_deref(), Some("ann"), "a won lead stays");
    assert_eq!(owner(others).await.as_deref(), Some("bob"));
    let history = store.activity(open).await.unwrap().unwrap();
    let release = history.last().unwrap();
    assert_eq!(
        (release.actor.as_str(), release.kind, release.old.as_deref()),
        (SYSTEM, ActivityKind::Release, Some("ann")),
        "the history keeps the removed rep's name"
    );
    assert!(rep(store, "ann").await.is_none());
    assert_eq!(store.remove_rep("ann", SYSTEM).await.unwrap(), None);
}
