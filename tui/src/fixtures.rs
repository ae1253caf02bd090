//! Leads and a fixed clock for tests.

pub mod insights;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use leadhook_shared::{
    Answer, Assignment, Escalation, Lead, Me, MetaFields, Rep, Role, Visibility,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::app::{App, Msg};
use crate::leads::LeadRow;
use crate::poller::PollEvent;

/// The fixed "now" of every test: Tuesday 2026-03-10 15:00 UTC.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 15, 0, 0)
        .single()
        .expect("valid date")
}

/// A dashboard at [`now`] in UTC that has heard nothing from its server yet.
pub fn app() -> App {
    App::new(
        "http://127.0.0.1:8080",
        now(),
        FixedOffset::east_opt(0).expect("UTC"),
    )
}

/// A dashboard whose first load brought `leads`, last synced at `synced_at`.
pub fn loaded(leads: Vec<Lead>, synced_at: DateTime<Utc>) -> App {
    let mut app = app();
    app.update(polled(&leads, true));
    app.update(Msg::Poll(PollEvent::Synced {
        at: synced_at,
        push: false,
    }));
    app
}

/// The poller bringing `leads`, as the list reads them.
pub fn polled(leads: &[Lead], first_load: bool) -> Msg {
    Msg::Poll(PollEvent::Leads {
        leads: leads.iter().map(LeadRow::from).collect(),
        first_load,
    })
}

/// The server answering the detail pane's fetch of `lead`.
pub fn fetched(lead: &Lead) -> Msg {
    Msg::Detail {
        id: lead.id,
        result: Ok(lead.clone()),
    }
}

/// The server answering the fetch of the selected lead, from `leads`.
pub fn answer_selected(app: &mut App, leads: &[Lead]) {
    let id = app.selected_lead().expect("a lead is selected").id;
    let lead = leads
        .iter()
        .find(|lead| lead.id == id)
        .expect("the selected lead is among those served");
    app.update(fetched(lead));
}

/// A Facebook lead created `minutes_ago` before [`now`], with contact details derived from `id`.
pub fn lead(id: i64, name: &str, minutes_ago: i64) -> Lead {
    let created_at = now() - Duration::minutes(minutes_ago);
    let slug = name.to_lowercase().replace(' ', ".");
    let email = format!("{slug}@example.com");
    let phone = format!("+1555{:07}", id);
    let fields = BTreeMap::from([
        ("full_name".to_string(), Answer::One(name.to_string())),
        ("email".to_string(), Answer::One(email.clone())),
        ("phone_number".to_string(), Answer::One(phone.clone())),
        (
            "interested_in".to_string(),
            Answer::Many(vec!["Solar panels".into(), "Battery".into()]),
        ),
    ]);
    Lead::arrived(
        id,
        Some(format!("9{id:05}")),
        MetaFields {
            name: Some(name.to_string()),
            email: Some(email),
            phone: Some(phone),
            phone_e164: None,
            phone_invalid: false,
            email_key: None,
            junk_reason: None,
            created_at,
            page_id: Some("1001".into()),
            form_id: Some("2002".into()),
            form_name: Some("Spring Promo".into()),
            ad_id: Some("3003".into()),
            ad_name: Some("Carousel A".into()),
            adset_id: Some("4004".into()),
            adset_name: Some("Homeowners 30-55".into()),
            campaign_id: Some("5005".into()),
            campaign_name: Some("Spring 2026".into()),
            platform: Some("fb".into()),
            is_organic: false,
            fields,
        },
        created_at + Duration::seconds(2),
    )
}

/// [`lead`] as the list keeps it.
pub fn row(id: i64, name: &str, minutes_ago: i64) -> LeadRow {
    LeadRow::from(&lead(id, name, minutes_ago))
}

/// `app` drawn on a `width` × `height` test terminal.
pub fn draw(app: &App, width: u16, height: u16) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| frame.render_widget(app, frame.area()))
        .expect("draw");
    terminal.backend().clone()
}

/// The manager `name` on a server where reps claim leads.
pub fn me(name: &str, available: bool) -> Me {
    Me {
        name: name.into(),
        available,
        assignment: Assignment::Claim,
        role: Role::Manager,
        visibility: Visibility::Team,
        time_zone: None,
        answer_columns: Default::default(),
        ntfy_topic: None,
        quiet_hours: None,
    }
}

pub fn rep(name: &str, available: bool, open_leads: u64) -> Rep {
    Rep {
        name: name.into(),
        available,
        open_leads,
        contacted_today: 0,
        median_speed_to_lead_today_secs: None,
    }
}

/// Lead 3, "Lead 3" from the Spring Promo form, waiting past 5 minutes.
pub fn escalation() -> Escalation {
    Escalation {
        lead_id: 3,
        name: "Lead 3".into(),
        form_name: Some("Spring Promo".into()),
        owner: None,
        threshold_secs: 300,
        waiting_secs: 310,
    }
}
