//! SQL for the requests, in the shape PostgREST generates: a `pgrst_source` CTE holding the rows
//! read or written, and one result row with (total count, rows in the answer, JSON body).
//!
//! Identifiers come from the catalog or are checked and double-quoted; every value a request
//! carries (filter operands, bodies, limits) is a `$n` parameter, cast to the column's type the way
//! PostgREST's `'value'::unknown` literals are.

use tokio_postgres::Transaction;
use tokio_postgres::types::ToSql;

use crate::db::quote_ident;
use crate::request::{Cond, Op, OrderTerm, Params, Resolution};

/// A table or view of the `public` schema, as the catalog describes it.
pub struct Table {
    pub name: String,
    /// (name, type as `format_type` writes it), in column order.
    pub columns: Vec<(String, String)>,
}

impl Table {
    /// Reads the table from the catalog (PostgREST's schema cache), `None` when it does not exist.
    pub async fn find(
        tx: &Transaction<'_>,
        name: &str,
    ) -> Result<Option<Table>, tokio_postgres::Error> {
        let rows = tx
            .query(
                "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod)
                   FROM pg_catalog.pg_class c
                   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                   JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                  WHERE n.nspname = 'public' AND c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                  ORDER BY a.attnum",
                &[&name],
            )
            .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(Table {
            name: name.to_string(),
            columns: rows.iter().map(|row| (row.get(0), row.get(1))).collect(),
        }))
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|(column, _)| column == name)
    }

    fn column_type(&self, name: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(column, _)| column == name)
            .map(|(_, kind)| kind.as_str())
    }

    fn qualified(&self) -> String {
        format!("public.{}", quote_ident(&self.name))
    }

    fn column(&self, name: &str) -> String {
        format!("{}.{}", quote_ident(&self.name), quote_ident(name))
    }

    /// The columns to return: the `select` list, or all of them.
    fn selected<'a>(&'a self, select: Option<&'a [String]>) -> Vec<&'a str> {
        match select {
            Some(columns) => columns.iter().map(String::as_str).collect(),
            None => self
                .columns
                .iter()
                .map(|(column, _)| column.as_str())
                .collect(),
        }
    }
}

/// SQL text and its parameters, all sent as text.
#[derive(Default)]
pub struct Statement {
    pub text: String,
    params: Vec<String>,
}

impl Statement {
    fn bind(&mut self, value: impl Into<String>) -> String {
        self.params.push(value.into());
        format!("${}::text", self.params.len())
    }

    /// A parameter read as the column's type (PostgreSQL then parses it, or fails with 22xxx).
    fn bind_as(&mut self, table: &Table, column: &str, value: impl Into<String>) -> String {
        let param = self.bind(value);
        match table.column_type(column) {
            Some(kind) => format!("CAST({param} AS {kind})"),
            None => param,
        }
    }

