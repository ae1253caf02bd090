//! Insights in every `LeadStore`: the same leads give the same figures, counted in the store:
//! sources with and without a campaign, people (a repeat counts once, junk not at all), stages
//! ever reached (from the history, or the status of an erased lead whose history is blank),
//! nearest-rank speeds, reps, the histogram, and days cut at the viewer's midnight.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use leadhook_server::insights::period::day_starts;
use leadhook_server::store::copy::write_history;
use leadhook_server::store::insights::{DayCount, GroupFigures, InsightsQuery, StoreInsights};
use leadhook_shared::insights::{Funnel, Grouping, RepInsights};
use leadhook_shared::{
    Activity, ActivityKind, Answer, AnswerColumns, Lead, LeadStatus, MetaFields, Tz,
};

use super::Fixture;

const BERLIN: Tz = Tz::Europe__Berlin;

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, n).expect("date")
}

/// A time in Berlin (UTC+1 in early March).
fn berlin(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    BERLIN
        .with_ymd_and_hms(2026, 3, day, hour, minute, 0)
        .single()
        .expect("a Berlin time")
        .with_timezone(&Utc)
}

fn lead(id: i64, created_at: DateTime<Utc>, campaign: Option<(&str, &str)>) -> Lead {
    Lead::arrived(
        id,
        Some(format!("880000{id}")),
        MetaFields {
            name: Some(format!("Person {id}")),
            email: Some(format!("person{id}@example.com")),
            phone: None,
            phone_e164: None,
            phone_invalid: false,
            email_key: Some(format!("person{id}@example.com")),
            junk_reason: None,
            created_at,
            page_id: Some("page-1".into()),
            form_id: Some("form-1".into()),
            form_name: Some("Spring Promo".into()),
            ad_id: campaign.map(|_| "ad-1".into()),
            ad_name: campaign.map(|_| "Ad One".into()),
            adset_id: campaign.map(|_| "adset-1".into()),
            adset_name: campaign.map(|_| "Adset One".into()),
            campaign_id: campaign.map(|(id, _)| id.into()),
            campaign_name: campaign.map(|(_, name)| name.into()),
            platform: Some("fb".into()),
            is_organic: campaign.is_none(),
            fields: BTreeMap::new(),
        },
        created_at,
    )
}

/// Lead `lead` walked through `stages` (the first `speed_secs` after it was created, the rest a
/// minute apart) by `owner`: its status, first contact and history.
struct Walk {
    activity: Vec<Activity>,
}

impl Walk {
    fn take(&mut self, lead: &mut Lead, owner: &str, speed_secs: i64, stages: &[LeadStatus]) {
        lead.owner = Some(owner.into());
        let mut at = lead.meta.created_at + Duration::seconds(speed_secs);
        for stage in stages {
            self.activity.push(Activity {
                id: self.activity.len() as i64 + 1,
                lead_id: lead.id,
                at,
                actor: owner.into(),
                kind: ActivityKind::Status,
                old: Some(lead.status.as_str().into()),
                new: Some(stage.as_str().into()),
            });
            if lead.first_contact_at.is_none() {
                lead.first_contact_at = Some(at);
            }
            lead.status = *stage;
            lead.updated_at = at;
            at += Duration::minutes(1);
        }
    }
}

const SPRING: Option<(&str, &str)> = Some(("c1", "Spring"));

