//! The pieces of PostgREST query strings the store sends: column lists, orders, quoted values in
//! logic trees, the search pattern and the change cursor.

use chrono::{DateTime, SecondsFormat, Utc};
use leadhook_shared::Cursor;

use crate::store::LeadQuery;

/// The table, as PostgREST names it under the base URL.
pub const TABLE: &str = "leads";

/// The dashboard counters, `public.lead_stats(today_start, week_start)`.
pub const STATS_FUNCTION: &str = "lead_stats";
/// People and junk beside the submission counts (migrations/20261207160000_people.sql).
pub const PEOPLE_FUNCTION: &str = "lead_people";

/// What rows are read with: every column, and a `Lead` takes the ones it has by name, plus the
/// computed field `next_step` (`public.next_step(leads)`), the wire shape of the two columns.
/// Functions that return leads build the same shape with `public.lead_json`.
pub const EVERY_COLUMN: &str = "*,next_step";

/// Newest lead first, the dashboard's order.
pub const NEWEST_FIRST: &str = "created_at.desc,id.desc";
/// The follow-up due soonest first (overdue ones before the rest), the order of a due list.
pub const SOONEST_DUE_FIRST: &str = "next_step_at.asc,id.asc";
/// Oldest change first, the order of incremental polling.
pub const OLDEST_CHANGE_FIRST: &str = "updated_at.asc,id.asc";
/// Newest change first, to find the cursor of the whole store.
pub const NEWEST_CHANGE_FIRST: &str = "updated_at.desc,id.desc";

/// A timestamp as PostgreSQL reads it and PostgREST passes it through a query string untouched:
/// RFC 3339 in UTC with `Z` (a `+00:00` would turn into a space when form-decoded), to the
/// microsecond, which is what `timestamptz` keeps.
pub fn timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A value inside a logic tree (`or=(...)`), double-quoted so that `,` `.` `(` `)` `:` and spaces
/// are taken literally. Inside quotes PostgREST reads `\x` as `x`, so `\` and `"` are escaped.
pub fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '\\' || c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The `ilike` pattern matching `text` anywhere, every character literal except `*`.
///
/// PostgreSQL's LIKE treats `%`, `_` and `\` specially: they get a backslash. PostgREST turns
/// every `*` into `%` before PostgreSQL sees the pattern, quoted or not, so a literal `*` cannot be
/// expressed: it becomes `_` (any one character), which still matches the `*` and over-matches
/// only in that rare case.
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('*');
    for c in text.chars() {
        match c {
            '%' | '_' | '\\' => {
                pattern.push('\\');
                pattern.push(c);
            }
            '*' => pattern.push('_'),
            _ => pattern.push(c),
        }
    }
    pattern.push('*');
    pattern
}

/// The logic trees (joined for `and=(...)`) that narrow a list: the search, the cursor, the
/// visibility, the due time and the owner.
/// The status filter is a plain `status=eq.<status>` parameter and not part of this.
pub fn logic_filters(query: &LeadQuery) -> Option<String> {
    let mut trees = Vec::new();
    if let Some(search) = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|search| !search.is_empty())
    {
        let pattern = quoted(&contains_pattern(search));
        trees.push(format!(
            "or(name.ilike.{pattern},email.ilike.{pattern},phone.ilike.{pattern})"
        ));
    }
    if let Some(since) = query.since {
        trees.push(after_cursor(since));
    }
    if let Some(rep) = &query.visible_to {
        trees.push(format!("or(owner.eq.{},owner.is.null)", quoted(rep)));
    }
    if let Some(due_before) = query.due_before {
        trees.push(format!(
            "next_step_at.lt.{}",
            quoted(&timestamp(due_before))
        ));
    }
    if let Some(owner) = &query.owner {
        trees.push(format!("owner.eq.{}", quoted(owner)));
    }
    (!trees.is_empty()).then(|| trees.join(","))
}

/// Changes after `cursor`: a later `updated_at`, or the same one and a higher `id`.
fn after_cursor(cursor: Cursor) -> String {
    let at = quoted(&timestamp(cursor.updated_at()));
    format!(
        "or(updated_at.gt.{at},and(updated_at.eq.{at},id.gt.{}))",
        cursor.id
    )
}

/// The total behind `Content-Range: 0-49/3573` (or `*/0`); `None` when the server did not count.
pub fn content_range_total(header: &str) -> Option<u64> {
    header.rsplit_once('/')?.1.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn timestamps_use_z_and_microseconds() {
        let time = Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(timestamp(time), "2023-11-14T22:13:20.123456Z");
    }

    #[test]
    fn quoting_escapes_backslash_and_quote_only() {
        assert_eq!(quoted("a,b.c(d)"), r#""a,b.c(d)""#);
        assert_eq!(quoted(r#"say "hi" \o/"#), r#""say \"hi\" \\o/""#);
    }

    #[test]
    fn search_patterns_are_literal() {
        assert_eq!(contains_pattern("jane"), "*jane*");
        assert_eq!(contains_pattern("50%_off"), r"*50\%\_off*");
        assert_eq!(contains_pattern(r"a\b"), r"*a\\b*");
        assert_eq!(contains_pattern("a*b"), "*a_b*");
        // Through both layers: LIKE escapes, then PostgREST quoting doubles the backslashes.
        assert_eq!(quoted(&contains_pattern("5%")), r#""*5\\%*""#);
    }

    #[test]
    fn filters_for_search_and_cursor() {
        let query = LeadQuery {
            search: Some("  o'neil, (jr.)  ".into()),
            since: Some(Cursor {
                updated_at_micros: 1_700_000_000_000_001,
                id: 7,
            }),
            ..LeadQuery::default()
        };
        assert_eq!(
            logic_filters(&query).unwrap(),
            r#"or(name.ilike."*o'neil, (jr.)*",email.ilike."*o'neil, (jr.)*",phone.ilike."*o'neil, (jr.)*"),or(updated_at.gt."2023-11-14T22:13:20.000001Z",and(updated_at.eq."2023-11-14T22:13:20.000001Z",id.gt.7))"#
        );
        let blank = LeadQuery {
            search: Some("   ".into()),
            ..LeadQuery::default()
        };
        assert_eq!(logic_filters(&blank), None);
    }

    #[test]
    fn filters_for_due_time_and_owner() {
        let query = LeadQuery {
            due_before: Some(Utc.timestamp_opt(1_700_000_000, 0).unwrap()),
            owner: Some("o'neil, jr.".into()),
            ..LeadQuery::default()
        };
        assert_eq!(
            logic_filters(&query).unwrap(),
            r#"next_step_at.lt."2023-11-14T22:13:20.000000Z",owner.eq."o'neil, jr.""#
        );
    }

    #[test]
    fn content_range_totals() {
        assert_eq!(content_range_total("0-49/3573"), Some(3573));
        assert_eq!(content_range_total("*/0"), Some(0));
        assert_eq!(content_range_total("0-49/*"), None);
        assert_eq!(content_range_total("garbage"), None);
    }
}
