//! One person, one lead, in every `LeadStore`: repeats are linked by phone, then e-mail, inside the
//! insert (also when two arrive at once from two connections), take their person's owner, never
//! chain; junk is stored but never linked, routed or escalated until cleared; a rep merges and
//! unlinks by hand; stats count people beside submissions; erasing removes links and keys.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use leadhook_server::store::{LeadStore, Routing, StatsWindow};
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::team::actor::{FACEBOOK, SYSTEM};
use leadhook_shared::{ActivityKind, Assignment, Lead};

use super::Fixture;
use super::suite::{at, incoming};

const WINDOW: Duration = Duration::days(30);

fn reps(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

fn round_robin(reps: &[String]) -> Routing<'_> {
    Routing {
        assignment: Assignment::RoundRobin,
        reps,
        repeat_window: WINDOW,
    }
}

/// A lead from Meta read as the server reads it: `phone` and `email` normalised (US numbers).
fn person(leadgen_id: &str, name: &str, phone: Option<&str>, email: Option<&str>) -> IncomingLead {
    submitted(leadgen_id, name, phone, email, at(1))
}

fn submitted(
    leadgen_id: &str,
    name: &str,
    phone: Option<&str>,
    email: Option<&str>,
    created_at: chrono::DateTime<chrono::Utc>,
) -> IncomingLead {
    let mut lead = incoming(leadgen_id, name, created_at);
    lead.meta.phone = phone.map(str::to_string);
    lead.meta.email = email.map(str::to_string);
    lead.meta.normalize("US".parse().ok());
    lead
}

async fn store_one(store: &dyn LeadStore, lead: IncomingLead, routing: Routing<'_>) -> Lead {
    store
        .upsert_many(&[lead], FACEBOOK, routing)
        .await
        .unwrap()
        .remove(0)
        .lead
}

async fn read(store: &dyn LeadStore, id: i64) -> Lead {
    store.get(id).await.unwrap().expect("the lead exists")
}

async fn history(store: &dyn LeadStore, id: i64) -> Vec<(ActivityKind, String, Option<String>)> {
    let rows = store.activity(id).await.unwrap().expect("history");
    rows.into_iter()
        .map(|row| (row.kind, row.actor, row.new.or(row.old)))
        .collect()
}

pub async fn repeats_are_linked_by_phone_then_email_and_keep_the_owner(store: &dyn LeadStore) {
    let team = reps(&["alice", "bob"]);
    let first = store_one(
        store,
        person(
            "9101",
            "Jane Doe",
            Some("(202) 555-0143"),
            Some("jane@example.com"),
        ),
        round_robin(&team),
    )
    .await;
    assert_eq!(
        (first.owner.as_deref(), first.repeat_of),
        (Some("alice"), None)
    );

    // Same number, typed another way, another e-mail: the same person, alice's, no turn taken.
    let again = store_one(
        store,
        person(
            "9102",
            "Jane D.",
            Some("+1 202-555-0143"),
            Some("jd@work.example"),
        ),
        round_robin(&team),
    )
    .await;
    assert_eq!(again.repeat_of, Some(first.id));
    assert_eq!(again.owner.as_deref(), Some("alice"));
    assert_eq!(again.person_id(), first.id);

    // Only the second lead's e-mail, in other case and spaces: still Jane, linked to her first
    // lead (never to the repeat: links are not chained).
    let third = store_one(
        store,
        person("9103", "J. Doe", None, Some("  JD@Work.Example ")),
        round_robin(&team),
    )
    .await;
    assert_eq!(
        (third.repeat_of, third.owner.as_deref()),
        (Some(first.id), Some("alice"))
    );

    // Someone else takes the turn alice's repeats did not.
    let other = store_one(
        store,
        person("9104", "Max", Some("(202) 555-0199"), None),
        round_robin(&team),
    )
    .await;
    assert_eq!(
        (other.owner.as_deref(), other.repeat_of),
        (Some("bob"), None)
    );

    assert_eq!(
        history(store, again.id).await,
        [
            (ActivityKind::Stored, FACEBOOK.to_string(), None),
            (
                ActivityKind::Assign,
                SYSTEM.to_string(),
                Some("alice".into())
            ),
            (
                ActivityKind::Linked,
                SYSTEM.to_string(),
                Some(format!("#{} (same phone)", first.id))
            ),
        ]
    );
    assert_eq!(
        history(store, third.id).await.last(),
        Some(&(
            ActivityKind::Linked,
            SYSTEM.to_string(),
            Some(format!("#{} (same e-mail)", first.id))
        ))
    );
    let told: Vec<_> = history(store, first.id)
        .await
        .into_iter()
        .filter(|(kind, _, _)| *kind == ActivityKind::SubmittedAgain)
        .map(|(_, _, new)| new)
        .collect();
    assert_eq!(
        told,
        [
            Some(format!("#{} Spring Promo", again.id)),
            Some(format!("#{} Spring Promo", third.id))
        ]
    );
    assert_eq!(read(store, again.id).await.repeat_of, Some(first.id));
}

