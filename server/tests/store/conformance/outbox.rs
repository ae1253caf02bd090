//! The outbox checks every `LeadStore` must pass: the routes decide which events are queued for
//! which destination (one delivery per event and destination, queued by the write itself),
//! destinations are claimed apart, leases hold, retries come due, failures are dead-lettered, and
//! the figures are per destination.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use leadhook_server::store::{CAPI, EventType, LeadStore, Route, Routing};
use leadhook_shared::team::actor::FACEBOOK;
use leadhook_shared::{DeliveryState, LeadPatch, LeadStatus, NewManualLead};

use super::suite::{at, incoming};

const LEASE: Duration = Duration::from_secs(3600);

fn route(destination: &str, event_type: EventType) -> Route {
    Route {
        destination: destination.into(),
        event_type,
    }
}

fn today() -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::hours(1)
}

fn manual(name: &str) -> NewManualLead {
    NewManualLead {
        phone_e164: None,
        phone_invalid: false,
        email_key: None,
        name: name.into(),
        email: None,
        phone: None,
        status: None,
        notes: None,
    }
}

pub async fn routes_queue_one_delivery_per_event_and_destination(store: &dyn LeadStore) {
    store.capi_switch(true, at(1)).await.unwrap();
    store
        .outbox_routes(&[
            route("crm", EventType::Created),
            route("crm", EventType::StatusChanged),
            route("sheet", EventType::Created),
            route("pager", EventType::Assigned),
        ])
        .await
        .unwrap();
    let lead = store
        .upsert(&incoming("1234567890123701", "Jane Doe", at(1)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    let walk_in = store
        .create_manual(&manual("Walk In"), "alice", Routing::UNOWNED)
        .await
        .unwrap();
    let contacted = LeadPatch {
        status: Some(LeadStatus::Contacted),
        ..LeadPatch::default()
    };
    store.update(lead.id, &contacted, "alice").await.unwrap();
    store.claim(walk_in.id, "bob").await.unwrap();
    let notes = LeadPatch {
        notes: Some("called back".into()),
        ..LeadPatch::default()
    };
    store.update(lead.id, &notes, "alice").await.unwrap();

    let crm = store.outbox_claim("crm", 100, LEASE).await.unwrap();
    let seen: Vec<(i64, &str, &str)> = crm
        .iter()
        .map(|d| (d.lead_id, d.event_type.as_str(), d.stage.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (lead.id, "lead.created", "New Lead"),
            (walk_in.id, "lead.created", "New Lead"),
            (lead.id, "lead.status_changed", "Contacted"),
        ]
    );
    assert!(
        crm.iter()
            .all(|d| d.destination == "crm" && d.attempts == 1)
    );
    assert_eq!(crm[0].leadgen_id.as_deref(), Some("1234567890123701"));
    assert_eq!(crm[1].leadgen_id, None, "a manual lead has no leadgen id");
    let sheet = store.outbox_claim("sheet", 100, LEASE).await.unwrap();
    assert_eq!(sheet.len(), 2, "{sheet:?}");
    let pager = store.outbox_claim("pager", 100, LEASE).await.unwrap();
    assert_eq!(
        pager
            .iter()
            .map(|d| (d.lead_id, d.event_type.as_str()))
            .collect::<Vec<_>>(),
        [(walk_in.id, "lead.assigned")]
    );
    let capi = store.outbox_claim(CAPI, 100, LEASE).await.unwrap();
    assert_eq!(
        capi.iter().map(|d| d.stage.as_str()).collect::<Vec<_>>(),
        ["New Lead", "Contacted"],
        "the Conversions API keeps its own stages, of leads from Meta only"
    );
    let ids: BTreeSet<i64> = crm
        .iter()
        .chain(&sheet)
        .chain(&pager)
        .chain(&capi)
        .map(|d| d.id)
        .collect();
    assert_eq!(ids.len(), 3 + 2 + 1 + 2, "one id per event and destination");

    // New routes apply to later writes; what was queued stays.
    store
        .outbox_routes(&[route("sheet", EventType::StatusChanged)])
        .await
        .unwrap();
    let won = LeadPatch {
        status: Some(LeadStatus::Won),
        ..LeadPatch::default()
    };
    store.update(lead.id, &won, "alice").await.unwrap();
    assert!(
        store
            .outbox_claim("crm", 100, Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
    let sheet = store.outbox_claim("sheet", 100, LEASE).await.unwrap();
    assert_eq!(
        sheet.iter().map(|d| d.stage.as_str()).collect::<Vec<_>>(),
        ["Won"]
    );
    let figures = store.outbox_figures(today()).await.unwrap();
    let queued: Vec<(&str, u64)> = figures
        .iter()
        .map(|(destination, f)| (destination.as_str(), f.queued))
        .collect();
    assert_eq!(
        queued,
        [("capi", 3), ("crm", 3), ("pager", 1), ("sheet", 3)]
    );
}

pub async fn deliveries_are_leased_retried_and_dead_lettered_per_destination(
    store: &dyn LeadStore,
) {
    store
        .outbox_routes(&[
            route("crm", EventType::Created),
            route("sheet", EventType::Created),
        ])
        .await
        .unwrap();
    for n in 0..3 {
        store
            .upsert(
                &incoming(&format!("123456789012380{n}"), "Jane Doe", at(1)),
                FACEBOOK,
            )
            .await
            .unwrap();
    }
    let first = store.outbox_claim("crm", 2, LEASE).await.unwrap();
    assert_eq!(first.len(), 2);
    let rest = store.outbox_claim("crm", 2, LEASE).await.unwrap();
    assert_eq!(rest.len(), 1, "the first two are leased");
    assert!(
        store
            .outbox_claim("crm", 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.outbox_claim("sheet", 10, LEASE).await.unwrap().len(),
        3,
        "another destination's claims are its own"
    );

    let ids: Vec<i64> = first.iter().map(|d| d.id).collect();
    store
        .outbox_retry(&ids, Duration::ZERO, "the receiver answered 500")
        .await
        .unwrap();
    let again = store.outbox_claim("crm", 10, LEASE).await.unwrap();
    assert_eq!(
        again.iter().map(|d| d.id).collect::<Vec<_>>(),
        ids,
        "due again at once"
    );
    assert!(again.iter().all(|d| d.attempts == 2), "{again:?}");
    assert_eq!(again[0].queued_at, first[0].queued_at, "queued once");

    store
        .outbox_failed(rest[0].id, "gave up after 9 attempts")
        .await
        .unwrap();
    store.outbox_sent(&ids).await.unwrap();
    store
        .outbox_retry(&ids, Duration::ZERO, "late")
        .await
        .unwrap();
    let figures = store.outbox_figures(today()).await.unwrap();
    let crm = &figures["crm"];
    assert_eq!((crm.queued, crm.sent_today, crm.failed), (0, 2, 1));
    assert_eq!(crm.recent_failures.len(), 1);
    assert_eq!(crm.recent_failures[0].delivery_id, rest[0].id);
    assert_eq!(crm.recent_failures[0].reason, "gave up after 9 attempts");
    assert!(crm.last_success_at.is_some());
    assert_eq!(figures["sheet"].queued, 3);
    assert!(
        store
            .outbox_claim("crm", 10, Duration::ZERO)
            .await
            .unwrap()
            .is_empty(),
        "settled stay settled"
    );
}

/// A lead's details show where its events went: each delivery of its own, newest first, in the
/// state the dispatcher left it, and none of another lead's.
pub async fn a_leads_deliveries_read_back_newest_first_with_their_state(store: &dyn LeadStore) {
    store
        .outbox_routes(&[
            route("crm", EventType::Created),
            route("sheet", EventType::Created),
        ])
        .await
        .unwrap();
    let jane = store
        .upsert(&incoming("1234567890123901", "Jane Doe", at(1)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    store
        .upsert(&incoming("1234567890123902", "John Roe", at(1)), FACEBOOK)
        .await
        .unwrap();
    let crm = store.outbox_claim("crm", 10, LEASE).await.unwrap();
    let sheet = store.outbox_claim("sheet", 10, LEASE).await.unwrap();
    let of_jane = |claimed: &[leadhook_server::store::Delivery]| {
        claimed
            .iter()
            .find(|delivery| delivery.lead_id == jane.id)
            .map(|delivery| delivery.id)
            .unwrap()
    };
    store.outbox_sent(&[of_jane(&crm)]).await.unwrap();
    store
        .outbox_failed(of_jane(&sheet), "gave up after 9 attempts")
        .await
        .unwrap();

    let deliveries = store.outbox_of_lead(jane.id, 10).await.unwrap();
    let seen: Vec<(&str, &str, DeliveryState, u32, Option<&str>)> = deliveries
        .iter()
        .map(|d| {
            (
                d.destination.as_str(),
                d.event_type.as_str(),
                d.state,
                d.attempts,
                d.reason.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "sheet",
                "lead.created",
                DeliveryState::Failed,
                1,
                Some("gave up after 9 attempts")
            ),
            ("crm", "lead.created", DeliveryState::Sent, 1, None),
        ]
    );
    assert!(deliveries.iter().all(|d| d.done_at.is_some()));
    assert_eq!(store.outbox_of_lead(jane.id, 1).await.unwrap().len(), 1);
    assert!(store.outbox_of_lead(-1, 10).await.unwrap().is_empty());
}
