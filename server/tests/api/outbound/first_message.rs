//! The person's first message end to end: the real server (port 0) sends it through the outbox
//! to the WhatsApp and SMS stand-ins of the simulator, once per person; faults: a 500 and a 429
//! with `Retry-After` (retried, one message), and the server SIGKILLed mid-send (never sent
//! again; the message and the lead's history say "unknown").

use std::path::Path;
use std::time::Duration;

use chrono::{Timelike, Utc};
use leadhook_sim::harness::poll_until;
use leadhook_sim::messaging_standin::{PHONE_NUMBER_ID, TWILIO_SID, TWILIO_TOKEN, WHATSAPP_TOKEN};
use leadhook_sim::{Api, MessagingFault, MessagingStandin, ServerProcess};
use serde_json::Value;

use super::{secret_file, spawn_with_file, write_channels};
use crate::helpers::{
    FORM_ID, PAGE_ID, REP_TOKEN, TestApp, graph_lead, notification, post_signed, server_binary,
    settings, spawn_graph,
};

const PHONE: &str = "+4915112345678";

/// A fixed-offset zone where it is about noon now, so the send window (08:00-21:00) is open
/// whenever the test runs.
fn noon_zone() -> String {
    let offset = 12 - i64::from(Utc::now().hour());
    match offset {
        0 => "Etc/GMT".into(),
        // The Etc zones' signs are POSIX's: Etc/GMT-3 is three hours ahead of UTC.
        ahead if ahead > 0 => format!("Etc/GMT-{ahead}"),
        behind => format!("Etc/GMT+{}", -behind),
    }
}

fn rules() -> String {
    format!(
        "forms = [\"all\"]\nconsent_answer = {{ field = \"contact_ok\", value = \"yes\" }}\n\
         zones = {{ DE = \"{}\" }}\n",
        noon_zone()
    )
}

fn whatsapp_table(dir: &Path, standin: &MessagingStandin) -> String {
    let token = secret_file(dir, "whatsapp-token", WHATSAPP_TOKEN);
    format!(
        "[whatsapp.first_contact]\nphone_number_id = \"{PHONE_NUMBER_ID}\"\nsecret_file = \"{}\"\n\
         template = \"first_contact\"\nbusiness_name = \"Acme Windows\"\napi_url = \"{}\"\n\
         events = [\"lead.created\"]\ntimeout = \"2s\"\n[whatsapp.first_contact.rules]\n{}",
        token.display(),
        standin.whatsapp_api(),
        rules()
    )
}

fn sms_table(dir: &Path, standin: &MessagingStandin) -> String {
    let token = secret_file(dir, "twilio-token", TWILIO_TOKEN);
    format!(
        "[sms.first_text]\naccount_sid = \"{TWILIO_SID}\"\nsecret_file = \"{}\"\n\
         from = \"+15550001111\"\nbody = \"Hi {{first_name}}, thanks for asking about \
         {{form_name}}. Reply STOP to opt out.\"\nbusiness_name = \"Acme Windows\"\n\
         api_url = \"{}\"\nevents = [\"lead.created\"]\n[sms.first_text.rules]\n{}",
        token.display(),
        standin.base,
        rules()
    )
}

fn person(leadgen_id: &str, name: &str) -> Value {
    graph_lead(
        leadgen_id,
        &[
            ("full_name", &[name]),
            ("phone_number", &[PHONE]),
            ("contact_ok", &["yes"]),
        ],
    )
}

async fn spawn(table: String, dir: &Path) -> TestApp {
    spawn_with_file(write_channels(dir, &table)).await
}

