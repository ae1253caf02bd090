//! Erasure checks every `LeadStore` must pass: the person's data goes, a tombstone stays, and
//! storing the same Meta lead again (webhook re-delivery, sweep) never brings the person back.

use chrono::{Duration, Utc};
use leadhook_server::store::{LeadQuery, LeadStore, Person, StatsWindow, StoreError};
use leadhook_shared::team::actor::{FACEBOOK, SWEEPER};
use leadhook_shared::{ActivityKind, Lead, LeadPatch, LeadStatus};

use super::suite::{at, incoming};

fn window() -> StatsWindow {
    StatsWindow {
        today_start: at(12),
        week_start: at(24 * 7),
        now: Utc::now(),
    }
}

fn assert_erased(lead: &Lead) {
    assert!(lead.erased_at.is_some(), "erased_at must be set: {lead:?}");
    assert_eq!(lead.meta.name, None);
    assert_eq!(lead.meta.email, None);
    assert_eq!(lead.meta.phone, None);
    assert!(lead.meta.fields.is_empty(), "answers remain: {lead:?}");
    assert_eq!(lead.notes, None);
}

pub async fn erase_leaves_a_tombstone_that_redelivery_keeps(store: &dyn LeadStore) {
    store.capi_switch(true, at(24)).await.unwrap();
    let person = incoming("7001", "Erin Erase", at(3));
    let stored = store.upsert(&person, FACEBOOK).await.unwrap().lead;
    let other = store
        .upsert(&incoming("7002", "Kept Person", at(2)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    let patch = LeadPatch {
        status: Some(LeadStatus::Contacted),
        notes: Some("lives at 1 Secret Road".into()),
        owner: None,
    };
    store.update(stored.id, &patch, "alice").await.unwrap();
    let stats_before = store.stats(window()).await.unwrap();

    let erased = store
        .erase(stored.id, "alice", Some("DSR-2026-041"))
        .await
        .unwrap()
        .expect("lead exists");
    assert_erased(&erased);
    assert_eq!(erased.id, stored.id);
    assert_eq!(erased.leadgen_id.as_deref(), Some("7001"));
    assert_eq!(erased.status, LeadStatus::Contacted);
    assert_eq!(erased.meta.created_at, stored.meta.created_at);
    assert_eq!(erased.meta.form_name.as_deref(), Some("Spring Promo"));
    assert_eq!(store.stats(window()).await.unwrap(), stats_before);

    let activity = store.activity(stored.id).await.unwrap().expect("history");
    let (last, before) = activity.split_last().expect("an erase row");
    assert!(
        before.iter().all(|a| a.old.is_none() && a.new.is_none()),
        "activity values remain: {activity:?}"
    );
    // The erase row keeps who erased and why (what the admin typed, never the person's data).
    assert_eq!(
        (
            last.kind,
            last.actor.as_str(),
            last.old.as_deref(),
            last.new.as_deref()
        ),
        (ActivityKind::Erase, "alice", None, Some("DSR-2026-041"))
    );

    let capi_before = store.capi_figures(at(24)).await.unwrap().queued;
    // Meta re-delivers it, then the sweeper finds it again in the Graph API.
    for actor in [FACEBOOK, SWEEPER] {
        let again = store.upsert(&person, actor).await.unwrap();
        assert!(
            !again.inserted,
            "{actor}: an erased lead must not be inserted again"
        );
        assert_eq!(again.lead.id, stored.id);
        assert_erased(&again.lead);
    }
    assert_erased(&store.get(stored.id).await.unwrap().expect("tombstone"));
    assert_eq!(store.stats(window()).await.unwrap(), stats_before);
    assert_eq!(
        store.capi_figures(at(24)).await.unwrap().queued,
        capi_before,
        "a re-delivered erased lead queues no new Conversions API stage"
    );
    let found = store
        .list(&LeadQuery {
            search: Some("erin".into()),
            ..LeadQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found.count, 0, "an erased person is not found by name");
    let activity = store.activity(stored.id).await.unwrap().expect("history");
    assert!(
        activity
            .iter()
            .all(|a| a.old.is_none() && (a.new.is_none() || a.kind == ActivityKind::Erase))
    );
    assert_eq!(
        activity
            .iter()
            .filter(|a| a.kind == ActivityKind::Erase)
            .count(),
        1
    );

    // Erasing again changes nothing; the other lead was never touched.
    let twice = store
        .erase(stored.id, "bob", Some("DSR-2026-042"))
        .await
        .unwrap()
        .expect("tombstone");
    assert_eq!(twice.erased_at, erased.erased_at);
    let activity = store.activity(stored.id).await.unwrap().expect("history");
    assert_eq!(
        activity.last().and_then(|a| a.new.as_deref()),
        Some("DSR-2026-041"),
        "a second erase leaves the first one's record"
    );
    let kept = store.get(other.id).await.unwrap().expect("other lead");
    assert_eq!(kept.erased_at, None);
    assert_eq!(kept.meta.name.as_deref(), Some("Kept Person"));
    assert_eq!(store.erase(i64::MAX, "alice", None).await.unwrap(), None);
}

pub async fn leads_are_found_by_person_and_by_age(store: &dyn LeadStore) {
    let old = store
        .upsert(&incoming("7101", "Ann Old", at(24 * 40)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    let older = store
        .upsert(&incoming("7102", "Ann Old", at(24 * 50)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    let recent = store
        .upsert(&incoming("7103", "Bo Recent", at(1)), FACEBOOK)
        .await
        .unwrap()
        .lead;

    let by_email = store
        .leads_of(&Person::Email("ann.old@example.com".into()))
        .await
        .unwrap();
    assert_eq!(by_email, vec![old.id, older.id]);
    let by_phone = store
        .leads_of(&Person::Phone("+15557103".into()))
        .await
        .unwrap();
    assert_eq!(by_phone, vec![recent.id]);
    let by_leadgen = store
        .leads_of(&Person::LeadgenId("7102".into()))
        .await
        .unwrap();
    assert_eq!(by_leadgen, vec![older.id]);
    let quoted = store
        .leads_of(&Person::Email("\"x\",(y).z".into()))
        .await
        .unwrap();
    assert!(quoted.is_empty());

    let cutoff = Utc::now() - Duration::days(30);
    assert_eq!(
        store.older_than(cutoff).await.unwrap(),
        vec![older.id, old.id]
    );
    store.erase(older.id, "system", None).await.unwrap();
    assert_eq!(store.older_than(cutoff).await.unwrap(), vec![old.id]);
    assert_eq!(
        store
            .leads_of(&Person::Email("ann.old@example.com".into()))
            .await
            .unwrap(),
        vec![old.id],
        "erased leads are not found again"
    );
}

pub async fn retention_run_is_taken_once_a_day(store: &dyn LeadStore) {
    let now = Utc::now();
    assert!(store.take_retention_run(now).await.unwrap());
    assert!(
        !store.take_retention_run(now).await.unwrap(),
        "taken twice at once"
    );
    assert!(
        !store
            .take_retention_run(now + Duration::hours(23))
            .await
            .unwrap()
    );
    assert!(
        store
            .take_retention_run(now + Duration::hours(24))
            .await
            .unwrap()
    );
}

/// A rep's patch cannot put personal data back on a tombstone, nor change it otherwise.
pub async fn a_patch_on_an_erased_lead_is_refused(store: &dyn LeadStore) {
    let stored = store
        .upsert(&incoming("7101", "Pat Patched", at(2)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    store.erase(stored.id, "alice", None).await.unwrap();
    let notes = LeadPatch {
        notes: Some("new address: 2 Secret Road".into()),
        ..LeadPatch::default()
    };
    let status = LeadPatch {
        status: Some(LeadStatus::Won),
        ..LeadPatch::default()
    };
    for patch in [notes, status] {
        let refused = store.update(stored.id, &patch, "alice").await;
        assert!(
            matches!(refused, Err(StoreError::Erased { id }) if id == stored.id),
            "{refused:?}"
        );
    }
    let after = store.get(stored.id).await.unwrap().expect("tombstone");
    assert_erased(&after);
    assert_eq!(after.status, LeadStatus::NewLead);
}

pub async fn erasures_are_counted_per_admin_from_the_history(store: &dyn LeadStore) {
    let started = Utc::now() - Duration::seconds(1);
    let mut ids = Vec::new();
    for n in 0..4 {
        let stored = store
            .upsert(&incoming(&format!("76{n:02}"), "Erin", at(3)), FACEBOOK)
            .await
            .unwrap();
        ids.push(stored.lead.id);
    }
    for id in &ids[..3] {
        store.erase(*id, "alice", None).await.unwrap();
    }
    store.erase(ids[0], "alice", None).await.unwrap();
    store.erase(ids[3], "ada", Some("DSR-7")).await.unwrap();
    let alices = store.erasures_since("alice", started, 10).await.unwrap();
    assert_eq!(alices.len(), 3, "erasing twice is one erasure: {alices:?}");
    assert!(
        alices.windows(2).all(|pair| pair[0] <= pair[1]),
        "oldest first"
    );
    assert_eq!(
        store
            .erasures_since("alice", started, 2)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .erasures_since("ada", started, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let later = Utc::now() + Duration::seconds(1);
    assert!(
        store
            .erasures_since("alice", later, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