    pub fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|param| param as &(dyn ToSql + Sync))
            .collect()
    }

    fn where_clause(&mut self, table: &Table, conditions: &[Cond]) -> String {
        if conditions.is_empty() {
            return "TRUE".into();
        }
        conditions
            .iter()
            .map(|condition| self.condition(table, condition))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    fn condition(&mut self, table: &Table, condition: &Cond) -> String {
        match condition {
            Cond::Filter {
                column,
                negated,
                op,
            } => {
                let target = table.column(column);
                let test = match op {
                    Op::Compare(operator, value) => {
                        format!("{target} {operator} {}", self.bind_as(table, column, value))
                    }
                    Op::Like {
                        insensitive,
                        pattern,
                    } => format!(
                        "{target} {} {}",
                        if *insensitive { "ILIKE" } else { "LIKE" },
                        self.bind_as(table, column, pattern.replace('*', "%"))
                    ),
                    Op::In(values) if values.iter().all(String::is_empty) => {
                        // PostgREST's workaround for `in.()`: `IN ()` is not valid SQL.
                        format!("{target} = ANY('{{}}')")
                    }
                    Op::In(values) => format!(
                        "{target} IN ({})",
                        values
                            .iter()
                            .map(|value| self.bind_as(table, column, value.as_str()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Op::Is(trilean) => format!("{target} IS {trilean}"),
                };
                if *negated {
                    format!("NOT ({test})")
                } else {
                    test
                }
            }
            Cond::Logic {
                negated,
                all,
                children,
            } => {
                let joined = children
                    .iter()
                    .map(|child| self.condition(table, child))
                    .collect::<Vec<_>>()
                    .join(if *all { " AND " } else { " OR " });
                format!("{}({joined})", if *negated { "NOT " } else { "" })
            }
        }
    }
}

fn order_clause(table: &Table, order: &[OrderTerm]) -> String {
    if order.is_empty() {
        return String::new();
    }
    let terms: Vec<String> = order
        .iter()
        .map(|term| {
            format!(
                "{} {}{}",
                table.column(&term.column),
                if term.descending { "DESC" } else { "ASC" },
                match term.nulls_first {
                    Some(true) => " NULLS FIRST",
                    Some(false) => " NULLS LAST",
                    None => "",
                }
            )
        })
        .collect();
    format!("ORDER BY {}", terms.join(", "))
}

fn quoted_list(columns: &[&str]) -> String {
    columns
        .iter()
        .map(|column| quote_ident(column))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The tail shared by every table statement: the answer's rows as a JSON array, in order.
fn answer(select: &[&str]) -> String {
    format!(
        "(SELECT count(*) FROM pgrst_source), \
         (SELECT coalesce(pg_catalog.json_agg(_pgrst_t), '[]')::text FROM (SELECT {} FROM pgrst_source) AS _pgrst_t)",
        quoted_list(select)
    )
}

/// `GET`: (exact count or NULL, rows returned, body).
pub fn read(table: &Table, params: &Params, offset: u64, limit: u64, count: bool) -> Statement {
    let mut statement = Statement::default();
    let filter = statement.where_clause(table, &params.conditions);
    let select = table.selected(params.select.as_deref());
    let columns: Vec<String> = select.iter().map(|column| table.column(column)).collect();
    let limit = statement.bind(limit.to_string());
    let offset = statement.bind(offset.to_string());
    let total = if count {
        format!(
            "(SELECT count(*) FROM {} WHERE {filter})",
            table.qualified()
        )
    } else {
        "NULL::bigint".into()
    };
    statement.text = format!(
        "WITH pgrst_source AS (SELECT {} FROM {} WHERE {filter} {} LIMIT CAST({limit} AS bigint) OFFSET CAST({offset} AS bigint)) \
         SELECT {total}, {}",
        columns.join(", "),
        table.qualified(),
        order_clause(table, &params.order),
        answer(&select),
    );
    statement
}

/// `POST`: (rows inserted, rows in the answer, body). `body` is a JSON array of objects with
/// `columns` as keys; PostgREST reads it with `json_populate_recordset` too.
pub fn insert(
    table: &Table,
    columns: &[&str],
    body: String,
    conflict: Option<(&[String], Resolution)>,
    select: Option<&[String]>,
) -> Statement {
    let mut statement = Statement::default();
    let body = statement.bind(body);
    let listed = quoted_list(columns);
    let on_conflict = match conflict {
        None => String::new(),
        Some((target, Resolution::IgnoreDuplicates)) => {
            let target: Vec<&str> = target.iter().map(String::as_str).collect();
            format!("ON CONFLICT ({}) DO NOTHING", quoted_list(&target))
        }
        Some((target, Resolution::MergeDuplicates)) => {
            let target: Vec<&str> = target.iter().map(String::as_str).collect();
            let updates: Vec<String> = columns
                .iter()
                .map(|column| {
                    let column = quote_ident(column);
                    format!("{column} = EXCLUDED.{column}")
                })
                .collect();
            format!(
                "ON CONFLICT ({}) DO UPDATE SET {}",
                quoted_list(&target),
                updates.join(", ")
            )
        }
    };
    statement.text = format!(
        "WITH pgrst_source AS (\
           INSERT INTO {table} ({listed}) \
           SELECT {listed} FROM pg_catalog.json_populate_recordset(NULL::{table}, CAST({body} AS json)) \
           {on_conflict} \
           RETURNING *, (xmax = 0) AS pgrst_inserted) \
         SELECT (SELECT count(*) FROM pgrst_source WHERE pgrst_inserted), {}",
        answer(&table.selected(select)),
        table = table.qualified(),
    );
    statement
}

/// `PATCH`: (NULL, rows changed, body). `body` is one JSON object with `columns` as keys.
pub fn update(table: &Table, columns: &[&str], body: String, params: &Params) -> Statement {
    let mut statement = Statement::default();
    let body = statement.bind(body);
    let filter = statement.where_clause(table, &params.conditions);
    let sets: Vec<String> = columns
        .iter()
        .map(|column| {
            let column = quote_ident(column);
            format!("{column} = _pgrst_body.{column}")
        })
        .collect();
    statement.text = format!(
        "WITH pgrst_source AS (\
           UPDATE {table} SET {} \
           FROM (SELECT * FROM pg_catalog.json_populate_record(NULL::{table}, CAST({body} AS json))) AS _pgrst_body \
           WHERE {filter} \
           RETURNING {}.*) \
         SELECT NULL::bigint, {}",
        sets.join(", "),
        quote_ident(&table.name),
        answer(&table.selected(params.select.as_deref())),
        table = table.qualified(),
    );
    statement
}

/// A function of the `public` schema, as the catalog describes it.
pub struct Function {
    pub name: String,
    /// (name, type) of the input arguments, in order.
    pub args: Vec<(String, String)>,
    /// How many trailing arguments have defaults.
    pub defaults: usize,
    pub returns_set: bool,
    pub returns_void: bool,
    /// OUT/INOUT/VARIADIC arguments: not implemented.
    pub unusual_args: bool,
}

impl Function {
    pub async fn find_all(
        tx: &Transaction<'_>,
        name: &str,
    ) -> Result<Vec<Function>, tokio_postgres::Error> {
        let rows = tx
            .query(
                "SELECT coalesce(p.proargnames, ARRAY[]::text[]),
                        ARRAY(SELECT pg_catalog.format_type(t.oid, NULL)
                                FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS t(oid, i) ORDER BY t.i),
                        p.pronargdefaults::int4, p.proretset,
                        p.prorettype = 'pg_catalog.void'::pg_catalog.regtype,
                        p.proallargtypes IS NOT NULL OR p.provariadic <> 0
                   FROM pg_catalog.pg_proc p
                   JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'public' AND p.proname = $1 AND p.prokind = 'f'",
                &[&name],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| {
                let names: Vec<String> = row.get(0);
                let types: Vec<String> = row.get(1);
                let defaults: i32 = row.get(2);
                Function {
                    name: name.to_string(),
                    args: names.into_iter().zip(types).collect(),
                    defaults: usize::try_from(defaults).unwrap_or(0),
                    returns_set: row.get(3),
                    returns_void: row.get(4),
                    unusual_args: row.get(5),
                }
            })
            .collect())
    }

    /// Whether a call with these named arguments reaches this function.
    pub fn accepts(&self, keys: &[&str]) -> bool {
        let required = self.args.len().saturating_sub(self.defaults);
        self.args[..required]
            .iter()
            .all(|(name, _)| keys.contains(&name.as_str()))
            && keys
                .iter()
                .all(|key| self.args.iter().any(|(name, _)| name == key))
    }

    /// The call, its scalar result as JSON text (or nothing for `void`). `body` is the JSON object
    /// of named arguments.
    pub fn call(&self, keys: &[&str], body: String) -> Statement {
        let mut statement = Statement::default();
        let function = format!("public.{}", quote_ident(&self.name));
        let passed: Vec<&(String, String)> = self
            .args
            .iter()
            .filter(|(name, _)| keys.contains(&name.as_str()))
            .collect();
        let call = if passed.is_empty() {
            format!("{function}()")
        } else {
            let body = statement.bind(body);
            let named: Vec<String> = passed
                .iter()
                .map(|(name, _)| {
                    let name = quote_ident(name);
                    format!("{name} := _pgrst_args.{name}")
                })
                .collect();
            let definitions: Vec<String> = passed
                .iter()
                .map(|(name, kind)| format!("{} {kind}", quote_ident(name)))
                .collect();
            statement.text = format!(
                " FROM pg_catalog.json_to_record(CAST({body} AS json)) AS _pgrst_args({})",
                definitions.join(", ")
            );
            format!("{function}({})", named.join(", "))
        };
        statement.text = if self.returns_void {
            format!("SELECT {call}{}", statement.text)
        } else {
            format!("SELECT pg_catalog.to_json({call})::text{}", statement.text)
        };
        statement
    }
}
