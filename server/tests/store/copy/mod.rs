//! `store copy` between the embedded SQLite store and the real PostgREST 12 (local Supabase):
//! 10,000 leads there and back with everything equal, and a copy killed halfway then run again;
//! what a copy refuses is in [`refusals`].

mod refusals;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Duration as Age, SubsecRound, Utc};
use indicatif::ProgressBar;
use leadhook_local_supabase::{Builder, LocalSupabase};
use leadhook_server::data_dir_lock::DataDirLock;
use leadhook_server::store::Erasure as _;
use leadhook_server::store::People as _;
use leadhook_server::store::copy::{CopyEnd, LeadRecord, RepRecord, copy, fingerprint};
use leadhook_server::store::postgrest::{MIGRATIONS, PostgrestStore};
use leadhook_server::store::sqlite::SqliteStore;
use leadhook_server::store::{
    CapiOutbox, EventType, FollowUps, LeadQuery, LeadReader, LeadStore, LeadWrites, PagingWrites,
    QueueReads, QueueWrites, RepDirectory, Rotation, Route, StoredRep, SweepPositions,
};
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::team::actor::FACEBOOK;
use leadhook_shared::{
    Activity, Answer, CallOutcome, LeadPatch, LeadStatus, MetaFields, NewAttempt, NewManualLead,
    NextStep, Role,
};
use secrecy::SecretString;

const FACEBOOK_LEADS: usize = 10_000;
const MANUAL_LEADS: usize = 25;
const TOTAL: usize = FACEBOOK_LEADS + MANUAL_LEADS;

fn incoming(n: usize) -> IncomingLead {
    let mut fields = BTreeMap::new();
    fields.insert("budget".to_string(), Answer::One(format!("{n}00 €")));
    fields.insert(
        "interests".to_string(),
        Answer::Many(vec!["solar".into(), format!("option {}", n % 7)]),
    );
    let mut lead = IncomingLead {
        leadgen_id: format!("lg-{n:06}"),
        meta: MetaFields {
            name: Some(format!("Person {n} \"quoted\" <b>")),
            email: Some(format!("p{n}@example.com")),
            // Every fourth a valid number, every other fourth one that is not: the copy carries
            // both the E.164 and the mark.
            phone: n.is_multiple_of(2).then(|| match n % 4 {
                0 => format!("(650) 253-{:04}", n % 10_000),
                _ => format!("+1555{n:07}"),
            }),
            phone_e164: None,
            phone_invalid: false,
            email_key: None,
            junk_reason: None,
            created_at: Utc::now() - Age::minutes(n as i64),
            page_id: Some("page-1".into()),
            form_id: Some(format!("form-{}", n % 3)),
            form_name: Some(format!("Form {}", n % 3)),
            ad_id: None,
            ad_name: None,
            adset_id: None,
            adset_name: None,
            campaign_id: Some("c-1".into()),
            campaign_name: None,
            platform: Some("fb".into()),
            is_organic: n.is_multiple_of(5),
            fields,
        },
    };
    lead.meta.normalize("US".parse().ok());
    // Every 19th is junk: the copy carries the flag, and the cleared flag of every 38th.
    lead.meta.junk_reason = n.is_multiple_of(19).then(|| "Meta test lead".to_string());
    lead
}

