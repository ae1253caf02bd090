//! SQL cannot use `ActivityKind::as_str`, so the kinds it names are checked here: every kind the
//! SQLite schema and the Supabase migrations spell (CHECK lists, trigger literals, the owner
//! change a trigger records as a kind) must be one the server knows.

use std::path::Path;

use leadhook_server::store::sqlite::SqliteStore;
use leadhook_shared::ActivityKind;

/// The string literals `sql` uses as activity kinds.
fn kinds_named(sql: &str) -> Vec<String> {
    let sql = sql.to_lowercase();
    let mut named = Vec::new();
    // `kind in ('a', 'b')` (CHECK constraints, trigger conditions).
    for (at, _) in sql
        .match_indices("kind in (")
        .chain(sql.match_indices("kind in("))
    {
        named.extend(literals(until_close(&sql[at..])));
    }
    // The owner change a trigger records as the row's kind.
    for (at, _) in sql.match_indices("owner_change = '") {
        named.extend(literals(&sql[at..]).into_iter().take(1));
    }
    // `insert into [public.]activity (..., kind, ...) values (...)` / `select ...`.
    for (at, _) in sql.match_indices("activity (") {
        let rest = &sql[at + "activity ".len()..];
        let columns = until_close(rest);
        let Some(position) = split_top(columns).iter().position(|c| c.trim() == "kind") else {
            continue;
        };
        let after = rest[rest.find(columns).unwrap_or(0) + columns.len()..]
            .trim_start_matches(')')
            .trim_start();
        let values = if let Some(values) = after.strip_prefix("values") {
            until_close(values.trim_start())
        } else if let Some(select) = after.strip_prefix("select") {
            select.split(" from ").next().unwrap_or_default()
        } else {
            continue;
        };
        if let Some(value) = split_top(values).get(position) {
            named.extend(literals(value));
        }
    }
    named
}

/// The text from an opening parenthesis to its match (without either), or to the end.
fn until_close(text: &str) -> &str {
    let Some(open) = text.find('(') else {
        return "";
    };
    let mut depth = 0;
    for (at, c) in text[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 1 => return &text[open + 1..open + at],
            ')' => depth -= 1,
            _ => {}
        }
    }
    &text[open + 1..]
}

/// `text` split at commas outside parentheses.
fn split_top(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The single-quoted literals in `text`.
fn literals(text: &str) -> Vec<String> {
    text.split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn unknown(named: &[String]) -> Vec<&String> {
    named
        .iter()
        .filter(|name| name.parse::<ActivityKind>().is_err())
        .collect()
}

#[test]
fn the_checker_finds_kinds_in_each_place_sql_names_them() {
    let sql = "create table activity (kind text check (kind in ('stored', 'claimed')));
        insert into public.activity (lead_id, actor, kind, new) values (new.id, who, 'asign', x);
        insert into activity (lead_id, at, actor, kind) select id, received_at, 'system', 'stord' from leads;
        update leads set owner_change = 'relase';
        insert into activity (lead_id, kind) values (1, coalesce(new.owner_change, 'notez'));";
    let named = kinds_named(sql);
    assert_eq!(
        unknown(&named),
        ["claimed", "relase", "asign", "stord", "notez"]
    );
}

#[tokio::test]
async fn every_kind_the_sqlite_schema_names_is_known() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("leads.db");
    drop(SqliteStore::open(&path).await.expect("store"));
    let conn = rusqlite::Connection::open(&path).expect("open");
    let mut statement = conn
        .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")
        .expect("prepare");
    let schema: Vec<String> = statement
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let named = kinds_named(&schema.join(";\n"));
    assert!(named.len() >= ActivityKind::ALL.len(), "{named:?}");
    assert!(unknown(&named).is_empty(), "{named:?}");
}

#[test]
fn every_kind_the_supabase_migrations_name_is_known() {
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut sql = String::new();
    for entry in std::fs::read_dir(&migrations).expect("migrations") {
        let path = entry.expect("entry").path();
        sql += &std::fs::read_to_string(&path).expect("migration");
    }
    let named = kinds_named(&sql);
    assert!(named.len() >= ActivityKind::ALL.len(), "{named:?}");
    assert!(unknown(&named).is_empty(), "{named:?}");
}
