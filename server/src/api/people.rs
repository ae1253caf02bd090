//! One person, one lead: `PUT`/`DELETE /api/leads/{id}/person` (a rep merges two leads of one
//! person, or undoes a wrong link) and `DELETE /api/leads/{id}/junk` (a rep clears the junk flag).
//! Who may is decided in [`super::authz`]: the same as working the lead.

use axum::Extension;
use axum::extract::State;
use leadhook_shared::{ApiOk, Lead, PersonLink};

use super::Caller;
use super::authz::{visible_lead, workable_lead};
use super::extract::{Json, Path};
use crate::app::AppState;
use crate::error::AppError;

/// `PUT /api/leads/{id}/person` `{"same_as": 12}`: lead `id` is the same person as lead 12.
pub async fn merge(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
    Json(link): Json<PersonLink>,
) -> Result<axum::Json<ApiOk<Lead>>, AppError> {
    if link.same_as == id {
        return Err(AppError::BadRequest(format!(
            "\"same_as\" is lead {id} itself; give the id of the other lead of the same person"
        )));
    }
    workable_lead(&state, &rep, id).await?;
    visible_lead(&state, &rep, link.same_as).await?;
    let lead = state
        .leads
        .merge(id, link.same_as, &rep.name)
        .await?
        .ok_or(AppError::LeadNotFound(id))?;
    Ok(axum::Json(ApiOk::new(lead)))
}

/// `DELETE /api/leads/{id}/person`: lead `id` is a person of its own again.
pub async fn unlink(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<axum::Json<ApiOk<Lead>>, AppError> {
    workable_lead(&state, &rep, id).await?;
    let lead = state
        .leads
        .unlink(id, &rep.name)
        .await?
        .ok_or(AppError::LeadNotFound(id))?;
    Ok(axum::Json(ApiOk::new(lead)))
}

/// `DELETE /api/leads/{id}/junk`: the lead is real after all; it is linked or routed as a new
/// lead would have been.
pub async fn clear_junk(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<axum::Json<ApiOk<Lead>>, AppError> {
    workable_lead(&state, &rep, id).await?;
    let lead = state
        .leads
        .clear_junk(id, &rep.name)
        .await?
        .ok_or(AppError::LeadNotFound(id))?;
    Ok(axum::Json(ApiOk::new(lead)))
}
