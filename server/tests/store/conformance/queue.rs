//! The work-queue checks every `LeadStore` must pass: owners, history and turns.

use chrono::{Duration, Utc};
use futures::future::join_all;
use leadhook_server::store::{Claim, LeadStore, Routing, StatsWindow};
use leadhook_shared::team::actor::{FACEBOOK, SWEEPER};
use leadhook_shared::{ActivityKind, LeadPatch, LeadStatus, NewManualLead};

use super::suite::{at, incoming};

const REPS: [&str; 10] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
];

pub async fn new_lead(store: &dyn LeadStore, leadgen_id: &str) -> i64 {
    store
        .upsert(&incoming(leadgen_id, "Jane Doe", at(1)), FACEBOOK)
        .await
        .unwrap()
        .lead
        .id
}

/// The lead's history as (actor, kind, old, new).
async fn history(
    store: &dyn LeadStore,
    id: i64,
) -> Vec<(String, ActivityKind, Option<String>, Option<String>)> {
    let rows = store.activity(id).await.unwrap().expect("lead exists");
    assert!(rows.iter().all(|row| row.lead_id == id));
    assert!(
        rows.windows(2).all(|pair| pair[0].id < pair[1].id),
        "oldest first"
    );
    rows.into_iter()
        .map(|row| (row.actor, row.kind, row.old, row.new))
        .collect()
}

fn owner_patch(owner: Option<&str>) -> LeadPatch {
    LeadPatch {
        owner: Some(owner.map(str::to_string)),
        ..LeadPatch::default()
    }
}

pub async fn concurrent_claims_have_one_winner(store: &dyn LeadStore) {
    let id = new_lead(store, "701").await;
    let claims = join_all(REPS.iter().map(|rep| store.claim(id, rep))).await;
    let winners: Vec<&str> = claims
        .iter()
        .filter_map(|claim| match claim.as_ref().unwrap() {
            Claim::Claimed(lead) => lead.owner.as_deref(),
            _ => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "exactly one claim wins: {claims:?}");
    let winner = winners[0];
    for claim in &claims {
        if let Claim::Taken { owner } = claim.as_ref().unwrap() {
            assert_eq!(owner, winner, "the losers are told who won");
        }
    }
    let lead = store.get(id).await.unwrap().unwrap();
    assert_eq!(lead.owner.as_deref(), Some(winner));
    assert!(lead.owned_at.is_some());
    // Claiming one's own lead again is fine and changes nothing.
    assert_eq!(
        store.claim(id, winner).await.unwrap(),
        Claim::Claimed(Box::new(lead.clone()))
    );
    let claims: Vec<_> = history(store, id)
        .await
        .into_iter()
        .filter(|row| row.1 == ActivityKind::Claim)
        .collect();
    assert_eq!(
        claims,
        [(
            winner.to_string(),
            ActivityKind::Claim,
            None,
            Some(winner.to_string())
        )]
    );
    assert_eq!(store.claim(424242, "alice").await.unwrap(), Claim::NotFound);
}

pub async fn release_leaves_the_lead_unowned(store: &dyn LeadStore) {
    let id = new_lead(store, "702").await;
    store.claim(id, "alice").await.unwrap();
    let released = store
        .release(id, "alice")
        .await
        .unwrap()
        .expect("lead exists");
    assert_eq!(released.owner, None);
    assert_eq!(released.owned_at, None);
    // Free again: bob can claim it now.
    match store.claim(id, "bob").await.unwrap() {
        Claim::Claimed(lead) => assert_eq!(lead.owner.as_deref(), Some("bob")),
        other => panic!("bob's claim after the release: {other:?}"),
    }
    assert!(store.release(424242, "alice").await.unwrap().is_none());
}

pub async fn reassignment_changes_the_owner(store: &dyn LeadStore) {
    let id = new_lead(store, "703").await;
    store.claim(id, "alice").await.unwrap();
    let given = store
        .update(id, &owner_patch(Some("bob")), "carol")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(given.owner.as_deref(), Some("bob"));
    let unowned = store
        .update(id, &owner_patch(None), "carol")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unowned.owner, None);
    // A patch without an owner keeps it.
    store
        .update(id, &owner_patch(Some("dave")), "dave")
        .await
        .unwrap();
    let kept = store
        .update(
            id,
            &LeadPatch {
                notes: Some("left a voicemail".into()),
                ..LeadPatch::default()
            },
            "dave",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.owner.as_deref(), Some("dave"));
    let assigns: Vec<_> = history(store, id)
        .await
        .into_iter()
        .filter(|row| row.1 == ActivityKind::Assign)
        .collect();
    let some = |name: &str| Some(name.to_string());
    assert_eq!(
        assigns,
        [
            (
                "carol".into(),
                ActivityKind::Assign,
                some("alice"),
                some("bob")
            ),
            ("carol".into(), ActivityKind::Assign, some("bob"), None),
            ("dave".into(), ActivityKind::Assign, None, some("dave")),
        ]
    );
}

