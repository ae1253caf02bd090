//! Insights in the SQLite store (see [`crate::store::insights`]): three statements in one read
//! transaction on the store's read-only connection, so they count the same leads and never hold
//! up the writer.

use async_trait::async_trait;
use leadhook_shared::answer_columns::EVERY_FORM;
use leadhook_shared::insights::{Funnel, Grouping, RepInsights, SPEED_BUCKET_EDGES};
use leadhook_shared::{AnswerColumn, LeadStatus};
use rusqlite::{Row, params};

use super::rows::micros;
use super::{SqliteStore, internal};
use crate::store::StoreError;
use crate::store::insights::{DayCount, GroupFigures, InsightsQuery, InsightsReads, StoreInsights};

/// Lets a lead's stages be read from its history one index step per lead.
pub(super) const MIGRATION: &str = "CREATE INDEX IF NOT EXISTS activity_status_by_lead ON activity (lead_id, new) WHERE kind = 'status';";

/// The SQL of a source's key and name for the query's grouping (columns of `leads AS l`).
fn source_columns(query: &InsightsQuery) -> (String, &'static str) {
    match &query.by {
        Grouping::Campaign => ("l.campaign_id".into(), "l.campaign_name"),
        Grouping::AdSet => ("l.adset_id".into(), "l.adset_name"),
        Grouping::Ad => ("l.ad_id".into(), "l.ad_name"),
        Grouping::Form => ("l.form_id".into(), "l.form_name"),
        Grouping::Platform => ("l.platform".into(), "NULL"),
        Grouping::Organic => (
            "CASE WHEN l.is_organic THEN '1' ELSE '0' END".into(),
            "NULL",
        ),
        Grouping::Answer { .. } => (answer_sql(query.answer.as_ref()), "NULL"),
    }
}

/// A lead's answer to its form's question of `column` (several values joined with ", "), as
/// [`AnswerColumn::value`] reads it. The questions are checked when configured (no quotes,
/// backslashes or control characters; form ids are digits), so they can sit in the SQL.
fn answer_sql(column: Option<&AnswerColumn>) -> String {
    let questions = column
        .map(|column| serde_json::json!(column.questions).to_string())
        .unwrap_or_else(|| "{}".into())
        .replace('\'', "''");
    format!(
        "(SELECT CASE json_type(l.fields, q.path)
                   WHEN 'array' THEN (SELECT group_concat(value, ', ' ORDER BY key)
                                        FROM json_each(l.fields, q.path))
                   ELSE json_extract(l.fields, q.path) END
            FROM (SELECT '$.\"' || COALESCE(json_extract('{questions}', '$.\"' || l.form_id || '\"'),
                                             json_extract('{questions}', '$.\"{EVERY_FORM}\"'))
                         || '\"' AS path) AS q)"
    )
}

/// A status as the bit of the stages the insights count (qualified 1, won 2, lost 4, else 0).
fn stage_bit(column: &str) -> String {
    format!(
        "CASE {column} WHEN '{}' THEN 1 WHEN '{}' THEN 2 WHEN '{}' THEN 4 ELSE 0 END",
        LeadStatus::Qualified.as_str(),
        LeadStatus::Won.as_str(),
        LeadStatus::Lost.as_str(),
    )
}

/// Seconds from the form to the first contact, never negative (`NULL` when not contacted).
const SPEED: &str = "CASE WHEN l.first_contact_at IS NOT NULL \
     THEN MAX(0, (l.first_contact_at - l.created_at) / 1000000) END";

/// Every figure of the period's leads per facet: `t` (all), `g` (each source), `r` (each owner).
/// Medians are nearest rank: the sample at rank ceil(n * p / 100).
fn funnel_sql(query: &InsightsQuery) -> String {
    let (key, name) = source_columns(query);
    let status_bit = stage_bit("l.status");
    let history_bit = stage_bit("a.new");
    format!(
        "WITH p AS MATERIALIZED (
           SELECT l.created_at, {key} AS k, {name} AS nm, l.owner,
                  (l.junk_reason IS NOT NULL AND l.junk_cleared_at IS NULL) AS junk,
                  COALESCE(l.repeat_of, l.id) AS person, {SPEED} AS speed,
                  ({status_bit}) | COALESCE((SELECT SUM(DISTINCT {history_bit}) FROM activity AS a
                                              WHERE a.lead_id = l.id AND a.kind = 'status'), 0)
                    AS reached
             FROM leads AS l WHERE l.created_at >= ?1 AND l.created_at < ?2),
         f AS (SELECT 't' AS facet, NULL AS k, person, junk, speed, reached FROM p
               UNION ALL SELECT 'g', k, person, junk, speed, reached FROM p
               UNION ALL SELECT 'r', owner, person, junk, speed, reached FROM p
                          WHERE owner IS NOT NULL),
         counted AS (SELECT facet, k, COUNT(*) AS leads,
                            COUNT(DISTINCT CASE WHEN NOT junk THEN person END) AS people,
                            SUM(junk) AS junk, COUNT(speed) AS contacted,
                            SUM(reached & 1 > 0) AS qualified, SUM(reached & 2 > 0) AS won,
                            SUM(reached & 4 > 0) AS lost
                       FROM f GROUP BY facet, k),
         ranked AS (SELECT facet, k, speed,
                           ROW_NUMBER() OVER (PARTITION BY facet, k ORDER BY speed) AS rank,
                           COUNT(*) OVER (PARTITION BY facet, k) AS n
                      FROM f WHERE speed IS NOT NULL),
         speeds AS (SELECT facet, k,
                           MIN(CASE WHEN rank = (n * 50 + 99) / 100 THEN speed END) AS median,
                           MIN(CASE WHEN rank = (n * 90 + 99) / 100 THEN speed END) AS p90
                      FROM ranked GROUP BY facet, k),
         names AS (SELECT k, nm, MAX(created_at) FROM p WHERE nm IS NOT NULL GROUP BY k)
         SELECT c.facet, c.k, CASE WHEN c.facet = 'g' THEN n.nm END, c.leads, c.people, c.junk,
                c.contacted, c.qualified, c.won, c.lost, s.median, s.p90
           FROM counted AS c
           LEFT JOIN speeds AS s ON s.facet = c.facet AND s.k IS c.k
           LEFT JOIN names AS n ON c.facet = 'g' AND n.k IS c.k"
    )
}

