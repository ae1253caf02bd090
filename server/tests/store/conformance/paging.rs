//! Paging checks every `LeadStore` must pass: a rep's ntfy topic and quiet hours round-trip
//! beside their availability and time zone and are forgotten when the rep is removed; a claim
//! link is used once; an escalation mark queues `lead.escalated` in its own write (and shows in
//! the history); a held delivery is due later without an attempt counted, and a dropped one is
//! never claimed again.

use std::time::Duration;

use chrono::Utc;
use leadhook_server::store::{EventType, LeadStore, RepPaging, Route};
use leadhook_shared::team::actor::FACEBOOK;
use leadhook_shared::{ActivityKind, QuietHours, Role};

use super::suite::incoming;

const LEASE: Duration = Duration::from_secs(3600);

pub async fn paging_settings_round_trip_and_leave_with_the_rep(store: &dyn LeadStore) {
    assert_eq!(
        store.rep_paging("alice").await.unwrap(),
        RepPaging::default(),
        "a rep the store has not met: available, nothing set"
    );
    let quiet: QuietHours = "22:00-07:30".parse().unwrap();
    store
        .set_rep_paging("alice", Some("alice-phone-7f3a9c2e41"), Some(quiet))
        .await
        .unwrap();
    store.set_available("alice", false).await.unwrap();
    store.set_time_zone("alice", "Europe/Berlin").await.unwrap();
    let want = RepPaging {
        available: false,
        time_zone: Some("Europe/Berlin".into()),
        ntfy_topic: Some("alice-phone-7f3a9c2e41".into()),
        quiet_hours: Some(quiet),
    };
    assert_eq!(store.rep_paging("alice").await.unwrap(), want);
    assert_eq!(
        store.rep_paging("bob").await.unwrap(),
        RepPaging::default(),
        "one rep's settings are theirs alone"
    );

    // Clearing the quiet hours keeps the topic, and availability is untouched.
    store
        .set_rep_paging("alice", Some("alice-phone-7f3a9c2e41"), None)
        .await
        .unwrap();
    let now = store.rep_paging("alice").await.unwrap();
    assert_eq!(now.quiet_hours, None);
    assert_eq!(now.ntfy_topic, want.ntfy_topic);
    assert!(!now.available);

    // A removed rep's phone is no longer theirs to be paged on.
    store
        .add_rep("alice", Role::Rep, &"a".repeat(64), Utc::now())
        .await
        .unwrap();
    store
        .set_rep_paging("alice", Some("alice-phone-7f3a9c2e41"), Some(quiet))
        .await
        .unwrap();
    store.remove_rep("alice", "admin").await.unwrap();
    let removed = store.rep_paging("alice").await.unwrap();
    assert_eq!((removed.ntfy_topic, removed.quiet_hours), (None, None));
}

pub async fn a_claim_link_is_used_once(store: &dyn LeadStore) {
    assert!(store.use_claim_link("d17", 5, "alice").await.unwrap());
    assert!(!store.use_claim_link("d17", 5, "alice").await.unwrap());
    assert!(
        !store.use_claim_link("d17", 6, "bob").await.unwrap(),
        "the nonce alone decides"
    );
    assert!(store.use_claim_link("d18", 5, "alice").await.unwrap());
}

pub async fn an_escalation_mark_queues_lead_escalated_with_its_history_row(store: &dyn LeadStore) {
    store
        .outbox_routes(&[Route {
            destination: "phones".into(),
            event_type: EventType::Escalated,
        }])
        .await
        .unwrap();
    let now = Utc::now();
    let lead = store
        .upsert(
            &incoming(
                "1234567890129901",
                "Wai Ting",
                now - chrono::Duration::minutes(10),
            ),
            FACEBOOK,
        )
        .await
        .unwrap()
        .lead;
    assert!(
        store
            .outbox_claim("phones", 10, LEASE)
            .await
            .unwrap()
            .is_empty(),
        "a new lead is not an escalation"
    );
    assert!(store.take_escalation(lead.id, 1, now).await.unwrap());
    assert!(!store.take_escalation(lead.id, 1, now).await.unwrap());
    let queued = store.outbox_claim("phones", 10, LEASE).await.unwrap();
    assert_eq!(
        queued
            .iter()
            .map(|d| (d.lead_id, d.event_type.as_str()))
            .collect::<Vec<_>>(),
        [(lead.id, "lead.escalated")],
        "one delivery for the one mark taken"
    );
    let history = store.activity(lead.id).await.unwrap().unwrap();
    let escalated: Vec<_> = history
        .iter()
        .filter(|row| row.kind == ActivityKind::Escalated)
        .collect();
    assert_eq!(escalated.len(), 1, "{history:?}");
    assert_eq!(escalated[0].actor, "system");
    assert_eq!(escalated[0].new.as_deref(), Some("1"));
    assert_eq!(escalated[0].id, queued[0].activity_id);

    assert!(store.take_escalation(lead.id, 2, now).await.unwrap());
    let second = store.outbox_claim("phones", 10, LEASE).await.unwrap();
    assert_eq!(second.len(), 1, "the second threshold is another page");
}

pub async fn held_deliveries_wait_uncounted_and_dropped_ones_are_done(store: &dyn LeadStore) {
    store
        .outbox_routes(&[Route {
            destination: "phones".into(),
            event_type: EventType::Created,
        }])
        .await
        .unwrap();
    for n in 0..2 {
        store
            .upsert(
                &incoming(&format!("123456789012990{n}"), "Jane Doe", Utc::now()),
                FACEBOOK,
            )
            .await
            .unwrap();
    }
    let claimed = store
        .outbox_claim("phones", 10, Duration::ZERO)
        .await
        .unwrap();
    let [held, dropped] = claimed.as_slice() else {
        panic!("two deliveries: {claimed:?}")
    };
    assert_eq!(held.attempts, 1);
    let until = Utc::now() + chrono::Duration::seconds(2);
    store.outbox_hold(held.id, until).await.unwrap();
    store
        .outbox_drop(dropped.id, "alice is away")
        .await
        .unwrap();
    assert!(
        store
            .outbox_claim("phones", 10, LEASE)
            .await
            .unwrap()
            .is_empty(),
        "held until later, dropped for good"
    );
    let figures = store
        .outbox_figures(Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    let phones = &figures["phones"];
    assert_eq!(
        (
            phones.queued,
            phones.retrying,
            phones.sent_today,
            phones.failed
        ),
        (1, 0, 0, 0),
        "a hold is no failure and a drop no send"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let again = store.outbox_claim("phones", 10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1, "due when the hold ends");
    assert_eq!(again[0].id, held.id);
    assert_eq!(again[0].attempts, 1, "the held claim did not count");
    assert!(
        (again[0].queued_at - until).num_milliseconds().abs() < 5,
        "its expiry counts from the end of the hold: {} vs {until}",
        again[0].queued_at
    );
}
