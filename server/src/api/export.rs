//! `GET /api/leads/export`: leads whole, for a CSV or a CRM, by those whose role may export
//! (the router declares it). Each lead sent is recorded in its history as exported by the caller.

use axum::extract::State;
use axum::{Extension, Json};
use leadhook_shared::ApiList;
use serde::Deserialize;

use super::Caller;
use super::extract::Query;
use super::leads::page_bounds;
use crate::app::AppState;
use crate::error::AppError;
use crate::store::LeadQuery;

#[derive(Debug, Deserialize)]
pub struct ExportParams {
    limit: Option<u32>,
    offset: Option<u64>,
}

/// A page of leads whole, newest first, paged as `GET /api/leads` pages. The page is recorded as
/// exported before it is sent: an export that could not be recorded is refused. Erased leads
/// (tombstones, nothing of the person left) are sent but not recorded.
pub async fn page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<ExportParams>,
) -> Result<Json<ApiList>, AppError> {
    let (limit, offset) = page_bounds(params.limit, params.offset)?;
    let query = LeadQuery {
        limit,
        offset,
        visible_to: caller.visible_to(state.config.visibility),
        ..LeadQuery::default()
    };
    let page = state.store.list(&query).await?;
    let exported: Vec<i64> = page
        .leads
        .iter()
        .filter(|lead| lead.erased_at.is_none())
        .map(|lead| lead.id)
        .collect();
    state.leads.record_export(&exported, &caller.name).await?;
    Ok(Json(ApiList {
        success: true,
        data: page.leads,
        count: page.count,
        cursor: page.cursor,
    }))
}
