//! Lead reads under load: how many are in flight at once, and a set answer latency.

use super::*;

/// Starts a read of lead `id` on its own connection; the task ends with its status.
fn read_lead(client: &Client, id: &str) -> tokio::task::JoinHandle<StatusCode> {
    let request = client
        .http
        .get(format!("{}/{id}", client.base))
        .query(&[("access_token", &client.token)]);
    tokio::spawn(async move { send(request).await.0 })
}

/// Waits until the stand-in has seen `count` lead reads in all.
async fn until_lead_fetches(standin: &GraphStandin, count: u64) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while standin.lead_fetches() < count {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the lead reads arrive");
}

#[tokio::test]
async fn peak_of_lead_reads_in_flight_is_the_most_held_at_once() {
    let standin = standin().await;
    let id = standin.add_lead(DEFAULT_PAGE_ID, "1", json!({}));
    let client = Client::new(&standin);
    assert_eq!(standin.peak_lead_reads_in_flight(), 0);

    standin.stall();
    let held: Vec<_> = (0..6).map(|_| read_lead(&client, &id)).collect();
    until_lead_fetches(&standin, 6).await;
    assert_eq!(standin.lead_reads_in_flight(), 6);
    assert_eq!(client.get("me", &[]).await.0, StatusCode::OK);
    assert_eq!(
        (
            standin.lead_reads_in_flight(),
            standin.peak_lead_reads_in_flight()
        ),
        (6, 6),
        "only lead reads count"
    );
    standin.release();
    for read in held {
        assert_eq!(read.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(standin.lead_reads_in_flight(), 0);

    // Fewer at once later: the peak stays the most there ever were.
    standin.stall();
    let held: Vec<_> = (0..3).map(|_| read_lead(&client, &id)).collect();
    until_lead_fetches(&standin, 9).await;
    assert_eq!(standin.lead_reads_in_flight(), 3);
    standin.release();
    for read in held {
        assert_eq!(read.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(
        (
            standin.lead_reads_in_flight(),
            standin.peak_lead_reads_in_flight()
        ),
        (0, 6)
    );
}

#[tokio::test]
async fn lead_reads_answer_after_the_set_latency_side_by_side() {
    let standin = standin().await;
    let id = standin.add_lead(DEFAULT_PAGE_ID, "1", json!({}));
    let client = Client::new(&standin);
    // Long enough that all five reads arrive before the first is answered.
    let latency = Duration::from_secs(1);
    standin.set_lead_read_latency(latency);

    let started = std::time::Instant::now();
    let slow: Vec<_> = (0..5).map(|_| read_lead(&client, &id)).collect();
    until_lead_fetches(&standin, 5).await;
    assert_eq!(standin.lead_reads_in_flight(), 5);
    for read in slow {
        assert_eq!(read.await.unwrap(), StatusCode::OK);
    }
    assert!(started.elapsed() >= latency, "{:?}", started.elapsed());
    assert_eq!(
        (
            standin.lead_reads_in_flight(),
            standin.peak_lead_reads_in_flight()
        ),
        (0, 5)
    );

    standin.set_lead_read_latency(Duration::ZERO);
    let at_once = std::time::Instant::now();
    assert_eq!(client.get(&id, &[]).await.0, StatusCode::OK);
    assert!(at_once.elapsed() < latency, "{:?}", at_once.elapsed());
}
