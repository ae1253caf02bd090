//! The local Supabase answers like Supabase's gateway in front of the real PostgREST.

use std::time::Duration;

use leadhook_local_supabase::LocalSupabase;
use serde_json::{Value, json};

/// One table, granted to service_role only, as leadhook's migrations do.
const SCHEMA: &[(&str, &str)] = &[(
    "items.sql",
    "create table public.items (id int primary key, name text);
     insert into public.items values (1, 'one');
     grant select on public.items to service_role;",
)];

async fn get(supabase: &LocalSupabase, path: &str, apikey: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", supabase.base_url));
    if let Some(key) = apikey {
        request = request.header("apikey", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn keys_are_checked_and_turned_into_roles() {
    let supabase = LocalSupabase::with_migrations(SCHEMA).await;
    let rows = json!([{"id": 1, "name": "one"}]);

    let (status, body) = get(&supabase, "/items", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "No API key found in request", "{body}");
    assert!(body.get("code").is_none(), "{body}");

    let (status, body) = get(&supabase, "/items", Some("sb_secret_wrong")).await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "Invalid API key", "{body}");

    for key in [supabase.secret_key(), supabase.legacy_service_role_key()] {
        assert_eq!(
            get(&supabase, "/items", Some(key)).await,
            (200, rows.clone())
        );
    }
    let (status, body) = get(&supabase, "/items", Some(supabase.legacy_anon_key())).await;
    assert_eq!((status, &body["code"]), (401, &json!("42501")), "{body}");
}

#[tokio::test]
async fn only_rest_v1_is_routed() {
    let supabase = LocalSupabase::with_migrations(SCHEMA).await;
    let outside = supabase.base_url.trim_end_matches("/rest/v1");
    let response = reqwest::Client::new()
        .get(format!("{outside}/items"))
        .header("apikey", supabase.secret_key())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn faults_come_and_go() {
    let supabase = LocalSupabase::with_migrations(SCHEMA).await;
    let key = supabase.secret_key();
    supabase.faults.respond_503_for(Duration::from_millis(300));
    assert_eq!(get(&supabase, "/items", Some(key)).await.0, 503);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(get(&supabase, "/items", Some(key)).await.0, 200);

    supabase.faults.stop().await;
    let refused = reqwest::Client::new()
        .get(format!("{}/items", supabase.base_url))
        .send()
        .await;
    // Refused, as a rule; on a loaded machine a connect to a just-closed loopback port can also
    // end another way (a TCP self-connect), but never in an answer.
    assert!(
        refused.is_err(),
        "the stopped front door answered: {refused:?}"
    );
    supabase.faults.start().await;
    assert_eq!(get(&supabase, "/items", Some(key)).await.0, 200);
}

/// PostgREST finds functions through its schema cache: one created after it started is unknown
/// (404 PGRST202) until the cache is reloaded.
#[tokio::test]
async fn a_schema_reload_makes_new_functions_callable() {
    let supabase = LocalSupabase::with_migrations(SCHEMA).await;
    supabase
        .database
        .execute(
            "create function public.answer() returns int language sql as 'select 42';
             grant execute on function public.answer() to service_role;",
        )
        .await
        .unwrap();
    let call = || async {
        let response = reqwest::Client::new()
            .post(format!("{}/rpc/answer", supabase.base_url))
            .header("apikey", supabase.secret_key())
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().await.unwrap())
    };
    let (status, body) = call().await;
    assert_eq!((status, &body["code"]), (404, &json!("PGRST202")), "{body}");
    supabase.reload_schema().await;
    assert_eq!(call().await, (200, json!(42)));
}
