//! The outbox's routes during a rolling deploy, on the real PostgREST 12: every running server
//! holds its own routes and the routes in force are their union, so a server started with an
//! older channels file, of this version or of the one before (which replaces the routes with
//! `outbox_set_routes` at its start), takes away no route a newer one holds.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use leadhook_local_supabase::LocalSupabase;
use leadhook_server::store::postgrest::{MIGRATIONS, PostgrestStore};
use leadhook_server::store::{EventType, LeadWrites, Outbox, Route};
use leadhook_shared::MetaFields;
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::team::actor::FACEBOOK;
use secrecy::SecretString;

const HOLD: Duration = Duration::from_secs(300);
const LEASE: Duration = Duration::from_secs(3600);

fn created(destination: &str) -> Route {
    Route {
        destination: destination.into(),
        event_type: EventType::Created,
    }
}

fn lead(leadgen_id: &str) -> IncomingLead {
    IncomingLead {
        leadgen_id: leadgen_id.to_string(),
        meta: MetaFields {
            name: Some(format!("Lead {leadgen_id}")),
            email: None,
            phone: None,
            phone_e164: None,
            phone_invalid: false,
            email_key: None,
            junk_reason: None,
            created_at: Utc::now(),
            page_id: None,
            form_id: Some("form-1".into()),
            form_name: None,
            ad_id: None,
            ad_name: None,
            adset_id: None,
            adset_name: None,
            campaign_id: None,
            campaign_name: None,
            platform: None,
            is_organic: false,
            fields: Default::default(),
        },
    }
}

/// Stores a new lead, and says which of `destinations` its `lead.created` was queued for.
async fn queued_for(
    store: &PostgrestStore,
    leadgen_id: &str,
    destinations: &[&str],
) -> BTreeSet<String> {
    let id = store
        .upsert(&lead(leadgen_id), FACEBOOK)
        .await
        .unwrap()
        .lead
        .id;
    let mut queued = BTreeSet::new();
    for destination in destinations {
        let claimed = store.outbox_claim(destination, 100, LEASE).await.unwrap();
        let mine: Vec<_> = claimed.iter().filter(|d| d.lead_id == id).collect();
        assert!(mine.len() <= 1, "one delivery per destination: {mine:?}");
        if !mine.is_empty() {
            queued.insert(destination.to_string());
        }
    }
    queued
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| name.to_string()).collect()
}

#[tokio::test]
async fn a_server_with_an_older_file_takes_away_no_route_a_newer_one_holds() {
    let supabase = LocalSupabase::with_migrations(MIGRATIONS).await;
    let store = PostgrestStore::new(
        &supabase.base_url,
        SecretString::from(supabase.secret_key()),
    )
    .expect("store");
    let all = ["crm", "phones", "legacy", "gone"];

    // The release before: its one server wrote crm and legacy (outbox_set_routes).
    store
        .outbox_routes(&[created("crm"), created("legacy")])
        .await
        .unwrap();
    // A server of this release starts with the newer file (crm and phones): the older
    // server's routes go, its own hold.
    store
        .outbox_hold_routes("new-a", &[created("crm"), created("phones")], HOLD, true)
        .await
        .unwrap();
    assert_eq!(queued_for(&store, "1", &all).await, set(&["crm", "phones"]));

    // A server of the release before restarts with its older file: it adds legacy back and
    // takes nothing away (before this migration it replaced every route: phones was lost).
    store
        .outbox_routes(&[created("crm"), created("legacy")])
        .await
        .unwrap();
    assert_eq!(
        queued_for(&store, "2", &all).await,
        set(&["crm", "phones", "legacy"])
    );

    // A server of this release with the older file of this release adds its routes too.
    store
        .outbox_hold_routes("new-b", &[created("gone")], Duration::from_secs(1), false)
        .await
        .unwrap();
    assert_eq!(
        queued_for(&store, "3", &all).await,
        set(&["crm", "phones", "legacy", "gone"])
    );

    // That server stops (it renews no more): its routes end with its hold, at the next renewal
    // of any server. A renewal leaves the older server's routes; a start drops them.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    store
        .outbox_hold_routes("new-a", &[created("crm"), created("phones")], HOLD, false)
        .await
        .unwrap();
    assert_eq!(
        queued_for(&store, "4", &all).await,
        set(&["crm", "phones", "legacy"])
    );
    store
        .outbox_hold_routes("new-c", &[created("phones")], HOLD, true)
        .await
        .unwrap();
    assert_eq!(queued_for(&store, "5", &all).await, set(&["crm", "phones"]));

    // A server without channels holds nothing and takes nothing from the others.
    store
        .outbox_hold_routes("bare", &[], HOLD, true)
        .await
        .unwrap();
    assert_eq!(queued_for(&store, "6", &all).await, set(&["crm", "phones"]));
}

/// This release on a store without 20261207212000 (the operator has not run it yet): its routes
/// are written as the release before wrote them, so its channels still get their events.
#[tokio::test]
async fn without_the_migration_a_server_still_writes_its_routes_as_before() {
    let without: Vec<(&str, &str)> = MIGRATIONS
        .iter()
        .filter(|(file, _)| !file.contains("outbox_routes_per_server"))
        .copied()
        .collect();
    assert_eq!(without.len(), MIGRATIONS.len() - 1);
    let supabase = LocalSupabase::with_migrations(Box::leak(without.into_boxed_slice())).await;
    let store = PostgrestStore::new(
        &supabase.base_url,
        SecretString::from(supabase.secret_key()),
    )
    .expect("store");
    store
        .outbox_hold_routes("new-a", &[created("phones")], HOLD, true)
        .await
        .unwrap();
    assert_eq!(
        queued_for(&store, "1", &["phones", "crm"]).await,
        set(&["phones"])
    );
}

/// The Supabase table the outbox's trigger reads is the server's `EventType::activity_kinds`.
#[tokio::test]
async fn the_event_kinds_table_is_the_servers_mapping() {
    let database = leadhook_local_supabase::TestDatabase::migrated(MIGRATIONS).await;
    let client = database.connect().await;
    let rows = client
        .query("SELECT kind, event_type FROM outbox_event_kinds", &[])
        .await
        .unwrap();
    let in_the_table: BTreeSet<(String, String)> =
        rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    let in_the_server: BTreeSet<(String, String)> = EventType::by_activity_kind()
        .map(|(kind, event)| (kind.as_str().to_string(), event.as_str().to_string()))
        .collect();
    assert_eq!(in_the_table, in_the_server);
}