pub async fn every_change_is_recorded_with_its_actor(store: &dyn LeadStore) {
    let some = |text: &str| Some(text.to_string());
    let original = incoming("704", "Jane Doe", at(1));
    let id = store.upsert(&original, FACEBOOK).await.unwrap().lead.id;
    let mut changed = original.clone();
    changed.meta.email = Some("jane@new.example".into());
    store.upsert(&changed, FACEBOOK).await.unwrap();
    // The same data again is no change and leaves no trace.
    store.upsert(&changed, SWEEPER).await.unwrap();
    store
        .update(
            id,
            &LeadPatch {
                status: Some(LeadStatus::Contacted),
                notes: Some("wants a quote".into()),
                ..LeadPatch::default()
            },
            "alice",
        )
        .await
        .unwrap();
    store.claim(id, "alice").await.unwrap();
    store.release(id, "alice").await.unwrap();
    store
        .update(id, &owner_patch(Some("bob")), "carol")
        .await
        .unwrap();
    assert_eq!(
        history(store, id).await,
        [
            (FACEBOOK.into(), ActivityKind::Stored, None, None),
            (
                FACEBOOK.into(),
                ActivityKind::Redelivered,
                None,
                some("email")
            ),
            (
                "alice".into(),
                ActivityKind::Status,
                some("New Lead"),
                some("Contacted")
            ),
            (
                "alice".into(),
                ActivityKind::Notes,
                None,
                some("wants a quote")
            ),
            ("alice".into(), ActivityKind::Claim, None, some("alice")),
            ("alice".into(), ActivityKind::Release, some("alice"), None),
            ("carol".into(), ActivityKind::Assign, None, some("bob")),
        ]
    );
    let swept = store
        .upsert(&incoming("705", "Sam Swept", at(2)), SWEEPER)
        .await
        .unwrap()
        .lead;
    assert_eq!(
        history(store, swept.id).await,
        [(SWEEPER.into(), ActivityKind::Stored, None, None)]
    );
    let manual = store
        .create_manual(
            &NewManualLead {
                phone_e164: None,
                phone_invalid: false,
                email_key: None,
                name: "Walk In".into(),
                phone: Some("+15550000001".into()),
                ..NewManualLead::default()
            },
            "dave",
            Routing::UNOWNED,
        )
        .await
        .unwrap();
    assert_eq!(
        history(store, manual.id).await,
        [("dave".into(), ActivityKind::Stored, None, None)]
    );
    assert!(store.activity(424242).await.unwrap().is_none());
}

pub async fn first_contact_is_set_once(store: &dyn LeadStore) {
    let id = new_lead(store, "706").await;
    let status = |status| LeadPatch {
        status: Some(status),
        ..LeadPatch::default()
    };
    let untouched = store
        .update(
            id,
            &LeadPatch {
                notes: Some("no answer yet".into()),
                ..LeadPatch::default()
            },
            "alice",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(untouched.first_contact_at, None, "notes are not a contact");
    let contacted = store
        .update(id, &status(LeadStatus::Contacted), "alice")
        .await
        .unwrap()
        .unwrap();
    let first = contacted.first_contact_at.expect("set by the first move");
    assert!(contacted.speed_to_lead().unwrap() >= Duration::minutes(59));
    for next in [LeadStatus::Qualified, LeadStatus::NewLead, LeadStatus::Won] {
        let later = store
            .update(id, &status(next), "bob")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            later.first_contact_at,
            Some(first),
            "never moved ({next:?})"
        );
    }
    // A lead entered by hand already past New Lead was contacted as it was entered.
    let manual = store
        .create_manual(
            &NewManualLead {
                phone_e164: None,
                phone_invalid: false,
                email_key: None,
                name: "Phoned In".into(),
                phone: Some("+15550000002".into()),
                status: Some(LeadStatus::Contacted),
                ..NewManualLead::default()
            },
            "alice",
            Routing::UNOWNED,
        )
        .await
        .unwrap();
    assert!(manual.first_contact_at.is_some());
}

pub async fn queue_figures_count_waiting_contacts_and_owners(store: &dyn LeadStore) {
    let now = Utc::now();
    let window = StatsWindow {
        today_start: now - Duration::hours(6),
        week_start: now - Duration::days(6),
        now,
    };
    let oldest = store
        .upsert(&incoming("951", "Old", now - Duration::hours(3)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    let won = new_lead(store, "952").await;
    new_lead(store, "953").await;
    store.claim(won, "alice").await.unwrap();
    store.claim(oldest.id, "alice").await.unwrap();
    store
        .update(
            won,
            &LeadPatch {
                status: Some(LeadStatus::Won),
                ..LeadPatch::default()
            },
            "alice",
        )
        .await
        .unwrap();
    let figures = store.queue_figures(window).await.unwrap();
    assert_eq!(figures.waiting.count, 2);
    assert_eq!(
        figures.waiting.oldest_created_at,
        Some(oldest.meta.created_at)
    );
    assert_eq!(figures.contacts.len(), 1);
    assert_eq!(figures.contacts[0].owner.as_deref(), Some("alice"));
    assert!((3599..3700).contains(&figures.contacts[0].speed_secs));
    let alice = &figures.by_owner["alice"];
    assert_eq!(
        (alice.owned, alice.open, alice.contacted, alice.won),
        (2, 1, 1, 1)
    );
    assert!(!figures.by_owner.contains_key("bob"));
}
