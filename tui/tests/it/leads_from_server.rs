//! The dashboard's reads against the real server: the list as rows, one lead whole for the
//! details, and `x`'s export fetching the leads whole, newest first, across pages.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use leadhook::client::{Client, PAGE_SIZE};
use leadhook::config::Settings;
use leadhook::export;
use leadhook::leads::LeadRow;
use leadhook::team_stats::TeamStats;
use leadhook_server::store::{Contact, QueueFigures, StatsWindow};
use leadhook_shared::{ActivityKind, Cursor, Lead, NewManualLead};

use crate::real_server::{client, rep_role_client, server};

/// `count` leads added by hand, in the order the server stored them.
async fn add_leads(client: &Client, count: usize) -> Vec<Lead> {
    let mut leads: Vec<Lead> = futures::stream::iter(0..count)
        .map(|n| {
            let lead = NewManualLead {
                phone_e164: None,
                phone_invalid: false,
                email_key: None,
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
    let written = export::export(&client, wanted.clone(), &path, Default::default())
        .await
        .expect("export");
    assert_eq!(written, (path.clone(), 3));
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
    let history = client.activity(wanted[0]).await.expect("history");
    assert!(
        history
            .iter()
            .any(|row| row.kind == ActivityKind::Exported && row.actor == "rep"),
        "the export is in the history: {history:?}"
    );
}

/// A rep whose role may not export sees the server's reason, which names the role it needs, and
/// gets no file.
#[tokio::test]
async fn an_export_refused_for_the_role_says_which_role_it_needs() {
    let (_dir, _graph, server) = server(false).await;
    let leads = add_leads(&client(&server), 1).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("export.csv");
    let err = export::export(
        &rep_role_client(&server),
        vec![leads[0].id],
        &path,
        Default::default(),
    )
    .await
    .expect_err("a rep may not export");
    assert!(matches!(err, export::ExportError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("needs the manager role"), "{err}");
    assert!(!path.exists(), "no file");
}

#[tokio::test]
async fn an_export_from_an_unreachable_server_says_so() {
    let client = Client::new(&Settings {
        server: "http://127.0.0.1:9".into(),
        token: None,
        interval: Duration::from_secs(3),
        notify: false,
        hyperlinks: Default::default(),
        open: Default::default(),
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("x.csv");
    let err = export::export(&client, vec![1], &path, Default::default())
        .await
        .expect_err("nothing to fetch from");
    assert!(err.to_string().contains("cannot fetch the leads"), "{err}");
    assert!(!path.exists(), "no half-written file");
}

/// `/api/stats` and the dashboard's header give the same speed to lead for an even count: the
/// server's figures for two leads reached after 2 and 4 minutes, fed to the header's code.
#[test]
fn the_header_and_api_stats_agree_on_the_median_speed_to_lead() {
    let now = chrono::Utc::now();
    let today_start = now - chrono::Duration::hours(1);
    let leads: Vec<Lead> = [(1, 2), (2, 4)]
        .map(|(id, minutes)| {
            let created_at = now - chrono::Duration::minutes(30);
            serde_json::from_value(serde_json::json!({
                "id": id,
                "leadgen_id": null,
                "name": format!("Reached after {minutes} min"),
                "created_at": created_at,
                "is_organic": false,
                "fields": {},
                "status": "Contacted",
                "is_manual": true,
                "received_at": created_at,
                "updated_at": now,
                "first_contact_at": created_at + chrono::Duration::minutes(minutes),
            }))
            .expect("a lead")
        })
        .into();
    let figures = QueueFigures {
        contacts: leads
            .iter()
            .map(|lead| Contact {
                owner: None,
                first_contact_at: lead.first_contact_at.expect("contacted"),
                speed_secs: lead
                    .speed_to_lead()
                    .and_then(|speed| u64::try_from(speed.num_seconds()).ok())
                    .expect("a speed"),
            })
            .collect(),
        ..QueueFigures::default()
    };
    let window = StatsWindow {
        today_start,
        week_start: today_start - chrono::Duration::days(6),
        now,
    };
    let api = leadhook_server::team::speed_to_lead(&figures, window);
    assert_eq!(api.today.median_secs, Some(120));

    let mut header = TeamStats::default();
    for lead in &leads {
        header.add(&LeadRow::from(lead));
    }
    let shown = header
        .median_speed_since(today_start)
        .map(|median| median.num_seconds());
    assert_eq!(shown, Some(120), "the header's median, in seconds");
}
