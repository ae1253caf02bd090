//! The checks of the replica coordination every store must pass: leases and sweep positions.

use std::collections::HashMap;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use leadhook_server::store::{LeadStore, LeaseCondition, LeaseUpdate};

/// Writes `holder` (or frees the lease) until `until` when `condition` holds; says whether it did.
async fn lease_update(
    store: &dyn LeadStore,
    condition: LeaseCondition<'_>,
    holder: Option<&str>,
    until: DateTime<Utc>,
) -> bool {
    let update = LeaseUpdate {
        holder,
        expires_at: until,
    };
    store
        .update_lease("sweep", condition, update)
        .await
        .unwrap()
}

pub async fn a_lease_has_one_holder_until_it_expires_or_is_freed(store: &dyn LeadStore) {
    use LeaseCondition::{Expired, Free, HeldBy};
    let now = Utc::now();
    let later = now + Duration::seconds(10);
    assert_eq!(store.lease("sweep").await.unwrap(), None);
    assert!(
        lease_update(store, Expired { now }, Some("a"), later).await,
        "a lease that does not exist yet is created"
    );
    assert!(!lease_update(store, Expired { now }, Some("b"), later).await);
    assert!(
        !lease_update(store, Free { holder: "b", now }, Some("b"), later).await,
        "a lease held by another is not free"
    );
    assert!(!lease_update(store, HeldBy { holder: "b" }, Some("b"), later).await);
    assert!(
        lease_update(store, HeldBy { holder: "a" }, Some("a"), later).await,
        "the holder renews"
    );
    let lease = store.lease("sweep").await.unwrap().unwrap();
    assert_eq!(lease.holder.as_deref(), Some("a"));
    assert_eq!(lease.expires_at, later.trunc_subsecs(6));

    // Freed, with the time the job is next due.
    assert!(lease_update(store, HeldBy { holder: "a" }, None, later).await);
    assert_eq!(store.lease("sweep").await.unwrap().unwrap().holder, None);
    assert!(
        !lease_update(store, Expired { now }, Some("c"), later).await,
        "a free lease is not due before its time"
    );
    assert!(
        lease_update(store, Free { holder: "b", now }, Some("b"), later).await,
        "a free lease can be taken at once"
    );
    let after_expiry = later + Duration::seconds(1);
    assert!(
        lease_update(store, Expired { now: after_expiry }, Some("c"), later).await,
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
