//! The parts of a PostgREST request the stand-in understands: query parameters (select, order,
//! on_conflict, column filters, and/or logic trees), the `Range` header and `Prefer`.
//!
//! The grammar follows PostgREST's `QueryParams.hs`: top-level filter values run to the end of the
//! parameter (`eq.a,b` means "a,b"); inside logic trees a value ends at `,` or `)` unless it is
//! double-quoted, and inside quotes `\x` stands for `x`.

use axum::http::HeaderMap;

use crate::error::Failure;

/// One condition of a WHERE clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    Filter {
        column: String,
        negated: bool,
        op: Op,
    },
    Logic {
        negated: bool,
        all: bool,
        children: Vec<Cond>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `=`, `<>`, `>`, `>=`, `<`, `<=` with a value cast to the column's type.
    Compare(&'static str, String),
    /// `like` / `ilike`; PostgREST turns every `*` into `%`.
    Like {
        insensitive: bool,
        pattern: String,
    },
    In(Vec<String>),
    /// `IS NULL | TRUE | FALSE | UNKNOWN`.
    Is(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTerm {
    pub column: String,
    pub descending: bool,
    pub nulls_first: Option<bool>,
}

/// The query parameters of a table request.
#[derive(Debug, Default)]
pub struct Params {
    /// `None` for `*` or no `select`.
    pub select: Option<Vec<String>>,
    pub order: Vec<OrderTerm>,
    pub on_conflict: Option<Vec<String>>,
    pub conditions: Vec<Cond>,
}

impl Params {
    pub fn parse(query: &str) -> Result<Params, Failure> {
        let mut params = Params::default();
        let mut seen = Vec::new();
        // Form decoding, as PostgREST's: `+` is a space, `%XX` a byte.
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let (key, value) = (key.into_owned(), value.into_owned());
            if matches!(key.as_str(), "select" | "order" | "on_conflict") {
                if seen.contains(&key) {
                    return Err(Failure::not_implemented(format!(
                        "repeated query parameter {key}"
                    )));
                }
                seen.push(key.clone());
            }
            match key.as_str() {
                "select" => params.select = parse_select(&value)?,
                "order" => params.order = parse_order(&value)?,
                "on_conflict" => params.on_conflict = Some(parse_columns(&value)?),
                "and" | "or" | "not.and" | "not.or" => {
                    let negated = key.starts_with("not.");
                    let all = key.ends_with("and");
                    let mut scanner = Scanner::new(&value);
                    let children = scanner.tree_list().and_then(|children| {
                        scanner.end()?;
                        Ok(children)
                    });
                    let children = children.map_err(|e| e.into_failure("logic tree", &value))?;
                    params.conditions.push(Cond::Logic {
                        negated,
                        all,
                        children,
                    });
                }
                "limit" | "offset" | "columns" => {
                    return Err(Failure::not_implemented(format!(
                        "query parameter {key} (the store pages with the Range header)"
                    )));
                }
                _ => params.conditions.push(parse_filter(&key, &value)?),
            }
        }
        Ok(params)
    }

    pub fn has_conditions(&self) -> bool {
        !self.conditions.is_empty()
    }
}

/// Errors inside a value: PostgREST's parse error, or a shape the stand-in leaves out.
enum ScanError {
    Syntax(String),
    NotImplemented(String),
}

impl ScanError {
    fn into_failure(self, what: &str, value: &str) -> Failure {
        match self {
            ScanError::Syntax(details) => Failure::parse(what, value, details),
            ScanError::NotImplemented(shape) => Failure::not_implemented(shape),
        }
    }
}

fn plain_name(name: &str) -> Result<String, ScanError> {
    let name = name.trim();
    if name.contains("->") {
        return Err(ScanError::NotImplemented(format!(
            "JSON path {name:?} in a column name"
        )));
    }
    if name.is_empty() {
        return Err(ScanError::Syntax("expecting field name".into()));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | ' ' | '-'))
    {
        return Err(ScanError::NotImplemented(format!(
            "column expression {name:?} (only plain column names)"
        )));
    }
    Ok(name.to_string())
}

fn parse_select(value: &str) -> Result<Option<Vec<String>>, Failure> {
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items == ["*"] {
        return Ok(None);
    }
    items
        .into_iter()
        .map(|item| {
            if item.contains(':') || item.contains('(') || item.contains('!') || item == "*" {
                Err(Failure::not_implemented(format!(
                    "select item {item:?} (only plain column lists or a lone *)"
                )))
            } else {
                plain_name(item).map_err(|e| e.into_failure("select", value))
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn parse_columns(value: &str) -> Result<Vec<String>, Failure> {
    value
        .split(',')
        .map(|name| plain_name(name).map_err(|e| e.into_failure("columns", value)))
        .collect()
}

fn parse_order(value: &str) -> Result<Vec<OrderTerm>, Failure> {
    value
        .split(',')
        .map(|term| {
            let mut parts = term.split('.');
            let column = plain_name(parts.next().unwrap_or_default())
                .map_err(|e| e.into_failure("order", value))?;
            let mut term = OrderTerm {
                column,
                descending: false,
                nulls_first: None,
            };
            let modifiers: Vec<&str> = parts.collect();
            let (direction, nulls) = match modifiers.as_slice() {
                [] => (None, None),
                [one] if one.starts_with("nulls") => (None, Some(*one)),
                [one] => (Some(*one), None),
                [direction, nulls] => (Some(*direction), Some(*nulls)),
                _ => (Some(""), None),
            };
            match direction {
                None | Some("asc") => {}
                Some("desc") => term.descending = true,
                Some(other) => {
                    return Err(Failure::parse(
                        "order",
                        value,
                        format!("unexpected {other:?} expecting \"asc\", \"desc\", \"nullsfirst\" or \"nullslast\""),
                    ));
                }
            }
            match nulls {
                None => {}
                Some("nullsfirst") => term.nulls_first = Some(true),
                Some("nullslast") => term.nulls_first = Some(false),
                Some(other) => {
                    return Err(Failure::parse(
                        "order",
                        value,
                        format!("unexpected {other:?} expecting \"nullsfirst\" or \"nullslast\""),
                    ));
                }
            }
            Ok(term)
        })
        .collect()
}

/// `column=[not.]op.value` at the top level, where the value is everything after the operator.
fn parse_filter(key: &str, value: &str) -> Result<Cond, Failure> {
    let column = plain_name(key).map_err(|e| e.into_failure("filter", value))?;
    let (negated, rest) = match value.strip_prefix("not.") {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let Some((operator, operand)) = rest.split_once('.') else {
        return Err(Failure::parse(
            "filter",
            value,
            "unexpected end of input expecting operator (eq, gt, ...)",
        ));
    };
    let op = match operator {
        "in" => {
            let mut scanner = Scanner::new(operand);
            let list = scanner.list().and_then(|list| {
                scanner.end()?;
                Ok(list)
            });
            Op::In(list.map_err(|e| e.into_failure("filter", value))?)
        }
        "is" => Op::Is(trilean(operand).map_err(|e| e.into_failure("filter", value))?),
        _ => single_value_op(operator, operand.to_string())
            .map_err(|e| e.into_failure("filter", value))?,
    };
    Ok(Cond::Filter {
        column,
        negated,
        op,
    })
}

fn single_value_op(operator: &str, operand: String) -> Result<Op, ScanError> {
    let compare = |sql| Ok(Op::Compare(sql, operand.clone()));
    match operator {
        "eq" => compare("="),
        "neq" => compare("<>"),
        "gt" => compare(">"),
        "gte" => compare(">="),
        "lt" => compare("<"),
        "lte" => compare("<="),
        "like" => Ok(Op::Like {
            insensitive: false,
            pattern: operand,
        }),
        "ilike" => Ok(Op::Like {
            insensitive: true,
            pattern: operand,
        }),
        "match" | "imatch" | "cs" | "cd" | "ov" | "sl" | "sr" | "nxr" | "nxl" | "adj" | "fts"
        | "plfts" | "phfts" | "wfts" | "isdistinct" => {
            Err(ScanError::NotImplemented(format!("operator {operator}")))
        }
        other if other.contains('(') => Err(ScanError::NotImplemented(format!(
            "operator {other} (quantifiers and fts languages)"
        ))),
        other => Err(ScanError::Syntax(format!(
            "unknown single value operator {other}"
        ))),
    }
}

fn trilean(text: &str) -> Result<&'static str, ScanError> {
    match text.to_ascii_lowercase().as_str() {
        "null" => Ok("NULL"),
        "true" => Ok("TRUE"),
        "false" => Ok("FALSE"),
        "unknown" => Ok("UNKNOWN"),
        _ => Err(ScanError::Syntax(
            "expecting null or trilean value (unknown, true, false)".into(),
        )),
    }
}

/// A cursor over a logic tree or list value.
struct Scanner {
    chars: Vec<char>,
    at: usize,
}

impl Scanner {
    fn new(text: &str) -> Scanner {
        Scanner {
            chars: text.chars().collect(),
            at: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn rest_starts_with(&self, prefix: &str) -> bool {
        let prefix: Vec<char> = prefix.chars().collect();
        self.chars[self.at..].starts_with(&prefix)
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(' ') {
            self.at += 1;
        }
    }

    fn expect(&mut self, wanted: char) -> Result<(), ScanError> {
        self.skip_spaces();
        match self.peek() {
            Some(c) if c == wanted => {
                self.at += 1;
                Ok(())
            }
            Some(c) => Err(ScanError::Syntax(format!(
                "unexpected {c:?} expecting {wanted:?}"
            ))),
            None => Err(ScanError::Syntax(format!(
                "unexpected end of input expecting {wanted:?}"
            ))),
        }
    }

    fn end(&mut self) -> Result<(), ScanError> {
        match self.peek() {
            None => Ok(()),
            Some(c) => Err(ScanError::Syntax(format!(
                "unexpected {c:?} expecting end of input"
            ))),
        }
    }

    /// `(cond,cond,...)`
    fn tree_list(&mut self) -> Result<Vec<Cond>, ScanError> {
        self.expect('(')?;
        let mut children = Vec::new();
        loop {
            self.skip_spaces();
            children.push(self.condition()?);
            self.skip_spaces();
            match self.peek() {
                Some(',') => self.at += 1,
                Some(')') => {
                    self.at += 1;
                    return Ok(children);
                }
                Some(c) => {
                    return Err(ScanError::Syntax(format!(
                        "unexpected {c:?} expecting \",\" or \")\""
                    )));
                }
                None => {
                    return Err(ScanError::Syntax(
                        "unexpected end of input expecting \")\"".into(),
                    ));
                }
            }
        }
    }

    fn condition(&mut self) -> Result<Cond, ScanError> {
        for (prefix, negated, all) in [
            ("not.and(", true, true),
            ("not.or(", true, false),
            ("and(", false, true),
            ("or(", false, false),
        ] {
            if self.rest_starts_with(prefix) {
                self.at += prefix.len() - 1;
                let children = self.tree_list()?;
                return Ok(Cond::Logic {
                    negated,
                    all,
                    children,
                });
            }
        }
        let column = if self.peek() == Some('"') {
            self.quoted()?
        } else {
            plain_name(&self.take_until(&['.', ',', ')']))?
        };
        self.expect('.')?;
        let negated = self.rest_starts_with("not.");
        if negated {
            self.at += 4;
        }
        let operator = self.take_until(&['.', ',', ')']);
        self.expect('.')?;
        let op = match operator.as_str() {
            "in" => Op::In(self.list()?),
            "is" => Op::Is(trilean(&self.take_until(&[',', ')']))?),
            _ => {
                let value = self.single_value()?;
                single_value_op(&operator, value)?
            }
        };
        Ok(Cond::Filter {
            column,
            negated,
            op,
        })
    }

    fn take_until(&mut self, stops: &[char]) -> String {
        let start = self.at;
        while self.peek().is_some_and(|c| !stops.contains(&c)) {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    /// `"..."`, where `\x` stands for `x`.
    fn quoted(&mut self) -> Result<String, ScanError> {
        self.expect('"')?;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(ScanError::Syntax(
                        "unexpected end of input expecting closing quote".into(),
                    ));
                }
                Some('"') => {
                    self.at += 1;
                    return Ok(value);
                }
                Some('\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(c) => {
                            value.push(c);
                            self.at += 1;
                        }
                        None => {
                            return Err(ScanError::Syntax(
                                "unexpected end of input after \\".into(),
                            ));
                        }
                    }
                }
                Some(c) => {
                    value.push(c);
                    self.at += 1;
                }
            }
        }
    }

    /// A value inside a logic tree or list: quoted (and then followed by `,` or `)`), or
    /// everything up to the next `,` or `)`.
    fn single_value(&mut self) -> Result<String, ScanError> {
        match self.peek() {
            Some('"') => {
                let value = self.quoted()?;
                match self.peek() {
                    None | Some(',') | Some(')') => Ok(value),
                    Some(c) => Err(ScanError::Syntax(format!(
                        "unexpected {c:?} after a quoted value"
                    ))),
                }
            }
            Some('{') => Err(ScanError::NotImplemented(
                "array literal {...} as a logic tree value".into(),
            )),
            _ => Ok(self.take_until(&[',', ')'])),
        }
    }

    /// `(a,"b,c",d)`
    fn list(&mut self) -> Result<Vec<String>, ScanError> {
        self.expect('(')?;
        let mut values = Vec::new();
        loop {
            values.push(self.single_value()?);
            match self.peek() {
                Some(',') => self.at += 1,
                Some(')') => {
                    self.at += 1;
                    return Ok(values);
                }
                _ => {
                    return Err(ScanError::Syntax(
                        "unexpected end of input expecting \",\" or \")\"".into(),
                    ));
                }
            }
        }
    }
}

/// `Range: <from>-[<to>]` (rows, counted from 0), as the `postgrest` crate sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub offset: u64,
    pub last: Option<u64>,
}

pub fn range(headers: &HeaderMap) -> Result<Option<Range>, Failure> {
    let Some(value) = headers.get("range") else {
        return Ok(None);
    };
    if let Some(unit) = headers.get("range-unit")
        && unit.as_bytes() != b"items"
    {
        return Err(Failure::not_implemented(format!(
            "Range-Unit {unit:?} (only items)"
        )));
    }
    let text = value.to_str().unwrap_or_default();
    let parsed = text.split_once('-').and_then(|(from, to)| {
        let offset = from.parse().ok()?;
        let last = if to.is_empty() {
            None
        } else {
            Some(to.parse().ok()?)
        };
        Some(Range { offset, last })
    });
    match parsed {
        Some(range) => Ok(Some(range)),
        None => Err(Failure::not_implemented(format!(
            "Range header {text:?} (only <from>-[<to>])"
        ))),
    }
}

/// The `Prefer` values PostgREST applies, the first of each kind winning.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Prefer {
    pub representation: bool,
    pub resolution: Option<Resolution>,
    pub count: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    MergeDuplicates,
    IgnoreDuplicates,
}

impl Prefer {
    pub fn parse(headers: &HeaderMap) -> Result<Prefer, Failure> {
        let mut prefer = Prefer::default();
        let mut seen: Vec<&str> = Vec::new();
        for header in headers.get_all("prefer") {
            let text = header.to_str().unwrap_or_default();
            for item in text
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
            {
                let (kind, apply): (&str, fn(&mut Prefer)) = match item {
                    "return=minimal" => ("return", |p| p.representation = false),
                    "return=representation" => ("return", |p| p.representation = true),
                    "resolution=merge-duplicates" => ("resolution", |p| {
                        p.resolution = Some(Resolution::MergeDuplicates)
                    }),
                    "resolution=ignore-duplicates" => ("resolution", |p| {
                        p.resolution = Some(Resolution::IgnoreDuplicates)
                    }),
                    "count=exact" => ("count", |p| p.count = true),
                    other => {
                        return Err(Failure::not_implemented(format!("Prefer: {other}")));
                    }
                };
                if !seen.contains(&kind) {
                    seen.push(kind);
                    apply(&mut prefer);
                }
            }
        }
        Ok(prefer)
    }

    /// The `Preference-Applied` header value for what was applied.
    pub fn applied(&self, mutation: bool) -> String {
        let mut applied = Vec::new();
        if let Some(resolution) = self.resolution {
            applied.push(match resolution {
                Resolution::MergeDuplicates => "resolution=merge-duplicates",
                Resolution::IgnoreDuplicates => "resolution=ignore-duplicates",
            });
        }
        if mutation {
            applied.push(if self.representation {
                "return=representation"
            } else {
                "return=minimal"
            });
        }
        if self.count {
            applied.push("count=exact");
        }
        applied.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> Params {
        match Params::parse(query) {
            Ok(params) => params,
            Err(failure) => panic!("{query}: {failure:?}"),
        }
    }

    #[test]
    fn top_level_values_run_to_the_end_and_are_form_decoded() {
        let parsed = params("name=eq.a,b.c&created_at=gt.2024-01-01T00:00:00+00:00");
        assert_eq!(
            parsed.conditions,
            [
                Cond::Filter {
                    column: "name".into(),
                    negated: false,
                    op: Op::Compare("=", "a,b.c".into())
                },
                Cond::Filter {
                    column: "created_at".into(),
                    negated: false,
                    op: Op::Compare(">", "2024-01-01T00:00:00 00:00".into())
                },
            ]
        );
    }

    #[test]
    fn logic_trees_with_quoted_values() {
        let parsed = params(
            "and=(or(name.ilike.%22*a%5C%5C%25,b*%22,id.not.in.(1,2)),or(updated_at.gt.%222024-01-01T00:00:00Z%22,and(updated_at.eq.x,id.gt.7)))",
        );
        let [
            Cond::Logic {
                all: true,
                children,
                ..
            },
        ] = parsed.conditions.as_slice()
        else {
            panic!("{:?}", parsed.conditions)
        };
        assert_eq!(
            children[0],
            Cond::Logic {
                negated: false,
                all: false,
                children: vec![
                    Cond::Filter {
                        column: "name".into(),
                        negated: false,
                        op: Op::Like {
                            insensitive: true,
                            pattern: r"*a\%,b*".into()
                        }
                    },
                    Cond::Filter {
                        column: "id".into(),
                        negated: true,
                        op: Op::In(vec!["1".into(), "2".into()])
                    },
                ]
            }
        );
        let Cond::Logic {
            children: second, ..
        } = &children[1]
        else {
            panic!()
        };
        assert_eq!(
            second[0],
            Cond::Filter {
                column: "updated_at".into(),
                negated: false,
                op: Op::Compare(">", "2024-01-01T00:00:00Z".into())
            }
        );
    }

    #[test]
    fn unknown_and_unimplemented_shapes() {
        assert!(matches!(
            Params::parse("or=(name.eq.a"),
            Err(Failure::Api { .. })
        ));
        assert!(matches!(
            Params::parse("name=zz.a"),
            Err(Failure::Api { .. })
        ));
        for query in [
            "limit=5",
            "name=imatch.a",
            "select=a:name",
            "select=rel(*)",
            "fields->a=eq.1",
            "or=(name.eq.{a,b})",
        ] {
            assert!(
                matches!(Params::parse(query), Err(Failure::NotImplemented(_))),
                "{query}"
            );
        }
    }

    #[test]
    fn order_terms() {
        assert_eq!(
            params("order=created_at.desc,id.asc.nullsfirst,name").order,
            [
                OrderTerm {
                    column: "created_at".into(),
                    descending: true,
                    nulls_first: None
                },
                OrderTerm {
                    column: "id".into(),
                    descending: false,
                    nulls_first: Some(true)
                },
                OrderTerm {
                    column: "name".into(),
                    descending: false,
                    nulls_first: None
                },
            ]
        );
    }

    #[test]
    fn prefer_first_of_each_kind_wins() {
        let mut headers = HeaderMap::new();
        headers.append(
            "prefer",
            "return=representation,resolution=merge-duplicates"
                .parse()
                .unwrap(),
        );
        headers.append("prefer", "return=minimal, count=exact".parse().unwrap());
        let prefer = Prefer::parse(&headers).unwrap();
        assert!(prefer.representation);
        assert!(prefer.count);
        assert_eq!(prefer.resolution, Some(Resolution::MergeDuplicates));
        assert_eq!(
            prefer.applied(true),
            "resolution=merge-duplicates, return=representation, count=exact"
        );
        let mut unknown = HeaderMap::new();
        unknown.append("prefer", "missing=default".parse().unwrap());
        assert!(matches!(
            Prefer::parse(&unknown),
            Err(Failure::NotImplemented(_))
        ));
    }
}
