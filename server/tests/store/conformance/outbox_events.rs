//! The follow-up and people events every `LeadStore` queues: a next step set, a call attempt, a
//! follow-up falling due, a person submitting again, a link made and undone, a junk flag cleared:
//! each history row of those kinds queues its event for the destinations routed to it, in the
//! write's transaction, with the row's id.

use std::time::Duration;

use chrono::{SubsecRound, TimeDelta, Utc};
use leadhook_server::store::{EventType, LeadStore, Route, Routing};
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::team::actor::FACEBOOK;
use leadhook_shared::{ActivityKind, Assignment, CallOutcome, NewAttempt, NextStep};

use super::suite::{at, incoming};

const LEASE: Duration = Duration::from_secs(3600);

fn person(leadgen_id: &str, name: &str, phone: &str) -> IncomingLead {
    let mut lead = incoming(leadgen_id, name, at(1));
    lead.meta.phone = Some(phone.into());
    lead.meta.email = None;
    lead.meta.normalize("US".parse().ok());
    lead
}

pub async fn follow_up_and_people_events_are_queued_for_their_routes(store: &dyn LeadStore) {
    let new_events = [
        EventType::NextStepChanged,
        EventType::AttemptLogged,
        EventType::FollowUpDue,
        EventType::SubmittedAgain,
        EventType::Linked,
        EventType::Unlinked,
        EventType::JunkCleared,
    ];
    let routes: Vec<Route> = new_events
        .iter()
        .map(|event| Route {
            destination: "crm".into(),
            event_type: *event,
        })
        .collect();
    store.outbox_routes(&routes).await.unwrap();
    let team = vec!["alice".to_string()];
    let routing = Routing {
        assignment: Assignment::RoundRobin,
        reps: &team,
        repeat_window: TimeDelta::days(30),
    };

    let stored = store
        .upsert_many(
            &[person("9501", "Jane Doe", "(202) 555-0143")],
            FACEBOOK,
            routing,
        )
        .await
        .unwrap();
    let jane = stored[0].lead.clone();
    let again = store
        .upsert_many(
            &[person("9502", "Jane Doe", "202 555 0143")],
            FACEBOOK,
            routing,
        )
        .await
        .unwrap()[0]
        .lead
        .clone();
    assert_eq!(again.repeat_of, Some(jane.id), "linked by phone");

    let step = NextStep {
        at: (Utc::now() - TimeDelta::minutes(5)).trunc_subsecs(0),
        what: "Send the quote".into(),
    };
    store
        .set_next_step(jane.id, Some(&step), "alice")
        .await
        .unwrap();
    let attempt = NewAttempt {
        outcome: CallOutcome::NoAnswer,
        note: Some("busy tone".into()),
    };
    store
        .record_attempt(jane.id, &attempt, "alice", None)
        .await
        .unwrap();
    assert!(
        store
            .take_reminder(jane.id, step.at, Utc::now())
            .await
            .unwrap()
    );
    store.unlink(again.id, "bob").await.unwrap();
    let mut junk = person("9503", "Junk", "(202) 555-0152");
    junk.meta.junk_reason = Some("Meta test lead".into());
    let junk = store.upsert_many(&[junk], FACEBOOK, routing).await.unwrap()[0]
        .lead
        .clone();
    store.clear_junk(junk.id, "bob", routing).await.unwrap();

    let queued = store.outbox_claim("crm", 100, LEASE).await.unwrap();
    let seen: Vec<(i64, &str)> = queued
        .iter()
        .map(|d| (d.lead_id, d.event_type.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (again.id, "lead.linked"),
            (jane.id, "lead.submitted_again"),
            (jane.id, "lead.next_step_changed"),
            (jane.id, "lead.attempt_logged"),
            (jane.id, "lead.follow_up_due"),
            (again.id, "lead.unlinked"),
            (jane.id, "lead.unlinked"),
            (junk.id, "lead.junk_cleared"),
        ]
    );

    // Each delivery names the history row that made it, of the kind its event type says.
    for delivery in &queued {
        let history = store.activity(delivery.lead_id).await.unwrap().unwrap();
        let row = history
            .iter()
            .find(|row| row.id == delivery.activity_id)
            .expect("the delivery's history row");
        let event = EventType::read(&delivery.event_type).unwrap();
        assert!(
            event.activity_kinds().contains(&row.kind),
            "{} from a {} row",
            delivery.event_type,
            row.kind
        );
    }
    let reminded = store.activity(jane.id).await.unwrap().unwrap();
    let reminded = reminded
        .iter()
        .find(|row| row.kind == ActivityKind::Reminded)
        .expect("the reminder's history row");
    assert_eq!(
        (reminded.actor.as_str(), reminded.new.clone()),
        ("system", Some(step.history_text()))
    );

    // Without a route, none of them is queued (the Conversions API takes none of them either).
    store.outbox_routes(&[]).await.unwrap();
    store.set_next_step(jane.id, None, "alice").await.unwrap();
    assert!(
        store
            .outbox_claim("crm", 100, Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
}