/// A store with a history: statuses, notes, owners, erased leads, manual leads, a rep away, reps
/// with tokens.
async fn seeded_sqlite(dir: &Path) -> SqliteStore {
    let store = open_sqlite(dir).await;
    let mut previous = None;
    for n in 0..FACEBOOK_LEADS {
        let stored = store.upsert(&incoming(n), FACEBOOK).await.expect("upsert");
        let id = stored.lead.id;
        // Every 17th is the same person as the lead before it: the copy carries the link.
        if let Some(before) = previous.filter(|_| n % 17 == 0 && (n - 1) % 97 != 0) {
            store.merge(id, before, "alice").await.expect("merge");
        }
        if n % 38 == 0 {
            store
                .clear_junk(id, "bob", leadhook_server::store::Routing::UNOWNED)
                .await
                .expect("clear junk");
        }
        previous = Some(id);
        if n % 3 == 0 {
            let patch = LeadPatch {
                status: Some(LeadStatus::Contacted),
                notes: Some(format!("called {n}, said 'later'")),
                owner: None,
            };
            store.update(id, &patch, "alice").await.expect("update");
        }
        if n % 5 == 0 {
            store.claim(id, "bob").await.expect("claim");
        }
        if n % 7 == 0 {
            let step = NextStep {
                at: Utc::now().trunc_subsecs(0) + Age::hours(n as i64 % 50),
                what: format!("Call back about {n}"),
            };
            store
                .set_next_step(id, Some(&step), "alice")
                .await
                .expect("next step");
            if n % 14 == 0 {
                store
                    .take_reminder(id, step.at, Utc::now().trunc_subsecs(0))
                    .await
                    .expect("reminder mark");
            }
        }
        if n % 13 == 0 {
            let attempt = NewAttempt {
                outcome: CallOutcome::NoAnswer,
                note: Some(format!("rang {n}")),
            };
            store
                .record_attempt(id, &attempt, "bob", None)
                .await
                .expect("attempt");
        }
        if n % 11 == 0 {
            let won = LeadPatch {
                status: Some(LeadStatus::Won),
                ..LeadPatch::default()
            };
            store.update(id, &won, "bob").await.expect("won");
        }
        if n % 97 == 0 {
            // A person who asked to be forgotten stays a tombstone in the other store too.
            store
                .erase(id, "alice", Some("DSR-1"))
                .await
                .expect("erase");
        }
    }
    for n in 0..MANUAL_LEADS {
        let manual = NewManualLead {
            phone_e164: None,
            phone_invalid: false,
            email_key: None,
            name: format!("Walk-in {n}"),
            email: None,
            phone: Some(format!("+4930{n:05}")),
            status: (n % 2 == 0).then_some(LeadStatus::Qualified),
            notes: Some("met at the fair".into()),
        };
        store
            .create_manual(&manual, "carol", leadhook_server::store::Routing::UNOWNED)
            .await
            .expect("manual");
    }
    store.set_available("bob", false).await.expect("away");
    store.set_available("alice", true).await.expect("here");
    store
        .set_time_zone("alice", "Europe/Berlin")
        .await
        .expect("time zone");
    store
        .set_rep_paging(
            "alice",
            Some("alice-phone-7f3a9c2e41"),
            Some("22:00-07:00".parse().expect("quiet hours")),
        )
        .await
        .expect("paging");
    // Reps in the store with their token hashes: one rotated with a grace period, one used.
    let now = Utc::now();
    store
        .add_rep("carol", Role::Manager, "hash-c1", now)
        .await
        .expect("carol");
    let rotation = Rotation {
        token_hash: "hash-c2",
        previous_valid_until: Some(now + Age::hours(1)),
    };
    store.rotate_rep("carol", rotation).await.expect("rotate");
    store
        .add_rep("dave", Role::Rep, "hash-d", now)
        .await
        .expect("dave");
    store.touch_rep("dave", now).await.expect("touch");
    store
        .save_sweep_position("form-1", 1_780_000_000)
        .await
        .expect("sweep position");
    store
}

/// A local Supabase as `builder` makes it, and the store on it.
async fn supabase_from(builder: Builder) -> (LocalSupabase, PostgrestStore) {
    let supabase = builder.start().await;
    let store = PostgrestStore::new(
        &supabase.base_url,
        SecretString::from(supabase.secret_key()),
    )
    .expect("postgrest store");
    (supabase, store)
}

async fn supabase() -> (LocalSupabase, PostgrestStore) {
    supabase_from(LocalSupabase::builder().migrations(MIGRATIONS)).await
}

async fn open_sqlite(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("leads.db"))
        .await
        .expect("open sqlite")
}

/// Everything a copy carries, read page by page as the copy reads it.
type Everything = (
    Vec<LeadRecord>,
    Vec<Activity>,
    Vec<RepRecord>,
    Vec<StoredRep>,
);

async fn everything(end: &dyn CopyEnd) -> Everything {
    let (mut leads, mut activity) = (Vec::new(), Vec::new());
    let mut after = i64::MIN;
    loop {
        let page = end.read_page(after, 700).await.expect("read page");
        let Some(last) = page.leads.last() else { break };
        after = last.lead.id;
        leads.extend(page.leads);
        activity.extend(page.activity);
    }
    (
        leads,
        activity,
        end.reps().await.expect("reps"),
        end.list_reps().await.expect("stored reps"),
    )
}

async fn lead_count(store: &dyn LeadStore) -> u64 {
    let query = LeadQuery {
        limit: 1,
        ..LeadQuery::default()
    };
    store.list(&query).await.expect("count").count
}

/// CAPI on and a webhook taking every event in the target: a copy must not queue the copied
/// history as deliveries to send, to Meta or anywhere else.
async fn capi_on(store: &dyn CapiOutbox) {
    store.capi_switch(true, Utc::now()).await.expect("capi on");
    let routes = EventType::ALL.map(|event_type| Route {
        destination: "crm".into(),
        event_type,
    });
    store.outbox_routes(&routes).await.expect("routes");
}

