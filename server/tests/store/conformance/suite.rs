//! The checks every `LeadStore` must pass. Each takes a fresh, empty store.

use std::collections::BTreeMap;

pub use super::replica_suite::*;

use chrono::{DateTime, Duration, TimeZone, Utc};
use leadhook_server::store::{LeadQuery, LeadStore, Routing, StatsWindow};
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::team::actor::FACEBOOK;
use leadhook_shared::{Answer, Cursor, LeadPatch, LeadStatus, MetaFields, NewManualLead};

pub fn at(hours_ago: i64) -> DateTime<Utc> {
    Utc::now() - Duration::hours(hours_ago)
}

pub fn incoming(leadgen_id: &str, name: &str, created_at: DateTime<Utc>) -> IncomingLead {
    IncomingLead {
        leadgen_id: leadgen_id.to_string(),
        meta: MetaFields {
            name: Some(name.to_string()),
            email: Some(format!(
                "{}@example.com",
                name.to_lowercase().replace(' ', ".")
            )),
            phone: Some(format!("+1555{leadgen_id}")),
            phone_e164: None,
            phone_invalid: false,
            email_key: None,
            junk_reason: None,
            created_at,
            page_id: Some("page-1".into()),
            form_id: Some("form-1".into()),
            form_name: Some("Spring Promo".into()),
            ad_id: Some("ad-1".into()),
            ad_name: Some("Ad One".into()),
            adset_id: Some("adset-1".into()),
            adset_name: Some("Adset One".into()),
            campaign_id: Some("camp-1".into()),
            campaign_name: Some("Campaign One".into()),
            platform: Some("fb".into()),
            is_organic: false,
            fields: BTreeMap::from([("full_name".to_string(), Answer::One(name.to_string()))]),
        },
    }
}

pub async fn upsert_inserts_once_then_refreshes(store: &dyn LeadStore) {
    let lead = incoming("1001", "Jane Doe", at(1));
    let first = store.upsert(&lead, FACEBOOK).await.unwrap();
    assert!(first.inserted);
    assert_eq!(first.lead.leadgen_id.as_deref(), Some("1001"));
    assert_eq!(first.lead.status, LeadStatus::NewLead);
    assert!(!first.lead.is_manual);

    let again = store.upsert(&lead, FACEBOOK).await.unwrap();
    assert!(!again.inserted, "the same leadgen_id must not insert twice");
    assert_eq!(again.lead.id, first.lead.id);

    let page = store.list(&LeadQuery::default()).await.unwrap();
    assert_eq!(page.count, 1);
    assert_eq!(page.leads.len(), 1);
}