pub async fn links_keep_to_the_window_and_skip_erased_and_junk(store: &dyn LeadStore) {
    let claim = Routing {
        assignment: Assignment::Claim,
        reps: &[],
        repeat_window: WINDOW,
    };
    let phone = Some("(202) 555-0150");
    let old = store_one(
        store,
        submitted("9201", "Old", phone, None, at(24 * 40)),
        claim,
    )
    .await;
    let recent = store_one(store, person("9202", "New", phone, None), claim).await;
    assert_eq!(recent.repeat_of, None, "40 days apart is another person");

    let erased = store_one(
        store,
        person("9203", "Gone", Some("(202) 555-0151"), None),
        claim,
    )
    .await;
    store.erase(erased.id, "admin", None).await.unwrap();
    let after_erased = store_one(
        store,
        person("9204", "Back", Some("(202) 555-0151"), None),
        claim,
    )
    .await;
    assert_eq!(
        after_erased.repeat_of, None,
        "an erased lead is nobody to link to"
    );

    let mut junk = person("9205", "Junk", Some("(202) 555-0152"), None);
    junk.meta.junk_reason = Some("Meta test lead".into());
    let junk = store_one(store, junk, claim).await;
    assert_eq!(junk.junk(), Some("Meta test lead"));
    let real = store_one(
        store,
        person("9206", "Real", Some("(202) 555-0152"), None),
        claim,
    )
    .await;
    assert_eq!(real.repeat_of, None, "junk is nobody to link to");
    let mut junk_again = person("9207", "Junk again", Some("(202) 555-0152"), None);
    junk_again.meta.junk_reason = Some("Meta test lead".into());
    let junk_again = store_one(store, junk_again, claim).await;
    assert_eq!(junk_again.repeat_of, None, "junk is never linked");

    let off = Routing {
        repeat_window: Duration::zero(),
        ..claim
    };
    let unlinked = store_one(store, person("9208", "Off", phone, None), off).await;
    assert_eq!(unlinked.repeat_of, None, "a zero window never links");
    assert_eq!(old.repeat_of, None);
}

