//! Insights in the SQLite store (see [`crate::store::insights`]): one pass over the period's
//! leads, read from a covering index on the store's read-only connection (so it never holds up
//! the writer), counted by [`tally::Tally`]; then a name for each source.

mod tally;

use std::collections::HashMap;

use async_trait::async_trait;
use leadhook_shared::AnswerColumn;
use leadhook_shared::answer_columns::EVERY_FORM;
use leadhook_shared::insights::Grouping;
use rusqlite::{Connection, OptionalExtension, params};

use self::tally::{LeadFacts, Tally};
use super::rows::{micros, time_from};
use super::{SqliteStore, internal};
use crate::store::StoreError;
use crate::store::insights::{InsightsQuery, InsightsReads, StoreInsights};

/// Lets a lead's stages be read from its history one index step per lead.
pub(super) const MIGRATION: &str = "CREATE INDEX IF NOT EXISTS activity_status_by_lead ON activity (lead_id, new) WHERE kind = 'status';";

/// Keeps on each lead the stages it ever reached (`stages`, bits as [`tally`] reads them), set by
/// a trigger on the history so every status change counts, and the covering index a period's
/// insights read without touching the leads' wide rows. Filled for the leads already stored.
///
/// A migration that rebuilds `activity` (see `erase.rs`) drops its triggers: it must create this
/// one again (`stage_trigger!`).
pub(super) const STAGES_MIGRATION: &str = concat!(
    "ALTER TABLE leads ADD COLUMN stages INTEGER NOT NULL DEFAULT 0;",
    stage_trigger!(),
    r#"
    UPDATE leads SET stages = (SELECT SUM(DISTINCT "#,
    stage_bit!("a.new"),
    r#")
                                 FROM activity AS a
                                WHERE a.lead_id = leads.id AND a.kind = 'status'
                                  AND a.new IN ('Qualified', 'Won', 'Lost'))
     WHERE id IN (SELECT lead_id FROM activity
                   WHERE kind = 'status' AND new IN ('Qualified', 'Won', 'Lost'));
    CREATE INDEX leads_insights ON leads (created_at, campaign_id, adset_id, ad_id, form_id,
        platform, is_organic, owner, first_contact_at, status, stages, repeat_of, junk_reason,
        junk_cleared_at);
    DROP INDEX IF EXISTS activity_status_by_lead;
"#
);

/// The trigger that marks a stage reached on the lead when its history records it.
macro_rules! stage_trigger {
    () => {
        concat!(
            r#"
    CREATE TRIGGER activity_stage_reached AFTER INSERT ON activity
    WHEN NEW.kind = 'status' AND NEW.new IN ('Qualified', 'Won', 'Lost')
    BEGIN
        UPDATE leads
           SET stages = stages | "#,
            stage_bit!("NEW.new"),
            r#"
         WHERE id = NEW.lead_id;
    END;
"#
        )
    };
}
pub(super) use stage_trigger;

/// The bit of the stage a status (the SQL `$status`) is: [`tally::QUALIFIED`], [`tally::WON`], [`tally::LOST`], else 0.
/// The one spelling in SQL of the bits [`tally`] reads.
macro_rules! stage_bit {
    ($status:literal) => {
        concat!(
            "CASE ",
            $status,
            " WHEN 'Qualified' THEN 1 WHEN 'Won' THEN 2 WHEN 'Lost' THEN 4 ELSE 0 END"
        )
    };
}
pub(super) use stage_bit;

/// The SQL of a source's key and name for the query's grouping (columns of `leads AS l`).
fn source_columns(query: &InsightsQuery) -> (String, Option<&'static str>) {
    match &query.by {
        Grouping::Campaign => ("l.campaign_id".into(), Some("l.campaign_name")),
        Grouping::AdSet => ("l.adset_id".into(), Some("l.adset_name")),
        Grouping::Ad => ("l.ad_id".into(), Some("l.ad_name")),
        Grouping::Form => ("l.form_id".into(), Some("l.form_name")),
        Grouping::Platform => ("l.platform".into(), None),
        Grouping::Organic => ("CASE WHEN l.is_organic THEN '1' ELSE '0' END".into(), None),
        Grouping::Answer { .. } => (answer_sql(query.answer.as_ref()), None),
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

/// The bit of a lead's status now, for a lead whose history does not hold it (written before
/// the history did, or copied without it).
const STATUS_BIT: &str = stage_bit!("l.status");

/// Seconds from the form to the first contact, never negative (`NULL` when not contacted).
const SPEED: &str = "CASE WHEN l.first_contact_at IS NOT NULL \
     THEN MAX(0, (l.first_contact_at - l.created_at) / 1000000) END";

/// One narrow row per lead of the period, in the order of [`LeadFacts`]; for Meta's groupings
/// every column is in the covering index `leads_insights`.
fn facts_sql(query: &InsightsQuery) -> String {
    let (key, _) = source_columns(query);
    format!(
        "SELECT l.id, l.created_at, {key}, l.owner,
                l.junk_reason IS NOT NULL AND l.junk_cleared_at IS NULL,
                COALESCE(l.repeat_of, l.id), {SPEED}, l.stages | {STATUS_BIT}
           FROM leads AS l WHERE l.created_at >= ?1 AND l.created_at < ?2"
    )
}

/// Counts the period's leads, streamed from [`facts_sql`].
fn tally(conn: &Connection, query: &InsightsQuery) -> Result<Tally, StoreError> {
    let mut tally = Tally::new(&query.day_starts);
    let mut statement = conn.prepare_cached(&facts_sql(query)).map_err(internal)?;
    let mut rows = statement
        .query(params![micros(query.start()), micros(query.end())])
        .map_err(internal)?;
    while let Some(row) = rows.next().map_err(internal)? {
        let text = |index: usize| -> Result<Option<&str>, StoreError> {
            row.get_ref(index)
                .and_then(|value| value.as_str_or_null().map_err(Into::into))
                .map_err(internal)
        };
        let facts = LeadFacts {
            id: row.get(0).map_err(internal)?,
            created_at: time_from(row.get(1).map_err(internal)?),
            key: text(2)?,
            owner: text(3)?,
            junk: row.get(4).map_err(internal)?,
            person: row.get(5).map_err(internal)?,
            speed_secs: row
                .get::<_, Option<i64>>(6)
                .map_err(internal)?
                .map(|secs| secs.max(0) as u64),
            reached: row.get(7).map_err(internal)?,
        };
        tally.add(facts);
    }
    Ok(tally)
}

/// Each source's name: the newest name among its leads of the period, read back from its newest
/// lead (one step in the usual case where that lead has one).
fn names(
    conn: &Connection,
    query: &InsightsQuery,
    tally: &Tally,
) -> Result<HashMap<String, String>, StoreError> {
    let mut names = HashMap::new();
    let (key, Some(name)) = source_columns(query) else {
        return Ok(names);
    };
    let mut newest_named = conn
        .prepare_cached(&format!(
            "SELECT {name} FROM leads AS l
              WHERE {key} = ?1 AND {name} IS NOT NULL AND l.created_at >= ?2 AND l.created_at <= ?3
              ORDER BY l.created_at DESC, l.id DESC LIMIT 1"
        ))
        .map_err(internal)?;
    for (source, newest) in tally.newest_leads() {
        let found: Option<String> = newest_named
            .query_row(
                params![source, micros(query.start()), micros(newest)],
                |row| row.get(0),
            )
            .optional()
            .map_err(internal)?;
        if let Some(found) = found {
            names.insert(source.to_owned(), found);
        }
    }
    Ok(names)
}

#[async_trait]
impl InsightsReads for SqliteStore {
    async fn insights(&self, query: &InsightsQuery) -> Result<StoreInsights, StoreError> {
        let query = query.clone();
        self.read(move |conn| {
            // One snapshot for the count and the names, read beside the writer.
            let conn = conn.transaction().map_err(internal)?;
            let tally = tally(&conn, &query)?;
            let mut names = names(&conn, &query, &tally)?;
            Ok(tally.finish(|key| names.remove(key)))
        })
        .await
    }
}
