//! Pages to phones end to end: the real server's outbox publishes to an ntfy stand-in
//! (`ntfy_standin`), to the topic each rep set for themselves through the API; quiet hours hold a
//! page, away reps get only escalations, and the Claim button's link claims once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use leadhook_server::claim_link::{ClaimLinks, Ticket};
use leadhook_shared::Lead;
use serde_json::{Value, json};

use super::ntfy_standin::{NtfyStandin, Publish};
use super::{HOSTILE_NAME, set_private};
use crate::helpers::{
    FORM_ID, PAGE_ID, REP_TOKEN, TestApp, TestClock, graph_lead, poll_until, spawn_app_from_args,
    spawn_graph,
};

const ALICE_TOPIC: &str = "alice-phone-7f3a9c2e41";
const NTFY_TOKEN: &str = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2";
const CLAIM_SECRET: &str = "claim-secret-0123456789abcdef0123456789abcdef";
const PUBLIC_URL: &str = "https://leads.example.com";
const BOB: &str = "bob-token-456";

struct Phones {
    app: TestApp,
    ntfy: NtfyStandin,
    _config: tempfile::TempDir,
}

/// The server with one ntfy channel, `phones`, taking `events`; its clock `clock` when given.
async fn spawn_with_ntfy(events: &[&str], clock: Option<Arc<TestClock>>) -> Phones {
    let ntfy = NtfyStandin::spawn(Some(NTFY_TOKEN)).await;
    let config = tempfile::tempdir().expect("dir");
    let token: PathBuf = config.path().join("ntfy-token");
    std::fs::write(&token, NTFY_TOKEN).expect("write the token");
    set_private(&token);
    let channels = config.path().join("channels.toml");
    std::fs::write(
        &channels,
        format!(
            "[ntfy.phones]\nserver = \"{}\"\nsecret_file = \"{}\"\nevents = {}\n",
            ntfy.url,
            token.display(),
            serde_json::to_string(events).expect("json")
        ),
    )
    .expect("write the channels file");
    let app = spawn_app_from_args(
        spawn_graph().await,
        tempfile::tempdir().expect("dir"),
        |args| {
            args.channels = Some(channels);
            args.public_url = Some(PUBLIC_URL.into());
            args.claim_secret = Some(CLAIM_SECRET.into());
        },
        move |config| {
            if let Some(clock) = clock {
                config.queue.clock = clock;
            }
        },
    )
    .await;
    Phones {
        app,
        ntfy,
        _config: config,
    }
}

impl Phones {
    async fn set_alice(&self, settings: Value) {
        let answer = self
            .app
            .client
            .put(self.app.url("/api/reps/me"))
            .bearer_auth(REP_TOKEN)
            .json(&settings)
            .send()
            .await
            .expect("put");
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    }

    /// A lead from Meta named `name`, with a US phone.
    async fn lead(&self, leadgen_id: &str, name: &str) -> Lead {
        self.app.graph.add_lead(
            PAGE_ID,
            FORM_ID,
            graph_lead(
                leadgen_id,
                &[
                    ("full_name", &[name]),
                    ("phone_number", &["+1 650-253-0000"]),
                ],
            ),
        );
        self.app.deliver_first(leadgen_id).await
    }

    /// Bob, a manager, gives `lead` to `owner` (`None`: to nobody).
    async fn assign(&self, lead: &Lead, owner: Option<&str>) {
        let answer = self
            .app
            .client
            .patch(self.app.url(&format!("/api/leads/{}", lead.id)))
            .bearer_auth(BOB)
            .json(&json!({ "owner": owner }))
            .send()
            .await
            .expect("patch");
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    }

    async fn pages_to(&self, topic: &str, count: usize) -> Vec<Publish> {
        poll_until(
            Duration::from_secs(20),
            || async { self.ntfy.to_topic(topic) },
            |pages| pages.len() >= count,
        )
        .await
    }

    /// How many of the channel's deliveries are queued (a held page is).
    async fn queued(&self) -> u64 {
        let health = self.app.health().await;
        health["outbox"]["destinations"]["phones"]["queued"]
            .as_u64()
            .unwrap_or(0)
    }
}

fn claim_token(page: &Publish) -> String {
    let actions = page.json["actions"].as_array().expect("actions");
    let claim = actions
        .iter()
        .find(|a| a["label"] == "Claim")
        .unwrap_or_else(|| panic!("a Claim action: {actions:?}"));
    assert_eq!(claim["action"], "view", "the phone opens the page: {claim}");
    claim["url"]
        .as_str()
        .and_then(|url| url.strip_prefix(&format!("{PUBLIC_URL}/claim/")))
        .expect("a claim link on the public address")
        .to_string()
}

