//! `GET /api/insights` on the real server: leads that came through webhooks, counted by
//! campaign with what Meta's ads insights (the stand-in) say they cost; read once and reused;
//! refused to reps and for bad parameters with what is wrong; without spend, the figures stand.

use chrono::{NaiveDate, SecondsFormat, Utc};
use leadhook_server::config::ServeArgs;
use leadhook_server::doctor::{self, DoctorArgs, Verdict};
use leadhook_shared::insights::SpendStatus;
use leadhook_shared::{ApiOk, Insights};
use leadhook_sim::fake_leads::ad_placements;
use leadhook_sim::graph_standin::{CURRENCY, daily_cents};
use leadhook_sim::{CallKind, DEFAULT_AD_ACCOUNT_ID, GraphFault};
use serde_json::{Value, json};

use crate::helpers::{
    FORM_ID, PAGE_ID, REP_TOKEN, TestApp, graph_lead, notification, serve_args,
    spawn_app_from_args, spawn_graph,
};

const MANAGER_TOKEN: &str = "bob-token-456";
const PLAIN_REP_TOKEN: &str = "carol-token-789";
const SPRING: &str = "120210000000000100";
const QUOTES: &str = "120210000000000200";

fn with_ads(args: &mut ServeArgs) {
    args.fb_ad_account_id = Some(DEFAULT_AD_ACCOUNT_ID.into());
    with_a_plain_rep(args);
}

fn with_a_plain_rep(args: &mut ServeArgs) {
    args.api_tokens = Some(
        format!("alice:{REP_TOKEN},bob:manager:{MANAGER_TOKEN},carol:rep:{PLAIN_REP_TOKEN}").into(),
    );
}

async fn spawn(edit: fn(&mut ServeArgs)) -> TestApp {
    spawn_app_from_args(
        spawn_graph().await,
        tempfile::tempdir().expect("dir"),
        edit,
        |_| {},
    )
    .await
}

/// Lead `n` from campaign `campaign` (the simulator's ads), submitted an hour ago by `email`.
async fn lead_from(app: &TestApp, n: u32, campaign: &str, email: &str) -> i64 {
    answered(app, n, campaign, email, &[]).await
}

/// As [`lead_from`], with more answers to the form.
async fn answered(
    app: &TestApp,
    n: u32,
    campaign: &str,
    email: &str,
    answers: &[(&str, &[&str])],
) -> i64 {
    let id = format!("7100000000{n:04}");
    let emails = [email];
    let mut fields: Vec<(&str, &[&str])> = vec![("full_name", &["Jane Doe"]), ("email", &emails)];
    fields.extend_from_slice(answers);
    let mut lead = graph_lead(&id, &fields);
    // Earlier today (UTC, the zone `period=today` reads without `tz`), even just after midnight.
    let now = Utc::now();
    let midnight = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    lead["created_time"] = json!(
        (midnight + (now - midnight) / 2)
            .to_rfc3339_opts(SecondsFormat::Secs, true)
            .replace('Z', "+0000")
    );
    lead["campaign_id"] = json!(campaign);
    app.graph.add_lead(PAGE_ID, FORM_ID, lead);
    assert_eq!(app.post_signed(&notification(&[&id])).await.status(), 200);
    app.wait_for_settled_inbox().await;
    let leads: Value = app
        .api_get(&format!("/api/leads?q={email}"))
        .await
        .json()
        .await
        .expect("json");
    leads["data"]
        .as_array()
        .and_then(|leads| leads.iter().find(|l| l["leadgen_id"] == json!(id)))
        .and_then(|lead| lead["id"].as_i64())
        .expect("the lead is stored")
}

async fn insights(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/insights?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("insights request")
}

async fn read(app: &TestApp, query: &str) -> Insights {
    let answer = insights(app, MANAGER_TOKEN, query).await;
    assert_eq!(answer.status(), 200);
    answer
        .json::<ApiOk<Insights>>()
        .await
        .expect("insights")
        .data
}

/// What the stand-in's ads of `campaign` spent over the days, in dollars.
fn spent(campaign: &str, first: NaiveDate, last: NaiveDate) -> f64 {
    let cents: u64 = ad_placements()
        .filter(|ad| ad.campaign_id == campaign)
        .flat_map(|ad| {
            first
                .iter_days()
                .take_while(|day| *day <= last)
                .map(move |day| daily_cents(&ad.ad_id, day))
        })
        .sum();
    cents as f64 / 100.0
}

