//! The dashboard's calls for people and junk (`PUT`/`DELETE /api/leads/{id}/person`, `DELETE
//! /api/leads/{id}/junk`), against a one-request stand-in that records what it was sent: the
//! server's routes were being built beside this client, so these pin the requests and how the
//! answers and refusals are read. The real server's tests of the routes are the server's own.

use std::time::Duration;

use leadhook::client::Client;
use leadhook::client_error::ClientError;
use leadhook::config::Settings;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the stand-in received.
#[derive(Debug)]
struct Request {
    method: String,
    path: String,
    authorization: Option<String>,
    body: String,
}

/// Answers one request with `status` and `body`, and hands back what was asked.
async fn stand_in(
    status: &'static str,
    body: String,
) -> (String, tokio::task::JoinHandle<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let served = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("a request");
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).await.expect("request line");
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        let (mut length, mut authorization) = (0, None);
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).await.expect("header");
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(value.trim().to_string()),
                _ => {}
            }
        }
        let mut body_bytes = vec![0; length];
        reader.read_exact(&mut body_bytes).await.expect("body");
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = reader.into_inner();
        stream.write_all(answer.as_bytes()).await.expect("answer");
        stream.shutdown().await.expect("close");
        Request {
            method,
            path,
            authorization,
            body: String::from_utf8(body_bytes).expect("UTF-8 body"),
        }
    });
    (url, served)
}

fn client(url: String) -> Client {
    Client::new(&Settings {
        server: url,
        token: Some("lhk_test".into()),
        interval: Duration::from_secs(3),
        notify: false,
    })
}

/// Lead `id` as the server answers it, a submission of `repeat_of`'s person.
fn lead_json(id: i64, repeat_of: Option<i64>) -> String {
    serde_json::json!({
        "success": true,
        "data": {
            "id": id,
            "name": "Jane Doe",
            "created_at": "2026-03-10T14:55:00Z",
            "is_organic": false,
            "fields": {},
            "status": "New Lead",
            "is_manual": false,
            "received_at": "2026-03-10T14:55:02Z",
            "updated_at": "2026-03-10T15:00:00Z",
            "notes": null,
            "repeat_of": repeat_of,
            "junk_reason": "Meta test lead",
            "junk_cleared_at": "2026-03-10T15:00:00Z",
        }
    })
    .to_string()
}

#[tokio::test]
async fn a_merge_puts_the_other_person_and_reads_the_lead() {
    let (url, served) = stand_in("200 OK", lead_json(19, Some(12))).await;
    let lead = client(url).merge_person(19, 12).await.expect("merged");
    assert_eq!(
        (lead.id, lead.repeat_of, lead.person_id()),
        (19, Some(12), 12)
    );
    let request = served.await.expect("served");
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("PUT", "/api/leads/19/person")
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&request.body).expect("JSON"),
        serde_json::json!({"same_as": 12})
    );
    assert_eq!(request.authorization.as_deref(), Some("Bearer lhk_test"));
}

#[tokio::test]
async fn an_undone_link_and_a_cleared_flag_are_deletes() {
    let (url, served) = stand_in("200 OK", lead_json(19, None)).await;
    let lead = client(url).unlink_person(19).await.expect("unlinked");
    assert_eq!(lead.person_id(), 19);
    let request = served.await.expect("served");
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("DELETE", "/api/leads/19/person")
    );
    assert_eq!(request.body, "");

    let (url, served) = stand_in("200 OK", lead_json(14, None)).await;
    let lead = client(url).clear_junk(14).await.expect("cleared");
    assert_eq!(lead.junk(), None, "the reason stays, the flag is cleared");
    assert_eq!(lead.meta.junk_reason.as_deref(), Some("Meta test lead"));
    let request = served.await.expect("served");
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("DELETE", "/api/leads/14/junk")
    );
}

#[tokio::test]
async fn a_refusal_carries_the_servers_reason() {
    let refusal = serde_json::json!({
        "success": false,
        "error": {"code": "forbidden", "message": "bob owns this lead"}
    })
    .to_string();
    let (url, served) = stand_in("403 Forbidden", refusal).await;
    let refused = client(url).merge_person(19, 12).await;
    assert_eq!(
        refused.map(|lead| lead.id),
        Err(ClientError::Rejected {
            code: "forbidden".into(),
            message: "bob owns this lead".into()
        })
    );
    served.await.expect("served");
    // A server without the routes yet says so as a missing endpoint, like other new routes.
    let (url, served) = stand_in("404 Not Found", String::new()).await;
    let missing = client(url).clear_junk(14).await.map(|lead| lead.id);
    assert!(
        matches!(missing, Err(ClientError::NotFound(_))),
        "{missing:?}"
    );
    served.await.expect("served");
}
