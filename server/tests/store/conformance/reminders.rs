//! Reminder checks every `LeadStore` must pass: a follow-up's reminder mark is taken once per
//! step, cleared when the step changes, never for a step that is gone; reps keep their time zone;
//! the figures count attempts, people reached and overdue steps.

use chrono::{DateTime, Duration, Utc};
use leadhook_server::store::{LeadStore, ReminderCheck, ReminderQuery, StatsWindow};
use leadhook_shared::team::actor::SYSTEM;
use leadhook_shared::{ActivityKind, CallOutcome, LeadPatch, LeadStatus, NextStep};

use super::follow_ups::{attempt, history, in_hours, new_lead, step};

/// One reminder check at `now`: steps due within the day before, reminders taken after `since`.
async fn check(store: &dyn LeadStore, now: DateTime<Utc>, since: DateTime<Utc>) -> ReminderCheck {
    store
        .reminder_check(&ReminderQuery {
            due_after: now - Duration::days(1),
            due_before: now,
            due_limit: 100,
            marked_after: since,
            marked_limit: 100,
        })
        .await
        .unwrap()
}

/// The ids of the leads due for a reminder at `now` (within a day).
async fn due_ids(store: &dyn LeadStore, now: DateTime<Utc>) -> Vec<i64> {
    check(store, now, now)
        .await
        .due
        .iter()
        .map(|lead| lead.id)
        .collect()
}

pub async fn reminders_are_taken_once_per_step(store: &dyn LeadStore) {
    let lead = new_lead(store, "9601").await;
    let later = new_lead(store, "9602").await;
    let first = step(1, "Call back");
    let set = store
        .set_next_step(lead.id, Some(&first), "alice")
        .await
        .unwrap()
        .unwrap();
    store
        .set_next_step(later.id, Some(&step(3, "Send the quote")), "alice")
        .await
        .unwrap();
    assert!(
        due_ids(store, Utc::now()).await.is_empty(),
        "nothing due yet"
    );
    let due_time = first.at + Duration::seconds(1);
    assert_eq!(due_ids(store, due_time).await, [lead.id]);
    let before_history = history(store, lead.id).await;

    assert!(
        store
            .take_reminder(lead.id, first.at, due_time)
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_reminder(lead.id, first.at, due_time)
            .await
            .unwrap(),
        "taken once"
    );
    assert!(due_ids(store, due_time).await.is_empty());
    let reminded = check(store, due_time, due_time - Duration::seconds(5))
        .await
        .marked;
    assert_eq!(
        reminded
            .iter()
            .map(|r| (r.lead.id, r.at, r.lead.next_step.clone()))
            .collect::<Vec<_>>(),
        [(lead.id, due_time, Some(first.clone()))]
    );
    let now = store.get(lead.id).await.unwrap().unwrap();
    assert_eq!(now.updated_at, set.updated_at, "a mark is not a change");
    let mut with_the_reminder = before_history.clone();
    with_the_reminder.push((
        SYSTEM.to_string(),
        ActivityKind::Reminded,
        None,
        Some(first.history_text()),
    ));
    assert_eq!(
        history(store, lead.id).await,
        with_the_reminder,
        "the mark's history row names the step that fell due (it queues lead.follow_up_due)"
    );

    // A new step is a new follow-up: due again at its time, the old mark gone.
    let second = step(2, "Call again");
    store
        .set_next_step(lead.id, Some(&second), "alice")
        .await
        .unwrap();
    assert!(
        check(store, due_time, due_time - Duration::seconds(5))
            .await
            .marked
            .is_empty()
    );
    assert!(
        !store
            .take_reminder(lead.id, first.at, due_time)
            .await
            .unwrap(),
        "not for a step that was moved"
    );
    assert_eq!(
        due_ids(store, second.at).await,
        [lead.id],
        "the later lead is due an hour after"
    );
}

