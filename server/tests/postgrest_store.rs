//! The PostgREST store against the stand-in: faults and their classification, both key kinds,
//! and paging through the row cap.

use std::time::Duration;

use base64::Engine as _;
use chrono::{Duration as Age, Utc};
use leadhook_server::store::postgrest::{KeyKind, MIGRATIONS, PostgrestStore};
use leadhook_server::store::{LeadQuery, LeadStore, StoreError};
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::{Cursor, MetaFields};
use postgrest_standin::{Standin, TestDatabase};
use secrecy::SecretString;

const SECRET: &str = "sb_secret_store_tests";

struct Setup {
    store: PostgrestStore,
    standin: Standin,
    database: TestDatabase,
}

async fn database(migrated: bool) -> TestDatabase {
    if migrated {
        TestDatabase::migrated(MIGRATIONS).await
    } else {
        TestDatabase::create().await
    }
}

async fn setup_with(server_key: &str, store_key: &str, migrated: bool) -> Setup {
    let database = database(migrated).await;
    let standin = postgrest_standin::spawn(&database.url, server_key).await;
    let store =
        PostgrestStore::new(&standin.base_url, SecretString::from(store_key)).expect("build store");
    Setup {
        store,
        standin,
        database,
    }
}

async fn setup() -> Setup {
    setup_with(SECRET, SECRET, true).await
}

