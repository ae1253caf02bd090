//! The insights screen of `I`: which sources bring leads that turn into customers, fetched from
//! `GET /api/insights` for a period and a grouping the manager cycles with `p` and `g`.

use leadhook_shared::{AnswerColumns, Grouping, Insights, InsightsParams, Period};

use super::{App, Effect, HelpScroll, Mode, Pane};
use crate::client_error::ClientError;
use crate::keys::{self, InsightsAction};

/// What the screen shows and asks for.
#[derive(Debug, Clone)]
pub struct InsightsView {
    pub period: Period,
    pub grouping: Grouping,
    /// The last figures, kept while newer ones load or when asking failed.
    pub figures: Option<Insights>,
    /// The request still in flight, if any.
    pub loading: Option<InsightsParams>,
    /// Why the last request failed, until the next answer.
    pub error: Option<ClientError>,
    /// How far the screen is scrolled, and (kept by drawing) how far it can be.
    pub scroll: std::cell::Cell<HelpScroll>,
}

/// The last 30 days by campaign: a stage takes days to reach, so a month says most.
impl Default for InsightsView {
    fn default() -> InsightsView {
        InsightsView {
            period: Period::Last30Days,
            grouping: Grouping::Campaign,
            figures: None,
            loading: None,
            error: None,
            scroll: std::cell::Cell::default(),
        }
    }
}

impl App {
    /// Opens the insights and asks for their figures.
    pub(super) fn open_insights(&mut self) -> Option<Effect> {
        self.mode = Mode::Browse(Pane::Insights);
        self.load_insights()
    }

    /// Asks for the figures of the chosen period and grouping, in the rep's zone.
    fn load_insights(&mut self) -> Option<Effect> {
        let zone = self.zone().name();
        let view = &mut self.insights;
        let params = InsightsParams::new(view.period, &view.grouping, zone);
        view.loading = Some(params.clone());
        Some(Effect::LoadInsights(params))
    }

    pub(super) fn insights_key(&mut self, key: &crossterm::event::KeyEvent) -> Option<Effect> {
        let binding = keys::INSIGHTS.pressed(key)?;
        let mut scroll = self.insights.scroll.get();
        match binding.action {
            InsightsAction::CyclePeriod => {
                self.insights.period = self.insights.period.next();
                self.insights.scroll.set(HelpScroll::default());
                return self.load_insights();
            }
            InsightsAction::CycleGrouping => {
                self.insights.grouping = self.next_grouping();
                self.insights.scroll.set(HelpScroll::default());
                return self.load_insights();
            }
            InsightsAction::Reload => return self.load_insights(),
            InsightsAction::Down => scroll.at = (scroll.at + 1).min(scroll.max),
            InsightsAction::Up => scroll.at = scroll.at.saturating_sub(1),
            InsightsAction::Help => self.open_help(),
            InsightsAction::Back => self.mode = Mode::START,
        }
        self.insights.scroll.set(scroll);
        None
    }

    /// The grouping after the current one: Meta's, then the form answers the server names as
    /// columns (`LEADHOOK_ANSWER_COLUMNS`), then Meta's again.
    fn next_grouping(&self) -> Grouping {
        let none = AnswerColumns::default();
        let columns = self.team.me.as_ref().map_or(&none, |me| &me.answer_columns);
        self.insights.grouping.next(columns)
    }

    /// The server's answer to `params`; an answer to an older request is dropped.
    pub(super) fn on_insights(
        &mut self,
        params: InsightsParams,
        result: Result<Insights, ClientError>,
    ) {
        let view = &mut self.insights;
        if view.loading.as_ref() != Some(&params) {
            return;
        }
        view.loading = None;
        match result {
            Ok(figures) => {
                view.figures = Some(figures);
                view.error = None;
            }
            Err(error) => view.error = Some(error),
        }
    }
}
