//! The PostgREST store against a local Supabase (the real PostgREST 12 behind a Supabase-like
//! gateway): faults and their classification, both key kinds, and paging through the row cap.

use std::time::Duration;

use chrono::{Duration as Age, Utc};
use leadhook_local_supabase::LocalSupabase;
use leadhook_server::store::postgrest::{KeyKind, MIGRATIONS, PostgrestStore};
use leadhook_server::store::{LeadQuery, LeadReader, LeadWrites, Routing, StoreError};
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::team::actor::FACEBOOK;
use leadhook_shared::{Assignment, Cursor, MetaFields};
use leadhook_sim::harness::poll_until;
use secrecy::SecretString;

struct Setup {
    store: PostgrestStore,
    supabase: LocalSupabase,
}

fn store_for(supabase: &LocalSupabase, key: &str) -> PostgrestStore {
    PostgrestStore::new(&supabase.base_url, SecretString::from(key)).expect("build store")
}

/// A project with the migrations, and the store using its secret key.
async fn setup() -> Setup {
    let supabase = LocalSupabase::with_migrations(MIGRATIONS).await;
    Setup {
        store: store_for(&supabase, supabase.secret_key()),
        supabase,
    }
}

fn lead(leadgen_id: &str, hours_ago: i64) -> IncomingLead {
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

fn misconfigured(error: StoreError) -> (String, String) {
    match error {
        StoreError::Misconfigured { message, fix } => (message, fix),
        other => panic!("expected Misconfigured, got {other:?}"),
    }
}

#[tokio::test]
async fn answers_503_are_unavailable_until_they_stop() {
    let setup = setup().await;
    setup.store.upsert(&lead("1", 1), FACEBOOK).await.unwrap();
    setup
        .supabase
        .faults
        .respond_503_for(Duration::from_millis(400));
    for error in [
        setup
            .store
            .upsert(&lead("2", 1), FACEBOOK)
            .await
            .unwrap_err(),
        setup.store.list(&LeadQuery::default()).await.unwrap_err(),
        setup.store.ping().await.unwrap_err(),
    ] {
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
        assert!(error.is_retryable());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let retried = setup.store.upsert(&lead("2", 1), FACEBOOK).await.unwrap();
    assert!(retried.inserted, "the failed upsert wrote nothing");
}

#[tokio::test]
async fn refused_connections_are_unavailable_and_the_store_recovers() {
    let setup = setup().await;
    setup.store.ping().await.unwrap();
    setup
        .supabase
        .faults
        .refuse_connections_for(Duration::from_millis(600))
        .await;
    let error = setup
        .store
        .upsert(&lead("1", 1), FACEBOOK)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    assert!(error.to_string().contains(&setup.supabase.base_url));
    // The front door listens again by itself: the store recovers, and the refused upsert
    // wrote nothing.
    let incoming = lead("1", 1);
    let retried = poll_until(
        Duration::from_secs(10),
        || setup.store.upsert(&incoming, FACEBOOK),
        Result::is_ok,
    )
    .await;
    assert!(retried.expect("the store recovers").inserted);
}

#[tokio::test]
async fn a_restarted_server_is_used_again() {
    let setup = setup().await;
    let first = setup
        .store
        .upsert(&lead("1", 1), FACEBOOK)
        .await
        .unwrap()
        .lead;
    setup.supabase.faults.restart().await;
    let fetched = setup.store.get(first.id).await.unwrap();
    assert_eq!(fetched, Some(first));
}

#[tokio::test]
async fn a_missing_grant_is_misconfigured_and_names_the_grant() {
    let setup = setup().await;
    setup.store.upsert(&lead("1", 1), FACEBOOK).await.unwrap();
    setup
        .supabase
        .database
        .execute("REVOKE INSERT, UPDATE ON public.leads FROM service_role")
        .await
        .unwrap();
    let (message, fix) = misconfigured(
        setup
            .store
            .upsert(&lead("2", 1), FACEBOOK)
            .await
            .unwrap_err(),
    );
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
        .supabase
        .database
        .execute("REVOKE EXECUTE ON FUNCTION public.lead_stats(timestamptz, timestamptz) FROM service_role")
        .await
        .unwrap();
    let window = leadhook_server::store::StatsWindow {
        today_start: Utc::now(),
        week_start: Utc::now(),
        now: Utc::now(),
    };
    let (_, fix) = misconfigured(setup.store.stats(window).await.unwrap_err());
    assert!(fix.starts_with("grant to service_role"), "{fix}");
}

#[tokio::test]
async fn a_wrong_key_is_misconfigured_and_never_shown() {
    let wrong = "sb_secret_not_the_one";
    let supabase = LocalSupabase::with_migrations(MIGRATIONS).await;
    let store = store_for(&supabase, wrong);
    for error in [
        store.ping().await.unwrap_err(),
        store.upsert(&lead("1", 1), FACEBOOK).await.unwrap_err(),
    ] {
        let text = error.to_string();
        assert!(
            !text.contains(wrong) && !text.contains(supabase.secret_key()),
            "{text}"
        );
        let (message, fix) = misconfigured(error);
        assert!(message.contains("Invalid API key"), "{message}");
        assert!(fix.starts_with("wrong key"), "{fix}");
    }
}

#[tokio::test]
async fn a_legacy_key_goes_as_apikey_and_bearer() {
    let supabase = LocalSupabase::with_migrations(MIGRATIONS).await;
    let store = store_for(&supabase, supabase.legacy_service_role_key());
    assert_eq!(store.key_kind(), KeyKind::LegacyJwt);
    let stored = store.upsert(&lead("1", 1), FACEBOOK).await.unwrap();
    assert!(stored.inserted);
    assert_eq!(store.get(stored.lead.id).await.unwrap(), Some(stored.lead));
}

/// The anon key is a valid key of the project, but the migrations grant anon nothing: the store
/// refuses it up front, and PostgREST denies it too.
#[tokio::test]
async fn the_anon_key_is_refused_and_denied() {
    let supabase = LocalSupabase::with_migrations(MIGRATIONS).await;
    let error = PostgrestStore::new(
        &supabase.base_url,
        SecretString::from(supabase.legacy_anon_key()),
    )
    .map(|_| ())
    .unwrap_err();
    let (message, fix) = misconfigured(error);
    assert!(message.contains("anon"), "{message}");
    assert!(fix.starts_with("wrong key"), "{fix}");

    let response = reqwest::Client::new()
        .get(format!("{}/leads?select=id", supabase.base_url))
        .header("apikey", supabase.legacy_anon_key())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "42501", "{body}");
}

#[tokio::test]
async fn a_project_without_the_migrations_says_to_run_them() {
    let supabase = LocalSupabase::builder().start().await;
    let store = store_for(&supabase, supabase.secret_key());
    assert_says_to_run_the_migrations(&store).await;
}

/// A table dropped behind the store's back (with the activity that references it), and PostgREST
/// told so (as Supabase's migrations do).
#[tokio::test]
async fn a_dropped_table_says_to_run_the_migrations() {
    let setup = setup().await;
    setup.store.upsert(&lead("1", 1), FACEBOOK).await.unwrap();
    setup
        .supabase
        .database
        .execute("DROP TABLE public.leads CASCADE")
        .await
        .unwrap();
    setup.supabase.reload_schema().await;
    assert_says_to_run_the_migrations(&setup.store).await;
}

/// PostgREST 12.0 answers a read of a missing table with 404 42P01 and a write with 404 `{}`
/// (later releases: 404 PGRST205 for both): the fix says to run the migrations either way.
async fn assert_says_to_run_the_migrations(store: &PostgrestStore) {
    let (message, fix) = misconfigured(store.ping().await.unwrap_err());
    assert!(
        message.contains("404") && (message.contains("42P01") || message.contains("PGRST205")),
        "{message}"
    );
    assert!(fix.starts_with("run the migrations"), "{fix}");
    let (message, fix) = misconfigured(store.upsert(&lead("1", 1), FACEBOOK).await.unwrap_err());
    assert!(message.contains("404"), "{message}");
    assert!(fix.contains("run the migrations"), "{fix}");
}

#[tokio::test]
async fn a_wrong_url_is_misconfigured() {
    let setup = setup().await;
    let store = PostgrestStore::new(
        setup.supabase.base_url.trim_end_matches("/rest/v1"),
        SecretString::from(setup.supabase.secret_key()),
    )
    .unwrap();
    let (_, fix) = misconfigured(store.ping().await.unwrap_err());
    assert!(fix.contains("SUPABASE_URL"), "{fix}");
}

#[tokio::test]
async fn lists_page_through_the_row_cap() {
    let supabase = LocalSupabase::builder()
        .migrations(MIGRATIONS)
        .max_rows(2)
        .start()
        .await;
    let setup = Setup {
        store: store_for(&supabase, supabase.secret_key()),
        supabase,
    };
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(
            setup
                .store
                .upsert(&lead(&format!("{i}"), i), FACEBOOK)
                .await
                .unwrap()
                .lead
                .id,
        );
    }
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
    setup.store.upsert(&odd, FACEBOOK).await.unwrap();
    setup.store.upsert(&lead("2", 2), FACEBOOK).await.unwrap();
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
            tokio::spawn(async move { store.upsert(&lead(&format!("{i}"), 1), FACEBOOK).await })
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

/// Rolling deploy: a replica of the previous release inserts without routing and then calls
/// `assign_next_rep`. That still routes its lead, taking turns with the insert's routing, and on a
/// lead the insert routed already it does nothing.
#[tokio::test]
async fn an_older_replica_still_routes_and_leaves_routed_leads_alone() {
    let setup = setup().await;
    let reps: Vec<String> = vec!["alice".into(), "bob".into()];
    let routing = Routing {
        assignment: Assignment::RoundRobin,
        reps: &reps,
        repeat_window: chrono::Duration::days(30),
    };
    let deliver = |leadgen_id: &'static str| {
        let store = &setup.store;
        async move {
            store
                .upsert_many(&[lead(leadgen_id, 1)], FACEBOOK, routing)
                .await
                .unwrap()
                .remove(0)
                .lead
        }
    };
    let routed = deliver("1").await;
    assert_eq!(routed.owner.as_deref(), Some("alice"));

    let client = setup.supabase.database.connect().await;
    let assign = "select public.assign_next_rep($1, $2)";
    let again: Option<String> = client
        .query_one(assign, &[&routed.id, &reps])
        .await
        .unwrap()
        .get(0);
    assert_eq!(again, None, "a routed lead is left alone");

    let unrouted = setup
        .store
        .upsert(&lead("2", 1), FACEBOOK)
        .await
        .unwrap()
        .lead;
    assert_eq!(unrouted.owner, None);
    let owner: Option<String> = client
        .query_one(assign, &[&unrouted.id, &reps])
        .await
        .unwrap()
        .get(0);
    assert_eq!(owner.as_deref(), Some("bob"), "the turns are shared");
    assert_eq!(deliver("3").await.owner.as_deref(), Some("alice"));
    let routed_now = setup.store.get(routed.id).await.unwrap().unwrap();
    assert_eq!(routed_now.owner.as_deref(), Some("alice"));
    assert_eq!(routed_now.updated_at, routed.updated_at, "and unchanged");

    // The routing functions are the server's alone, like the rest of the queue.
    for function in ["public.route_new_lead(text[])", "public.leads_route()"] {
        let granted = |role: &'static str| {
            let client = &client;
            async move {
                client
                    .query_one(
                        &format!(
                            "select has_function_privilege('{role}', '{function}', 'EXECUTE')"
                        ),
                        &[],
                    )
                    .await
                    .unwrap()
                    .get::<_, bool>(0)
            }
        };
        assert!(granted("service_role").await, "{function}");
        assert!(!granted("anon").await, "{function}");
        assert!(!granted("authenticated").await, "{function}");
    }
}
