//! The dashboard's calls for people and junk against the real server: `M` merges through
//! `PUT /api/leads/{id}/person`, `U` undoes a link through `DELETE /api/leads/{id}/person`, `C`
//! clears a junk flag through `DELETE /api/leads/{id}/junk`, and a refusal carries the server's
//! reason.

use leadhook::client::Client;
use leadhook::client_error::ClientError;
use leadhook_shared::{Cursor, Lead, NewManualLead};
use leadhook_sim::harness::poll_until;
use leadhook_sim::{BodyStyle, FakeLead, LeadFaker, LeadgenChange, WebhookSender};

use crate::real_server::{APP_SECRET, client, rep_role_client, server};

async fn walk_in(client: &Client, name: &str, phone: &str) -> Lead {
    let lead = NewManualLead {
        name: name.into(),
        phone: Some(phone.into()),
        ..NewManualLead::default()
    };
    client.create_lead(&lead).await.expect("a manual lead")
}

#[tokio::test]
async fn merges_undone_links_and_cleared_junk_reach_the_server() {
    let (_dir, graph, server) = server(false).await;
    let client = client(&server);
    let jane = walk_in(&client, "Jane Doe", "+1 202 555 0101").await;
    let jane_at_work = walk_in(&client, "J. Doe", "+1 202 555 0102").await;
    assert_eq!(
        jane_at_work.repeat_of, None,
        "another number: another person"
    );

    let merged = client
        .merge_person(jane_at_work.id, jane.id)
        .await
        .expect("merged");
    assert_eq!((merged.id, merged.person_id()), (jane_at_work.id, jane.id));
    let unlinked = client
        .unlink_person(jane_at_work.id)
        .await
        .expect("unlinked");
    assert_eq!(unlinked.person_id(), jane_at_work.id);

    // Meta's test lead arrives as junk; the rep says it is real.
    let test_lead: FakeLead = LeadFaker::new(3)
        .on_page(graph.config().page_id.clone())
        .next_lead(chrono::Utc::now())
        .into_meta_test_lead();
    graph.add_fake_lead(&test_lead);
    WebhookSender::new(
        format!("{}/webhook", server.base_url()),
        APP_SECRET.to_string().into(),
    )
    .expect("a sender")
    .send_leads(&[LeadgenChange::from(&test_lead)], &BodyStyle::default())
    .await
    .expect("delivered");
    let junk = poll_until(
        std::time::Duration::from_secs(10),
        || async {
            let page = client
                .changes_since::<Lead>(Cursor::START)
                .await
                .expect("leads");
            page.data
                .into_iter()
                .find(|lead| lead.leadgen_id.as_deref() == Some(test_lead.id.as_str()))
        },
        Option::is_some,
    )
    .await
    .expect("the test lead is stored");
    assert_eq!(junk.junk(), Some("Meta test lead"));
    let cleared = client.clear_junk(junk.id).await.expect("cleared");
    assert_eq!(cleared.junk(), None);
    assert_eq!(
        cleared.meta.junk_reason.as_deref(),
        Some("Meta test lead"),
        "the reason stays"
    );
}

#[tokio::test]
async fn a_refusal_carries_the_servers_reason() {
    let (_dir, _graph, server) = server(false).await;
    let manager = client(&server);
    let lead = walk_in(&manager, "Jane Doe", "+1 202 555 0103").await;
    let itself = manager
        .merge_person(lead.id, lead.id)
        .await
        .map(|lead| lead.id);
    assert!(
        matches!(&itself, Err(ClientError::Rejected { message, .. }) if message.contains("itself")),
        "{itself:?}"
    );
    // A rep may not change a lead another rep owns: the server says so, the dashboard shows it.
    manager.claim(lead.id).await.expect("claimed");
    let refused = rep_role_client(&server)
        .unlink_person(lead.id)
        .await
        .map(|lead| lead.id);
    assert!(
        matches!(refused, Err(ClientError::Rejected { .. })),
        "{refused:?}"
    );
}
