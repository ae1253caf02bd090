//! Follow-up checks every `LeadStore` must pass: a lead's next step (set, changed, cleared, by
//! closing the lead too), call attempts counted with the cadence's next step, the due list, and
//! erasure taking the texts.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use leadhook_server::store::{LeadQuery, LeadStore, StoreError};
use leadhook_shared::team::actor::FACEBOOK;
use leadhook_shared::{
    ActivityKind, CallOutcome, Lead, LeadPatch, LeadStatus, NewAttempt, NextStep,
};

use super::suite::{at, incoming};

/// A time `hours` from now, to the second (what both stores keep exactly).
pub(super) fn in_hours(hours: i64) -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0) + Duration::hours(hours)
}

pub(super) fn step(hours: i64, what: &str) -> NextStep {
    NextStep {
        at: in_hours(hours),
        what: what.into(),
    }
}

pub(super) async fn new_lead(store: &dyn LeadStore, leadgen_id: &str) -> Lead {
    store
        .upsert(&incoming(leadgen_id, "Fay Follow", at(1)), FACEBOOK)
        .await
        .unwrap()
        .lead
}

/// The lead's history after its `stored` row, as (actor, kind, old, new).
pub(super) async fn history(
    store: &dyn LeadStore,
    id: i64,
) -> Vec<(String, ActivityKind, Option<String>, Option<String>)> {
    let rows = store.activity(id).await.unwrap().expect("lead exists");
    rows.into_iter()
        .skip(1)
        .map(|row| (row.actor, row.kind, row.old, row.new))
        .collect()
}

pub(super) fn attempt(outcome: CallOutcome, note: Option<&str>) -> NewAttempt {
    NewAttempt {
        outcome,
        note: note.map(str::to_string),
    }
}

pub async fn follow_ups_next_step_is_set_changed_cleared_and_recorded(store: &dyn LeadStore) {
    let lead = new_lead(store, "9101").await;
    assert_eq!((lead.next_step.clone(), lead.attempts), (None, 0));
    let first = step(1, "Call back");
    let set = store
        .set_next_step(lead.id, Some(&first), "alice")
        .await
        .unwrap()
        .expect("lead exists");
    assert_eq!(set.next_step, Some(first.clone()));
    assert!(
        set.updated_at > lead.updated_at,
        "a change moves the cursor"
    );
    assert_eq!(
        store.get(lead.id).await.unwrap().unwrap().next_step,
        Some(first.clone())
    );

    // The same step again changes nothing and records nothing.
    store
        .set_next_step(lead.id, Some(&first), "alice")
        .await
        .unwrap();
    let second = step(26, "Send the quote");
    store
        .set_next_step(lead.id, Some(&second), "bob")
        .await
        .unwrap();
    let cleared = store
        .set_next_step(lead.id, None, "bob")
        .await
        .unwrap()
        .expect("lead exists");
    assert_eq!(cleared.next_step, None);

    let (first_text, second_text) = (first.history_text(), second.history_text());
    assert!(first_text.ends_with("Z Call back"), "{first_text}");
    assert_eq!(
        history(store, lead.id).await,
        [
            (
                "alice".into(),
                ActivityKind::NextStep,
                None,
                Some(first_text.clone())
            ),
            (
                "bob".into(),
                ActivityKind::NextStep,
                Some(first_text),
                Some(second_text.clone())
            ),
            (
                "bob".into(),
                ActivityKind::NextStep,
                Some(second_text),
                None
            ),
        ]
    );
    assert_eq!(
        store
            .set_next_step(424_242, Some(&first), "alice")
            .await
            .unwrap(),
        None
    );

    // Both stores keep a time to the microsecond, cut rather than rounded.
    let whole = in_hours(3);
    let fine = NextStep {
        at: whole + Duration::nanoseconds(1_999),
        what: "Call back".into(),
    };
    let kept = store
        .set_next_step(lead.id, Some(&fine), "alice")
        .await
        .unwrap()
        .expect("lead exists");
    let expected = whole + Duration::microseconds(1);
    assert_eq!(kept.next_step.map(|step| step.at), Some(expected));
    let read = store.get(lead.id).await.unwrap().unwrap();
    assert_eq!(read.next_step.map(|step| step.at), Some(expected));
}