/// Three days in Berlin, 1–3 March 2026, and a lead on each side of them.
async fn three_days(fixture: &Fixture) {
    use LeadStatus::*;
    let mut walk = Walk {
        activity: Vec::new(),
    };
    let mut leads = Vec::new();
    let mut first = lead(1, berlin(1, 10, 0), SPRING);
    first
        .meta
        .fields
        .insert("budget?".into(), Answer::One("5000".into()));
    walk.take(&mut first, "alice", 120, &[Contacted, Qualified, Won]);
    leads.push(first);
    // 00:30 on the 2nd in Berlin is still the 1st in UTC: the viewer's day counts.
    let mut second = lead(2, berlin(2, 0, 30), SPRING);
    // Form 555 asks for the budget in its own words.
    second.meta.form_id = Some("555".into());
    second
        .meta
        .fields
        .insert("budget_eur".into(), Answer::One("5000".into()));
    second
        .meta
        .fields
        .insert("budget?".into(), Answer::One("not this form's".into()));
    walk.take(&mut second, "bob", 600, &[Contacted, Lost]);
    leads.push(second);
    let mut repeat = lead(3, berlin(2, 12, 0), SPRING);
    repeat.repeat_of = Some(1);
    repeat.owner = Some("alice".into());
    leads.push(repeat);
    // Qualified once, then back to Contacted: it still reached Qualified.
    let mut renamed = lead(4, berlin(2, 13, 0), Some(("c2", "Old name")));
    renamed.meta.fields.insert(
        "budget?".into(),
        Answer::Many(vec!["1000".into(), "2000".into()]),
    );
    walk.take(&mut renamed, "bob", 30, &[Qualified, Contacted]);
    leads.push(renamed);
    let mut junk = lead(5, berlin(3, 9, 0), Some(("c2", "Summer")));
    junk.meta.junk_reason = Some("Meta test lead".into());
    leads.push(junk);
    let mut organic = lead(6, berlin(3, 23, 59), None);
    organic.meta.platform = Some("ig".into());
    walk.take(&mut organic, "bob", 5000, &[Contacted, Unqualified]);
    leads.push(organic);
    // Erased: no person data, and a history without values, but its status and contact stay.
    let mut erased = lead(7, berlin(2, 15, 0), SPRING);
    walk.take(&mut erased, "alice", 60, &[Contacted, Won]);
    erased.meta.name = None;
    erased.meta.email = None;
    erased.meta.email_key = None;
    erased.erased_at = Some(berlin(3, 8, 0));
    for row in walk.activity.iter_mut().filter(|row| row.lead_id == 7) {
        row.old = None;
        row.new = None;
    }
    leads.push(erased);
    leads.push(lead(8, berlin(1, 0, 0) - Duration::minutes(1), SPRING));
    leads.push(lead(9, berlin(4, 0, 0), SPRING));
    let end = fixture.copy_end().await;
    write_history(&*end, leads, walk.activity)
        .await
        .expect("the leads are written");
}

fn query(by: Grouping) -> InsightsQuery {
    InsightsQuery {
        answer: AnswerColumns::parse("budget=budget?,555:budget=budget_eur")
            .expect("columns")
            .get("budget")
            .cloned(),
        by,
        day_starts: day_starts(BERLIN, day(1), day(3)),
    }
}

fn by_key(groups: &[GroupFigures]) -> BTreeMap<Option<String>, (Option<String>, Funnel)> {
    groups
        .iter()
        .map(|group| {
            (
                group.key.clone(),
                (group.name.clone(), group.funnel.clone()),
            )
        })
        .collect()
}

/// Each source's key and leads, in key order.
fn leads_by_key(figures: &StoreInsights) -> Vec<(Option<String>, u64)> {
    sorted(
        figures
            .groups
            .iter()
            .map(|group| (group.key.clone(), group.funnel.leads))
            .collect(),
    )
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

#[allow(clippy::too_many_arguments)]
fn funnel(
    leads: u64,
    people: u64,
    junk: u64,
    contacted: u64,
    [qualified, won, lost]: [u64; 3],
    median: Option<u64>,
    p90: Option<u64>,
) -> Funnel {
    Funnel {
        leads,
        people,
        junk,
        contacted,
        qualified,
        won,
        lost,
        median_speed_secs: median,
        p90_speed_secs: p90,
    }
}

pub async fn insights_count_sources_people_stages_speeds_reps_and_days(fixture: &Fixture) {
    three_days(fixture).await;
    let figures: StoreInsights = fixture
        .store
        .insights(&query(Grouping::Campaign))
        .await
        .expect("insights");
    // Speeds 30, 60, 120, 600, 5000 s: median rank 3, p90 rank 5.
    assert_eq!(
        figures.total,
        funnel(7, 5, 1, 5, [2, 2, 1], Some(120), Some(5000))
    );
    let groups = by_key(&figures.groups);
    assert_eq!(groups.len(), 3, "{groups:#?}");
    // Leads 1, 2, 3 (a repeat of 1) and 7 (erased, Won by its status); speeds 60, 120, 600.
    assert_eq!(
        groups[&Some("c1".into())],
        (
            Some("Spring".into()),
            funnel(4, 3, 0, 3, [1, 2, 1], Some(120), Some(600))
        )
    );
    // The newest lead's name is the campaign's, even when that lead is junk.
    assert_eq!(
        groups[&Some("c2".into())],
        (
            Some("Summer".into()),
            funnel(2, 1, 1, 1, [1, 0, 0], Some(30), Some(30))
        )
    );
    assert_eq!(
        groups[&None],
        (None, funnel(1, 1, 0, 1, [0, 0, 0], Some(5000), Some(5000)))
    );
    let mut reps = figures.reps.clone();
    reps.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        reps,
        [
            RepInsights {
                name: "alice".into(),
                leads: 3,
                contacted: 2,
                won: 2,
                median_speed_secs: Some(60),
            },
            RepInsights {
                name: "bob".into(),
                leads: 3,
                contacted: 3,
                won: 0,
                median_speed_secs: Some(600),
            },
        ]
    );
    // ≤1m: 30, 60; 1-5m: 120; 5-15m: 600; 1-4h: 5000.
    assert_eq!(figures.speed_histogram, [2, 1, 1, 0, 0, 1, 0, 0]);
    let days: Vec<(usize, Option<String>, u64)> = figures
        .days
        .iter()
        .map(|DayCount { day, key, leads }| (*day, key.clone(), *leads))
        .collect();
    assert_eq!(
        sorted(days),
        [
            (0, Some("c1".into()), 1),
            (1, Some("c1".into()), 3),
            (1, Some("c2".into()), 1),
            (2, None, 1),
            (2, Some("c2".into()), 1),
        ]
    );
}

