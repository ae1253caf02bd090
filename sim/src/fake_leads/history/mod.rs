//! A month of history for a demo or a test of the manager's figures: leads over the 30 days
//! before a moment, with a daily and weekly rhythm, and what the team did with each (assigned,
//! contacted, qualified, won or lost), as the stores hold it.
//!
//! The sources differ the way real ones do: a giveaway brings many leads that rarely buy, a
//! retargeting campaign few that often do, organic leads sit between. Times are consistent: every
//! history row is at or after its lead's `created_at` and before `now`, and a lead's
//! `first_contact_at` is the time of its first status row off `New Lead`.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use leadhook_server::store::people::{linked_text, via};
use leadhook_server::triage::junk::META_TEST_LEAD;
use leadhook_shared::meta::{GraphLead, parse_graph_lead};
use leadhook_shared::team::actor;
use leadhook_shared::{Activity, ActivityKind, Lead, LeadStatus, MetaFields};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::ads::{ADS, Ad, GIVEAWAY};
use super::{FakeLead, LeadFaker};

/// How far back the history reaches.
pub const DAYS: i64 = 30;

/// Leads of the past month and their history, ready for a store's bulk write.
#[derive(Debug, Clone, PartialEq)]
pub struct PastMonth {
    /// Ids `1..=count`, oldest first.
    pub leads: Vec<Lead>,
    /// Every lead's history, ids ascending in time order.
    pub activity: Vec<Activity>,
}

/// Where a share of the leads comes from and how well they turn into customers.
struct Source {
    ad: Option<&'static Ad>,
    /// Relative share of the leads.
    weight: u32,
    /// The form its leads fill in; `None` for any.
    form: Option<&'static str>,
    /// The chance a rep reaches the lead at all.
    contacted: f64,
    /// The chance a contacted lead is qualified.
    qualified: f64,
    /// The chance a qualified lead is won.
    won: f64,
}

const SOURCES: [Source; 6] = [
    Source {
        ad: Some(&GIVEAWAY),
        weight: 32,
        form: Some("Spring Promo"),
        contacted: 0.70,
        qualified: 0.12,
        won: 0.20,
    },
    Source {
        ad: Some(&ADS[0]),
        weight: 16,
        form: Some("Spring Promo"),
        contacted: 0.88,
        qualified: 0.35,
        won: 0.35,
    },
    Source {
        ad: Some(&ADS[1]),
        weight: 10,
        form: Some("Free Quote"),
        contacted: 0.88,
        qualified: 0.30,
        won: 0.30,
    },
    Source {
        ad: Some(&ADS[2]),
        weight: 7,
        form: Some("Free Quote"),
        contacted: 0.95,
        qualified: 0.65,
        won: 0.55,
    },
    Source {
        ad: Some(&ADS[3]),
        weight: 10,
        form: Some("Webinar Signup"),
        contacted: 0.85,
        qualified: 0.25,
        won: 0.15,
    },
    Source {
        ad: None,
        weight: 25,
        form: None,
        contacted: 0.85,
        qualified: 0.35,
        won: 0.35,
    },
];

/// One lead in 30 is one of Meta's test leads; one in 16 of the rest is a person submitting again.
const JUNK_SHARE: f64 = 1.0 / 30.0;
const REPEAT_SHARE: f64 = 1.0 / 16.0;