pub async fn follow_ups_closing_a_lead_clears_its_next_step(store: &dyn LeadStore) {
    let lead = new_lead(store, "9201").await;
    let planned = step(2, "Call back");
    store
        .set_next_step(lead.id, Some(&planned), "alice")
        .await
        .unwrap();
    let status = |status| LeadPatch {
        status: Some(status),
        ..LeadPatch::default()
    };
    let contacted = store
        .update(lead.id, &status(LeadStatus::Contacted), "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        contacted.next_step,
        Some(planned.clone()),
        "an open status keeps it"
    );
    let won = store
        .update(lead.id, &status(LeadStatus::Won), "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(won.next_step, None);
    let rows = history(store, lead.id).await;
    let last_two: Vec<_> = rows[rows.len() - 2..]
        .iter()
        .map(|(actor, kind, _, new)| (actor.as_str(), *kind, new.clone()))
        .collect();
    assert_eq!(
        last_two,
        [
            ("alice", ActivityKind::Status, Some("Won".to_string())),
            ("alice", ActivityKind::NextStep, None),
        ]
    );
    for closed in [LeadStatus::Lost, LeadStatus::Unqualified] {
        let other = new_lead(store, &format!("92{}", closed as u8 + 10)).await;
        store
            .set_next_step(other.id, Some(&planned), "alice")
            .await
            .unwrap();
        let closed = store
            .update(other.id, &status(closed), "alice")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(closed.next_step, None, "{:?}", closed.status);
    }
}

pub async fn follow_ups_attempts_are_counted_and_follow_the_schedule(store: &dyn LeadStore) {
    let lead = new_lead(store, "9301").await;
    let schedule = [
        step(1, "Call back (attempt 2)"),
        step(3, "Call back (attempt 3)"),
    ];
    let after = |lead: Option<Lead>| {
        let lead = lead.expect("lead exists");
        (lead.attempts, lead.next_step)
    };
    let first = store
        .record_attempt(
            lead.id,
            &attempt(CallOutcome::NoAnswer, Some("busy tone")),
            "alice",
            Some(&schedule),
        )
        .await
        .unwrap();
    assert_eq!(after(first), (1, Some(schedule[0].clone())));
    let second = store
        .record_attempt(
            lead.id,
            &attempt(CallOutcome::LeftVoicemail, None),
            "alice",
            Some(&schedule),
        )
        .await
        .unwrap();
    assert_eq!(after(second), (2, Some(schedule[1].clone())));
    let third = store
        .record_attempt(
            lead.id,
            &attempt(CallOutcome::NoAnswer, None),
            "alice",
            Some(&schedule),
        )
        .await
        .unwrap();
    assert_eq!(
        after(third),
        (3, None),
        "past the schedule's end: no next step"
    );

    let planned = step(5, "Send the quote");
    store
        .set_next_step(lead.id, Some(&planned), "bob")
        .await
        .unwrap();
    let talked = store
        .record_attempt(
            lead.id,
            &attempt(CallOutcome::Talked, Some("wants a quote")),
            "bob",
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        after(talked),
        (4, Some(planned.clone())),
        "without a schedule the step stays"
    );
    assert_eq!(store.get(lead.id).await.unwrap().unwrap().attempts, 4);

    let attempt_rows: Vec<_> = history(store, lead.id)
        .await
        .into_iter()
        .filter(|(_, kind, _, _)| *kind == ActivityKind::Attempt)
        .map(|(actor, _, old, new)| (actor, old, new))
        .collect();
    let row = |actor: &str, new: &str| (actor.to_string(), None, Some(new.to_string()));
    assert_eq!(
        attempt_rows,
        [
            row("alice", "no_answer: busy tone"),
            row("alice", "left_voicemail"),
            row("alice", "no_answer"),
            row("bob", "talked: wants a quote"),
        ]
    );
    let kinds: Vec<_> = history(store, lead.id)
        .await
        .into_iter()
        .map(|row| row.1)
        .collect();
    assert_eq!(
        kinds[..2],
        [ActivityKind::Attempt, ActivityKind::NextStep],
        "each attempt comes first, then the step it scheduled"
    );
    let missing = store
        .record_attempt(
            424_242,
            &attempt(CallOutcome::NoAnswer, None),
            "alice",
            Some(&schedule),
        )
        .await
        .unwrap();
    assert_eq!(missing, None);
}

pub async fn follow_ups_due_leads_are_listed_by_time_and_owner(store: &dyn LeadStore) {
    let mut ids = Vec::new();
    for (leadgen_id, hours, owner) in [
        ("9401", Some(1), Some("alice")),
        ("9402", Some(3), Some("alice")),
        ("9403", Some(1), Some("bob")),
        ("9404", None, Some("alice")),
        ("9405", Some(-1), None),
    ] {
        let lead = new_lead(store, leadgen_id).await;
        if let Some(hours) = hours {
            let due = NextStep {
                at: in_hours(hours),
                what: "Call back".into(),
            };
            store
                .set_next_step(lead.id, Some(&due), "alice")
                .await
                .unwrap();
        }
        if let Some(owner) = owner {
            store.claim(lead.id, owner).await.unwrap();
        }
        ids.push(lead.id);
    }
    let due = |owner: Option<&str>| LeadQuery {
        due_before: Some(in_hours(2)),
        owner: owner.map(str::to_string),
        ..LeadQuery::default()
    };
    let listed = |page: leadhook_server::store::LeadPage| {
        let found: Vec<i64> = page.leads.iter().map(|lead| lead.id).collect();
        assert_eq!(page.count, found.len() as u64);
        found
    };
    assert_eq!(
        listed(store.list(&due(None)).await.unwrap()),
        [ids[4], ids[0], ids[2]],
        "the overdue one first, then by due time"
    );
    assert_eq!(
        listed(store.list(&due(Some("alice"))).await.unwrap()),
        [ids[0]]
    );
    let everyone_of_alice = LeadQuery {
        owner: Some("alice".into()),
        ..LeadQuery::default()
    };
    assert_eq!(
        listed(store.list(&everyone_of_alice).await.unwrap()),
        [ids[3], ids[1], ids[0]],
        "newest first without a due time"
    );
}

pub async fn follow_ups_erasing_removes_its_next_step_and_attempt_notes(store: &dyn LeadStore) {
    let lead = new_lead(store, "9501").await;
    store
        .set_next_step(
            lead.id,
            Some(&step(4, "Call Fay about her mortgage")),
            "alice",
        )
        .await
        .unwrap();
    store
        .record_attempt(
            lead.id,
            &attempt(CallOutcome::Talked, Some("Fay is moving to Leeds")),
            "alice",
            None,
        )
        .await
        .unwrap();
    let erased = store
        .erase(lead.id, "alice", None)
        .await
        .unwrap()
        .expect("lead exists");
    assert_eq!(erased.next_step, None);
    assert_eq!(store.get(lead.id).await.unwrap().unwrap().next_step, None);
    let rows = history(store, lead.id).await;
    assert!(
        rows.iter()
            .all(|(_, _, old, new)| old.is_none() && new.is_none()),
        "{rows:?}"
    );
    let refused = store
        .set_next_step(lead.id, Some(&step(1, "Call back")), "alice")
        .await;
    assert!(
        matches!(refused, Err(StoreError::Erased { .. })),
        "{refused:?}"
    );
    let refused = store
        .record_attempt(
            lead.id,
            &attempt(CallOutcome::NoAnswer, None),
            "alice",
            None,
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Erased { .. })),
        "{refused:?}"
    );
}
