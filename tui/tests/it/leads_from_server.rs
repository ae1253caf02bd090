//! The dashboard's reads against the real server: the list as rows, one lead whole for the
//! details, and `x`'s export fetching the leads whole, newest first, across pages.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use leadhook::client::{Client, PAGE_SIZE};
use leadhook::config::Settings;
use leadhook::export;
use leadhook::leads::LeadRow;
use leadhook_shared::{Cursor, Lead, NewManualLead};

use crate::real_server::{client, server};

/// `count` leads added by hand, in the order the server stored them.
async fn add_leads(client: &Client, count: usize) -> Vec<Lead> {
    let mut leads: Vec<Lead> = futures::stream::iter(0..count)
        .map(|n| {
            let lead = NewManualLead {
                name: format!("Walk-in {n}"),
                phone: Some(format!("+1555{n:07}")),
                notes: Some(format!("=note {n}")),
                ..NewManualLead::default()
            };
            async move { client.create_lead(&lead).await }
        })
        .buffer_unordered(8)
        .try_collect()
        .await
        .expect("leads added");
    leads.sort_by_key(|lead| lead.id);
    leads
}

#[tokio::test]
async fn rows_details_and_an_export_across_pages() {
    let (_dir, _graph, server) = server(false).await;
    let client = client(&server);
    let leads = add_leads(&client, PAGE_SIZE + 5).await;

    let first = client
        .changes_since::<LeadRow>(Cursor::START)
        .await
        .expect("first page");
    assert_eq!(first.data.len(), PAGE_SIZE);
    assert!(!first.is_last());
    let row = first
        .data
        .iter()
        .find(|row| row.id == leads[0].id)
        .expect("the first lead on the first page");
    assert_eq!(*row, LeadRow::from(&leads[0]));
    let rest = client
        .changes_since::<LeadRow>(first.cursor)
        .await
        .expect("second page");
    assert_eq!(rest.data.len(), 5);
    assert!(rest.is_last());

    let whole = client.lead(leads[7].id).await.expect("one lead");
    assert_eq!(whole, leads[7]);

    // The table's order is newest first; the oldest lead is on the second page.
    let mut newest_first = leads.clone();
    newest_first.sort_by_key(|lead| std::cmp::Reverse((lead.meta.created_at, lead.id)));
    let wanted: Vec<i64> = [0, 600, newest_first.len() - 1]
        .iter()
        .map(|at| newest_first[*at].id)
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("export.csv");
    let written = export::export(&client, wanted.clone(), &path)
        .await
        .expect("export");
    assert_eq!(written, 3);
    let mut reader = csv::Reader::from_path(&path).expect("csv");
    let rows: Vec<csv::StringRecord> = reader.records().map(|row| row.expect("row")).collect();
    let ids: Vec<i64> = rows.iter().map(|row| row[0].parse().expect("id")).collect();
    assert_eq!(ids, wanted);
    let oldest = &newest_first[newest_first.len() - 1];
    let n = oldest
        .meta
        .name
        .as_deref()
        .expect("name")
        .trim_start_matches("Walk-in ");
    assert_eq!(&rows[2][12], format!("'=note {n}"), "notes neutralised");
}

#[tokio::test]
async fn an_export_from_an_unreachable_server_says_so() {
    let client = Client::new(&Settings {
        server: "http://127.0.0.1:9".into(),
        token: None,
        interval: Duration::from_secs(3),
        notify: false,
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("x.csv");
    let err = export::export(&client, vec![1], &path)
        .await
        .expect_err("nothing to fetch from");
    assert!(err.to_string().contains("cannot fetch the leads"), "{err}");
    assert!(!path.exists(), "no half-written file");
}
