//! The Conversions API outbox checks every `LeadStore` must pass: what is queued (and what not),
//! leases, retries, failures and the switch with its 7-day backfill.

use std::time::Duration;

use chrono::Utc;
use leadhook_server::store::{LeadStore, Routing};
use leadhook_shared::team::actor::FACEBOOK;
use leadhook_shared::{LeadPatch, LeadStatus, NewManualLead};

use super::suite::{at, incoming};

const LEASE: Duration = Duration::from_secs(3600);

fn status(status: LeadStatus) -> LeadPatch {
    LeadPatch {
        status: Some(status),
        ..LeadPatch::default()
    }
}

fn today() -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::hours(1)
}

pub async fn each_facebook_stage_is_queued_once(store: &dyn LeadStore) {
    assert_eq!(store.capi_switch(true, at(24 * 7)).await.unwrap(), 0);
    let lead = store
        .upsert(&incoming("1234567890123401", "Jane Doe", at(1)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    let manual = store
        .create_manual(
            &NewManualLead {
                phone_e164: None,
                phone_invalid: false,
                email_key: None,
                name: "Walk In".into(),
                email: None,
                phone: None,
                status: Some(LeadStatus::Contacted),
                notes: None,
            },
            "alice",
            Routing::UNOWNED,
        )
        .await
        .unwrap();
    store
        .update(lead.id, &status(LeadStatus::Contacted), "alice")
        .await
        .unwrap();
    let notes_only = LeadPatch {
        notes: Some("called back".into()),
        ..LeadPatch::default()
    };
    store.update(lead.id, &notes_only, "alice").await.unwrap();
    store
        .update(manual.id, &status(LeadStatus::Won), "alice")
        .await
        .unwrap();
    store
        .upsert(&incoming("1234567890123401", "Jane Doe", at(1)), FACEBOOK)
        .await
        .unwrap();
    store
        .update(lead.id, &status(LeadStatus::Won), "bob")
        .await
        .unwrap();

    let claimed = store.capi_claim(100, LEASE).await.unwrap();
    let stages: Vec<&str> = claimed.iter().map(|s| s.stage.as_str()).collect();
    assert_eq!(stages, ["New Lead", "Contacted", "Won"]);
    assert!(claimed.iter().all(|s| s.leadgen_id == "1234567890123401"));
    assert!(
        claimed
            .iter()
            .all(|s| s.event_id.starts_with(&format!("leadhook-{}-", lead.id)))
    );
    let ids: std::collections::HashSet<&str> =
        claimed.iter().map(|s| s.event_id.as_str()).collect();
    assert_eq!(ids.len(), 3, "event ids differ: {ids:?}");
    assert!(claimed.windows(2).all(|pair| pair[0].at <= pair[1].at));
    assert_eq!(
        claimed[0].lead_created_at.timestamp(),
        lead.meta.created_at.timestamp()
    );

    assert!(
        store.capi_claim(100, LEASE).await.unwrap().is_empty(),
        "leased"
    );
    let figures = store.capi_figures(today()).await.unwrap();
    assert_eq!((figures.queued, figures.sent_today), (3, 0));
    let ids: Vec<i64> = claimed.iter().map(|s| s.id).collect();
    store.capi_sent(&ids).await.unwrap();
    let figures = store.capi_figures(today()).await.unwrap();
    assert_eq!(
        (figures.queued, figures.sent_today, figures.failed),
        (0, 3, 0)
    );
    assert!(figures.last_success_at.is_some());
}

pub async fn leases_retries_and_failures(store: &dyn LeadStore) {
    store.capi_switch(true, at(1)).await.unwrap();
    for n in 0..3 {
        store
            .upsert(
                &incoming(&format!("123456789012350{n}"), "Jane Doe", at(1)),
                FACEBOOK,
            )
            .await
            .unwrap();
    }
    let first = store.capi_claim(2, LEASE).await.unwrap();
    assert_eq!(first.len(), 2);
    let rest = store.capi_claim(2, LEASE).await.unwrap();
    assert_eq!(rest.len(), 1, "the first two are leased");
    assert!(store.capi_claim(10, LEASE).await.unwrap().is_empty());

    let ids: Vec<i64> = first.iter().map(|s| s.id).collect();
    store
        .capi_retry(&ids, Duration::ZERO, "HTTP 500")
        .await
        .unwrap();
    let figures = store.capi_figures(today()).await.unwrap();
    assert_eq!((figures.queued, figures.retrying), (3, 2));
    assert_eq!(figures.retry_reason.as_deref(), Some("HTTP 500"));
    let again = store.capi_claim(10, LEASE).await.unwrap();
    assert_eq!(
        again.iter().map(|s| s.id).collect::<Vec<_>>(),
        ids,
        "due again at once"
    );

    store
        .capi_failed(rest[0].id, "(#100) Invalid parameter")
        .await
        .unwrap();
    store.capi_sent(&ids).await.unwrap();
    store
        .capi_retry(&ids, Duration::ZERO, "late")
        .await
        .unwrap();
    let figures = store.capi_figures(today()).await.unwrap();
    assert_eq!(
        (figures.queued, figures.sent_today, figures.failed),
        (0, 2, 1)
    );
    assert_eq!(figures.recent_failures.len(), 1);
    assert_eq!(
        figures.recent_failures[0].reason,
        "(#100) Invalid parameter"
    );
    assert_eq!(figures.recent_failures[0].event_id, rest[0].event_id);
    assert!(
        store
            .capi_claim(10, Duration::ZERO)
            .await
            .unwrap()
            .is_empty(),
        "settled stay settled"
    );
}

pub async fn switching_on_backfills_only_since_the_given_time(store: &dyn LeadStore) {
    store.capi_switch(false, Utc::now()).await.unwrap();
    let lead = store
        .upsert(&incoming("1234567890123601", "Jane Doe", at(2)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    store
        .update(lead.id, &status(LeadStatus::Qualified), "alice")
        .await
        .unwrap();
    assert!(
        store.capi_claim(10, LEASE).await.unwrap().is_empty(),
        "off: nothing queued"
    );

    let later = Utc::now() + chrono::Duration::hours(1);
    assert_eq!(
        store.capi_switch(true, later).await.unwrap(),
        0,
        "nothing that recent"
    );
    store.capi_switch(false, Utc::now()).await.unwrap();
    assert_eq!(store.capi_switch(true, at(1)).await.unwrap(), 2);
    assert_eq!(
        store.capi_switch(true, at(1)).await.unwrap(),
        0,
        "already on: no second backfill"
    );
    let stages: Vec<String> = store
        .capi_claim(10, LEASE)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.stage)
        .collect();
    assert_eq!(stages, ["New Lead", "Qualified"]);
}
