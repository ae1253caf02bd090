//! How a lead maps onto rows of the SQLite `leads` table. The Meta-side columns come from the one
//! list of [`MetaFields`] (`leadhook_shared::with_meta_fields`), so no column list is kept here.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::{Answer, Lead, MetaFields, NextStep};
use rusqlite::types::ToSqlOutput;
use rusqlite::{Row, ToSql};

/// How leads are read: every column, and `lead_from_row` picks the ones a `Lead` has by name.
pub(super) const SELECT_LEADS: &str = "SELECT * FROM leads";

/// A Meta-side field as an SQLite column: how it is bound as a parameter and read back.
trait MetaColumn: Sized {
    fn to_column(&self) -> rusqlite::Result<ToSqlOutput<'_>>;
    fn from_column(row: &Row<'_>, column: &str) -> rusqlite::Result<Self>;
}

impl MetaColumn for Option<String> {
    fn to_column(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        self.to_sql()
    }

    fn from_column(row: &Row<'_>, column: &str) -> rusqlite::Result<Self> {
        row.get(column)
    }
}

impl MetaColumn for bool {
    fn to_column(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        self.to_sql()
    }

    fn from_column(row: &Row<'_>, column: &str) -> rusqlite::Result<Self> {
        row.get(column)
    }
}

/// Times are kept as microseconds since the epoch, which sort and compare as integers.
impl MetaColumn for DateTime<Utc> {
    fn to_column(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(micros(*self)))
    }

    fn from_column(row: &Row<'_>, column: &str) -> rusqlite::Result<Self> {
        Ok(time_from(row.get(column)?))
    }
}

/// The answers are kept as one JSON object.
impl MetaColumn for BTreeMap<String, Answer> {
    fn to_column(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        serde_json::to_string(self)
            .map(ToSqlOutput::from)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
    }

    fn from_column(row: &Row<'_>, column: &str) -> rusqlite::Result<Self> {
        let text: String = row.get(column)?;
        serde_json::from_str(&text).map_err(|e| conversion_failure(column, e.into()))
    }
}

/// The Meta-side columns, derived from the one list of [`MetaFields`].
macro_rules! meta_columns {
    ($($(#[$doc:meta])* $field:ident: $type:ty,)*) => {
        /// The Meta-side columns, in the order [`meta_parameters`] binds them.
        pub(super) const META_COLUMNS: &[&str] = &[$(stringify!($field)),*];

        fn meta_from_row(row: &Row<'_>) -> rusqlite::Result<MetaFields> {
            Ok(MetaFields {
                $($field: MetaColumn::from_column(row, stringify!($field))?,)*
            })
        }

        pub(super) fn meta_parameters(meta: &MetaFields) -> rusqlite::Result<Vec<ToSqlOutput<'_>>> {
            Ok(vec![$(meta.$field.to_column()?),*])
        }
    };
}

leadhook_shared::with_meta_fields!(meta_columns);

/// Parameters of [`INSERT_FROM_META`] and [`UPDATE_FROM_META`]: `?1` is the leadgen_id, then come
/// the [`META_COLUMNS`], the search text and the change stamp.
const SEARCH_PARAMETER: usize = META_COLUMNS.len() + 2;
const STAMP_PARAMETER: usize = META_COLUMNS.len() + 3;

/// Inserts a lead from Meta in its place: after the stamp come its owner, `owned_at`,
/// `repeat_of` and `repeat_via` (`super::place` decides them before the insert). Every other
/// column takes its default, as [`inserted_from_meta`] says. Nothing is read back: reading the
/// row costs as much as writing it.
pub(super) static INSERT_FROM_META: LazyLock<String> = LazyLock::new(|| {
    let placeholders: Vec<String> = (2..SEARCH_PARAMETER).map(|n| format!("?{n}")).collect();
    let placed: Vec<String> = (STAMP_PARAMETER + 1..STAMP_PARAMETER + 5)
        .map(|n| format!("?{n}"))
        .collect();
    format!(
        "INSERT INTO leads (leadgen_id, {}, search_text, updated_at, received_at, is_manual, triaged,
            owner, owned_at, repeat_of, repeat_via)
         VALUES (?1, {}, ?{SEARCH_PARAMETER}, ?{STAMP_PARAMETER}, ?{STAMP_PARAMETER}, 0, 1, {})",
        META_COLUMNS.join(", "),
        placeholders.join(", "),
        placed.join(", ")
    )
});

/// The lead [`INSERT_FROM_META`] stores from `lead` as row `id` at `stamp` before it is placed:
/// the columns it leaves to their defaults hold them (status `New Lead`, no notes, contact or
/// erasure). The store tests check this against the row read back.
pub(super) fn inserted_from_meta(id: i64, lead: IncomingLead, stamp: i64) -> Lead {
    Lead::arrived(id, Some(lead.leadgen_id), lead.meta, time_from(stamp))
}

pub(super) static UPDATE_FROM_META: LazyLock<String> = LazyLock::new(|| {
    let assignments: Vec<String> = META_COLUMNS
        .iter()
        .zip(2..)
        .map(|(column, n)| format!("{column} = ?{n}"))
        .collect();
    format!(
        "UPDATE leads SET {}, search_text = ?{SEARCH_PARAMETER}, updated_at = ?{STAMP_PARAMETER}
         WHERE leadgen_id = ?1 RETURNING *",
        assignments.join(", ")
    )
});

pub(super) fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

pub(super) fn time_from(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

fn conversion_failure(
    column: &str,
    error: Box<dyn std::error::Error + Send + Sync>,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("{column}: {error}").into(),
    )
}

pub(super) fn lead_from_row(row: &Row<'_>) -> rusqlite::Result<Lead> {
    let status: String = row.get("status")?;
    Ok(Lead {
        id: row.get("id")?,
        leadgen_id: row.get("leadgen_id")?,
        meta: meta_from_row(row)?,
        status: status
            .parse()
            .map_err(|e: leadhook_shared::UnknownStatus| conversion_failure("status", e.into()))?,
        is_manual: row.get("is_manual")?,
        received_at: time_from(row.get("received_at")?),
        updated_at: time_from(row.get("updated_at")?),
        notes: row.get("notes")?,
        owner: row.get("owner")?,
        owned_at: row.get::<_, Option<i64>>("owned_at")?.map(time_from),
        first_contact_at: row
            .get::<_, Option<i64>>("first_contact_at")?
            .map(time_from),
        erased_at: row.get::<_, Option<i64>>("erased_at")?.map(time_from),
        next_step: match row.get::<_, Option<i64>>("next_step_at")? {
            Some(at) => Some(NextStep {
                at: time_from(at),
                what: row
                    .get::<_, Option<String>>("next_step_what")?
                    .unwrap_or_default(),
            }),
            None => None,
        },
        attempts: row.get("attempts")?,
        repeat_of: row.get("repeat_of")?,
        junk_cleared_at: row.get::<_, Option<i64>>("junk_cleared_at")?.map(time_from),
    })
}