#[tokio::test]
async fn a_lead_assigned_to_alice_reaches_her_phone_with_call_and_claim_and_hostile_text_inert() {
    let phones = spawn_with_ntfy(&["lead.created", "lead.assigned"], None).await;
    phones.set_alice(json!({"ntfy_topic": ALICE_TOPIC})).await;
    let lead = phones.lead("1234567890125501", HOSTILE_NAME).await;
    phones.assign(&lead, Some("alice")).await;

    let pages = phones.pages_to(ALICE_TOPIC, 1).await;
    assert_eq!(pages.len(), 1, "{pages:#?}");
    let page = &pages[0];
    assert_eq!(
        page.json["priority"], 4,
        "a new lead is high: {}",
        page.json
    );
    assert_eq!(page.json["click"], "tel:+16502530000");
    let actions = page.json["actions"].as_array().expect("actions");
    assert_eq!(actions[0]["label"], "Call");
    assert_eq!(actions[0]["url"], "tel:+16502530000");
    claim_token(page);
    assert_eq!(
        page.headers.get("authorization").map(String::as_str),
        Some(format!("Bearer {NTFY_TOKEN}").as_str())
    );

    // The hostile name arrives as one line of text, and nowhere but the JSON body.
    let title = page.json["title"].as_str().expect("title");
    let message = page.json["message"].as_str().expect("message");
    assert!(
        title.starts_with("Lead for you: Jane \"}, \"type\": \"forged\""),
        "{title}"
    );
    for text in [title, message.lines().next().expect("a first line")] {
        assert!(!text.chars().any(char::is_control), "{text:?}");
    }
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 3, "the name, the phone, the form: {message:?}");
    assert_eq!(lines[1], "+1 650-253-0000");
    assert!(lines[2].starts_with("Form: "), "{message:?}");
    assert!(page.json.get("markdown").is_none(), "{}", page.json);
    for (name, value) in &page.headers {
        assert!(
            !value.contains("Jane")
                && !["title", "priority", "click", "actions"].contains(&name.as_str()),
            "lead text or a page field in a header: {name}: {value}"
        );
    }
    // The new lead had no owner and the channel no team topic: nothing else was published.
    assert_eq!(
        phones.ntfy.published().len(),
        1,
        "{:#?}",
        phones.ntfy.published()
    );
}

#[tokio::test]
async fn the_claim_link_claims_once_and_refuses_forged_expired_and_unknown_links() {
    let phones = spawn_with_ntfy(&["lead.assigned"], None).await;
    phones.set_alice(json!({"ntfy_topic": ALICE_TOPIC})).await;
    let lead = phones.lead("1234567890125502", "<b>Jane</b> & Co").await;
    phones.assign(&lead, Some("alice")).await;
    let token = claim_token(&phones.pages_to(ALICE_TOPIC, 1).await[0]);
    // The lead goes back to the queue before alice taps Claim.
    phones.assign(&lead, None).await;
    let app = &phones.app;
    let claim_url = app.url(&format!("/claim/{token}"));
    let owner = || async {
        let lead: Value = app
            .api_get(&format!("/api/leads/{}", lead.id))
            .await
            .json()
            .await
            .expect("json");
        lead["data"]["owner"].clone()
    };

    // Opening the link (as a link preview would) claims nothing.
    let shown = app.client.get(&claim_url).send().await.expect("get");
    assert_eq!(shown.status(), 200);
    assert_eq!(shown.headers()["cache-control"], "no-store");
    let html = shown.text().await.expect("text");
    assert!(html.contains("<form method=\"post\">"), "{html}");
    assert!(html.contains("&lt;b&gt;Jane&lt;/b&gt; &amp; Co"), "{html}");
    assert_eq!(owner().await, Value::Null, "a GET alone does not claim");

    let claimed = app.client.post(&claim_url).send().await.expect("post");
    assert_eq!(claimed.status(), 200);
    let html = claimed.text().await.expect("text");
    assert!(
        html.contains("Claimed: <b>&lt;b&gt;Jane&lt;/b&gt; &amp; Co</b>"),
        "{html}"
    );
    assert!(html.contains("href=\"tel:+16502530000\""), "{html}");
    assert_eq!(owner().await, "alice");
    let history: Value = app
        .api_get(&format!("/api/leads/{}/activity", lead.id))
        .await
        .json()
        .await
        .expect("json");
    let last = history["data"]
        .as_array()
        .and_then(|rows| rows.last())
        .cloned();
    assert_eq!(
        last.map(|row| (row["kind"].clone(), row["actor"].clone())),
        Some((json!("claim"), json!("alice"))),
        "claimed through the API's own claim: {history}"
    );

    let again = app.client.post(&claim_url).send().await.expect("post");
    assert_eq!(again.status(), 410, "single use");
    assert!(again.text().await.unwrap().contains("already used"));

    // Forged: the same ticket signed with another key. Unknown: not a token at all.
    let now = chrono::Utc::now();
    let ticket = |lead_id, expires| Ticket {
        lead_id,
        rep: "alice".into(),
        nonce: "forged".into(),
        expires,
    };
    let theirs = ClaimLinks::new(
        PUBLIC_URL.into(),
        b"another-key-0123456789abcdef-0123".to_vec(),
        Duration::from_secs(60),
    );
    let forged = theirs.token(&ticket(lead.id, now + chrono::Duration::hours(1)));
    let ours = ClaimLinks::new(
        PUBLIC_URL.into(),
        CLAIM_SECRET.as_bytes().to_vec(),
        Duration::from_secs(60),
    );
    let expired = ours.token(&ticket(lead.id, now - chrono::Duration::minutes(1)));
    for (token, status) in [
        (forged, 403),
        (expired, 410),
        ("not-a-token".to_string(), 404),
    ] {
        for post in [false, true] {
            let url = app.url(&format!("/claim/{token}"));
            let request = if post {
                app.client.post(url)
            } else {
                app.client.get(url)
            };
            let answer = request.send().await.expect("request");
            assert_eq!(answer.status(), status, "{token} (post: {post})");
            let content_type = answer.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(content_type.starts_with("text/html"), "{content_type}");
        }
    }
}

