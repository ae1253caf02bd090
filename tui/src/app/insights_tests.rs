//! The insights screen's update step: keys change the period and grouping and ask for figures;
//! answers to older requests are dropped.

use crossterm::event::{KeyCode, KeyEvent};
use leadhook_shared::answer_columns::AnswerColumns;
use leadhook_shared::{Grouping, InsightsParams, Period, Role};

use super::{App, Effect, Mode, Msg, Pane};
use crate::client_error::ClientError;
use crate::fixtures::insights::month;
use crate::fixtures::{app, me};

fn press(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.update(Msg::Key(KeyEvent::from(code)))
}

fn asked(effect: Option<Effect>) -> InsightsParams {
    match effect {
        Some(Effect::LoadInsights(params)) => params,
        other => panic!("expected a fetch of the insights, got {other:?}"),
    }
}

/// A manager's dashboard with the insights open and their first fetch asked.
fn opened() -> (App, InsightsParams) {
    let mut app = app();
    app.update(Msg::Me(Ok(me("alice", true))));
    let params = asked(press(&mut app, KeyCode::Char('I')));
    (app, params)
}

#[test]
fn i_opens_the_insights_for_the_last_30_days_by_campaign_in_the_reps_zone() {
    let (app, params) = opened();
    assert_eq!(app.mode, Mode::Browse(Pane::Insights));
    assert_eq!(
        params,
        InsightsParams::new(Period::Last30Days, &Grouping::Campaign, "UTC")
    );
    assert!(app.insights.loading.is_some());
}

#[test]
fn p_and_g_cycle_and_ask_again() {
    let (mut app, _) = opened();
    let params = asked(press(&mut app, KeyCode::Char('p')));
    assert_eq!(params.read(), Ok((Period::Today, Grouping::Campaign)));
    let params = asked(press(&mut app, KeyCode::Char('g')));
    assert_eq!(params.read(), Ok((Period::Today, Grouping::AdSet)));
    let params = asked(press(&mut app, KeyCode::Char('r')));
    assert_eq!(params.read(), Ok((Period::Today, Grouping::AdSet)));
    assert_eq!(app.insights.loading, Some(params));
}

#[test]
fn g_goes_through_the_answer_columns_after_metas_groupings() {
    let mut app = app();
    let mut manager = me("alice", true);
    manager.answer_columns =
        AnswerColumns::parse("budget=budget,timeline=when_would_you_like_to_start?")
            .expect("columns");
    app.update(Msg::Me(Ok(manager)));
    press(&mut app, KeyCode::Char('I'));
    let mut seen = Vec::new();
    for _ in 0..Grouping::ALL.len() + 2 {
        let params = asked(press(&mut app, KeyCode::Char('g')));
        seen.push(params.by.unwrap_or_default());
    }
    assert_eq!(
        seen[Grouping::ALL.len() - 1..],
        ["answer:budget", "answer:timeline", "campaign"]
    );
}

#[test]
fn an_answer_shows_and_a_late_one_for_an_older_choice_is_dropped() {
    let (mut app, first) = opened();
    let second = asked(press(&mut app, KeyCode::Char('g')));
    let mut late = month();
    late.by = "campaign".into();
    app.update(Msg::Insights {
        params: first,
        result: Ok(late),
    });
    assert!(
        app.insights.figures.is_none(),
        "an answer to an older choice"
    );
    let mut current = month();
    current.by = "adset".into();
    app.update(Msg::Insights {
        params: second,
        result: Ok(current.clone()),
    });
    assert_eq!(app.insights.figures, Some(current));
    assert_eq!(app.insights.loading, None);
}

#[test]
fn a_failure_keeps_the_last_figures_and_says_why() {
    let (mut app, first) = opened();
    app.update(Msg::Insights {
        params: first,
        result: Ok(month()),
    });
    let again = asked(press(&mut app, KeyCode::Char('r')));
    let refused = ClientError::Rejected {
        code: "forbidden".into(),
        message: "your role (rep) may not see the insights".into(),
    };
    app.update(Msg::Insights {
        params: again,
        result: Err(refused.clone()),
    });
    assert_eq!(app.insights.error, Some(refused));
    assert_eq!(app.insights.figures, Some(month()));
}

#[test]
fn esc_and_q_go_back_to_the_leads_without_quitting() {
    for code in [KeyCode::Esc, KeyCode::Char('q')] {
        let (mut app, _) = opened();
        assert_eq!(press(&mut app, code), None);
        assert_eq!(app.mode, Mode::START);
    }
}

#[test]
fn a_rep_is_refused_the_insights_and_nothing_is_fetched() {
    let mut app = app();
    let mut rep = me("dave", true);
    rep.role = Role::Rep;
    app.update(Msg::Me(Ok(rep)));
    assert_eq!(press(&mut app, KeyCode::Char('I')), None);
    assert_eq!(app.mode, Mode::START);
    let toast = app.toasts.last().map(|toast| toast.text.as_str());
    assert!(
        toast.is_some_and(|text| text.contains("see the insights") && text.contains("manager")),
        "{toast:?}"
    );
}

#[test]
fn scrolling_stops_where_drawing_says_the_screen_ends() {
    let (mut app, _) = opened();
    app.insights.scroll.set(super::HelpScroll { at: 0, max: 2 });
    for _ in 0..5 {
        press(&mut app, KeyCode::Char('j'));
    }
    assert_eq!(app.insights.scroll.get().at, 2);
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.insights.scroll.get().at, 1);
}
