//! Answer columns against the real server (`LEADHOOK_ANSWER_COLUMNS`): a lead delivered by
//! Meta with answers reaches the dashboard's rows, read through its own client with
//! `omit_fields`, holding the columns' answers and no other.

use std::time::Duration;

use chrono::{FixedOffset, Utc};
use leadhook::app::{App, Msg};
use leadhook::client::Client;
use leadhook::leads::LeadRow;
use leadhook::poller::PollEvent;
use leadhook_shared::Cursor;
use leadhook_sim::fake_leads::FieldAnswer;
use leadhook_sim::harness::poll_until;
use leadhook_sim::{BodyStyle, LeadFaker, LeadgenChange, WebhookSender};

use crate::real_server::{APP_SECRET, client, server_with};

const FORM: &str = "1234567";

/// The rows of the dashboard's first load: `GET /api/leads?omit_fields=true`.
async fn rows(client: &Client) -> Vec<LeadRow> {
    client
        .changes_since::<LeadRow>(Cursor::START)
        .await
        .expect("the list")
        .data
}

#[tokio::test]
async fn a_delivered_leads_answers_show_in_the_dashboards_columns() {
    let (_dir, graph, server) = server_with(|args| {
        args.answer_columns = Some(format!("budget=what_is_your_budget?,{FORM}:zip=postcode"));
    })
    .await;
    let client = client(&server);

    let mut lead = LeadFaker::new(7)
        .on_page(graph.config().page_id.clone())
        .next_lead(Utc::now());
    lead.form_id = FORM.into();
    lead.field_data.extend([
        FieldAnswer {
            name: "what_is_your_budget?".into(),
            values: vec!["5000".into(), "10000".into()],
        },
        FieldAnswer {
            name: "postcode".into(),
            values: vec!["10115".into()],
        },
        FieldAnswer {
            name: "best_time?".into(),
            values: vec!["weekends".into()],
        },
    ]);
    graph.add_fake_lead(&lead);
    WebhookSender::new(
        format!("{}/webhook", server.base_url()),
        APP_SECRET.to_string().into(),
    )
    .expect("a sender")
    .send_leads(&[LeadgenChange::from(&lead)], &BodyStyle::default())
    .await
    .expect("delivered");
    let listed = poll_until(
        Duration::from_secs(10),
        || rows(&client),
        |rows| !rows.is_empty(),
    )
    .await;
    assert_eq!(listed.len(), 1, "the delivered lead: {listed:?}");
    let row = &listed[0];
    assert_eq!(row.form_id.as_deref(), Some(FORM));
    assert_eq!(
        row.answers.get("best_time?"),
        None,
        "no column reads it, so the list leaves it out"
    );

    // The dashboard takes the rows in and learns the columns from `/api/reps/me`.
    let utc = FixedOffset::east_opt(0).expect("UTC");
    let mut app = App::new(&server.base_url(), Utc::now(), utc);
    app.update(Msg::Poll(PollEvent::Leads {
        leads: listed.clone(),
        first_load: true,
    }));
    app.update(Msg::Me(client.me().await));
    let columns = app.leads.answer_columns().clone();
    let names: Vec<&str> = columns
        .0
        .iter()
        .map(|column| column.name.as_str())
        .collect();
    assert_eq!(names, ["budget", "zip"]);
    let shown = app.leads.get(row.id).expect("the row");
    let values: Vec<Option<&str>> = columns
        .0
        .iter()
        .map(|column| shown.answer(column))
        .collect();
    assert_eq!(values, [Some("5000, 10000"), Some("10115")]);
}