pub async fn junk_is_stored_unrouted_unescalated_and_cleared_by_a_rep(store: &dyn LeadStore) {
    let team = reps(&["alice", "bob"]);
    let mut junk = person(
        "9301",
        "<test lead: dummy data for full_name>",
        None,
        Some("test@meta.com"),
    );
    junk.meta.junk_reason = Some("Meta test lead".into());
    let junk = store_one(store, junk, round_robin(&team)).await;
    assert_eq!(junk.owner, None, "junk takes no turn");
    assert_eq!(junk.junk(), Some("Meta test lead"));
    let in_an_hour = chrono::Utc::now() + Duration::hours(1);
    let escalation = super::escalation::check(store, at(24), &[in_an_hour], 10, in_an_hour).await;
    assert!(
        super::escalation::due(&escalation)
            .iter()
            .all(|(id, _)| *id != junk.id),
        "junk is never escalated"
    );
    let window = StatsWindow {
        today_start: at(24),
        week_start: at(24 * 7),
        now: chrono::Utc::now(),
    };
    let stats = store.stats(window).await.unwrap();
    assert_eq!(
        (stats.total, stats.people.total, stats.people.junk),
        (1, 0, 1)
    );
    assert_eq!(store.queue_figures(window).await.unwrap().waiting.count, 0);

    let cleared = store
        .clear_junk(junk.id, "bob", round_robin(&team))
        .await
        .unwrap()
        .expect("the lead exists");
    assert_eq!(cleared.junk(), None);
    assert!(cleared.junk_cleared_at.is_some());
    assert_eq!(
        cleared.meta.junk_reason.as_deref(),
        Some("Meta test lead"),
        "the reason stays"
    );
    assert_eq!(
        cleared.owner.as_deref(),
        Some("alice"),
        "routed as a new lead would be"
    );
    assert_eq!(read(store, junk.id).await.owner.as_deref(), Some("alice"));
    let kinds: Vec<_> = history(store, junk.id).await;
    assert!(kinds.contains(&(
        ActivityKind::JunkCleared,
        "bob".to_string(),
        Some("Meta test lead".into())
    )));
    // Clearing twice changes nothing more.
    let twice = store
        .clear_junk(junk.id, "bob", round_robin(&team))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (twice.owner, twice.updated_at),
        (cleared.owner, read(store, junk.id).await.updated_at)
    );
    assert_eq!(store.stats(window).await.unwrap().people.junk, 0);
    assert!(
        store
            .clear_junk(999_999, "bob", round_robin(&team))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn ten_leads_of_six_people_over_three_reps_give_each_person_one_owner(
    store: &dyn LeadStore,
) {
    let team = reps(&["alice", "bob", "carol"]);
    // (person, phone, e-mail): some come back by phone, some by e-mail, one by both.
    let submissions = [
        (1, Some("(202) 555-0101"), Some("p1@example.com")),
        (2, Some("(202) 555-0102"), None),
        (1, None, Some("P1@example.com")),
        (3, None, Some("p3@example.com")),
        (4, Some("(202) 555-0104"), Some("p4@example.com")),
        (2, Some("202.555.0102"), Some("p2@example.com")),
        (5, Some("(202) 555-0105"), None),
        (6, None, Some("p6@example.com")),
        (3, Some("(202) 555-0103"), Some("p3@example.com")),
        (4, Some("+1 202 555 0104"), None),
    ];
    let mut owners: BTreeMap<i32, BTreeSet<String>> = BTreeMap::new();
    let mut persons: BTreeMap<i32, BTreeSet<i64>> = BTreeMap::new();
    for (n, (who, phone, email)) in submissions.into_iter().enumerate() {
        let lead = store_one(
            store,
            person(&format!("94{n:02}"), &format!("Person {who}"), phone, email),
            round_robin(&team),
        )
        .await;
        owners.entry(who).or_default().extend(lead.owner.clone());
        persons.entry(who).or_default().insert(lead.person_id());
    }
    for who in 1..=6 {
        assert_eq!(
            owners[&who].len(),
            1,
            "person {who} has one owner: {owners:?}"
        );
        assert_eq!(
            persons[&who].len(),
            1,
            "person {who} is one person: {persons:?}"
        );
    }
    let per_rep: BTreeMap<&String, usize> = team
        .iter()
        .map(|rep| (rep, owners.values().filter(|o| o.contains(rep)).count()))
        .collect();
    assert!(
        per_rep.values().all(|&n| n == 2),
        "six people over three reps: {per_rep:?}"
    );
}

pub async fn a_rep_merges_and_unlinks_leads(store: &dyn LeadStore) {
    let claim = Routing {
        assignment: Assignment::Claim,
        reps: &[],
        repeat_window: WINDOW,
    };
    let jane = store_one(
        store,
        person("9501", "Jane", Some("(202) 555-0160"), None),
        claim,
    )
    .await;
    let jane_work = store_one(
        store,
        person("9502", "Jane Doe", None, Some("jane@work.example")),
        claim,
    )
    .await;
    let jane_work_again = store_one(
        store,
        person("9503", "J Doe", None, Some("jane@work.example")),
        claim,
    )
    .await;
    assert_eq!(jane_work_again.repeat_of, Some(jane_work.id));

    // Jane's work leads are Jane: both join her first lead's person, in one step.
    let merged = store
        .merge(jane_work.id, jane.id, "alice")
        .await
        .unwrap()
        .expect("both exist");
    assert_eq!(merged.lead.repeat_of, Some(jane.id));
    let moved: Vec<_> = merged
        .moved
        .iter()
        .map(|lead| (lead.id, lead.repeat_of))
        .collect();
    assert_eq!(moved, [(jane_work_again.id, Some(jane.id))]);
    assert_eq!(
        read(store, jane_work_again.id).await.repeat_of,
        Some(jane.id)
    );
    assert_eq!(
        history(store, jane_work.id).await.last(),
        Some(&(
            ActivityKind::Linked,
            "alice".to_string(),
            Some(format!("#{} (merged by hand)", jane.id))
        ))
    );
    // Already one person: nothing changes.
    let same = store
        .merge(jane_work_again.id, jane_work.id, "alice")
        .await
        .unwrap()
        .unwrap();
    assert!(same.moved.is_empty());
    assert_eq!(
        same.lead.updated_at,
        read(store, jane_work_again.id).await.updated_at
    );

    // A wrong link undone: the lead is its own person again, both histories say so.
    let unlinked = store.unlink(jane_work.id, "bob").await.unwrap().unwrap();
    assert_eq!(unlinked.lead.repeat_of, None);
    assert_eq!(
        history(store, jane_work.id).await.last(),
        Some(&(
            ActivityKind::Unlinked,
            "bob".to_string(),
            Some(format!("#{}", jane.id))
        ))
    );
    assert_eq!(
        history(store, jane.id).await.last(),
        Some(&(
            ActivityKind::Unlinked,
            "bob".to_string(),
            Some(format!("#{}", jane_work.id))
        ))
    );
    // Unlinking a person's first lead keeps the others together under the oldest of them.
    let first = store.unlink(jane.id, "bob").await.unwrap().unwrap();
    assert_eq!(first.lead.repeat_of, None);
    assert_eq!(
        first.moved.iter().map(|lead| lead.id).collect::<Vec<_>>(),
        [jane_work_again.id]
    );
    assert_eq!(read(store, jane_work_again.id).await.repeat_of, None);
    // Nothing to undo: left as it is.
    let alone = store.unlink(jane.id, "bob").await.unwrap().unwrap();
    assert!(alone.moved.is_empty());

    assert!(
        store
            .merge(jane.id, 999_999, "bob")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .merge(999_999, jane.id, "bob")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.unlink(999_999, "bob").await.unwrap().is_none());
    store
        .erase(jane_work_again.id, "admin", None)
        .await
        .unwrap();
    assert!(matches!(
        store.merge(jane.id, jane_work_again.id, "bob").await,
        Err(leadhook_server::store::StoreError::Erased { .. })
    ));
}

pub async fn stats_count_people_beside_submissions(store: &dyn LeadStore) {
    let claim = Routing {
        assignment: Assignment::Claim,
        reps: &[],
        repeat_window: WINDOW,
    };
    store_one(
        store,
        submitted("9601", "A", Some("(202) 555-0170"), None, at(24 * 3)),
        claim,
    )
    .await;
    store_one(
        store,
        person("9602", "A again", Some("(202) 555-0170"), None),
        claim,
    )
    .await;
    store_one(
        store,
        person("9603", "B", Some("(202) 555-0171"), None),
        claim,
    )
    .await;
    store_one(
        store,
        submitted("9604", "C", Some("(202) 555-0172"), None, at(24 * 10)),
        claim,
    )
    .await;
    let window = StatsWindow {
        today_start: at(12),
        week_start: at(24 * 7),
        now: chrono::Utc::now(),
    };
    let stats = store.stats(window).await.unwrap();
    assert_eq!((stats.total, stats.today, stats.last_7_days), (4, 2, 3));
    let people = stats.people;
    assert_eq!(
        (people.total, people.today, people.last_7_days, people.junk),
        (3, 2, 2, 0)
    );
}

pub async fn erasing_removes_links_and_keys(store: &dyn LeadStore) {
    let claim = Routing {
        assignment: Assignment::Claim,
        reps: &[],
        repeat_window: WINDOW,
    };
    let phone = Some("(202) 555-0180");
    let first = store_one(
        store,
        person("9701", "Eve", phone, Some("eve@example.com")),
        claim,
    )
    .await;
    let second = store_one(store, person("9702", "Eve", phone, None), claim).await;
    let third = store_one(store, person("9703", "Eve", phone, None), claim).await;
    assert_eq!(
        (second.repeat_of, third.repeat_of),
        (Some(first.id), Some(first.id))
    );

    let erased = store.erase(first.id, "admin", None).await.unwrap().unwrap();
    assert_eq!(
        (
            erased.repeat_of,
            erased.meta.email_key,
            erased.meta.phone_e164
        ),
        (None, None, None)
    );
    // The others stay one person, under the oldest of them.
    assert_eq!(read(store, second.id).await.repeat_of, None);
    assert_eq!(read(store, third.id).await.repeat_of, Some(second.id));

    let gone = store.erase(third.id, "admin", None).await.unwrap().unwrap();
    assert_eq!(gone.repeat_of, None);
    // A new submission finds only what is left.
    let fourth = store_one(store, person("9704", "Eve", phone, None), claim).await;
    assert_eq!(fourth.repeat_of, Some(second.id));
}

/// Two submissions of one person at the same moment, from two connections (two replicas): the
/// store decides, so exactly one is the person's first lead and the other its repeat.
pub async fn concurrent_submissions_of_one_person_are_linked(fixture: &Fixture) {
    let other = fixture.reopen().await;
    let team = reps(&["alice", "bob"]);
    for round in 0..5 {
        let phone = format!("(202) 555-02{round:02}");
        let a = person(&format!("98{round}1"), "Twin", Some(&phone), None);
        let b = person(&format!("98{round}2"), "Twin", Some(&phone), None);
        let (one, two) = tokio::join!(
            fixture
                .store
                .upsert_many(std::slice::from_ref(&a), FACEBOOK, round_robin(&team)),
            other.upsert_many(std::slice::from_ref(&b), FACEBOOK, round_robin(&team)),
        );
        let (one, two) = (one.unwrap().remove(0).lead, two.unwrap().remove(0).lead);
        let (one, two) = (
            read(&*fixture.store, one.id).await,
            read(&*fixture.store, two.id).await,
        );
        assert_eq!(
            one.person_id(),
            two.person_id(),
            "round {round}: one person ({:?}, {:?})",
            one.repeat_of,
            two.repeat_of
        );
        assert_eq!(one.owner, two.owner, "round {round}: one owner");
    }
}
