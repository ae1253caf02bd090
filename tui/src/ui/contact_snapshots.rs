//! The details' phone and e-mail as terminal hyperlinks: where the links land, what the OSC 8
//! output holds, and that a hostile lead's text gets into neither.

use crossterm::event::{KeyCode, KeyEvent};
use insta::assert_snapshot;
use leadhook_shared::Lead;
use ratatui::backend::CrosstermBackend;

use crate::app::{App, Msg};
use crate::fixtures::{answer_selected, draw, lead, loaded, now};
use crate::hyperlink::{self, LinkOut, Linked, ScreenLink};

fn reachable() -> Lead {
    let mut ann = lead(1, "Ann Lee", 3);
    ann.meta.phone = Some("(555) 000-0001".into());
    ann.meta.phone_e164 = Some("+15550000001".into());
    ann
}

/// Every field written to break out: an OSC 8 of its own in the name, a screen clear in the
/// phone as typed, a link and a bidirectional override in the e-mail.
fn hostile() -> Lead {
    let mut eve = lead(
        2,
        "Eve\x1b]8;;https://evil.example\x07Click me\x1b]8;;\x07",
        5,
    );
    eve.meta.phone = Some("+1 555\x1b[2J 0002".into());
    eve.meta.phone_e164 = Some("+15550000002".into());
    eve.meta.email = Some("eve@example.com\x1b]8;;https://evil.example\x1b\\\u{202e}".into());
    eve
}

fn details_of(leads: Vec<Lead>) -> App {
    let mut app = loaded(leads.clone(), now());
    app.update(Msg::Key(KeyEvent::from(KeyCode::Enter)));
    answer_selected(&mut app, &leads);
    app
}

fn links(app: &App) -> Vec<ScreenLink> {
    app.screen_links.borrow().clone()
}

/// What writing the links after the frame sends to the terminal.
fn osc8_output(app: &App, width: u16, height: u16) -> String {
    let screen = draw(app, width, height);
    let area = ratatui::layout::Rect::new(0, 0, width, height);
    let mut linked = Linked::default();
    let mut bytes = Vec::new();
    if let Some(plan) = hyperlink::plan(&mut linked, area, &links(app), screen.buffer()) {
        let mut out = CrosstermBackend::new(&mut bytes);
        out.write_links(&plan).expect("writing to memory");
    }
    String::from_utf8(bytes).expect("UTF-8")
}

/// The OSC 8 URLs in `output` in order ("" for each end of a link), and the text printed
/// around the escapes; panics on any escape but OSC 8, CSI and save/restore cursor.
fn take_apart(output: &str) -> (Vec<String>, String) {
    let (mut urls, mut printed) = (Vec::new(), String::new());
    let mut rest = output;
    while let Some(at) = rest.find('\x1b') {
        printed.push_str(&rest[..at]);
        let escape = &rest[at..];
        rest = if let Some(osc) = escape.strip_prefix("\x1b]8;;") {
            let end = osc.find("\x1b\\").expect("OSC 8 ends with ST");
            urls.push(osc[..end].to_string());
            &osc[end + 2..]
        } else if let Some(csi) = escape.strip_prefix("\x1b[") {
            let end = csi
                .find(|c: char| ('@'..='~').contains(&c))
                .expect("CSI has a final byte");
            &csi[end + 1..]
        } else if escape.starts_with("\x1b7") || escape.starts_with("\x1b8") {
            &escape[2..]
        } else {
            panic!("unexpected escape in {output:?}");
        };
    }
    printed.push_str(rest);
    (urls, printed)
}

#[test]
fn details_link_the_phone_whatsapp_and_the_email() {
    let app = details_of(vec![reachable()]);
    let screen = draw(&app, 80, 20);
    assert_snapshot!(screen);
    let links = links(&app);
    let urls: Vec<&str> = links.iter().map(|link| link.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "tel:+15550000001",
            "https://wa.me/15550000001",
            "mailto:ann.lee@example.com"
        ]
    );
    assert_eq!(links[1].text, "WhatsApp");
    assert_eq!(links[2].text, "ann.lee@example.com");
    // Each link is where its text shows.
    for link in &links {
        let row: String = (link.x..link.x + link.text.len() as u16)
            .map(|x| screen.buffer()[(x, link.y)].symbol().to_string())
            .collect();
        assert_eq!(row, link.text);
    }
}

#[test]
fn the_osc_8_output_is_the_links_and_their_own_text_only() {
    let app = details_of(vec![reachable()]);
    let output = osc8_output(&app, 80, 20);
    let (urls, printed) = take_apart(&output);
    assert_eq!(
        urls,
        [
            "tel:+15550000001",
            "",
            "https://wa.me/15550000001",
            "",
            "mailto:ann.lee@example.com",
            ""
        ]
    );
    let texts: String = links(&app).iter().map(|link| link.text.as_str()).collect();
    assert_eq!(printed, texts);
    assert!(
        output.starts_with("\x1b7") && output.ends_with("\x1b8"),
        "{output:?}"
    );
}

#[test]
fn a_hostile_lead_gets_its_checked_links_and_nothing_of_its_text_escapes() {
    let app = details_of(vec![hostile()]);
    assert_snapshot!(draw(&app, 80, 20));
    let urls: Vec<String> = links(&app).into_iter().map(|link| link.url).collect();
    // The e-mail is no address: shown neutralised, not linked.
    assert_eq!(urls, ["tel:+15550000002", "https://wa.me/15550000002"]);
    let output = osc8_output(&app, 80, 20);
    let (osc, printed) = take_apart(&output);
    assert_eq!(
        osc,
        ["tel:+15550000002", "", "https://wa.me/15550000002", ""]
    );
    assert!(
        !output.contains("evil") && !output.contains('\x07'),
        "{output:?}"
    );
    assert!(
        !printed.chars().any(crate::sanitize::is_hazard),
        "{printed:?}"
    );
}

#[test]
fn a_lead_without_a_valid_phone_has_no_phone_links() {
    let mut typed = lead(3, "Tom", 5);
    typed.meta.phone = Some("call after 6".into());
    typed.meta.phone_invalid = true;
    let app = details_of(vec![typed]);
    draw(&app, 80, 20);
    let urls: Vec<String> = links(&app).into_iter().map(|link| link.url).collect();
    assert_eq!(urls, ["mailto:tom@example.com"]);
}

#[test]
fn a_link_scrolled_out_of_the_pane_is_dropped() {
    let mut app = details_of(vec![reachable()]);
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('J'))));
    draw(&app, 80, 20);
    let urls: Vec<String> = links(&app).into_iter().map(|link| link.url).collect();
    assert_eq!(urls, ["mailto:ann.lee@example.com"]);
}