#[tokio::test]
async fn a_manager_sees_each_campaigns_leads_people_and_cost() {
    let app = spawn(with_ads).await;
    let first = lead_from(&app, 1, SPRING, "jane@example.com").await;
    lead_from(&app, 2, SPRING, "jane@example.com").await;
    lead_from(&app, 3, SPRING, "joe@example.com").await;
    lead_from(&app, 4, QUOTES, "ann@example.com").await;
    assert_eq!(
        app.api_post(&format!("/api/leads/{first}/claim"))
            .await
            .status(),
        200
    );
    for status in ["Contacted", "Won"] {
        let answer = app
            .client
            .patch(app.url(&format!("/api/leads/{first}")))
            .bearer_auth(REP_TOKEN)
            .json(&json!({ "status": status }))
            .send()
            .await
            .expect("patch");
        assert_eq!(answer.status(), 200);
    }

    let figures = read(&app, "period=7d&by=campaign&tz=Europe/Berlin").await;
    let (first_day, last_day) = (figures.period.first_day, figures.period.last_day);
    assert_eq!((last_day - first_day).num_days(), 6);
    assert_eq!(figures.period.time_zone, "Europe/Berlin");
    assert!(matches!(
        &figures.spend,
        SpendStatus::Read { currency: Some(currency), .. } if currency == CURRENCY
    ));
    let spring = &figures.sources[0];
    assert_eq!(spring.key.as_deref(), Some(SPRING));
    // The leads say "Winter campaign"; Ads Manager's name now wins.
    assert_eq!(spring.label, "Spring Sale 2025");
    let funnel = &spring.funnel;
    assert_eq!(
        (funnel.leads, funnel.people),
        (3, 2),
        "Jane twice is one person"
    );
    assert_eq!((funnel.contacted, funnel.won), (1, 1));
    let cost = spring.cost.as_ref().expect("the campaign's cost");
    let spend = spent(SPRING, first_day, last_day);
    assert!(
        (cost.spend - spend).abs() < 0.005,
        "{} vs {spend}",
        cost.spend
    );
    assert_eq!(cost.per_lead, Some((spend / 3.0 * 100.0).round() / 100.0));
    assert_eq!(cost.per_won, Some(cost.spend));
    assert_eq!(cost.per_contacted, Some(cost.spend));
    // The webinar spent money and brought nobody: it is listed, with its cost and no leads.
    let webinar = figures
        .sources
        .iter()
        .find(|source| source.key.as_deref() == Some("120210000000000300"))
        .expect("the campaign without leads");
    assert_eq!(webinar.funnel.leads, 0);
    assert_eq!(webinar.cost.as_ref().and_then(|cost| cost.per_lead), None);
    // Every campaign of the simulated account spent, whether it brought leads or not.
    let campaigns: std::collections::BTreeSet<String> =
        ad_placements().map(|ad| ad.campaign_id).collect();
    let all_spend: f64 = campaigns
        .iter()
        .map(|campaign| spent(campaign, first_day, last_day))
        .sum();
    let total = figures.total.cost.as_ref().expect("the period's cost");
    assert!((total.spend - all_spend).abs() < 0.005);
    assert_eq!(figures.total.funnel.leads, 4);
    assert_eq!(figures.per_rep.len(), 1, "{:?}", figures.per_rep);
    assert_eq!(figures.per_rep[0].won, 1);
    assert_eq!(figures.per_day.days.len(), 7);
    let today: u64 = figures
        .per_day
        .days
        .iter()
        .flat_map(|d| d.leads.iter())
        .sum();
    assert_eq!(today, 4);
    assert_eq!(figures.speed_histogram.iter().sum::<u64>(), 1);

    read(&app, "period=7d&by=campaign&tz=Europe/Berlin").await;
    assert_eq!(
        app.graph.calls(CallKind::AdsInsights),
        1,
        "the second read reuses Meta's answer"
    );
    let by_form = read(&app, "period=30d&by=form").await;
    assert_eq!(by_form.spend, SpendStatus::NotForGrouping);
    assert!(by_form.sources.iter().all(|source| source.cost.is_none()));
    assert_eq!(by_form.total.funnel.leads, 4);
}

