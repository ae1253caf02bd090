//! Routing checks every `LeadStore` must pass: the insert itself gives a new lead its owner, so no
//! reader ever sees it unowned, and the turns go round the available reps.

use std::collections::BTreeSet;

use leadhook_server::store::{Claim, LeadQuery, LeadStore, Routing};
use leadhook_shared::team::actor::{FACEBOOK, SYSTEM};
use leadhook_shared::{ActivityKind, Assignment, Cursor, NewManualLead};

use super::Fixture;
use super::suite::{at, incoming};

fn round_robin(reps: &[String]) -> Routing<'_> {
    Routing {
        assignment: Assignment::RoundRobin,
        reps,
        repeat_window: chrono::Duration::days(30),
    }
}

fn reps(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

/// Stores a new lead from Meta in round-robin mode; its owner as the write answered.
async fn deliver(
    store: &dyn LeadStore,
    leadgen_id: &str,
    reps: &[String],
) -> (i64, Option<String>) {
    let stored = store
        .upsert_many(
            &[incoming(leadgen_id, "Jane Doe", at(1))],
            FACEBOOK,
            round_robin(reps),
        )
        .await
        .unwrap()
        .remove(0);
    (stored.lead.id, stored.lead.owner)
}

/// The write answers the lead with its owner, another connection reads it owned, and the history
/// says the system assigned it as it was stored.
pub async fn a_routed_lead_is_never_visible_unowned(fixture: &Fixture) {
    let team = reps(&["alice", "bob"]);
    let store = &*fixture.store;
    let (id, owner) = deliver(store, "r1", &team).await;
    assert_eq!(
        owner.as_deref(),
        Some("alice"),
        "the write's answer has the owner"
    );
    let other = fixture.reopen().await;
    let read = other.get(id).await.unwrap().unwrap();
    assert_eq!(read.owner.as_deref(), Some("alice"));
    assert!(read.owned_at.is_some());
    let history: Vec<_> = other
        .activity(id)
        .await
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|row| (row.actor, row.kind, row.new))
        .collect();
    assert_eq!(
        history,
        [
            (FACEBOOK.to_string(), ActivityKind::Stored, None),
            (
                SYSTEM.to_string(),
                ActivityKind::Assign,
                Some("alice".into())
            ),
        ]
    );

    let manual = store
        .create_manual(
            &NewManualLead {
                phone_e164: None,
                phone_invalid: false,
                email_key: None,
                name: "Walk In".into(),
                ..NewManualLead::default()
            },
            "carol",
            round_robin(&team),
        )
        .await
        .unwrap();
    assert_eq!(
        manual.owner.as_deref(),
        Some("bob"),
        "manual leads take turns too"
    );
    assert_eq!(
        other
            .get(manual.id)
            .await
            .unwrap()
            .unwrap()
            .owner
            .as_deref(),
        Some("bob")
    );
}

/// A reader on another connection polls for changes while leads arrive one after another: every
/// lead it ever sees has its owner. It stops once it has seen every lead (the positive witness).
pub async fn a_lead_is_never_unowned_to_a_concurrent_reader(fixture: &Fixture) {
    const LEADS: usize = 30;
    let team = reps(&["alice", "bob", "carol"]);
    let reader = fixture.reopen().await;
    let watching = tokio::spawn(async move {
        let mut cursor = Cursor::START;
        let mut seen = BTreeSet::new();
        let mut unowned = Vec::new();
        while seen.len() < LEADS {
            let page = reader
                .list(&LeadQuery {
                    since: Some(cursor),
                    limit: 1000,
                    ..LeadQuery::default()
                })
                .await
                .unwrap();
            for lead in page.leads {
                if lead.owner.is_none() {
                    unowned.push(lead.leadgen_id.clone());
                }
                seen.insert(lead.id);
            }
            cursor = page.cursor;
            tokio::task::yield_now().await;
        }
        unowned
    });
    for i in 0..LEADS {
        let (_, owner) = deliver(&*fixture.store, &format!("burst-{i}"), &team).await;
        assert!(owner.is_some(), "lead {i} was stored unowned");
    }
    let unowned = watching.await.unwrap();
    assert!(unowned.is_empty(), "seen unowned: {unowned:?}");
}

/// Turns alternate over the available reps and carry on after a restart; a re-delivery neither
/// changes the owner nor takes a turn; with everyone away a new lead stays unowned.
pub async fn round_robin_is_even_and_survives_restarts(fixture: &Fixture) {
    let team = reps(&["alice", "bob", "carol"]);
    let store = &*fixture.store;
    store.set_available("carol", false).await.unwrap();
    let mut owners = Vec::new();
    let mut ids = Vec::new();
    for i in 0..5 {
        let (id, owner) = deliver(store, &format!("80{i}"), &team).await;
        ids.push(id);
        owners.push(owner.expect("assigned"));
    }
    let reopened = fixture.reopen().await;
    assert_eq!(
        reopened.availability().await.unwrap().get("carol"),
        Some(&false),
        "availability is kept in the store"
    );
    // Re-deliveries of stored leads: they keep their owners and take no turn.
    let again = reopened
        .upsert_many(
            &[
                incoming("800", "Jane Doe", at(1)),
                incoming("801", "Jane Doe", at(1)),
            ],
            FACEBOOK,
            round_robin(&team),
        )
        .await
        .unwrap();
    let kept: Vec<_> = again.iter().map(|r| r.lead.owner.as_deref()).collect();
    assert_eq!(kept, [Some("alice"), Some("bob")]);
    for i in 5..10 {
        let (id, owner) = deliver(&*reopened, &format!("80{i}"), &team).await;
        ids.push(id);
        owners.push(owner.expect("assigned"));
    }
    assert_eq!(
        owners,
        [
            "alice", "bob", "alice", "bob", "alice", "bob", "alice", "bob", "alice", "bob"
        ],
        "turns alternate over the available reps and carry on after the restart"
    );
    let last = reopened.get(ids[9]).await.unwrap().unwrap();
    assert!(
        matches!(
            reopened.claim(last.id, "carol").await.unwrap(),
            Claim::Taken { owner } if owner == "bob"
        ),
        "a routed lead is owned: nobody else can claim it"
    );
    reopened.set_available("alice", false).await.unwrap();
    reopened.set_available("bob", false).await.unwrap();
    let (_, nobody) = deliver(&*reopened, "811", &team).await;
    assert_eq!(nobody, None, "with everyone away the lead stays unowned");
    let (_, claim_mode) = {
        let stored = reopened
            .upsert_many(
                &[incoming("812", "Jane Doe", at(1))],
                FACEBOOK,
                Routing {
                    assignment: Assignment::Claim,
                    reps: &team,
                    repeat_window: chrono::Duration::zero(),
                },
            )
            .await
            .unwrap()
            .remove(0);
        (stored.lead.id, stored.lead.owner)
    };
    assert_eq!(
        claim_mode, None,
        "in claim mode new leads are not given out"
    );
}
