//! The conversation's way back in a real terminal: a lead whose person consented arrives, the
//! server sends its WhatsApp first message through the outbox to the Cloud API stand-in, the
//! simulated person replies (a WhatsApp webhook signed with the App Secret, from the sim's
//! `Person`), and the dashboard of an available rep shows "… replied: …" within a second.

use std::os::unix::fs::PermissionsExt as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Timelike as _;
use leadhook_shared::meta::whatsapp::WhatsAppStatusKind;
use leadhook_sim::harness::poll_until;
use leadhook_sim::messaging_standin::{PHONE_NUMBER_ID, WHATSAPP_TOKEN};
use leadhook_sim::{
    Api, BodyStyle, LeadgenChange, MessagingFault, MessagingStandin, Person, WebhookSender,
};

use super::e2e_tmux::{APP_SECRET, REP_TOKEN, Tmux, start_server_with};

const PHONE: &str = "+4915112345678";
const FORM_ID: &str = "12312312312";

/// A fixed-offset zone where it is about noon now, so the send window is open.
fn noon_zone() -> String {
    match 12 - i64::from(chrono::Utc::now().hour()) {
        0 => "Etc/GMT".into(),
        ahead if ahead > 0 => format!("Etc/GMT-{ahead}"),
        behind => format!("Etc/GMT+{}", -behind),
    }
}

/// The channels file: the WhatsApp first message to the stand-in, for leads that consented.
fn channels(dir: &std::path::Path, standin: &MessagingStandin) -> std::path::PathBuf {
    let token = dir.join("whatsapp-token");
    std::fs::write(&token, WHATSAPP_TOKEN).expect("write the token");
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let path = dir.join("channels.toml");
    let table = format!(
        "[whatsapp.first_contact]\nphone_number_id = \"{PHONE_NUMBER_ID}\"\nsecret_file = \"{}\"\n\
         template = \"first_contact\"\nbusiness_name = \"Acme Windows\"\napi_url = \"{}\"\n\
         events = [\"lead.created\"]\ntimeout = \"2s\"\n[whatsapp.first_contact.rules]\n\
         forms = [\"all\"]\nconsent_answer = {{ field = \"contact_ok\", value = \"yes\" }}\n\
         zones = {{ DE = \"{}\" }}\n",
        token.display(),
        standin.whatsapp_api(),
        noon_zone()
    );
    std::fs::write(&path, table).expect("write the channels file");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_the_first_message_is_on_the_reps_screen_within_a_second() {
    let files = tempfile::tempdir().expect("temp dir");
    let standin = MessagingStandin::spawn(|_, _| MessagingFault::None).await;
    let path = channels(files.path(), &standin);
    let (dir, graph, server) = start_server_with(|config| {
        let loaded = leadhook_server::config::load_channels(Some(&path)).expect("valid channels");
        config.channels = loaded.map(Arc::new);
    })
    .await;
    // A 60 s poll interval: only the pushed event can bring the reply within the second.
    let tmux = Tmux::dashboard(dir.path(), &server, REP_TOKEN, "60s");
    tmux.wait_for_text("rep ● available").await;

    let page_id = graph.config().page_id.clone();
    let lead = serde_json::json!({
        "id": "555000777",
        "created_time": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S+0000").to_string(),
        "form_id": FORM_ID,
        "field_data": [
            {"name": "full_name", "values": ["Jane Doe"]},
            {"name": "phone_number", "values": [PHONE]},
            {"name": "contact_ok", "values": ["yes"]},
        ],
    });
    let leadgen_id = graph.add_lead(&page_id, FORM_ID, lead);
    WebhookSender::new(
        format!("{}/webhook", server.url),
        APP_SECRET.to_string().into(),
    )
    .expect("webhook sender")
    .send_leads(
        &[LeadgenChange {
            leadgen_id,
            page_id,
            form_id: FORM_ID.into(),
            ad_id: None,
            adgroup_id: None,
            created_time: chrono::Utc::now().timestamp(),
        }],
        &BodyStyle::default(),
    )
    .await
    .expect("the server accepts the signed webhook");
    tmux.wait_for_text("Jane Doe").await;

    // The first message goes out through the outbox to the Cloud API stand-in.
    let sent = poll_until(
        Duration::from_secs(30),
        || async { standin.arrived(Api::WhatsApp) },
        |arrived| arrived.iter().any(|a| a.id.is_some()),
    )
    .await;
    let wamid = sent
        .iter()
        .find_map(|a| a.id.clone())
        .expect("the first message was sent");
    let person = Person::new(&server.url, APP_SECRET.to_string().into());
    let delivered = person.whatsapp_status(&wamid, WhatsAppStatusKind::Delivered, PHONE, None);
    assert_eq!(delivered.await.expect("server reachable"), 200);

    let replied_at = Instant::now();
    let status = person
        .whatsapp_reply(PHONE, "Tomorrow at 10 is better")
        .await
        .expect("server reachable");
    assert_eq!(status, 200);
    let screen = poll_until(
        Duration::from_secs(1).saturating_sub(replied_at.elapsed()),
        || async { tmux.capture() },
        |screen| screen.contains("Jane Doe replied: Tomorrow at 10 is better"),
    )
    .await;
    assert!(
        screen.contains("Jane Doe replied: Tomorrow at 10 is better"),
        "the reply is not on the rep's screen 1 s after it arrived:\n{screen}"
    );
    eprintln!("reply to the rep's screen: {:?}", replied_at.elapsed());

    // The details show the conversation: our template, delivered, and her words.
    tmux.send_keys(&["g", "Enter"]);
    let details = tmux.wait_for_text("Conversation").await;
    let details = if details.contains("Tomorrow at 10") {
        details
    } else {
        tmux.wait_for_text("Tomorrow at 10").await
    };
    assert!(details.contains("delivered"), "{details}");
}
