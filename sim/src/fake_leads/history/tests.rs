//! The month's properties: deterministic, numbered, in rhythm, consistent, and telling.

use std::collections::HashMap;

use chrono::TimeZone;

use super::super::FORMS;
use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0)
        .single()
        .expect("a valid time")
}

const REPS: [&str; 3] = ["alice", "bob", "carol"];

#[test]
fn the_same_seed_gives_the_same_month() {
    let month = past_month(7, now(), 300, &REPS);
    assert_eq!(month, past_month(7, now(), 300, &REPS));
    assert_ne!(month.leads, past_month(8, now(), 300, &REPS).leads);
}

#[test]
fn leads_are_numbered_oldest_first_within_the_month() {
    let month = past_month(1, now(), 500, &REPS);
    assert_eq!(month.leads.len(), 500);
    let ids: Vec<i64> = month.leads.iter().map(|lead| lead.id).collect();
    assert_eq!(ids, (1..=500).collect::<Vec<i64>>());
    for pair in month.leads.windows(2) {
        assert!(pair[0].meta.created_at <= pair[1].meta.created_at);
    }
    let start = now() - Duration::days(DAYS);
    for lead in &month.leads {
        assert!(lead.meta.created_at >= start && lead.meta.created_at < now());
        assert!(lead.leadgen_id.is_some() && !lead.is_manual);
        let platform = lead.meta.platform.as_deref();
        assert!(matches!(platform, Some("fb" | "ig")), "{platform:?}");
        assert_eq!(lead.meta.is_organic, lead.meta.campaign_id.is_none());
    }
    let organic = month.leads.iter().filter(|lead| lead.meta.is_organic);
    let junk = month.leads.iter().filter(|lead| lead.junk().is_some());
    let repeats = month.leads.iter().filter(|lead| lead.repeat_of.is_some());
    assert!(organic.count() > 50);
    assert!((3..50).contains(&junk.count()));
    assert!((5..80).contains(&repeats.count()));
}

#[test]
fn weekdays_and_evenings_bring_more_leads_than_nights() {
    let month = past_month(2, now(), 3_000, &REPS);
    let at = |test: &dyn Fn(&DateTime<Utc>) -> bool| {
        month
            .leads
            .iter()
            .filter(|lead| test(&lead.meta.created_at))
            .count()
    };
    let evening = at(&|time| (18..22).contains(&time.hour()));
    let night = at(&|time| (1..5).contains(&time.hour()));
    assert!(evening > 5 * night, "{evening} evening, {night} night");
    let sunday = at(&|time| time.weekday() == Weekday::Sun);
    let tuesday = at(&|time| time.weekday() == Weekday::Tue);
    assert!(
        tuesday > sunday,
        "{tuesday} on Tuesdays, {sunday} on Sundays"
    );
}

#[test]
fn history_is_consistent_with_each_lead() {
    let month = past_month(3, now(), 800, &REPS);
    let ids: Vec<i64> = month.activity.iter().map(|row| row.id).collect();
    assert_eq!(ids, (1..=month.activity.len() as i64).collect::<Vec<i64>>());
    let mut rows: HashMap<i64, Vec<&Activity>> = HashMap::new();
    for row in &month.activity {
        rows.entry(row.lead_id).or_default().push(row);
    }
    let mut contacted = 0;
    for lead in &month.leads {
        let history = &rows[&lead.id];
        assert_eq!(history[0].kind, ActivityKind::Stored);
        assert_eq!(history[0].at, lead.received_at);
        for row in history {
            assert!(row.at >= lead.meta.created_at && row.at < now(), "{row:?}");
        }
        let statuses: Vec<&&Activity> = history
            .iter()
            .filter(|row| row.kind == ActivityKind::Status)
            .collect();
        assert_eq!(
            statuses.last().and_then(|row| row.new.as_deref()),
            (lead.status != LeadStatus::NewLead).then(|| lead.status.as_str())
        );
        let first = statuses.first().map(|row| row.at);
        assert_eq!(lead.first_contact_at, first, "lead {}", lead.id);
        if let Some(at) = lead.first_contact_at {
            contacted += 1;
            assert!(at >= lead.meta.created_at);
            assert_eq!(statuses[0].actor, lead.owner.clone().expect("an owner"));
        }
        if lead.junk().is_some() {
            assert_eq!(history.len(), 1, "junk is stored, never worked");
            assert_eq!(lead.owner, None);
        }
        if let Some(first) = lead.repeat_of {
            let first = &month.leads[first as usize - 1];
            assert!(first.id < lead.id && first.repeat_of.is_none());
            assert_eq!(
                lead.owner, first.owner,
                "a repeat goes to the person's owner"
            );
        }
    }
    assert!(contacted > 400, "{contacted} of 800 contacted");
}

#[test]
fn most_are_reached_within_five_minutes_and_some_take_days() {
    let month = past_month(4, now(), 1_000, &REPS);
    let speeds: Vec<i64> = month
        .leads
        .iter()
        .filter_map(|lead| lead.speed_to_lead())
        .map(|speed| speed.num_seconds())
        .collect();
    let fast = speeds.iter().filter(|secs| **secs <= 300).count();
    let days = speeds.iter().filter(|secs| **secs > 86_400).count();
    assert!(
        fast * 100 / speeds.len() >= 35,
        "{fast} of {}",
        speeds.len()
    );
    assert!(days > 0, "a long tail");
}

#[test]
fn owners_take_turns_and_no_reps_means_nobody_works_a_lead() {
    let month = past_month(5, now(), 300, &REPS);
    let mut owned: HashMap<&str, usize> = HashMap::new();
    for lead in &month.leads {
        if let Some(owner) = &lead.owner {
            *owned.entry(owner.as_str()).or_default() += 1;
        }
    }
    assert_eq!(owned.len(), 3, "{owned:?}");
    let (least, most) = (owned.values().min(), owned.values().max());
    assert!(
        most.zip(least)
            .is_some_and(|(most, least)| most - least < 30),
        "{owned:?}"
    );
    let alone = past_month(5, now(), 100, &[]);
    assert!(alone.leads.iter().all(|lead| lead.owner.is_none()));
    assert!(
        alone
            .leads
            .iter()
            .all(|lead| lead.status == LeadStatus::NewLead)
    );
}

#[test]
fn the_giveaway_brings_many_leads_and_the_retargeting_customers() {
    let month = past_month(6, now(), 3_000, &REPS);
    let figures = |campaign: &str| {
        let leads: Vec<&Lead> = month
            .leads
            .iter()
            .filter(|lead| lead.meta.campaign_name.as_deref() == Some(campaign))
            .collect();
        let won = leads.iter().filter(|lead| lead.status == LeadStatus::Won);
        (leads.len(), won.count() as f64 / leads.len().max(1) as f64)
    };
    let (giveaway, giveaway_won) = figures("Summer Giveaway");
    let (quotes, quotes_won) = figures("Always-on Quotes");
    assert!(giveaway > 3 * quotes, "{giveaway} vs {quotes} leads");
    assert!(
        quotes_won > 4.0 * giveaway_won,
        "{quotes_won} vs {giveaway_won} won"
    );
    let forms = month
        .leads
        .iter()
        .filter_map(|lead| lead.meta.form_name.as_deref());
    let forms: Vec<&str> = forms.collect();
    assert!(FORMS.iter().all(|form| forms.contains(&form.name)));
}
