//! Injected errors, rate limits, stalls, hangs and delays.

use super::*;

#[tokio::test]
async fn injected_errors_follow_meta_and_heal() {
    let standin = standin().await;
    let id = standin.add_lead(DEFAULT_PAGE_ID, "1", json!({}));
    let client = Client::new(&standin);

    standin.fail_all(GraphFault::rate_limited(80005, 7));
    let limited = client.get(&id, &[]).await;
    assert_meta_error(&limited, 80005, None);
    assert_eq!(limited.2["error"]["is_transient"], true);
    let usage: Value =
        serde_json::from_str(limited.1["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(
        usage[DEFAULT_PAGE_ID][0]["estimated_time_to_regain_access"],
        7
    );
    assert!(limited.1.contains_key("x-app-usage"));

    for (fault, code, subcode) in [
        (GraphFault::transient(2), 2, None),
        (GraphFault::invalid_token(Some(460)), 190, Some(460)),
        (GraphFault::unreadable(), 100, Some(33)),
        (GraphFault::permission(10), 10, None),
    ] {
        standin.fail_all(fault);
        assert_meta_error(&client.get(&id, &[]).await, code, subcode);
        assert_meta_error(
            &client.get("debug_token", &[("input_token", "x")]).await,
            code,
            subcode,
        );
    }
    standin.fail_all(GraphFault::server_error());
    let (status, _, body) = client.get(&id, &[]).await;
    assert_eq!(
        (status, body["error"]["code"].as_u64()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some(1))
    );

    standin.heal();
    assert_eq!(client.get(&id, &[]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn fails_a_seeded_fraction_of_calls() {
    let standin = standin().await;
    let id = standin.add_lead(DEFAULT_PAGE_ID, "1", json!({}));
    let client = Client::new(&standin);
    standin.fail_ratio(
        0.5,
        vec![GraphFault::transient(1), GraphFault::rate_limited(4, 1)],
        9,
    );
    let mut codes = BTreeMap::new();
    for _ in 0..60 {
        let (_, _, body) = client.get(&id, &[]).await;
        *codes
            .entry(body["error"]["code"].as_u64().unwrap_or(0))
            .or_insert(0) += 1;
    }
    assert_eq!(
        codes.keys().copied().collect::<Vec<_>>(),
        [0, 1, 4],
        "{codes:?}"
    );
    assert!((15..=45).contains(&codes[&0]), "{codes:?}");
    assert_eq!(standin.lead_fetches(), 60);
    assert_eq!(standin.total_calls(), 60);
}

#[tokio::test]
async fn stalls_lead_reads_until_released() {
    let standin = standin().await;
    let id = standin.add_lead(DEFAULT_PAGE_ID, "1", json!({}));
    let client = Client::new(&standin);
    standin.stall();
    let pending = tokio::spawn({
        let request = client
            .http
            .get(format!("{}/{id}", client.base))
            .query(&[("access_token", &client.token)]);
        async move { send(request).await.0 }
    });
    while standin.lead_fetches() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        client.get("me", &[]).await.0,
        StatusCode::OK,
        "only lead reads stall"
    );
    assert_eq!(
        standin.lead_reads_in_flight(),
        1,
        "the lead read is held while a later call was answered"
    );
    assert!(!pending.is_finished());
    standin.release();
    assert_eq!(pending.await.unwrap(), StatusCode::OK);
}

#[tokio::test]
async fn hangs_and_delays_on_request() {
    let standin = standin().await;
    let id = standin.add_lead(DEFAULT_PAGE_ID, "1", json!({}));
    let client = Client::new(&standin);
    standin.fail_all(GraphFault::Hang);
    let timed_out = client
        .http
        .get(format!("{}/{id}", client.base))
        .query(&[("access_token", &client.token)])
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(timed_out.is_err_and(|error| error.is_timeout()));

    standin.fail_all(GraphFault::Delay(Duration::from_millis(150)));
    let started = std::time::Instant::now();
    assert_eq!(client.get(&id, &[]).await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn shuts_down_even_with_a_hanging_call() {
    let standin = standin().await;
    let url = format!(
        "{}/{VERSION}/me?access_token={}",
        standin.base_url(),
        standin.config().page_token
    );
    standin.fail_all(GraphFault::Hang);
    let hanging = tokio::spawn(reqwest::get(url.clone()));
    while standin.total_calls() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::timeout(Duration::from_secs(5), standin.shutdown())
        .await
        .unwrap();
    let _ = hanging.await;
    assert!(reqwest::get(url).await.is_err(), "nothing listens any more");
}
