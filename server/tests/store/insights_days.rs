//! `20261208010000_insights_days.sql` on a real PostgreSQL: the day roll-ups are filled for the
//! leads stored before it, every kind of lead write keeps them equal to the leads (an older
//! server's SQL, which never names them, and the store copy's), and `lead_insights` answers as
//! the scan of every lead it replaces (`20261207211000_insights_speed_on_lead.sql`), for every
//! grouping, in zones a whole hour, half an hour and 45 minutes off UTC.

use leadhook_local_supabase::TestDatabase;
use leadhook_server::store::postgrest::MIGRATIONS;
use tokio_postgres::Client;

use super::migration_steps::{apply_twice, split_at};

const DAYS_MIGRATION: &str = "20261208010000_insights_days.sql";
const SCAN_MIGRATION: &str = "20261207211000_insights_speed_on_lead.sql";

/// The scan `lead_insights` of the speed migration, renamed `lead_insights_scan`: the reference
/// the roll-ups must answer as.
fn scan_reference() -> String {
    let (_, sql) = MIGRATIONS
        .iter()
        .find(|(name, _)| *name == SCAN_MIGRATION)
        .expect("the speed migration");
    let start = sql
        .find("create or replace function public.lead_insights(")
        .expect("its lead_insights");
    let end = start + sql[start..].find("$fn$;").expect("the function's end") + "$fn$;".len();
    sql[start..end].replacen("public.lead_insights(", "public.lead_insights_scan(", 1)
}

/// Test helpers: an answer with its lists in a stable order, and the day starts of a period in
/// a zone, from `days_back` days before today through tomorrow.
const HELPERS: &str = "
create function pg_temp.sorted(j jsonb) returns jsonb language sql as $$
  select j || jsonb_build_object(
    'groups', (select coalesce(jsonb_agg(x order by x::text), '[]') from jsonb_array_elements(j -> 'groups') as x),
    'reps', (select coalesce(jsonb_agg(x order by x::text), '[]') from jsonb_array_elements(j -> 'reps') as x),
    'days', (select coalesce(jsonb_agg(x order by x::text), '[]') from jsonb_array_elements(j -> 'days') as x))
$$;
create function pg_temp.starts(zone text, days_back int, shift interval) returns timestamptz[] language sql as $$
  select array_agg(((d::date)::timestamp at time zone zone) + shift order by d)
    from generate_series((now() at time zone zone)::date - days_back, (now() at time zone zone)::date + 2,
                         interval '1 day') as d
$$;";

/// Every place where the roll-ups differ from the leads counted afresh, and how many leads they
/// count.
pub(super) async fn rollup_differences(client: &Client) -> (i64, i64) {
    let row = client
        .query_one(
            "with fresh as (
               select (l.created_at at time zone 'UTC')::date as day, l.campaign_id, l.adset_id,
                      l.ad_id, l.form_id, l.platform, l.is_organic, l.owner, count(*)::int as leads,
                      (count(*) filter (where l.junk_reason is not null and l.junk_cleared_at is null))::int,
                      count(l.speed_secs)::int,
                      (count(*) filter (where l.stages & 1 > 0))::int,
                      (count(*) filter (where l.stages & 2 > 0))::int,
                      (count(*) filter (where l.stages & 4 > 0))::int,
                      coalesce(array_agg(l.speed_secs order by l.speed_secs)
                                 filter (where l.speed_secs is not null), '{}'),
                      array_agg(l.second order by l.second)
                 from (select *, floor(extract(epoch from created_at
                                  - date_trunc('day', created_at, 'UTC')))::int as second
                         from leads) as l
                group by 1, 2, 3, 4, 5, 6, 7, 8)
             select (select count(*) from ((select * from fresh except all select * from lead_insight_days)
                                           union all
                                           (select * from lead_insight_days except all select * from fresh)) as d),
                    (select coalesce(sum(leads), 0) from lead_insight_days)::bigint",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// The answers that differ from the scan's: grouping, zone and period, with both answers.
async fn answers_unlike_the_scan(client: &Client) -> Vec<String> {
    let rows = client
        .query(
            "select g.by || ' ' || z.zone || ' ' || p.days_back || ' ' || p.shift::text, n::text, s::text
               from unnest(array['campaign', 'adset', 'ad', 'form', 'platform', 'organic', 'answer']) as g(by)
              cross join unnest(array['UTC', 'Europe/Berlin', 'Asia/Kolkata', 'Asia/Kathmandu',
                                      'America/New_York']) as z(zone)
              cross join (values (8, interval '0'), (2, interval '0'), (0, interval '0'),
                                 (8, interval '0.5 seconds')) as p(days_back, shift)
              cross join lateral (select pg_temp.starts(z.zone, p.days_back, p.shift) as starts) as d
              cross join lateral (select
                  pg_temp.sorted(public.lead_insights(g.by, d.starts, array[60, 300, 900, 3600]::bigint[],
                                                      '{\"*\": \"budget\"}')) as n,
                  pg_temp.sorted(public.lead_insights_scan(g.by, d.starts, array[60, 300, 900, 3600]::bigint[],
                                                           '{\"*\": \"budget\"}')) as s) as a
              where n is distinct from s",
            &[],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            let (asked, new, scan): (String, String, String) = (row.get(0), row.get(1), row.get(2));
            format!("{asked}:\n  roll-ups {new}\n  scan     {scan}")
        })
        .collect()
}