pub async fn reminders_skip_steps_cleared_closed_or_erased(store: &dyn LeadStore) {
    let cleared = new_lead(store, "9611").await;
    let closed = new_lead(store, "9612").await;
    let erased = new_lead(store, "9613").await;
    let at = in_hours(1);
    for lead in [&cleared, &closed, &erased] {
        let step = NextStep {
            at,
            what: "Call back".into(),
        };
        store
            .set_next_step(lead.id, Some(&step), "alice")
            .await
            .unwrap();
    }
    let due_time = at + Duration::seconds(1);
    assert_eq!(due_ids(store, due_time).await.len(), 3);
    store
        .set_next_step(cleared.id, None, "alice")
        .await
        .unwrap();
    store
        .update(
            closed.id,
            &LeadPatch {
                status: Some(LeadStatus::Lost),
                ..LeadPatch::default()
            },
            "alice",
        )
        .await
        .unwrap();
    store.erase(erased.id, "alice", None).await.unwrap();
    assert!(due_ids(store, due_time).await.is_empty());
    for lead in [&cleared, &closed, &erased] {
        assert!(
            !store.take_reminder(lead.id, at, due_time).await.unwrap(),
            "lead {} has no step to remind of",
            lead.id
        );
    }
}

pub async fn reminders_have_one_taker_among_many(store: &dyn LeadStore) {
    let lead = new_lead(store, "9621").await;
    let step = step(1, "Call back");
    store
        .set_next_step(lead.id, Some(&step), "alice")
        .await
        .unwrap();
    let due_time = step.at + Duration::seconds(1);
    let takers = (0..8).map(|_| store.take_reminder(lead.id, step.at, due_time));
    let taken = futures::future::join_all(takers).await;
    assert_eq!(
        taken
            .into_iter()
            .filter(|taken| *taken.as_ref().unwrap())
            .count(),
        1
    );
}

pub async fn reps_keep_their_time_zone(store: &dyn LeadStore) {
    assert_eq!(store.time_zone("alice").await.unwrap(), None);
    store.set_available("alice", false).await.unwrap();
    store.set_time_zone("alice", "Europe/Berlin").await.unwrap();
    store
        .set_time_zone("bob", "America/Los_Angeles")
        .await
        .unwrap();
    assert_eq!(
        store.time_zone("alice").await.unwrap().as_deref(),
        Some("Europe/Berlin")
    );
    assert_eq!(
        store.availability().await.unwrap().get("alice"),
        Some(&false),
        "setting the zone keeps the availability"
    );
    store.set_available("alice", true).await.unwrap();
    store.set_time_zone("alice", "Asia/Tokyo").await.unwrap();
    assert_eq!(
        store.time_zone("alice").await.unwrap().as_deref(),
        Some("Asia/Tokyo"),
        "and the availability keeps the zone"
    );
    assert_eq!(
        store.time_zone("bob").await.unwrap().as_deref(),
        Some("America/Los_Angeles")
    );
}

pub async fn figures_count_attempts_people_reached_and_overdue_steps(store: &dyn LeadStore) {
    let reached = new_lead(store, "9631").await;
    let unreached = new_lead(store, "9632").await;
    let untouched = new_lead(store, "9633").await;
    for (lead, outcome) in [
        (&reached, CallOutcome::NoAnswer),
        (&reached, CallOutcome::Talked),
        (&unreached, CallOutcome::NoAnswer),
        (&unreached, CallOutcome::LeftVoicemail),
    ] {
        store
            .record_attempt(
                lead.id,
                &attempt(outcome, Some("talked about it")),
                "alice",
                None,
            )
            .await
            .unwrap();
    }
    store.claim(reached.id, "alice").await.unwrap();
    store.claim(unreached.id, "bob").await.unwrap();
    for lead in [&reached, &unreached, &untouched] {
        store
            .set_next_step(lead.id, Some(&step(1, "Call back")), "alice")
            .await
            .unwrap();
    }
    let now = Utc::now();
    let window = StatsWindow {
        today_start: now - Duration::hours(6),
        week_start: now - Duration::days(6),
        now: now + Duration::hours(2),
    };
    let figures = store.queue_figures(window).await.unwrap();
    assert_eq!(
        figures.follow_ups,
        leadhook_shared::FollowUpStats {
            attempts: 4,
            leads_attempted: 2,
            leads_talked: 1,
            overdue: 3,
        },
        "a note saying \"talked\" is not a talked outcome"
    );
    assert_eq!(figures.by_owner["alice"].overdue, 1);
    assert_eq!(figures.by_owner["bob"].overdue, 1);
    let on_time = store
        .queue_figures(StatsWindow { now, ..window })
        .await
        .unwrap();
    assert_eq!(on_time.follow_ups.overdue, 0);
    assert_eq!(on_time.by_owner["alice"].overdue, 0);
}
