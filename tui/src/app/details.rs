//! The detail pane's leads: the list keeps rows, so the lead the pane shows is fetched whole
//! (`GET /api/leads/{id}`) and the last few are kept.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use leadhook_shared::Lead;

use super::{App, Effect, Pane};
use crate::client_error::ClientError;

/// Leads kept whole: the one open and the last ones shown before it, so going back and forth
/// between a few leads asks the server once for each.
pub const DETAIL_CACHE_LEADS: usize = 8;

/// A person's submissions fetched whole for the details, newest first: the rest show their row
/// only. Fewer than [`DETAIL_CACHE_LEADS`], so the person just shown is kept too.
pub const SUBMISSIONS_WHOLE: usize = 4;

#[derive(Debug, Default)]
pub struct Details {
    /// At most [`DETAIL_CACHE_LEADS`], the least recently shown first.
    kept: VecDeque<Lead>,
    /// The lead whose fetch is under way.
    loading: Option<i64>,
    /// The last fetch that failed, and why: shown, not asked again until `r`, a change of the
    /// lead, or the pane showing another lead first.
    failed: Option<(i64, String)>,
}

/// What the detail pane has of a lead beyond its row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Detail<'a> {
    Loading,
    Loaded(&'a Lead),
    Failed(&'a str),
}

impl Details {
    /// Lead `id` as far as it is known at `version`, its row's `updated_at`.
    pub fn of(&self, id: i64, version: DateTime<Utc>) -> Detail<'_> {
        if let Some(at) = self.position(id, version) {
            return Detail::Loaded(&self.kept[at]);
        }
        match &self.failed {
            Some((failed, why)) if *failed == id => Detail::Failed(why),
            _ => Detail::Loading,
        }
    }

    /// Where lead `id` is kept, when it is kept no older than `version`.
    fn position(&self, id: i64, version: DateTime<Utc>) -> Option<usize> {
        self.kept
            .iter()
            .position(|lead| lead.id == id && lead.updated_at >= version)
    }

    /// Whether lead `id` is to be fetched now: it is not kept at `version`, not on its way and
    /// did not just fail. A kept one becomes the most recently shown.
    fn wanted(&mut self, id: i64, version: DateTime<Utc>) -> bool {
        if let Some(at) = self.position(id, version) {
            if let Some(lead) = self.kept.remove(at) {
                self.kept.push_back(lead);
            }
            return false;
        }
        match &self.failed {
            Some((failed, _)) if *failed == id => return false,
            Some(_) => self.failed = None,
            None => {}
        }
        if self.loading == Some(id) {
            return false;
        }
        self.loading = Some(id);
        true
    }

    /// Keeps `lead` whole in place of any older copy; past the limit the least recently shown
    /// goes.
    pub fn keep(&mut self, lead: Lead) {
        self.kept.retain(|kept| kept.id != lead.id);
        if self.kept.len() >= DETAIL_CACHE_LEADS {
            self.kept.pop_front();
        }
        self.kept.push_back(lead);
    }

    /// A change of lead `id` at `version` came in (pushed or polled): a copy older than that
    /// is dropped, and a failed fetch may be tried again.
    pub fn changed(&mut self, id: i64, version: DateTime<Utc>) {
        self.kept
            .retain(|lead| lead.id != id || lead.updated_at >= version);
        if self.failed.as_ref().is_some_and(|(at, _)| *at == id) {
            self.failed = None;
        }
    }

    /// `r`: a failed fetch is tried again.
    pub fn retry(&mut self) {
        self.failed = None;
    }
}

impl App {
    /// The whole of the lead the detail pane shows, and of its person's other submissions
    /// (the newest [`SUBMISSIONS_WHOLE`]), one at a time, when they are not kept yet.
    pub(super) fn detail_wanted(&mut self) -> Option<Effect> {
        if !matches!(self.mode.pane(), Pane::Detail { .. }) {
            return None;
        }
        let row = self.selected_lead()?;
        let shown: Vec<(i64, DateTime<Utc>)> = self
            .leads
            .submissions(row.id)
            .iter()
            .take(SUBMISSIONS_WHOLE)
            .map(|lead| (lead.id, lead.updated_at))
            .collect();
        for (id, version) in shown {
            if self.details.loading == Some(id) {
                return None;
            }
            if self.details.wanted(id, version) {
                return Some(Effect::LoadDetail(id));
            }
        }
        None
    }