#[tokio::test]
async fn insights_are_refused_to_reps_and_for_bad_parameters() {
    let app = spawn(with_a_plain_rep).await;
    let refused = insights(&app, PLAIN_REP_TOKEN, "period=7d").await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.expect("json");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("see the insights") && message.contains("manager"),
        "{message}"
    );
    for (query, says) in [
        ("period=90d", "unknown period \"90d\""),
        ("by=color", "unknown grouping \"color\""),
        ("tz=Mars/Phobos", "Mars/Phobos"),
        ("period=custom&from=2026-11-01", "needs from and to"),
        ("period=custom&from=2026-11-02&to=2026-11-01", "is after"),
        (
            "period=custom&from=2024-01-01&to=2025-06-01",
            "at most 366 days",
        ),
        ("from=2026-11-01&to=2026-11-02", "period=custom only"),
        ("period=custom&from=yesterday&to=2026-11-02", "from"),
        ("by=answer:budget", "unknown answer column \"budget\""),
    ] {
        let answer = insights(&app, MANAGER_TOKEN, query).await;
        assert_eq!(answer.status(), 400, "{query}");
        let body: Value = answer.json().await.expect("json");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{query}: {message}");
    }
    // Without an ad account the figures come without cost, and say so.
    assert_eq!(read(&app, "period=today").await.spend, SpendStatus::Off);
}

#[tokio::test]
async fn when_meta_cannot_say_the_cost_the_figures_still_come_with_the_reason() {
    let app = spawn(with_ads).await;
    lead_from(&app, 1, SPRING, "jane@example.com").await;
    app.graph.fail_all(GraphFault::server_error());
    let figures = read(&app, "period=today&by=campaign").await;
    assert_eq!(figures.total.funnel.leads, 1);
    assert!(figures.sources.iter().all(|source| source.cost.is_none()));
    let SpendStatus::Unavailable { reason } = &figures.spend else {
        panic!("spend should be unavailable: {:?}", figures.spend);
    };
    assert!(reason.contains("FB_AD_ACCOUNT_ID"), "{reason}");
    assert!(!reason.contains(crate::helpers::PAGE_TOKEN), "{reason}");
}

#[tokio::test]
async fn answer_columns_come_with_me_stay_in_lists_and_group_the_insights() {
    let app = spawn(|args| {
        with_a_plain_rep(args);
        args.answer_columns = Some("budget=what_is_your_budget?".into());
    })
    .await;
    let budget: &[&str] = &["5000"];
    let other: &[&str] = &["weekends"];
    answered(
        &app,
        1,
        SPRING,
        "jane@example.com",
        &[("what_is_your_budget?", budget), ("best_time?", other)],
    )
    .await;
    answered(
        &app,
        2,
        SPRING,
        "joe@example.com",
        &[("what_is_your_budget?", budget)],
    )
    .await;
    lead_from(&app, 3, SPRING, "ann@example.com").await;

    let me: Value = app
        .api_get("/api/reps/me")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        me["data"]["answer_columns"],
        json!([{"name": "budget", "questions": {"*": "what_is_your_budget?"}}])
    );
    let list: Value = app
        .api_get("/api/leads?omit_fields=true")
        .await
        .json()
        .await
        .expect("json");
    let jane = list["data"]
        .as_array()
        .and_then(|leads| leads.iter().find(|l| l["email"] == "jane@example.com"))
        .expect("jane");
    assert_eq!(jane["fields"], json!({"what_is_your_budget?": "5000"}));

    let figures = read(&app, "period=today&by=answer:budget").await;
    let sources: Vec<(&str, u64)> = figures
        .sources
        .iter()
        .map(|source| (source.label.as_str(), source.funnel.leads))
        .collect();
    assert_eq!(sources, [("5000", 2), ("(no answer)", 1)]);
    assert_eq!(figures.by, "answer:budget");
}

/// `doctor` with `FB_AD_ACCOUNT_ID` reads the account's spend as the insights will, and names
/// the setting to fix when the account is wrong.
#[tokio::test]
async fn doctor_reads_the_ad_account_and_names_the_setting_to_fix() {
    let graph = spawn_graph().await;
    let dir = tempfile::tempdir().expect("dir");
    let check = |account: &str| {
        let mut serve = serve_args(&graph.base_url(), dir.path());
        serve.fb_ad_account_id = Some(account.into());
        async move {
            doctor::run(&DoctorArgs {
                serve,
                ..DoctorArgs::default()
            })
            .await
            .into_iter()
            .find(|check| check.name == "ad spend (insights)")
            .expect("the ad account check")
        }
    };
    let readable = check(DEFAULT_AD_ACCOUNT_ID).await;
    assert!(
        matches!(&readable.verdict, Verdict::Pass(detail) if detail.contains("act_4455667788")),
        "{readable:?}"
    );
    let wrong = check("act_999").await;
    assert!(
        matches!(&wrong.verdict, Verdict::Fail { fix, .. } if fix.contains("FB_AD_ACCOUNT_ID")),
        "{wrong:?}"
    );
}