pub async fn redelivery_keeps_what_reps_changed(store: &dyn LeadStore) {
    let stored = store
        .upsert(&incoming("1002", "Jane Doe", at(1)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    let patch = LeadPatch {
        status: Some(LeadStatus::Contacted),
        notes: Some("called, wants a quote".into()),
        ..LeadPatch::default()
    };
    store
        .update(stored.id, &patch, "alice")
        .await
        .unwrap()
        .expect("lead exists");

    let mut refreshed = incoming("1002", "Jane Q. Doe", at(1));
    refreshed.meta.campaign_name = Some("Renamed campaign".into());
    let after = store.upsert(&refreshed, FACEBOOK).await.unwrap();
    assert!(!after.inserted);
    assert_eq!(after.lead.status, LeadStatus::Contacted);
    assert_eq!(after.lead.notes.as_deref(), Some("called, wants a quote"));
    assert_eq!(
        after.lead.meta.name.as_deref(),
        Some("Jane Q. Doe"),
        "Meta's data is refreshed"
    );
    assert_eq!(
        after.lead.meta.campaign_name.as_deref(),
        Some("Renamed campaign")
    );
    assert_eq!(
        after.lead.received_at, stored.received_at,
        "received_at is when we first stored it"
    );
}

pub async fn unchanged_redelivery_keeps_updated_at(store: &dyn LeadStore) {
    let lead = incoming("1003", "Jane Doe", at(1));
    let first = store.upsert(&lead, FACEBOOK).await.unwrap().lead;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let again = store.upsert(&lead, FACEBOOK).await.unwrap().lead;
    assert_eq!(
        again.updated_at, first.updated_at,
        "a duplicate delivery is not a change"
    );
    let changes = store
        .list(&LeadQuery {
            since: Some(Cursor::new(first.updated_at, first.id)),
            ..LeadQuery::default()
        })
        .await
        .unwrap();
    assert!(
        changes.leads.is_empty(),
        "pollers must not see duplicates as changes"
    );
}

pub async fn fields_round_trip(store: &dyn LeadStore) {
    let created = Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap();
    let mut lead = incoming("1004", "José Muñoz", created);
    lead.meta.fields.insert(
        "which_products?".into(),
        Answer::Many(vec!["Solar".into(), "Battery".into()]),
    );
    lead.meta
        .fields
        .insert("city".into(), Answer::One("Zürich".into()));
    lead.meta.ad_id = None;
    lead.meta.ad_name = None;
    lead.meta.is_organic = true;
    let stored = store.upsert(&lead, FACEBOOK).await.unwrap().lead;
    let fetched = store.get(stored.id).await.unwrap().expect("lead exists");
    assert_eq!(fetched, stored);
    assert_eq!(fetched.meta, lead.meta, "every Meta-side field is kept");
    assert_eq!(fetched.meta.name.as_deref(), Some("José Muñoz"));
    assert_eq!(fetched.meta.created_at, created);
    assert_eq!(fetched.meta.fields, lead.meta.fields);
    assert_eq!(fetched.meta.ad_id, None);
    assert!(fetched.meta.is_organic);
    assert_eq!(fetched.meta.form_name.as_deref(), Some("Spring Promo"));
    assert_eq!(fetched.meta.page_id.as_deref(), Some("page-1"));
    assert!(fetched.received_at <= fetched.updated_at);
    assert!(store.get(stored.id + 1000).await.unwrap().is_none());
}

pub async fn manual_leads(store: &dyn LeadStore) {
    let lead = store
        .create_manual(
            &NewManualLead {
                phone_e164: None,
                phone_invalid: false,
                email_key: None,
                name: "Walk-in Customer".into(),
                phone: Some("+15550001".into()),
                ..NewManualLead::default()
            },
            "alice",
            Routing::UNOWNED,
        )
        .await
        .unwrap();
    assert!(lead.is_manual);
    assert_eq!(lead.leadgen_id, None);
    assert_eq!(lead.status, LeadStatus::NewLead);
    assert_eq!(lead.meta.phone.as_deref(), Some("+15550001"));

    let second = store
        .create_manual(
            &NewManualLead {
                phone_e164: None,
                phone_invalid: false,
                email_key: None,
                name: "Referral".into(),
                email: Some("ref@example.com".into()),
                status: Some(LeadStatus::Qualified),
                notes: Some("from Bob".into()),
                ..NewManualLead::default()
            },
            "alice",
            Routing::UNOWNED,
        )
        .await
        .unwrap();
    assert_ne!(second.id, lead.id, "manual leads never collide");
    assert_eq!(second.status, LeadStatus::Qualified);
    assert_eq!(second.notes.as_deref(), Some("from Bob"));
    assert_eq!(store.list(&LeadQuery::default()).await.unwrap().count, 2);
}

pub async fn update_of_unknown_lead_is_none(store: &dyn LeadStore) {
    let patch = LeadPatch {
        status: Some(LeadStatus::Won),
        notes: None,
        ..LeadPatch::default()
    };
    assert!(
        store
            .update(424242, &patch, "alice")
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn partial_updates(store: &dyn LeadStore) {
    let stored = store
        .upsert(&incoming("1005", "Ann Lee", at(2)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    let with_status = store
        .update(
            stored.id,
            &LeadPatch {
                status: Some(LeadStatus::Won),
                notes: None,
                ..LeadPatch::default()
            },
            "alice",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(with_status.status, LeadStatus::Won);
    assert_eq!(with_status.notes, None);
    assert!(with_status.updated_at > stored.updated_at);

    let with_notes = store
        .update(
            stored.id,
            &LeadPatch {
                status: None,
                notes: Some("signed".into()),
                ..LeadPatch::default()
            },
            "alice",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        with_notes.status,
        LeadStatus::Won,
        "a notes edit leaves the status"
    );
    assert_eq!(with_notes.notes.as_deref(), Some("signed"));
}

pub async fn stats_count_by_window_status_and_form(store: &dyn LeadStore) {
    let now = Utc::now();
    let today_start = now - Duration::hours(6);
    let window = StatsWindow {
        today_start,
        week_start: today_start - Duration::days(6),
        now: Utc::now(),
    };
    let recent = store
        .upsert(
            &incoming("601", "Today A", now - Duration::hours(1)),
            FACEBOOK,
        )
        .await
        .unwrap()
        .lead;
    store
        .upsert(
            &incoming("602", "Today B", now - Duration::hours(5)),
            FACEBOOK,
        )
        .await
        .unwrap();
    let mut other_form = incoming("603", "Week", now - Duration::days(3));
    other_form.meta.form_id = Some("form-2".into());
    other_form.meta.form_name = Some("Autumn".into());
    store.upsert(&other_form, FACEBOOK).await.unwrap();
    store
        .upsert(&incoming("604", "Old", now - Duration::days(30)), FACEBOOK)
        .await
        .unwrap();
    store
        .update(
            recent.id,
            &LeadPatch {
                status: Some(LeadStatus::Won),
                notes: None,
                ..LeadPatch::default()
            },
            "alice",
        )
        .await
        .unwrap();

    let stats = store.stats(window).await.unwrap();
    assert_eq!(stats.total, 4);
    assert_eq!(stats.today, 2);
    assert_eq!(stats.last_7_days, 3);
    assert_eq!(stats.by_status.get(&LeadStatus::NewLead), Some(&3));
    assert_eq!(stats.by_status.get(&LeadStatus::Won), Some(&1));
    let forms: Vec<_> = stats
        .by_form
        .iter()
        .map(|f| (f.form_id.as_deref(), f.form_name.as_deref(), f.count))
        .collect();
    assert_eq!(
        forms,
        [
            (Some("form-1"), Some("Spring Promo"), 3),
            (Some("form-2"), Some("Autumn"), 1)
        ]
    );
}

pub async fn ping_succeeds(store: &dyn LeadStore) {
    store.ping().await.unwrap();
}