/// `count` leads over the 30 days before `now`, owned in turn by `reps` (none owned, and none
/// worked, without reps). The same seed, moment and reps give the same month.
pub fn past_month(seed: u64, now: DateTime<Utc>, count: usize, reps: &[&str]) -> PastMonth {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut faker = LeadFaker::new(seed.wrapping_add(0x9e37_79b9));
    let mut times: Vec<DateTime<Utc>> = (0..count).map(|_| submitted_at(&mut rng, now)).collect();
    times.sort();
    let mut month = Month {
        now,
        leads: Vec::with_capacity(count),
        fakes: Vec::with_capacity(count),
        rows: Vec::new(),
    };
    let mut turn = 0;
    for (at, created_at) in times.into_iter().enumerate() {
        let id = at as i64 + 1;
        let source = pick_source(&mut rng);
        let mut fake = fake_lead(&mut faker, source, created_at);
        if rng.random_bool(JUNK_SHARE) {
            fake = fake.into_meta_test_lead();
            month.store(id, &fake, &mut rng, Some(META_TEST_LEAD));
            continue;
        }
        let earlier = month.firsts().filter(|_| rng.random_bool(REPEAT_SHARE));
        let earlier = earlier.map(|firsts| firsts[rng.random_range(..firsts.len())]);
        let owner = match earlier {
            Some(first) => {
                fake.submitted_again_by(&month.fakes[first]);
                month.leads[first].owner.clone()
            }
            None if reps.is_empty() => None,
            None => {
                turn += 1;
                Some(reps[(turn - 1) % reps.len()].to_string())
            }
        };
        month.store(id, &fake, &mut rng, None);
        if let Some(first) = earlier {
            let first_id = month.leads[first].id;
            month.leads[at].repeat_of = Some(first_id);
            let received = month.leads[at].received_at;
            month.row(
                id,
                received,
                actor::SYSTEM,
                ActivityKind::Linked,
                None,
                Some(linked_text(first_id, via::PHONE)),
            );
        }
        if let Some(owner) = owner {
            month.work(at, &owner, source, &mut rng);
        }
    }
    month.finish()
}

/// A moment in the 30 days before `now`, more likely on a weekday and in the evening.
fn submitted_at(rng: &mut StdRng, now: DateTime<Utc>) -> DateTime<Utc> {
    let span = DAYS * 86_400;
    loop {
        let at = now - Duration::seconds(rng.random_range(1..=span));
        let day = match at.weekday() {
            Weekday::Sat => 0.6,
            Weekday::Sun => 0.45,
            _ => 1.0,
        };
        let hour = match at.hour() {
            0..=6 => 0.1,
            7..=8 => 0.4,
            9..=11 => 0.7,
            12..=13 => 0.9,
            14..=17 => 0.7,
            18..=21 => 1.0,
            _ => 0.5,
        };
        if rng.random_bool(day * hour) {
            return at;
        }
    }
}

fn pick_source(rng: &mut StdRng) -> &'static Source {
    let total: u32 = SOURCES.iter().map(|source| source.weight).sum();
    let mut left = rng.random_range(0..total);
    for source in &SOURCES {
        if left < source.weight {
            return source;
        }
        left -= source.weight;
    }
    &SOURCES[SOURCES.len() - 1]
}

/// A lead of `source`'s form (asking the faker again until its form is the one), from its ad.
fn fake_lead(faker: &mut LeadFaker, source: &Source, created_at: DateTime<Utc>) -> FakeLead {
    let mut fake = faker.next_lead(created_at);
    if let Some(form) = source.form {
        // Each form comes one time in three: 64 tries miss it once in 10^11.
        for _ in 0..64 {
            if fake.form_name == form {
                break;
            }
            fake = faker.next_lead(created_at);
        }
    }
    fake.ad = source.ad.map(Ad::placement);
    fake.is_organic = source.ad.is_none();
    fake
}

/// What Meta's lead is as the server stores it: the Graph lead parsed as the intake does.
fn meta_fields(fake: &FakeLead) -> MetaFields {
    let json = serde_json::to_vec(&fake.graph_json()).expect("a fake lead serialises");
    let graph = GraphLead::from_json(&json).expect("a fake lead reads as a Graph lead");
    let mut meta = parse_graph_lead(graph, fake.created_at)
        .expect("a fake lead has an id")
        .meta;
    meta.page_id = Some(fake.page_id.clone());
    meta.form_name = Some(fake.form_name.clone());
    meta.normalize(None);
    meta
}

/// The month as it is built: leads by id - 1, the fake leads they came from, history rows.
struct Month {
    now: DateTime<Utc>,
    leads: Vec<Lead>,
    fakes: Vec<FakeLead>,
    rows: Vec<Activity>,
}

impl Month {
    /// The indexes of the leads a person may submit again: neither junk nor repeats; `None`
    /// before there are any.
    fn firsts(&self) -> Option<Vec<usize>> {
        let firsts: Vec<usize> = (0..self.leads.len())
            .filter(|at| self.leads[*at].repeat_of.is_none() && self.leads[*at].junk().is_none())
            .collect();
        (!firsts.is_empty()).then_some(firsts)
    }