/// Deliveries queued, for every destination.
async fn queued_stages(store: &dyn CapiOutbox) -> u64 {
    let today = Utc::now() - Age::days(1);
    let figures = store.outbox_figures(today).await.expect("figures");
    figures.values().map(|figures| figures.queued).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_leads_to_supabase_and_back_are_equal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = seeded_sqlite(dir.path()).await;
    let (_supabase, postgrest) = supabase().await;
    capi_on(&postgrest).await;
    let original = everything(&sqlite).await;
    assert_eq!(original.0.len(), TOTAL);
    let phones = |marked: bool| {
        original
            .0
            .iter()
            .filter(|record| {
                let meta = &record.lead.meta;
                meta.phone_invalid == marked && (marked || meta.phone_e164.is_some())
            })
            .count()
    };
    assert!(
        phones(false) > 0 && phones(true) > 0,
        "normalised and marked phones"
    );
    let repeats = original
        .0
        .iter()
        .filter(|r| r.lead.repeat_of.is_some())
        .count();
    let junk = original
        .0
        .iter()
        .filter(|r| r.lead.junk().is_some())
        .count();
    let cleared = original
        .0
        .iter()
        .filter(|r| r.lead.junk_cleared_at.is_some())
        .count();
    assert!(
        repeats > 0 && junk > 0 && cleared > 0,
        "links, junk and cleared junk"
    );
    assert!(
        original.1.len() > TOTAL,
        "the history has more than one row per lead"
    );

    let started = Instant::now();
    let report = copy(&sqlite, &postgrest, &ProgressBar::hidden())
        .await
        .expect("copy to supabase");
    eprintln!("10,025 leads to PostgREST in {:?}", started.elapsed());
    assert_eq!(report.source, report.target);
    assert_eq!(report.target.leads, TOTAL);
    assert_eq!(everything(&postgrest).await, original);
    assert_eq!(
        queued_stages(&postgrest).await,
        0,
        "copied history was queued"
    );

    // The server's own reads see the copy, and new leads get ids after the copied ones.
    let sample = original.0[4_321].lead.clone();
    assert_eq!(
        postgrest.get(sample.id).await.expect("get"),
        Some(sample.clone())
    );
    let history = postgrest.activity(sample.id).await.expect("activity");
    let expected: Vec<Activity> = original
        .1
        .iter()
        .filter(|row| row.lead_id == sample.id)
        .cloned()
        .collect();
    assert_eq!(history, Some(expected));

    let back_dir = tempfile::tempdir().expect("tempdir");
    let back = open_sqlite(back_dir.path()).await;
    capi_on(&back).await;
    let report = copy(&postgrest, &back, &ProgressBar::hidden())
        .await
        .expect("copy back to sqlite");
    assert_eq!(report.source, report.target);
    assert_eq!(everything(&back).await, original);
    assert_eq!(queued_stages(&back).await, 0, "copied history was queued");

    // Copying again changes nothing and adds nothing.
    let again = copy(&sqlite, &postgrest, &ProgressBar::hidden())
        .await
        .expect("second copy");
    assert_eq!(again.target, fingerprint(&sqlite).await.expect("print"));
    assert_eq!(everything(&postgrest).await, original);

    let newest_id = original.0.iter().map(|r| r.lead.id).max().unwrap_or(0);
    for store in [&postgrest as &dyn LeadStore, &back] {
        let fresh = store
            .upsert(&incoming(FACEBOOK_LEADS + 1), FACEBOOK)
            .await
            .expect("a new lead after the copy");
        assert!(
            fresh.lead.id > newest_id,
            "{}: id {} reused",
            store.backend(),
            fresh.lead.id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_killed_halfway_and_run_again_has_every_lead_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = seeded_sqlite(dir.path()).await;
    let (supabase, postgrest) = supabase().await;
    let original = everything(&sqlite).await;

    let run = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_leadhook-server"));
        command
            .args(["store", "copy", "--to", "supabase"])
            .env("LEADHOOK_DATA_DIR", dir.path())
            .env("SUPABASE_URL", &supabase.base_url)
            .env("SUPABASE_SECRET_KEY", supabase.secret_key())
            .env_remove("SUPABASE_SERVICE_ROLE_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };
    let mut child = run().spawn().expect("start the copy");
    let deadline = Instant::now() + Duration::from_secs(120);
    while lead_count(&postgrest).await < (TOTAL / 2) as u64 {
        assert!(Instant::now() < deadline, "the copy never reached half");
        assert!(
            child.try_wait().expect("poll").is_none(),
            "the copy ended before half"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("kill the copy");
    child.wait().expect("reap");
    let halfway = lead_count(&postgrest).await;
    assert!(
        halfway < TOTAL as u64,
        "killed too late to test a resume: {halfway} leads copied"
    );

    let output = run().output().expect("run the copy again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "second run failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = fingerprint(&sqlite).await.expect("print");
    assert!(stdout.contains(&expected.to_string()), "{stdout}");
    assert_eq!(fingerprint(&postgrest).await.expect("print"), expected);
    assert_eq!(everything(&postgrest).await, original);
}