pub async fn insights_group_by_platform_organic_and_answers_and_count_an_empty_period(
    fixture: &Fixture,
) {
    three_days(fixture).await;
    let budgets = fixture
        .store
        .insights(&query(Grouping::answer("budget")))
        .await
        .expect("insights");
    assert_eq!(
        leads_by_key(&budgets),
        [
            (None, 4),
            (Some("1000, 2000".into()), 1),
            (Some("5000".into()), 2)
        ]
    );
    let days: u64 = budgets.days.iter().map(|day| day.leads).sum();
    assert_eq!(days, 7);
    let platforms = fixture
        .store
        .insights(&query(Grouping::Platform))
        .await
        .expect("insights");
    assert_eq!(
        leads_by_key(&platforms),
        [(Some("fb".into()), 6), (Some("ig".into()), 1)]
    );
    assert!(platforms.groups.iter().all(|group| group.name.is_none()));
    let organic = fixture
        .store
        .insights(&query(Grouping::Organic))
        .await
        .expect("insights");
    assert_eq!(
        leads_by_key(&organic),
        [(Some("0".into()), 6), (Some("1".into()), 1)]
    );

    let empty = fixture
        .store
        .insights(&InsightsQuery {
            by: Grouping::Ad,
            answer: None,
            day_starts: day_starts(BERLIN, day(20), day(21)),
        })
        .await
        .expect("insights of an empty period");
    assert_eq!(empty.total, Funnel::default());
    assert!(empty.groups.is_empty() && empty.reps.is_empty() && empty.days.is_empty());
    assert_eq!(empty.speed_histogram, [0; 8]);
}

/// A person who answered two campaigns' ads is one person of the period, and one of each
/// campaign's.
pub async fn insights_count_a_person_once_across_sources(fixture: &Fixture) {
    let first = lead(1, berlin(1, 10, 0), SPRING);
    let mut again = lead(2, berlin(2, 10, 0), Some(("c2", "Summer")));
    again.repeat_of = Some(1);
    let other = lead(3, berlin(2, 11, 0), SPRING);
    let end = fixture.copy_end().await;
    write_history(&*end, vec![first, again, other], Vec::new())
        .await
        .expect("the leads are written");
    let figures = fixture
        .store
        .insights(&query(Grouping::Campaign))
        .await
        .expect("insights");
    assert_eq!((figures.total.leads, figures.total.people), (3, 2));
    let people: Vec<(Option<String>, u64)> = sorted(
        figures
            .groups
            .iter()
            .map(|group| (group.key.clone(), group.funnel.people))
            .collect(),
    );
    assert_eq!(people, [(Some("c1".into()), 2), (Some("c2".into()), 1)]);
}
