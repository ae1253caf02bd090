//! The team: the reps (of `LEADHOOK_API_TOKENS` and the store, see [`crate::reps::RepCache`]), how leads get owners, and the figures the
//! dashboards show about them (`/api/reps`, and `waiting`, `speed_to_lead`, `per_rep` of `/api/stats`).

use std::collections::HashMap;
use std::sync::Arc;

use leadhook_shared::team::median;
use leadhook_shared::{Assignment, Rep, RepStats, SpeedToLead, SpeedToLeadStats};

use crate::config::Config;
use crate::store::{Contact, QueueFigures, StatsWindow};

/// The team as it is now: it changes without a restart when reps are added or removed.
pub type TeamView = tokio::sync::watch::Receiver<Arc<Team>>;

/// The reps (those of `LEADHOOK_API_TOKENS` in its order, then the store's, oldest first), and
/// the assignment mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub assignment: Assignment,
    pub reps: Vec<String>,
}

impl Team {
    pub fn from_config(config: &Config) -> Team {
        Team {
            assignment: config.queue.assignment,
            reps: config
                .api_tokens
                .iter()
                .map(|token| token.name.clone())
                .collect(),
        }
    }

    /// A view that never changes, for commands and tests without a [`crate::reps::RepCache`].
    pub fn fixed(self) -> TeamView {
        tokio::sync::watch::channel(Arc::new(self)).1
    }

    pub fn is_rep(&self, name: &str) -> bool {
        self.reps.iter().any(|rep| rep == name)
    }

    /// Every rep with availability and today's figures.
    pub fn reps(
        &self,
        figures: &QueueFigures,
        availability: &HashMap<String, bool>,
        window: StatsWindow,
    ) -> Vec<Rep> {
        self.reps
            .iter()
            .map(|name| {
                let today = speeds(figures.contacts.iter().filter(|contact| {
                    contact.owner.as_deref() == Some(name)
                        && contact.first_contact_at >= window.today_start
                }));
                Rep {
                    name: name.clone(),
                    available: availability.get(name).copied().unwrap_or(true),
                    open_leads: figures.by_owner.get(name).map_or(0, |counts| counts.open),
                    contacted_today: today.len() as u64,
                    median_speed_to_lead_today_secs: median(&today),
                }
            })
            .collect()
    }

    /// Per rep: leads owned, contacted, won, and the median speed to lead of the last 7 days.
    pub fn per_rep(&self, figures: &QueueFigures) -> Vec<RepStats> {
        self.reps
            .iter()
            .map(|name| {
                let counts = figures.by_owner.get(name).cloned().unwrap_or_default();
                let week = speeds(
                    figures
                        .contacts
                        .iter()
                        .filter(|contact| contact.owner.as_deref() == Some(name)),
                );
                RepStats {
                    name: name.clone(),
                    owned: counts.owned,
                    contacted: counts.contacted,
                    won: counts.won,
                    median_speed_to_lead_secs: median(&week),
                    overdue: counts.overdue,
                }
            })
            .collect()
    }
}

/// Speed to lead today and over the last 7 days (the figures hold the last 7 days' contacts).
pub fn speed_to_lead(figures: &QueueFigures, window: StatsWindow) -> SpeedToLeadStats {
    let today = speeds(
        figures
            .contacts
            .iter()
            .filter(|contact| contact.first_contact_at >= window.today_start),
    );
    let week = speeds(figures.contacts.iter());
    SpeedToLeadStats {
        today: SpeedToLead::of_sorted(&today),
        last_7_days: SpeedToLead::of_sorted(&week),
    }
}

/// The contacts' speeds, sorted.
fn speeds<'a>(contacts: impl Iterator<Item = &'a Contact>) -> Vec<u64> {
    let mut speeds: Vec<u64> = contacts.map(|contact| contact.speed_secs).collect();
    speeds.sort_unstable();
    speeds
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::store::OwnerCounts;

    fn contact(owner: &str, hours_ago: i64, speed_secs: u64) -> Contact {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        Contact {
            owner: Some(owner.to_string()),
            first_contact_at: now - Duration::hours(hours_ago),
            speed_secs,
        }
    }

    fn window() -> StatsWindow {
        let today_start = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        StatsWindow {
            today_start,
            week_start: today_start - Duration::days(6),
            now: today_start + Duration::hours(12),
        }
    }

    #[test]
    fn figures_split_by_rep_and_day() {
        let team = Team {
            assignment: Assignment::Claim,
            reps: vec!["alice".into(), "bob".into(), "carol".into()],
        };
        let figures = QueueFigures {
            contacts: vec![
                contact("alice", 1, 60),
                contact("alice", 2, 120),
                contact("alice", 30, 9000),
                contact("bob", 3, 600),
            ],
            by_owner: HashMap::from([(
                "alice".to_string(),
                OwnerCounts {
                    owned: 5,
                    open: 3,
                    contacted: 4,
                    won: 1,
                    overdue: 2,
                },
            )]),
            ..QueueFigures::default()
        };
        let availability = HashMap::from([("bob".to_string(), false)]);
        let reps = team.reps(&figures, &availability, window());
        assert_eq!(
            reps.iter()
                .map(|rep| (
                    rep.name.as_str(),
                    rep.available,
                    rep.open_leads,
                    rep.contacted_today,
                    rep.median_speed_to_lead_today_secs
                ))
                .collect::<Vec<_>>(),
            [
                ("alice", true, 3, 2, Some(60)),
                ("bob", false, 0, 1, Some(600)),
                ("carol", true, 0, 0, None)
            ]
        );
        let per_rep = team.per_rep(&figures);
        assert_eq!((per_rep[0].owned, per_rep[0].overdue), (5, 2));
        assert_eq!(per_rep[0].median_speed_to_lead_secs, Some(120));
        assert_eq!(per_rep[2].median_speed_to_lead_secs, None);
        let speed = speed_to_lead(&figures, window());
        assert_eq!(speed.today.count, 3);
        assert_eq!(speed.today.median_secs, Some(120));
        assert_eq!(speed.today.p90_secs, Some(600));
        assert_eq!(speed.last_7_days.count, 4);
        assert_eq!(speed.last_7_days.p90_secs, Some(9000));
    }
}