#[tokio::test]
async fn quiet_hours_hold_a_page_until_they_end() {
    let window_end: chrono::DateTime<chrono::Utc> = "2026-11-29T09:00:00Z".parse().unwrap();
    let clock = TestClock::at(window_end - chrono::Duration::seconds(3));
    let phones = spawn_with_ntfy(&["lead.assigned"], Some(Arc::clone(&clock))).await;
    phones
        .set_alice(
            json!({"ntfy_topic": ALICE_TOPIC, "quiet_hours": "08:00-09:00", "time_zone": "UTC"}),
        )
        .await;
    let lead = phones.lead("1234567890125503", "Jane Doe").await;
    phones.assign(&lead, Some("alice")).await;

    // Held: queued, not failed, nothing published.
    poll_until(
        Duration::from_secs(10),
        || async { phones.app.health().await },
        |health| health["outbox"]["destinations"]["phones"]["queued"] == 1,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        phones.ntfy.published().is_empty(),
        "{:#?}",
        phones.ntfy.published()
    );
    let health = phones.app.health().await;
    let channel = &health["outbox"]["destinations"]["phones"];
    assert_eq!(
        (channel["retrying"].as_u64(), channel["failed"].as_u64()),
        (Some(0), Some(0)),
        "a hold is not a failure: {channel}"
    );

    // The window ends (by the rep's clock): the page goes out.
    clock.advance_to(window_end + chrono::Duration::seconds(1));
    let pages = phones.pages_to(ALICE_TOPIC, 1).await;
    assert_eq!(pages.len(), 1);
    assert_eq!(phones.queued().await, 0);
}

#[tokio::test]
async fn an_away_rep_is_not_paged_but_an_escalation_reaches_them_urgently() {
    // The Graph stand-in's leads were submitted at 08:49:14; the escalation is due 5 minutes on.
    let created: chrono::DateTime<chrono::Utc> = "2026-11-29T08:49:14Z".parse().unwrap();
    let clock = TestClock::at(created + chrono::Duration::minutes(1));
    let phones = spawn_with_ntfy(
        &["lead.assigned", "lead.escalated"],
        Some(Arc::clone(&clock)),
    )
    .await;
    // Away, and in quiet hours all day long: an escalation still comes through.
    phones
        .set_alice(
            json!({"ntfy_topic": ALICE_TOPIC, "available": false, "quiet_hours": "00:00-23:59"}),
        )
        .await;
    let lead = phones.lead("1234567890125504", "Jane Doe").await;
    phones.assign(&lead, Some("alice")).await;
    poll_until(
        Duration::from_secs(10),
        || async { phones.queued().await },
        |queued| *queued == 0,
    )
    .await;
    assert!(
        phones.ntfy.published().is_empty(),
        "an away rep gets no new leads: {:#?}",
        phones.ntfy.published()
    );

    clock.advance_to(created + chrono::Duration::minutes(6));
    let pages = phones.pages_to(ALICE_TOPIC, 1).await;
    assert_eq!(pages.len(), 1, "{pages:#?}");
    assert_eq!(pages[0].json["priority"], 5, "urgent: {}", pages[0].json);
    assert!(
        pages[0].json["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Waiting too long: Jane Doe")),
        "{}",
        pages[0].json
    );
    claim_token(&pages[0]);
}
