//! Replies and statuses coming back: WhatsApp's `messages` webhooks on `/webhook` (App Secret
//! signature) and Twilio's callbacks on `/twilio/sms` (signed by Twilio's own helper library),
//! applied to the lead's conversation and history, opt-outs recorded, the owner told.

mod twilio;
mod whatsapp;

use leadhook_server::store::sqlite::SqliteStore;
use leadhook_server::store::{
    Conversations, FirstMessage, FirstStart, MessageChannel, MessageStatus, NumberHash, QueueReads,
};
use leadhook_shared::{ActivityKind, ApiOk, Conversation, Lead};
use reqwest::Response;

use crate::helpers::*;

pub const PUBLIC_URL: &str = "https://leads.example.com";
pub const TWILIO_TOKEN: &str = "twilio-auth-token-0123";
pub const JANE: &str = "+16502530000";

/// A server that checks Twilio's signatures, holding Jane's lead (phone `JANE`).
pub async fn app_with_jane() -> (TestApp, Lead) {
    let app = spawn_app_from_args(
        spawn_graph().await,
        tempfile::tempdir().expect("temp dir"),
        |args| {
            args.public_url = Some(PUBLIC_URL.into());
            args.twilio_auth_token = Some(TWILIO_TOKEN.into());
        },
        |_| {},
    )
    .await;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead(
            "555000901",
            &[
                ("full_name", &["Jane Doe"]),
                ("phone_number", &["+1 650-253-0000"]),
            ],
        ),
    );
    let lead = app.deliver_first("555000901").await;
    assert_eq!(lead.meta.phone_e164.as_deref(), Some(JANE));
    (app, lead)
}

/// The server's own store file, opened beside it (as the first-message sender writes it).
pub async fn store_of(app: &TestApp) -> SqliteStore {
    SqliteStore::open(&app.data_dir().join("leads.db"))
        .await
        .expect("the store opens beside the server")
}

/// A first message to `lead` that the provider took with id `provider_id`.
pub async fn message_sent(
    store: &SqliteStore,
    lead: &Lead,
    channel: MessageChannel,
    provider_id: &str,
) -> i64 {
    let first = FirstMessage {
        lead_id: lead.id,
        person_id: lead.person_id(),
        number: NumberHash::of(JANE),
        channel,
        delivery_id: 1,
        body: Some("Hi Jane".into()),
        template: None,
    };
    let FirstStart::Started(id) = store.first_message_start(&first).await.unwrap() else {
        panic!("the first message starts");
    };
    store
        .message_accepted(id, provider_id, MessageStatus::Sent)
        .await
        .unwrap();
    id
}

pub async fn conversation(app: &TestApp, lead: &Lead) -> Conversation {
    let response = app
        .api_get(&format!("/api/leads/{}/messages", lead.id))
        .await;
    assert_eq!(response.status(), 200);
    response.json::<ApiOk<Conversation>>().await.unwrap().data
}

pub async fn message_history(store: &SqliteStore, lead: &Lead) -> Vec<String> {
    store
        .activity(lead.id)
        .await
        .unwrap()
        .unwrap()
        .into_iter()
        .filter(|row| row.kind == ActivityKind::Message)
        .filter_map(|row| row.new)
        .collect()
}

pub async fn api_events(app: &TestApp) -> Response {
    let events = app.api_get("/api/events").await;
    assert_eq!(events.status(), 200);
    events
}

/// The simulator's person, as tests and the demo use it, against the real server.
#[tokio::test]
async fn the_simulators_person_reports_are_accepted_and_applied() {
    use leadhook_server::store::Conversations;
    use leadhook_shared::meta::whatsapp::WhatsAppStatusKind;
    use leadhook_sim::Person;

    let (app, lead) = app_with_jane().await;
    let store = store_of(&app).await;
    message_sent(&store, &lead, MessageChannel::WhatsApp, "wamid.SIM1").await;
    let person =
        Person::new(&app.address, APP_SECRET.into()).with_twilio(TWILIO_TOKEN.into(), PUBLIC_URL);
    let read = person.whatsapp_status("wamid.SIM1", WhatsAppStatusKind::Read, JANE, None);
    assert_eq!(read.await.unwrap(), 200);
    assert_eq!(
        person.whatsapp_reply(JANE, "On WhatsApp").await.unwrap(),
        200
    );
    assert_eq!(
        person
            .sms_reply(JANE, "+15550001111", "By text")
            .await
            .unwrap(),
        200
    );
    assert_eq!(
        person
            .sms_reply(JANE, "+15550001111", "STOP")
            .await
            .unwrap(),
        200
    );
    let messages = conversation(&app, &lead).await.messages;
    let rows: Vec<(&str, &str)> = messages
        .iter()
        .map(|m| (m.status.as_str(), m.body.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(
        rows,
        [
            ("read", "Hi Jane"),
            ("received", "On WhatsApp"),
            ("received", "By text"),
            ("received", "STOP")
        ]
    );
    assert!(
        store
            .opted_out(&NumberHash::of(JANE), MessageChannel::Sms)
            .await
            .unwrap()
            .is_some()
    );
    // Without Twilio's token the SMS is unsigned and refused.
    let unsigned = Person::new(&app.address, APP_SECRET.into());
    assert_eq!(
        unsigned
            .sms_reply(JANE, "+15550001111", "Hi")
            .await
            .unwrap(),
        403
    );
}