/// Contacted leads of the period per speed bucket: the count of edges the speed is above.
fn histogram_sql() -> String {
    let bucket = SPEED_BUCKET_EDGES
        .iter()
        .map(|edge| format!("({SPEED} > {edge})"))
        .collect::<Vec<_>>()
        .join(" + ");
    format!(
        "SELECT {bucket} AS bucket, COUNT(*) FROM leads AS l
          WHERE l.created_at >= ?1 AND l.created_at < ?2 AND l.first_contact_at IS NOT NULL
          GROUP BY bucket"
    )
}

/// Leads per day and source; `?1` is the days as a JSON array of `[start, end]` microseconds.
fn per_day_sql(query: &InsightsQuery) -> String {
    let (key, _) = source_columns(query);
    format!(
        "WITH days AS (SELECT CAST(key AS INTEGER) AS d, json_extract(value, '$[0]') AS s,
                              json_extract(value, '$[1]') AS e FROM json_each(?1))
         SELECT days.d, {key} AS k, COUNT(*) FROM days
           JOIN leads AS l ON l.created_at >= days.s AND l.created_at < days.e
          GROUP BY days.d, k"
    )
}

fn count(row: &Row<'_>, index: usize) -> rusqlite::Result<u64> {
    Ok(row.get::<_, Option<i64>>(index)?.unwrap_or(0).max(0) as u64)
}

fn secs(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<u64>> {
    Ok(row.get::<_, Option<i64>>(index)?.map(|s| s.max(0) as u64))
}

#[async_trait]
impl InsightsReads for SqliteStore {
    async fn insights(&self, query: &InsightsQuery) -> Result<StoreInsights, StoreError> {
        let query = query.clone();
        self.read(move |conn| {
            // One snapshot for the three statements, read beside the writer.
            let conn = conn.transaction().map_err(internal)?;
            let (start, end) = (micros(query.start()), micros(query.end()));
            let mut answer = StoreInsights::default();
            let mut statement = conn.prepare_cached(&funnel_sql(&query)).map_err(internal)?;
            let mut rows = statement.query(params![start, end]).map_err(internal)?;
            while let Some(row) = rows.next().map_err(internal)? {
                let facet: String = row.get(0).map_err(internal)?;
                let key: Option<String> = row.get(1).map_err(internal)?;
                let funnel = Funnel {
                    leads: count(row, 3).map_err(internal)?,
                    people: count(row, 4).map_err(internal)?,
                    junk: count(row, 5).map_err(internal)?,
                    contacted: count(row, 6).map_err(internal)?,
                    qualified: count(row, 7).map_err(internal)?,
                    won: count(row, 8).map_err(internal)?,
                    lost: count(row, 9).map_err(internal)?,
                    median_speed_secs: secs(row, 10).map_err(internal)?,
                    p90_speed_secs: secs(row, 11).map_err(internal)?,
                };
                match (facet.as_str(), key) {
                    ("t", _) => answer.total = funnel,
                    ("r", Some(name)) => answer.reps.push(RepInsights {
                        name,
                        leads: funnel.leads,
                        contacted: funnel.contacted,
                        won: funnel.won,
                        median_speed_secs: funnel.median_speed_secs,
                    }),
                    (_, key) => answer.groups.push(GroupFigures {
                        key,
                        name: row.get(2).map_err(internal)?,
                        funnel,
                    }),
                }
            }
            let mut statement = conn.prepare_cached(&histogram_sql()).map_err(internal)?;
            let buckets = statement
                .query_map(params![start, end], |row| {
                    Ok((row.get::<_, i64>(0)?.max(0) as usize, count(row, 1)?))
                })
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            answer.speed_histogram = StoreInsights::histogram(buckets);
            let days: Vec<serde_json::Value> = query
                .day_starts
                .windows(2)
                .map(|day| serde_json::json!([micros(day[0]), micros(day[1])]))
                .collect();
            let days = serde_json::Value::from(days).to_string();
            let mut statement = conn
                .prepare_cached(&per_day_sql(&query))
                .map_err(internal)?;
            answer.days = statement
                .query_map([days], |row| {
                    Ok(DayCount {
                        day: row.get::<_, i64>(0)?.max(0) as usize,
                        key: row.get(1)?,
                        leads: count(row, 2)?,
                    })
                })
                .map_err(internal)?
                .collect::<Result<_, _>>()
                .map_err(internal)?;
            Ok(answer)
        })
        .await
    }
}
