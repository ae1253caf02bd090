//! The checks of the replica coordination every store must pass: leases and sweep positions.

use std::collections::HashMap;

use chrono::{Duration, SubsecRound, Utc};
use leadhook_server::store::{LeadStore, LeaseCondition, LeaseUpdate};

pub async fn a_lease_has_one_holder_until_it_expires_or_is_freed(store: &dyn LeadStore) {
    let now = Utc::now();
    let later = now + Duration::seconds(10);
    let held_by = |holder| LeaseUpdate {
        holder: Some(holder),
        expires_at: later,
    };
    assert_eq!(store.lease("sweep").await.unwrap(), None);
    assert!(
        store
            .update_lease("sweep", LeaseCondition::Expired { now }, held_by("a"))
            .await
            .unwrap(),
        "a lease that does not exist yet is created"
    );
    assert!(
        !store
            .update_lease("sweep", LeaseCondition::Expired { now }, held_by("b"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .update_lease(
                "sweep",
                LeaseCondition::Free { holder: "b", now },
                held_by("b")
            )
            .await
            .unwrap(),
        "a lease held by another is not free"
    );
    assert!(
        !store
            .update_lease(
                "sweep",
                LeaseCondition::HeldBy { holder: "b" },
                held_by("b")
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .update_lease(
                "sweep",
                LeaseCondition::HeldBy { holder: "a" },
                held_by("a")
            )
            .await
            .unwrap(),
        "the holder renews"
    );
    let lease = store.lease("sweep").await.unwrap().unwrap();
    assert_eq!(lease.holder.as_deref(), Some("a"));
    assert_eq!(lease.expires_at, later.trunc_subsecs(6));

    // Freed with the time the job is next due.
    let freed = LeaseUpdate {
        holder: None,
        expires_at: later,
    };
    assert!(
        store
            .update_lease("sweep", LeaseCondition::HeldBy { holder: "a" }, freed)
            .await
            .unwrap()
    );
    assert_eq!(store.lease("sweep").await.unwrap().unwrap().holder, None);
    assert!(
        !store
            .update_lease("sweep", LeaseCondition::Expired { now }, held_by("c"))
            .await
            .unwrap(),
        "a free lease is not due before its time"
    );
    assert!(
        store
            .update_lease(
                "sweep",
                LeaseCondition::Free { holder: "b", now },
                held_by("b")
            )
            .await
            .unwrap(),
        "a free lease can be taken at once"
    );
    let after_expiry = later + Duration::seconds(1);
    assert!(
        store
            .update_lease(
                "sweep",
                LeaseCondition::Expired { now: after_expiry },
                held_by("c")
            )
            .await
            .unwrap(),
        "an expired lease goes to the next taker"
    );
    assert_eq!(
        store
            .lease("sweep")
            .await
            .unwrap()
            .unwrap()
            .holder
            .as_deref(),
        Some("c")
    );
    assert_eq!(
        store.lease("other").await.unwrap(),
        None,
        "leases are independent"
    );
}

pub async fn one_of_many_concurrent_takers_wins(store: &dyn LeadStore) {
    let now = Utc::now();
    let holders: Vec<String> = (0..8).map(|i| format!("replica-{i}")).collect();
    let attempts = holders.iter().map(|holder| {
        store.update_lease(
            "race",
            LeaseCondition::Expired { now },
            LeaseUpdate {
                holder: Some(holder),
                expires_at: now + Duration::seconds(30),
            },
        )
    });
    let won: Vec<bool> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|result| result.unwrap())
        .collect();
    assert_eq!(won.iter().filter(|&&won| won).count(), 1, "{won:?}");
    let winner = won.iter().position(|&won| won).unwrap();
    assert_eq!(
        store.lease("race").await.unwrap().unwrap().holder,
        Some(holders[winner].clone())
    );
}

pub async fn sweep_positions_are_kept_per_form(store: &dyn LeadStore) {
    assert!(store.sweep_positions().await.unwrap().is_empty());
    store
        .save_sweep_position("form-a", 1_700_000_000)
        .await
        .unwrap();
    store
        .save_sweep_position("form-b", 1_700_000_500)
        .await
        .unwrap();
    store
        .save_sweep_position("form-a", 1_700_000_900)
        .await
        .unwrap();
    assert_eq!(
        store.sweep_positions().await.unwrap(),
        HashMap::from([
            ("form-a".to_string(), 1_700_000_900),
            ("form-b".to_string(), 1_700_000_500),
        ])
    );
}