async fn check(client: &Client, step: &str, leads: i64) {
    let (differences, counted) = rollup_differences(client).await;
    assert_eq!(
        (differences, counted),
        (0, leads),
        "{step}: the roll-ups differ from the leads"
    );
    let unlike = answers_unlike_the_scan(client).await;
    assert!(
        unlike.is_empty(),
        "{step}: {} answers differ from the scan's, e.g. {}",
        unlike.len(),
        unlike[0]
    );
}

#[tokio::test]
async fn the_day_rollups_follow_every_write_and_answer_as_the_scan() {
    let (before, from_it) = split_at(DAYS_MIGRATION);
    let database = TestDatabase::migrated(before).await;
    // Stored before the migration: 30 leads over six days to now, by an older server (first
    // contacts at the moment of the write) and by the store copy (first contacts as given).
    database
        .execute(
            "INSERT INTO leads (leadgen_id, created_at, campaign_id, campaign_name, adset_id, ad_id,
                                form_id, platform, is_organic, owner, junk_reason, fields)
             SELECT 'old' || g, now() - g * interval '4 hours 47 minutes 13.25 seconds',
                    CASE WHEN g % 5 <> 0 THEN 'c' || g % 3 END, 'Campaign ' || g % 4,
                    CASE WHEN g % 5 <> 0 THEN 's' || g % 4 END, CASE WHEN g % 5 <> 0 THEN 'a' || g % 6 END,
                    'f' || g % 2, CASE WHEN g % 4 = 0 THEN 'ig' ELSE 'fb' END, g % 5 = 0,
                    CASE WHEN g % 7 <> 0 THEN 'rep' || g % 3 END,
                    CASE WHEN g % 9 = 0 THEN 'Meta test lead' END,
                    jsonb_build_object('budget', g % 3)
               FROM generate_series(1, 24) AS g;
             UPDATE leads SET status = 'Contacted', changed_by = 'rep1' WHERE id % 2 = 0;
             UPDATE leads SET status = 'Qualified', changed_by = 'rep1' WHERE id % 3 = 0;
             UPDATE leads SET status = 'Won', changed_by = 'rep2' WHERE id % 6 = 0;
             UPDATE leads SET status = 'Lost', changed_by = 'rep2' WHERE id % 8 = 1;
             SELECT pg_catalog.set_config('request.headers', '{\"x-leadhook-copy\": \"history\"}', false);
             INSERT INTO leads (leadgen_id, status, created_at, campaign_id, form_id, owner,
                                first_contact_at, stages)
             SELECT 'copied' || g, 'Contacted', now() - g * interval '23 hours 5 minutes',
                    'c' || g % 2, 'f1', 'rep' || g % 2,
                    now() - g * interval '23 hours 5 minutes' + g * g * interval '61 seconds', 1
               FROM generate_series(1, 6) AS g;
             SELECT pg_catalog.set_config('request.headers', '{}', false);",
        )
        .await
        .unwrap();
    apply_twice(&database, from_it).await;
    let client = database.connect().await;
    client.batch_execute(&scan_reference()).await.unwrap();
    client.batch_execute(HELPERS).await.unwrap();
    check(&client, "filled in place", 30).await;

    // An older server's writes after it, each kind that changes what the figures count.
    let writes = [
        (
            "new leads, one a repeat",
            "INSERT INTO leads (leadgen_id, created_at, campaign_id, form_id, owner, repeat_of, repeat_via)
             SELECT 'new' || g, now() - g * interval '7 hours 3 minutes', 'c' || g % 2, 'f0',
                    'rep' || g % 2, CASE WHEN g = 1 THEN 2 END, CASE WHEN g = 1 THEN 'phone' END
               FROM generate_series(1, 4) AS g",
            34,
        ),
        (
            "status changes",
            "UPDATE leads SET status = 'Contacted', changed_by = 'rep0' WHERE status = 'Qualified' AND id % 2 = 1;
             UPDATE leads SET status = 'Won', changed_by = 'rep0' WHERE leadgen_id LIKE 'new%'",
            34,
        ),
        (
            "owners",
            "UPDATE leads SET owner = 'rep9', changed_by = 'rep9' WHERE id % 4 = 1",
            34,
        ),
        (
            "junk cleared",
            "UPDATE leads SET junk_cleared_at = now() WHERE junk_reason IS NOT NULL AND id % 2 = 1",
            34,
        ),
        (
            "erased",
            "UPDATE leads SET erased_at = now(), changed_by = 'rep0' WHERE id IN (2, 9, 18)",
            34,
        ),
        (
            "re-delivered into another day and campaign",
            "UPDATE leads SET created_at = created_at - interval '1 day 3 hours', campaign_id = 'c7'
              WHERE id % 5 = 2",
            34,
        ),
        (
            "notes only",
            "UPDATE leads SET notes = 'called back' WHERE id % 3 = 2",
            34,
        ),
        (
            "deleted",
            "DELETE FROM leads WHERE id IN (4, 11)",
            32,
        ),
    ];
    for (step, sql, leads) in writes {
        database.execute(sql).await.unwrap();
        check(&client, step, leads).await;
    }

    database.execute("TRUNCATE leads CASCADE").await.unwrap();
    assert_eq!(rollup_differences(&client).await, (0, 0), "truncated");
}
