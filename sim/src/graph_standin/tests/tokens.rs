//! Subscriptions, access tokens, `appsecret_proof` and `debug_token`.

use super::*;

#[tokio::test]
async fn subscribes_pages_to_leadgen() {
    let standin = GraphStandin::spawn(StandinConfig {
        subscribed: false,
        ..StandinConfig::default()
    })
    .await
    .unwrap();
    let client = Client::new(&standin);
    let edge = format!("{DEFAULT_PAGE_ID}/subscribed_apps");
    assert_eq!(client.get(&edge, &[]).await.2, json!({"data": []}));

    let post = |query: &'static [(&'static str, &'static str)]| {
        client
            .http
            .post(format!("{}/{edge}", client.base))
            .query(&[("access_token", client.token.as_str())])
            .query(query)
    };
    assert_meta_error(&send(post(&[])).await, 100, None);
    let (status, _, body) = send(post(&[("subscribed_fields", "leadgen")])).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    let (_, _, body) = client.get(&edge, &[]).await;
    let config = standin.config();
    assert_eq!(body["data"][0]["id"], config.app_id.as_str());
    assert_eq!(body["data"][0]["name"], config.app_name.as_str());
    assert_eq!(body["data"][0]["subscribed_fields"], json!(["leadgen"]));

    // Parameters in a form body work too, as with Meta.
    let form = client.http.post(format!("{}/{edge}", client.base)).form(&[
        ("access_token", client.token.as_str()),
        ("subscribed_fields", "leadgen,feed"),
    ]);
    assert_eq!(send(form).await.2, json!({"success": true}));
    assert_eq!(
        client.get(&edge, &[]).await.2["data"][0]["subscribed_fields"],
        json!(["leadgen", "feed"])
    );

    standin.set_subscribed(DEFAULT_PAGE_ID, false);
    assert_eq!(client.get(&edge, &[]).await.2, json!({"data": []}));
    assert_eq!(standin.calls(CallKind::SubscribedApps), 7);
}

#[tokio::test]
async fn checks_the_access_token_on_every_call() {
    let standin = standin().await;
    let id = standin.add_lead(DEFAULT_PAGE_ID, "1", json!({}));
    let client = Client::new(&standin);
    let url = format!("{}/{id}", client.base);
    assert_meta_error(&send(client.http.get(&url)).await, 190, None);
    assert_meta_error(
        &send(client.http.get(&url).query(&[("access_token", "EAAwrong")])).await,
        190,
        None,
    );
    let (status, _, _) = send(client.http.get(&url).bearer_auth(&client.token)).await;
    assert_eq!(status, StatusCode::OK);
    let app_token = format!("{}|simulated-app-secret", standin.config().app_id);
    assert_meta_error(
        &send(client.http.get(&url).query(&[("access_token", &app_token)])).await,
        190,
        None,
    );
    assert_meta_error(&client.get("debug_token", &[]).await, 100, None);
}

#[tokio::test]
async fn checks_appsecret_proof_when_required() {
    let standin = GraphStandin::spawn(StandinConfig {
        require_appsecret_proof: true,
        ..StandinConfig::default()
    })
    .await
    .unwrap();
    let client = Client::new(&standin);
    let missing = client.get("me", &[]).await;
    assert_meta_error(&missing, 100, None);
    assert_eq!(missing.2["error"]["type"], "GraphMethodException");
    assert_meta_error(
        &client.get("me", &[("appsecret_proof", "00")]).await,
        100,
        None,
    );
    let proof =
        signature::sign(b"simulated-app-secret", client.token.as_bytes()).replace("sha256=", "");
    assert_eq!(
        client.get("me", &[("appsecret_proof", &proof)]).await.0,
        StatusCode::OK
    );
}

/// A client calling with the app token `<app_id>|<app_secret>`.
fn app_client(standin: &GraphStandin) -> Client {
    let config = standin.config();
    let token = format!("{}|{}", config.app_id, config.app_secret.expose_secret());
    Client {
        token,
        ..Client::new(standin)
    }
}

async fn debug_token(standin: &GraphStandin) -> Value {
    let input_token = standin.config().page_token.as_str();
    let (status, _, body) = app_client(standin)
        .get("debug_token", &[("input_token", input_token)])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn debug_token_reports_each_token_state() {
    let standin = standin().await;
    let id = standin.add_lead(DEFAULT_PAGE_ID, "1", json!({}));
    let client = Client::new(&standin);

    let valid = debug_token(&standin).await;
    assert_eq!(valid["type"], "PAGE");
    assert_eq!(valid["is_valid"], true);
    assert_eq!(valid["expires_at"], 0);
    assert_eq!(valid["profile_id"], DEFAULT_PAGE_ID);
    assert_eq!(valid["app_id"], standin.config().app_id.as_str());
    assert!(
        valid["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("leads_retrieval"))
    );

    standin.set_token_state(TokenState::ShortLived);
    let expires_in =
        debug_token(&standin).await["expires_at"].as_i64().unwrap() - Utc::now().timestamp();
    assert!((3000..=3600).contains(&expires_in), "{expires_in}");
    assert_eq!(client.get(&id, &[]).await.0, StatusCode::OK);

    standin.set_token_state(TokenState::Expired);
    let expired = debug_token(&standin).await;
    assert_eq!(expired["is_valid"], false);
    assert_eq!(expired["error"]["subcode"], 463);
    assert!(expired["expires_at"].as_i64().unwrap() < Utc::now().timestamp());
    assert_meta_error(&client.get(&id, &[]).await, 190, Some(463));

    standin.set_token_state(TokenState::MissingScopes(vec!["leads_retrieval".into()]));
    let missing = debug_token(&standin).await;
    assert!(
        !missing["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("leads_retrieval"))
    );
    assert_meta_error(&client.get(&id, &[]).await, 200, None);
    assert_meta_error(&client.get("1/leads", &[]).await, 200, None);

    standin.set_token_state(TokenState::Valid);
    standin.set_leads_readable(false);
    assert_meta_error(&client.get(&id, &[]).await, 100, Some(33));
    assert_meta_error(&client.get("1/leads", &[]).await, 100, Some(33));

    let garbage = app_client(&standin)
        .get("debug_token", &[("input_token", "garbage")])
        .await
        .2;
    assert_eq!(garbage["data"]["is_valid"], false);
    assert_eq!(standin.calls(CallKind::DebugToken), 5);
}