    /// `GET /api/leads/{id}` answered. An answer older than the row (a change came in while it
    /// was on its way) is not kept: the pane asks again.
    pub(super) fn on_detail(&mut self, id: i64, result: Result<Lead, ClientError>) {
        if self.details.loading == Some(id) {
            self.details.loading = None;
        }
        match result {
            Ok(lead) => {
                if self
                    .details
                    .failed
                    .as_ref()
                    .is_some_and(|(at, _)| *at == id)
                {
                    self.details.failed = None;
                }
                let current = self
                    .leads
                    .get(id)
                    .is_none_or(|row| lead.updated_at >= row.updated_at);
                if current {
                    self.details.keep(lead);
                }
            }
            Err(err) => self.details.failed = Some((id, err.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use crossterm::event::{KeyCode, KeyEvent};

    use super::*;
    use crate::app::Msg;
    use crate::fixtures::{lead, loaded, now};
    use crate::leads::LeadRow;
    use crate::poller::PollEvent;

    fn press(app: &mut App, code: KeyCode) -> Option<Effect> {
        app.update(Msg::Key(KeyEvent::from(code)))
    }

    fn answer(app: &mut App, id: i64) -> Option<Effect> {
        let result = Ok(lead(id, &format!("Lead {id}"), id * 10));
        app.update(Msg::Detail { id, result })
    }

    /// Leads 1..=n, lead 1 the newest, and the details open on it.
    fn details_open(n: i64) -> App {
        let leads = (1..=n)
            .map(|id| lead(id, &format!("Lead {id}"), id * 10))
            .collect();
        let mut app = loaded(leads, now());
        assert_eq!(press(&mut app, KeyCode::Enter), Some(Effect::LoadDetail(1)));
        app
    }

    fn kept_ids(app: &App) -> Vec<i64> {
        app.details.kept.iter().map(|lead| lead.id).collect()
    }

    #[test]
    fn the_open_lead_is_fetched_once_and_shown_when_it_arrives() {
        let mut app = details_open(3);
        let version = app.selected_lead().unwrap().updated_at;
        assert_eq!(app.details.of(1, version), Detail::Loading);
        let tick = Msg::Tick(now());
        assert_eq!(app.update(tick), Some(Effect::LoadActivity(1)));
        assert_eq!(app.update(Msg::Tick(now())), None, "on its way already");
        answer(&mut app, 1);
        assert!(matches!(app.details.of(1, version), Detail::Loaded(lead) if lead.id == 1));
        assert_eq!(
            press(&mut app, KeyCode::Char('j')),
            Some(Effect::LoadDetail(2))
        );
        answer(&mut app, 2);
        // Back to lead 1: kept, not asked for again; only its history is.
        assert_eq!(
            press(&mut app, KeyCode::Char('k')),
            Some(Effect::LoadActivity(1))
        );
        assert_eq!(kept_ids(&app), [2, 1], "lead 1 is the most recently shown");
    }

    #[test]
    fn at_most_the_limit_is_kept_and_the_least_recently_shown_goes_first() {
        let count = DETAIL_CACHE_LEADS as i64 + 3;
        let mut app = details_open(count);
        answer(&mut app, 1);
        for _ in 1..count {
            let effect = press(&mut app, KeyCode::Char('j'));
            let id = app.selected_lead().unwrap().id;
            assert_eq!(effect, Some(Effect::LoadDetail(id)));
            answer(&mut app, id);
            assert!(app.details.kept.len() <= DETAIL_CACHE_LEADS);
        }
        let newest: Vec<i64> = (count + 1 - DETAIL_CACHE_LEADS as i64..=count).collect();
        assert_eq!(kept_ids(&app), newest);
        // Showing a kept lead again saves it from being the next to go.
        let oldest = newest[0];
        app.details.wanted(oldest, now() - Duration::days(1));
        app.details.keep(lead(100, "Lead 100", 1));
        assert!(kept_ids(&app).contains(&oldest));
        assert!(!kept_ids(&app).contains(&newest[1]));
    }

    #[test]
    fn a_live_change_of_the_open_lead_replaces_the_kept_copy() {
        let mut app = details_open(2);
        answer(&mut app, 1);
        let mut changed = lead(1, "Lead 1", 10);
        changed.updated_at = now();
        changed.meta.name = Some("Lead One".into());
        let pushed = Msg::Poll(PollEvent::Leads {
            leads: vec![LeadRow::from(&changed)],
            first_load: false,
        });
        assert_eq!(app.update(pushed), Some(Effect::LoadDetail(1)));
        assert_eq!(
            app.details.of(1, now()),
            Detail::Loading,
            "the old copy is gone"
        );
        // The answer of a fetch that started before the change is not kept: it is asked again.
        assert_eq!(answer(&mut app, 1), Some(Effect::LoadDetail(1)));
        assert_eq!(app.details.of(1, now()), Detail::Loading);
        app.update(Msg::Detail {
            id: 1,
            result: Ok(changed),
        });
        let Detail::Loaded(shown) = app.details.of(1, now()) else {
            panic!("the changed lead is shown");
        };
        assert_eq!(shown.meta.name.as_deref(), Some("Lead One"));
    }

    #[test]
    fn a_change_of_a_lead_not_open_drops_its_copy_without_asking() {
        let mut app = details_open(2);
        answer(&mut app, 1);
        let mut changed = lead(2, "Lead 2", 20);
        changed.updated_at = now();
        app.details.keep(lead(2, "Lead 2", 20));
        let polled = Msg::Poll(PollEvent::Leads {
            leads: vec![LeadRow::from(&changed)],
            first_load: false,
        });
        assert_eq!(app.update(polled), None);
        assert_eq!(kept_ids(&app), [1]);
    }

    #[test]
    fn a_failed_fetch_is_shown_and_r_tries_again() {
        let mut app = details_open(2);
        let failed = Err(ClientError::Unreachable {
            server: "http://127.0.0.1:8080".into(),
            reason: "Connection refused".into(),
        });
        let answered = app.update(Msg::Detail {
            id: 1,
            result: failed,
        });
        assert_eq!(answered, Some(Effect::LoadActivity(1)));
        let version = app.selected_lead().unwrap().updated_at;
        assert!(matches!(
            app.details.of(1, version),
            Detail::Failed(why) if why.contains("Connection refused")
        ));
        assert_eq!(
            app.update(Msg::Tick(now())),
            None,
            "not asked again by itself"
        );
        assert_eq!(press(&mut app, KeyCode::Char('r')), Some(Effect::Refresh));
        assert_eq!(app.update(Msg::Tick(now())), Some(Effect::LoadDetail(1)));
        assert_eq!(app.details.of(1, version), Detail::Loading);
        // Failed again; showing another lead and coming back asks again too.
        app.update(Msg::Detail {
            id: 1,
            result: Err(ClientError::NotFound("lead 1".into())),
        });
        assert_eq!(
            press(&mut app, KeyCode::Char('j')),
            Some(Effect::LoadDetail(2))
        );
        assert_eq!(
            press(&mut app, KeyCode::Char('k')),
            Some(Effect::LoadDetail(1))
        );
    }

    #[test]
    fn a_saved_change_keeps_the_servers_answer() {
        let mut app = details_open(1);
        answer(&mut app, 1);
        press(&mut app, KeyCode::Char('2'));
        let mut saved = lead(1, "Lead 1", 10);
        saved.status = leadhook_shared::LeadStatus::Contacted;
        saved.updated_at = now();
        app.update(Msg::Saved {
            id: 1,
            result: Ok(saved),
        });
        assert!(matches!(
            app.details.of(1, now()),
            Detail::Loaded(lead) if lead.status == leadhook_shared::LeadStatus::Contacted
        ));
        assert_eq!(app.update(Msg::Tick(now())), None);
    }
}
