//! The escalation checks every `LeadStore` must pass: one read gives the leads due, each at the
//! highest level it waited past, and the marks taken recently; each mark is taken once.

use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;
use leadhook_server::store::{EscalationCheck, EscalationQuery, LeadStore};
use leadhook_shared::team::actor::FACEBOOK;
use leadhook_shared::{LeadPatch, LeadStatus};

use super::suite::incoming;

/// One escalation check: the leads submitted after `created_after` due at the levels whose times
/// `due_before` holds (level 1 first), and the marks taken after `marked_after`.
pub async fn check(
    store: &dyn LeadStore,
    created_after: DateTime<Utc>,
    due_before: &[DateTime<Utc>],
    due_limit: u32,
    marked_after: DateTime<Utc>,
) -> EscalationCheck {
    store
        .escalation_check(&EscalationQuery {
            created_after,
            due_before: due_before.to_vec(),
            due_limit,
            marked_after,
            marked_limit: 10,
        })
        .await
        .unwrap()
}

/// The (lead, level) pairs a check found due, in its order.
pub fn due(check: &EscalationCheck) -> Vec<(i64, u8)> {
    check
        .due
        .iter()
        .map(|due| (due.lead.id, due.level))
        .collect()
}

/// The (lead, level) pairs of the marks a check found, in its order.
fn marked(check: &EscalationCheck) -> Vec<(i64, u8)> {
    check
        .marked
        .iter()
        .map(|mark| (mark.lead.id, mark.level))
        .collect()
}

async fn lead(store: &dyn LeadStore, leadgen_id: &str, created_at: DateTime<Utc>) -> i64 {
    store
        .upsert(&incoming(leadgen_id, "Wai Ting", created_at), FACEBOOK)
        .await
        .unwrap()
        .lead
        .id
}

/// A lead waiting past the first threshold is due once: of many concurrent takers one takes the
/// mark; the mark is read back by the next checks until their window passes it, and a contacted
/// lead is not escalated.
pub async fn escalation_marks_are_taken_once(store: &dyn LeadStore) {
    let now = Utc::now();
    let five_minutes_ago = now - Duration::minutes(5);
    let an_hour_ago = now - Duration::hours(1);
    let waiting = lead(store, "901", now - Duration::minutes(10)).await;
    let fresh = lead(store, "902", now - Duration::minutes(1)).await;
    let long_ago = lead(store, "903", now - Duration::hours(2)).await;
    let never = now + Duration::days(1);
    assert_eq!(
        due(&check(store, an_hour_ago, &[five_minutes_ago], 100, never).await),
        [(waiting, 1)],
        "not the fresh lead, nor the one before the horizon"
    );
    assert_eq!(
        due(&check(
            store,
            now - Duration::hours(3),
            &[five_minutes_ago],
            1,
            never
        )
        .await),
        [(long_ago, 1)],
        "oldest first, limited"
    );
    let before = store.get(waiting).await.unwrap().unwrap();
    let takes = join_all((0..5).map(|_| store.take_escalation(waiting, 1, now))).await;
    assert_eq!(
        takes
            .into_iter()
            .filter(|taken| *taken.as_ref().unwrap())
            .count(),
        1,
        "one caller takes the mark"
    );
    let after = check(
        store,
        an_hour_ago,
        &[five_minutes_ago],
        100,
        now - Duration::seconds(1),
    )
    .await;
    assert!(after.due.is_empty(), "{after:?}");
    assert_eq!(marked(&after), [(waiting, 1)]);
    assert!((after.marked[0].at - now).abs() < Duration::milliseconds(1));
    assert_eq!(
        store.get(waiting).await.unwrap().unwrap().updated_at,
        before.updated_at,
        "the mark is not a change dashboards see"
    );
    let later = now + Duration::seconds(25);
    assert!(store.take_escalation(waiting, 2, later).await.unwrap());
    assert_eq!(
        marked(&check(store, an_hour_ago, &[], 100, now).await),
        [(waiting, 2)],
        "the latest mark of each lead"
    );
    assert!(
        check(store, an_hour_ago, &[], 100, later + Duration::seconds(1))
            .await
            .marked
            .is_empty()
    );
    store
        .update(
            fresh,
            &LeadPatch {
                status: Some(LeadStatus::Contacted),
                ..LeadPatch::default()
            },
            "alice",
        )
        .await
        .unwrap();
    assert!(
        !store.take_escalation(fresh, 1, later).await.unwrap(),
        "a contacted lead is not escalated"
    );
}

/// Thresholds of 5 and 30 minutes: a lead past both is due at level 2 only, whether or not it
/// reached level 1; a lead at level 1 waiting for level 2 is not due and does not take the place
/// of a newer lead that is; the marks come in the same read, oldest first.
pub async fn an_escalation_check_finds_each_lead_at_its_highest_due_level(store: &dyn LeadStore) {
    let now = Utc::now();
    let levels = [now - Duration::minutes(5), now - Duration::minutes(30)];
    let horizon = now - Duration::days(1);
    let done = lead(store, "911", now - Duration::hours(3)).await;
    let never_escalated = lead(store, "912", now - Duration::hours(2)).await;
    let past_both = lead(store, "913", now - Duration::minutes(40)).await;
    let waiting_for_two = lead(store, "914", now - Duration::minutes(10)).await;
    let past_one = lead(store, "915", now - Duration::minutes(8)).await;
    lead(store, "916", now - Duration::minutes(1)).await;
    for (id, level, at) in [
        (done, 2, now - Duration::minutes(5)),
        (waiting_for_two, 1, now - Duration::seconds(30)),
        (past_both, 1, now - Duration::seconds(20)),
    ] {
        assert!(store.take_escalation(id, level, at).await.unwrap());
    }
    let recent = now - Duration::minutes(1);
    let read = check(store, horizon, &levels, 3, recent).await;
    assert_eq!(
        due(&read),
        [(never_escalated, 2), (past_both, 2), (past_one, 1)],
        "oldest first; the level-1 lead waiting for level 2 takes no place in the three"
    );
    assert_eq!(
        marked(&read),
        [(waiting_for_two, 1), (past_both, 1)],
        "marks taken in the last minute, oldest first"
    );
    assert_eq!(
        due(&check(store, horizon, &levels, 1, recent).await),
        [(never_escalated, 2)]
    );
    assert_eq!(
        read.due[0].lead,
        store.get(never_escalated).await.unwrap().unwrap(),
        "the lead whole, as every read gives it"
    );
    assert_eq!(
        read.marked[0].lead,
        store.get(waiting_for_two).await.unwrap().unwrap()
    );
}
