//! Calling from the dashboard in a real terminal (tmux): with hyperlinks forced on, the details
//! of a webhook lead show its phone, `WhatsApp` and e-mail with no remnant of the OSC 8
//! sequences written over them (tmux 3.3 drops OSC 8, as terminals without it should), and `o`
//! says why it opens nothing instead of launching a program. What the dashboard wrote to the
//! pane is recorded too: the links went out, each to an address built from checked parts.

use std::time::Duration;

use leadhook_sim::harness::poll_until;

use super::e2e_tmux::{REP_TOKEN, Tmux, announce_lead, dashboard_binary, start_server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_leave_no_remnant_on_screen_and_o_says_why_it_opens_nothing() {
    let (dir, graph, server) = start_server().await;
    let binary = dashboard_binary().to_string_lossy().into_owned();
    let command = [
        "env",
        "LEADHOOK_HYPERLINKS=on",
        "LEADHOOK_OPEN=off",
        binary.as_str(),
        "--server",
        &server.url,
        "--interval",
        "300ms",
        "--no-notify",
    ];
    let tmux = Tmux::start(dir.path(), REP_TOKEN, &command);
    tmux.wait_for_text("synced").await;
    let (leadgen_id, name) = announce_lead(&graph, &server, 4).await;
    let shown: String = name.chars().take(14).collect();
    tmux.wait_for_text(&shown).await;
    let lead = server.lead_by_leadgen_id(&leadgen_id).await;
    assert!(
        lead.meta.phone_e164.is_some(),
        "the fake lead of seed 4 has a valid phone: {:?}",
        lead.meta.phone
    );

    let raw = dir.path().join("pane.raw");
    tmux.record_output(&raw);
    tmux.send_keys(&["g", "Enter"]);
    let screen = tmux.wait_for_text("· WhatsApp").await;
    let email = lead
        .meta
        .email
        .as_deref()
        .expect("the fake lead has an e-mail");
    let screen = if screen.contains(email) {
        screen
    } else {
        tmux.wait_for_text(email).await
    };
    for remnant in ["8;;", "tel:", "wa.me", "mailto:", "\\"] {
        assert!(
            !screen.contains(remnant),
            "{remnant:?} on screen:\n{screen}"
        );
    }

    let e164 = lead.meta.phone_e164.as_deref().unwrap_or_default();
    let expected = [
        format!("\x1b]8;;tel:{e164}\x1b\\"),
        format!("\x1b]8;;https://wa.me/{}\x1b\\", &e164[1..]),
        "\x1b]8;;mailto:".to_string(),
        "\x1b]8;;\x1b\\".to_string(),
    ];
    let written = poll_until(
        Duration::from_secs(20),
        || async { std::fs::read(&raw).unwrap_or_default() },
        |bytes| {
            let text = String::from_utf8_lossy(bytes);
            expected.iter().all(|link| text.contains(link.as_str()))
        },
    )
    .await;
    let written = String::from_utf8_lossy(&written);
    for link in &expected {
        let start: String = written.chars().take(600).collect();
        assert!(
            written.contains(link.as_str()),
            "{link:?} not written; the output began {start:?}"
        );
    }

    tmux.send_keys(&["o"]);
    tmux.wait_for_text("LEADHOOK_OPEN is off").await;
}
