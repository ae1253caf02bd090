//! `time_created` filters and cursor paging, as Meta pages edges.

use serde_json::{Value, json};

use super::Shared;
use super::errors::GraphError;
use super::request::GraphRequest;
use super::world::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// One `filtering` condition on `time_created`.
pub(super) struct TimeFilter {
    operator: TimeOperator,
    value: i64,
}

enum TimeOperator {
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
}

impl TimeFilter {
    pub(super) fn accepts(&self, created: i64) -> bool {
        match self.operator {
            TimeOperator::GreaterThan => created > self.value,
            TimeOperator::GreaterThanOrEqual => created >= self.value,
            TimeOperator::LessThan => created < self.value,
            TimeOperator::LessThanOrEqual => created <= self.value,
        }
    }
}

/// `filtering=[{"field":"time_created","operator":"GREATER_THAN","value":<unix seconds>}]`.
pub(super) fn time_filters(filtering: Option<&str>) -> Result<Vec<TimeFilter>, GraphError> {
    let Some(filtering) = filtering.filter(|text| !text.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let invalid =
        |detail: String| GraphError::invalid_parameter(format!("(#100) filtering: {detail}"));
    let conditions: Vec<Value> = serde_json::from_str(filtering)
        .map_err(|_| invalid("param filtering must be a JSON array".into()))?;
    conditions
        .iter()
        .map(|condition| {
            let field = condition["field"].as_str().unwrap_or_default();
            if field != "time_created" {
                return Err(invalid(format!(
                    "filtering field {field:?} is not supported"
                )));
            }
            let operator = match condition["operator"].as_str().unwrap_or_default() {
                "GREATER_THAN" => TimeOperator::GreaterThan,
                "GREATER_THAN_OR_EQUAL" => TimeOperator::GreaterThanOrEqual,
                "LESS_THAN" => TimeOperator::LessThan,
                "LESS_THAN_OR_EQUAL" => TimeOperator::LessThanOrEqual,
                other => return Err(invalid(format!("operator {other:?} is not supported"))),
            };
            let value = match &condition["value"] {
                Value::Number(number) => number.as_i64(),
                Value::String(text) => text.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| invalid("value must be unix seconds".into()))?;
            Ok(TimeFilter { operator, value })
        })
        .collect()
}

/// One page of `items` (keyed for cursors) after the `after` cursor, with Meta's `paging` object;
/// `next` only when more items follow.
pub(super) fn paged(
    shared: &Shared,
    request: &GraphRequest,
    items: Vec<(String, Value)>,
) -> Result<Value, GraphError> {
    let limit = match request.param("limit") {
        None => DEFAULT_PAGE_SIZE,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|&limit| limit > 0)
            .ok_or_else(|| {
                GraphError::invalid_parameter("(#100) Param limit must be a positive integer")
            })?
            .min(MAX_PAGE_SIZE),
    };
    let start = match request.param("after") {
        None => 0,
        Some(cursor) => decode_cursor(cursor)
            .and_then(|key| items.iter().position(|(item_key, _)| *item_key == key))
            .map(|position| position + 1)
            .ok_or_else(|| GraphError::invalid_parameter("(#100) The after cursor is not valid"))?,
    };
    let end = (start + limit).min(items.len());
    let page = &items[start.min(end)..end];
    let (Some((first, _)), Some((last, _))) = (page.first(), page.last()) else {
        return Ok(json!({"data": []}));
    };
    let mut paging =
        json!({"cursors": {"before": encode_cursor(first), "after": encode_cursor(last)}});
    if end < items.len() {
        paging["next"] = json!(next_url(shared, request, &encode_cursor(last)));
    }
    Ok(json!({
        "data": page.iter().map(|(_, item)| item.clone()).collect::<Vec<_>>(),
        "paging": paging,
    }))
}

/// The same call with `after` moved on, as a full URL (with the access token, as Meta's are).
fn next_url(shared: &Shared, request: &GraphRequest, after: &str) -> String {
    let path = format!(
        "/{}/{}/{}",
        request.version,
        request.node,
        request.edge.as_deref().unwrap_or_default()
    );
    let query: String = request
        .params
        .iter()
        .filter(|(name, _)| name.as_str() != "after")
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .chain([("after", after)])
        .map(|(name, value)| {
            format!(
                "{}={}",
                urlencoding::encode(name),
                urlencoding::encode(value)
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    format!("{}{path}?{query}", shared.base_url)
}

fn encode_cursor(key: &str) -> String {
    hex::encode(key)
}

fn decode_cursor(cursor: &str) -> Option<String> {
    String::from_utf8(hex::decode(cursor).ok()?).ok()
}