fn lead(leadgen_id: &str, hours_ago: i64) -> IncomingLead {
    IncomingLead {
        leadgen_id: leadgen_id.to_string(),
        meta: MetaFields {
            name: Some(format!("Lead {leadgen_id}")),
            email: None,
            phone: None,
            created_at: Utc::now() - Age::hours(hours_ago),
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

/// A legacy Supabase key: a JWT whose role claim is service_role (the signature is not checked).
fn legacy_key() -> String {
    let part = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    format!(
        "{}.{}.c2lnbmF0dXJl",
        part(r#"{"alg":"HS256","typ":"JWT"}"#),
        part(r#"{"iss":"supabase","role":"service_role"}"#)
    )
}

fn misconfigured(error: StoreError) -> (String, String) {
    match error {
        StoreError::Misconfigured { message, fix } => (message, fix),
        other => panic!("expected Misconfigured, got {other:?}"),
    }
}

#[tokio::test]
async fn answers_503_are_unavailable_until_they_stop() {
    let setup = setup().await;
    setup.store.upsert(&lead("1", 1)).await.unwrap();
    setup.standin.respond_503_for(Duration::from_millis(400));
    for error in [
        setup.store.upsert(&lead("2", 1)).await.unwrap_err(),
        setup.store.list(&LeadQuery::default()).await.unwrap_err(),
        setup.store.ping().await.unwrap_err(),
    ] {
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
        assert!(error.is_retryable());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let retried = setup.store.upsert(&lead("2", 1)).await.unwrap();
    assert!(retried.inserted, "the failed upsert wrote nothing");
}

#[tokio::test]
async fn refused_connections_are_unavailable_and_the_store_recovers() {
    let setup = setup().await;
    setup.store.ping().await.unwrap();
    setup
        .standin
        .refuse_connections_for(Duration::from_millis(600))
        .await;
    let error = setup.store.upsert(&lead("1", 1)).await.unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    assert!(error.to_string().contains(&setup.standin.base_url));
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(setup.store.upsert(&lead("1", 1)).await.unwrap().inserted);
}

#[tokio::test]
async fn a_restarted_server_is_used_again() {
    let setup = setup().await;
    let first = setup.store.upsert(&lead("1", 1)).await.unwrap().lead;
    setup.standin.restart().await;
    let fetched = setup.store.get(first.id).await.unwrap();
    assert_eq!(fetched, Some(first));
}

#[tokio::test]
async fn a_missing_grant_is_misconfigured_and_names_the_grant() {
    let setup = setup().await;
    setup.store.upsert(&lead("1", 1)).await.unwrap();
    setup
        .database
        .execute("REVOKE INSERT, UPDATE ON public.leads FROM service_role")
        .await
        .unwrap();
    let (message, fix) = misconfigured(setup.store.upsert(&lead("2", 1)).await.unwrap_err());
    assert!(
        message.contains("403") && message.contains("42501"),
        "{message}"
    );
    assert!(
        fix.contains("grant") && fix.contains("service_role"),
        "{fix}"
    );
    // Reads still work: only the revoked privileges fail.
    assert_eq!(
        setup.store.list(&LeadQuery::default()).await.unwrap().count,
        1
    );

    setup
        .database
        .execute("REVOKE EXECUTE ON FUNCTION public.lead_stats(timestamptz, timestamptz) FROM service_role")
        .await
        .unwrap();
    let window = leadhook_server::store::StatsWindow {
        today_start: Utc::now(),
        week_start: Utc::now(),
    };
    let (_, fix) = misconfigured(setup.store.stats(window).await.unwrap_err());
    assert!(fix.starts_with("grant to service_role"), "{fix}");
}

#[tokio::test]
async fn a_wrong_key_is_misconfigured_and_never_shown() {
    let wrong = "sb_secret_not_the_one";
    let setup = setup_with(SECRET, wrong, true).await;
    for error in [
        setup.store.ping().await.unwrap_err(),
        setup.store.upsert(&lead("1", 1)).await.unwrap_err(),
    ] {
        let text = error.to_string();
        assert!(!text.contains(wrong) && !text.contains(SECRET), "{text}");
        let (message, fix) = misconfigured(error);
        assert!(message.contains("Invalid API key"), "{message}");
        assert!(fix.starts_with("wrong key"), "{fix}");
    }
}

#[tokio::test]
async fn a_legacy_key_goes_as_apikey_and_bearer() {
    let key = legacy_key();
    let setup = setup_with(&key, &key, true).await;
    assert_eq!(setup.store.key_kind(), KeyKind::LegacyJwt);
    let stored = setup.store.upsert(&lead("1", 1)).await.unwrap();
    assert!(stored.inserted);
    assert_eq!(
        setup.store.get(stored.lead.id).await.unwrap(),
        Some(stored.lead)
    );
}

#[tokio::test]
async fn a_project_without_the_migrations_says_to_run_them() {
    let setup = setup_with(SECRET, SECRET, false).await;
    for error in [
        setup.store.ping().await.unwrap_err(),
        setup.store.upsert(&lead("1", 1)).await.unwrap_err(),
    ] {
        let (message, fix) = misconfigured(error);
        assert!(message.contains("PGRST205"), "{message}");
        assert!(fix.starts_with("run the migrations"), "{fix}");
    }
}

#[tokio::test]
async fn a_wrong_url_is_misconfigured() {
    let setup = setup().await;
    let store = PostgrestStore::new(
        setup.standin.base_url.trim_end_matches("/rest/v1"),
        SecretString::from(SECRET),
    )
    .unwrap();
    let (_, fix) = misconfigured(store.ping().await.unwrap_err());
    assert!(fix.contains("SUPABASE_URL"), "{fix}");
}

#[tokio::test]
async fn lists_page_through_the_row_cap() {
    let setup = setup().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(
            setup
                .store
                .upsert(&lead(&format!("{i}"), i))
                .await
                .unwrap()
                .lead
                .id,
        );
    }
    setup.standin.set_max_rows(2);

    let newest_first = setup.store.list(&LeadQuery::default()).await.unwrap();
    assert_eq!(
        newest_first.leads.iter().map(|l| l.id).collect::<Vec<_>>(),
        ids,
        "lead i is i hours old, so they come in insertion order"
    );
    assert_eq!(newest_first.count, 7);

    let window = setup
        .store
        .list(&LeadQuery {
            limit: 4,
            offset: 2,
            ..LeadQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        window.leads.iter().map(|l| l.id).collect::<Vec<_>>(),
        ids[2..6]
    );
    assert_eq!(window.count, 7);

    let changes = setup
        .store
        .list(&LeadQuery {
            since: Some(Cursor::START),
            limit: 5,
            ..LeadQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        changes.leads.iter().map(|l| l.id).collect::<Vec<_>>(),
        ids[..5]
    );
    assert_eq!(changes.count, 7, "count is of all changes after the cursor");
    let last = &changes.leads[4];
    assert_eq!(changes.cursor, Cursor::new(last.updated_at, last.id));
}

#[tokio::test]
async fn searches_with_postgrest_syntax_characters_are_literal() {
    let setup = setup().await;
    let mut odd = lead("1", 1);
    odd.meta.name = Some(r#"O'Neil, "Jr." (50%_off) a\b*c"#.into());
    setup.store.upsert(&odd).await.unwrap();
    setup.store.upsert(&lead("2", 2)).await.unwrap();
    let search = |text: &str| LeadQuery {
        search: Some(text.into()),
        ..LeadQuery::default()
    };
    for text in [
        "o'neil, \"jr.\"",
        "(50%_off)",
        r"a\b",
        "b*c",
        "jr.\" (5",
        "\"",
    ] {
        let page = setup.store.list(&search(text)).await.unwrap();
        assert_eq!(page.count, 1, "{text:?}");
    }
    for text in ["50%off", "5_%", r"a\\b", "o_neil"] {
        let page = setup.store.list(&search(text)).await.unwrap();
        assert_eq!(page.count, 0, "{text:?}");
    }
}

#[tokio::test]
async fn concurrent_writes_never_share_a_cursor_position() {
    let setup = setup().await;
    let store = std::sync::Arc::new(setup.store);
    let writers: Vec<_> = (0..20)
        .map(|i| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move { store.upsert(&lead(&format!("{i}"), 1)).await })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
    let changes = store
        .list(&LeadQuery {
            since: Some(Cursor::START),
            ..LeadQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(changes.leads.len(), 20);
    let stamps: Vec<_> = changes.leads.iter().map(|l| l.updated_at).collect();
    assert!(
        stamps.windows(2).all(|pair| pair[0] < pair[1]),
        "updated_at is strictly increasing: {stamps:?}"
    );
}