    /// Lead `id` as it arrived a few seconds after it was submitted, with its `stored` row.
    fn store(&mut self, id: i64, fake: &FakeLead, rng: &mut StdRng, junk: Option<&str>) {
        let mut meta = meta_fields(fake);
        meta.junk_reason = junk.map(str::to_string);
        let received_at =
            (meta.created_at + Duration::seconds(rng.random_range(2..20))).min(self.now);
        self.leads
            .push(Lead::arrived(id, Some(fake.id.clone()), meta, received_at));
        self.fakes.push(fake.clone());
        self.row(
            id,
            received_at,
            actor::FACEBOOK,
            ActivityKind::Stored,
            None,
            None,
        );
    }

    /// The lead at `at` given to `owner` as it arrived, then walked through the stages as far as
    /// `source`'s odds and the time left before `now` take it.
    fn work(&mut self, at: usize, owner: &str, source: &Source, rng: &mut StdRng) {
        let (id, received) = (self.leads[at].id, self.leads[at].received_at);
        self.leads[at].owner = Some(owner.to_string());
        self.leads[at].owned_at = Some(received);
        self.row(
            id,
            received,
            actor::SYSTEM,
            ActivityKind::Assign,
            None,
            Some(owner.to_string()),
        );
        if !rng.random_bool(source.contacted) {
            return;
        }
        let created = self.leads[at].meta.created_at;
        let contacted = created + speed_to_lead(rng);
        if !self.walk(at, owner, LeadStatus::Contacted, contacted) {
            return;
        }
        self.leads[at].first_contact_at = Some(contacted);
        let hours = |rng: &mut StdRng, from: i64, to: i64| {
            Duration::minutes(rng.random_range(from * 60..to * 60))
        };
        if rng.random_bool(source.qualified) {
            let qualified = contacted + hours(rng, 1, 72);
            if !self.walk(at, owner, LeadStatus::Qualified, qualified) {
                return;
            }
            let closed = qualified + hours(rng, 24, 240);
            if rng.random_bool(source.won) {
                self.walk(at, owner, LeadStatus::Won, closed);
            } else if rng.random_bool(0.5) {
                self.walk(at, owner, LeadStatus::Lost, closed);
            }
        } else if rng.random_bool(0.5) {
            self.walk(
                at,
                owner,
                LeadStatus::Unqualified,
                contacted + hours(rng, 1, 48),
            );
        } else if rng.random_bool(0.3) {
            self.walk(at, owner, LeadStatus::Lost, contacted + hours(rng, 48, 168));
        }
    }

    /// Moves the lead at `at` to `status` at `when` by `owner`, unless `when` is not yet.
    fn walk(&mut self, at: usize, owner: &str, status: LeadStatus, when: DateTime<Utc>) -> bool {
        if when >= self.now {
            return false;
        }
        let lead = &mut self.leads[at];
        let old = std::mem::replace(&mut lead.status, status);
        lead.updated_at = when;
        let id = lead.id;
        self.row(
            id,
            when,
            owner,
            ActivityKind::Status,
            Some(old.as_str().into()),
            Some(status.as_str().into()),
        );
        true
    }

    fn row(
        &mut self,
        lead_id: i64,
        at: DateTime<Utc>,
        actor: &str,
        kind: ActivityKind,
        old: Option<String>,
        new: Option<String>,
    ) {
        self.rows.push(Activity {
            id: 0,
            lead_id,
            at,
            actor: actor.to_string(),
            kind,
            old,
            new,
        });
    }

    /// History in time order (a lead's own rows keep theirs), numbered from 1.
    fn finish(mut self) -> PastMonth {
        self.rows.sort_by_key(|row| (row.at, row.lead_id));
        for (at, row) in self.rows.iter_mut().enumerate() {
            row.id = at as i64 + 1;
        }
        PastMonth {
            leads: self.leads,
            activity: self.rows,
        }
    }
}

/// How long a rep took to first reach a lead: most within five minutes, a long tail to days.
fn speed_to_lead(rng: &mut StdRng) -> Duration {
    let seconds = match rng.random_range(0..100) {
        0..45 => rng.random_range(30..300),
        45..70 => rng.random_range(300..1_800),
        70..85 => rng.random_range(1_800..4 * 3_600),
        85..95 => rng.random_range(4 * 3_600..24 * 3_600),
        _ => rng.random_range(24 * 3_600..3 * 24 * 3_600),
    };
    Duration::seconds(seconds)
}

#[cfg(test)]
mod tests;
