//! Phones over HTTP: a lead's phone is read with its page's region (else the default) as it is
//! stored, and one that is not a number is stored, served and marked, never dropped or held.

use std::collections::HashMap;
use std::time::Duration;

use leadhook_server::config::PhoneRegions;
use leadhook_server::store::LeadWrites;
use leadhook_server::store::sqlite::SqliteStore;
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::team::actor::FACEBOOK;
use leadhook_shared::{ApiOk, Lead};
use leadhook_sim::harness::poll_until;

use crate::helpers::*;
use crate::leads_api::create_manual;

const PLACEHOLDER: &str = "<test lead: dummy data for phone_number>";

async fn app_reading_german_pages() -> TestApp {
    spawn_app_with(
        spawn_graph().await,
        tempfile::tempdir().expect("temp dir"),
        |config| {
            config.triage.regions = PhoneRegions {
                default: "US".parse().ok(),
                pages: HashMap::from([(PAGE_ID.to_string(), "DE".parse().unwrap())]),
            };
        },
    )
    .await
}

async fn served(app: &TestApp, id: i64) -> Lead {
    let response = app.api_get(&format!("/api/leads/{id}")).await;
    assert_eq!(response.status(), 200);
    response.json::<ApiOk<Lead>>().await.unwrap().data
}

#[tokio::test]
async fn a_lead_whose_phone_is_not_a_number_is_stored_and_served_marked() {
    let app = app_reading_german_pages().await;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead(
            "555000301",
            &[
                ("full_name", &["Test Lead"]),
                ("phone_number", &[PLACEHOLDER]),
            ],
        ),
    );
    let stored = app.deliver_first("555000301").await;
    assert_eq!(
        stored.meta.phone.as_deref(),
        Some(PLACEHOLDER),
        "kept as typed"
    );
    assert_eq!(stored.meta.phone_e164, None);
    assert!(stored.meta.phone_invalid);
    let lead = served(&app, stored.id).await;
    assert!(lead.meta.phone_invalid && lead.meta.phone.as_deref() == Some(PLACEHOLDER));
    let raw: serde_json::Value = app
        .api_get(&format!("/api/leads/{}", stored.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(raw["data"]["phone_invalid"], true);
    assert_eq!(raw["data"]["phone_e164"], serde_json::Value::Null);
}

#[tokio::test]
async fn phones_are_read_with_the_pages_region_else_the_default() {
    let app = app_reading_german_pages().await;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead(
            "555000302",
            &[
                ("full_name", &["Jonas"]),
                ("phone_number", &["030 1234567"]),
            ],
        ),
    );
    let stored = app.deliver_first("555000302").await;
    assert_eq!(stored.meta.phone.as_deref(), Some("030 1234567"));
    assert_eq!(stored.meta.phone_e164.as_deref(), Some("+49301234567"));
    assert!(!stored.meta.phone_invalid);

    // A manual lead has no page: the default region.
    let response = create_manual(
        &app,
        serde_json::json!({"name": "Walk-in", "phone": "(650) 253-0000"}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let manual = response.json::<ApiOk<Lead>>().await.unwrap().data;
    assert_eq!(manual.meta.phone_e164.as_deref(), Some("+16502530000"));
    assert!(!manual.meta.phone_invalid);
    assert_eq!(served(&app, manual.id).await.meta, manual.meta);

    // The normalised form is the server's: a client that sends one is refused, as any unknown key.
    let response = create_manual(
        &app,
        serde_json::json!({"name": "Spoof", "phone": "(650) 253-0000", "phone_e164": "+1"}),
    )
    .await;
    assert_eq!(response.status(), 422);
}

/// Leads stored before phones, people and junk were read (straight into the data dir, as an older
/// server left them) get their E.164, their person and their junk flag after the server has
/// started, without holding the start.
#[tokio::test]
async fn leads_stored_before_get_their_e164_person_and_junk_after_start() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&data_dir.path().join("leads.db"))
        .await
        .expect("store");
    let mut ids = Vec::new();
    for (n, phone) in ["030 1234567", PLACEHOLDER, "+49 30 1234567"]
        .into_iter()
        .enumerate()
    {
        let lead = IncomingLead {
            leadgen_id: format!("55500040{n}"),
            meta: serde_json::from_value(serde_json::json!({
                "name": "Earlier", "phone": phone, "page_id": PAGE_ID,
                "created_at": "2026-11-29T08:49:14Z", "is_organic": false, "fields": {},
            }))
            .expect("meta fields"),
        };
        ids.push(store.upsert(&lead, FACEBOOK).await.expect("stored").lead.id);
    }
    drop(store);
    rusqlite::Connection::open(data_dir.path().join("leads.db"))
        .expect("the lead file")
        .execute("UPDATE leads SET triaged = 0", [])
        .expect("as an older server left them");

    let app = spawn_app_with(spawn_graph().await, data_dir, |config| {
        config.triage.regions = PhoneRegions {
            default: "US".parse().ok(),
            pages: HashMap::from([(PAGE_ID.to_string(), "DE".parse().unwrap())]),
        };
    })
    .await;
    let read = poll_until(
        Duration::from_secs(30),
        || async {
            let mut leads = Vec::new();
            for &id in &ids {
                leads.push(served(&app, id).await);
            }
            leads
        },
        |leads: &Vec<Lead>| {
            leads
                .iter()
                .all(|lead| lead.meta.phone_e164.is_some() || lead.meta.phone_invalid)
        },
    )
    .await;
    assert_eq!(read[0].meta.phone_e164.as_deref(), Some("+49301234567"));
    assert!(read[1].meta.phone_invalid && read[1].meta.phone_e164.is_none());
    assert_eq!(
        read[1].junk(),
        Some("Meta test lead"),
        "the placeholder phone"
    );
    assert_eq!(read[0].junk(), None);
    let third = poll_until(
        Duration::from_secs(30),
        || served(&app, ids[2]),
        |lead: &Lead| lead.repeat_of.is_some(),
    )
    .await;
    assert_eq!(
        third.repeat_of,
        Some(ids[0]),
        "the same number: the same person"
    );
    assert_eq!(
        read[0].meta.phone.as_deref(),
        Some("030 1234567"),
        "kept as typed"
    );
}
