//! An erased lead on screen: a row that says "erased" (never an empty row) and details that say
//! what was erased and when.

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent};
use insta::assert_snapshot;
use leadhook_shared::{Lead, LeadStatus};

use crate::app::{App, Msg};
use crate::fixtures::{answer_selected, draw, lead, loaded, now};

fn erased(mut lead: Lead) -> Lead {
    lead.meta.name = None;
    lead.meta.email = None;
    lead.meta.phone = None;
    lead.meta.fields.clear();
    lead.notes = None;
    lead.erased_at = Some(now() - Duration::minutes(5));
    lead
}

fn leads_with_an_erased_one() -> Vec<Lead> {
    let mut contacted = erased(lead(3, "Priya Natarajan", 180));
    contacted.status = LeadStatus::Contacted;
    vec![
        lead(2, "Carlos Mendes", 47),
        contacted,
        lead(4, "Tom O'Brien", 60 * 26),
    ]
}

fn app_with_an_erased_lead() -> App {
    loaded(leads_with_an_erased_one(), now() - Duration::seconds(2))
}

#[test]
fn an_erased_row_says_erased() {
    let screen = draw(&app_with_an_erased_lead(), 120, 16);
    assert_snapshot!(screen);
}

#[test]
fn erased_details_say_what_was_erased() {
    let mut app = app_with_an_erased_lead();
    for code in [KeyCode::Char('j'), KeyCode::Enter] {
        app.update(Msg::Key(KeyEvent::from(code)));
    }
    answer_selected(&mut app, &leads_with_an_erased_one());
    assert_snapshot!(draw(&app, 130, 30));
}