async fn api(client: &reqwest::Client, base: &str, path: &str) -> Value {
    client
        .get(format!("{base}{path}"))
        .bearer_auth(REP_TOKEN)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

/// The lead's newest delivery, once it is settled: (state, reason).
async fn settled(client: &reqwest::Client, base: &str, lead_id: i64) -> (String, String) {
    let path = format!("/api/leads/{lead_id}/deliveries");
    let found = poll_until(
        Duration::from_secs(30),
        || async { api(client, base, &path).await },
        // Newest first: a repeat's list holds its person's earlier deliveries after its own.
        |answer| {
            answer["data"][0]["state"]
                .as_str()
                .is_some_and(|s| s != "queued")
        },
    )
    .await;
    let delivery = &found["data"][0];
    (
        delivery["state"].as_str().unwrap_or_default().to_string(),
        delivery["reason"].as_str().unwrap_or_default().to_string(),
    )
}

/// The lead's `message` history rows.
async fn history(client: &reqwest::Client, base: &str, lead_id: i64) -> Vec<String> {
    let answer = api(client, base, &format!("/api/leads/{lead_id}/activity")).await;
    answer["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|row| row["kind"] == "message")
        .map(|row| row["new"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_new_lead_gets_its_whatsapp_template_once_and_a_repeat_of_the_person_nothing() {
    let standin = MessagingStandin::spawn(|_, _| MessagingFault::None).await;
    let dir = tempfile::tempdir().expect("dir");
    let app = spawn(whatsapp_table(dir.path(), &standin), dir.path()).await;
    app.graph
        .add_lead(PAGE_ID, FORM_ID, person("1234567890128801", "Jane Doe"));
    let first = app.deliver_first("1234567890128801").await;
    let arrived = poll_until(
        Duration::from_secs(10),
        || async { standin.arrived(Api::WhatsApp) },
        |arrived| arrived.iter().any(|a| a.status == 200),
    )
    .await;
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    let body = &arrived[0].body;
    assert_eq!(body["to"], PHONE.trim_start_matches('+'));
    assert_eq!(body["template"]["name"], "first_contact");
    let parameters: Vec<&str> = body["template"]["components"][0]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["text"].as_str())
        .collect();
    assert_eq!(parameters[0], "Jane");
    assert_eq!(parameters[3], "Acme Windows");
    assert_eq!(settled(&app.client, &app.address, first.id).await.0, "sent");

    // The same person submits again: the store says they were messaged; nothing goes out.
    app.graph
        .add_lead(PAGE_ID, FORM_ID, person("1234567890128802", "Jane Doe"));
    let announced = app.post_signed(&notification(&["1234567890128802"])).await;
    assert_eq!(announced.status(), 200);
    let repeat = app
        .wait_for_leads(2)
        .await
        .into_iter()
        .find(|lead| lead.leadgen_id.as_deref() == Some("1234567890128802"))
        .expect("the repeat is stored");
    assert_eq!(repeat.person_id(), first.id, "one person");
    let (state, reason) = settled(&app.client, &app.address, repeat.id).await;
    assert_eq!(state, "dropped");
    assert!(reason.contains("messaged already"), "{reason}");
    assert_eq!(standin.arrived(Api::WhatsApp).len(), 1);
    let notes = history(&app.client, &app.address, repeat.id).await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("messaged already"), "{notes:?}");
}

#[tokio::test]
async fn a_500_and_a_429_are_retried_into_one_sms() {
    let standin = MessagingStandin::spawn(|_, n| match n {
        1 => MessagingFault::Status(500),
        2 => MessagingFault::Throttle(3),
        _ => MessagingFault::None,
    })
    .await;
    let dir = tempfile::tempdir().expect("dir");
    let app = spawn(sms_table(dir.path(), &standin), dir.path()).await;
    app.graph
        .add_lead(PAGE_ID, FORM_ID, person("1234567890128811", "Jane Doe"));
    let lead = app.deliver_first("1234567890128811").await;
    assert_eq!(settled(&app.client, &app.address, lead.id).await.0, "sent");
    let arrived = standin.arrived(Api::Sms);
    let statuses: Vec<u16> = arrived.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [500, 429, 201], "one message taken");
    assert!(
        arrived[2].at - arrived[1].at >= Duration::from_secs(3),
        "the retry waited for Retry-After: {:?}",
        arrived[2].at - arrived[1].at
    );
    let sms = &arrived[2].body;
    assert_eq!(sms["To"], PHONE);
    assert_eq!(sms["From"], "+15550001111");
    let text = sms["Body"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("Hi Jane, thanks for asking about ")
            && text.ends_with(". Reply STOP to opt out."),
        "{text}"
    );
}

#[tokio::test]
async fn a_server_killed_mid_send_never_sends_the_first_message_again() {
    let graph = spawn_graph().await;
    let standin = MessagingStandin::spawn(|_, _| MessagingFault::None).await;
    standin.hold(true);
    let leadgen_id = "1234567890128821";
    graph.add_lead(PAGE_ID, FORM_ID, person(leadgen_id, "Jane Doe"));
    let data_dir = tempfile::tempdir().expect("dir");
    let config_dir = tempfile::tempdir().expect("dir");
    let path = write_channels(
        config_dir.path(),
        &whatsapp_table(config_dir.path(), &standin),
    );
    let mut env = settings().env(&graph.base_url(), data_dir.path());
    env.push(("LEADHOOK_CHANNELS", path.display().to_string()));
    let server = ServerProcess::start(&server_binary(), env.clone())
        .await
        .expect("start");
    let client = reqwest::Client::new();
    let answer = post_signed(&client, &server.base_url(), notification(&[leadgen_id]))
        .await
        .expect("webhook");
    assert_eq!(answer.status(), 200);
    let arrived = poll_until(
        Duration::from_secs(30),
        || async { standin.arrived(Api::WhatsApp).len() },
        |&n| n >= 1,
    )
    .await;
    assert_eq!(arrived, 1, "{}", server.log());
    server.kill().expect("SIGKILL");
    standin.hold(false);

    let server = ServerProcess::start(&server_binary(), env)
        .await
        .expect("restart");
    let base = server.base_url();
    let leads = api(&client, &base, "/api/leads").await;
    let lead_id = leads["data"][0]["id"].as_i64().expect("the lead");
    let (state, reason) = settled(&client, &base, lead_id).await;
    assert_eq!(state, "failed", "{reason}\n{}", server.log());
    assert!(reason.contains("may or may not have arrived"), "{reason}");
    let notes = history(&client, &base, lead_id).await;
    assert!(
        notes.iter().any(|note| note.contains("unknown")),
        "{notes:?}"
    );
    // Give a wrong resend every chance to happen: the lease of the killed claim is long over.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        standin.arrived(Api::WhatsApp).len(),
        1,
        "never sent twice\n{}",
        server.log()
    );
}
