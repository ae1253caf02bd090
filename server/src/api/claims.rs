//! Who works a lead: `POST /api/leads/{id}/claim`, `POST /api/leads/{id}/release`, and what
//! happened to it, `GET /api/leads/{id}/activity`.

use axum::Extension;
use axum::extract::State;
use leadhook_shared::{Activity, ApiOk, Assignment, Lead, LeadDelivery};

use super::Caller;
use super::authz::{LeadChange, authorize, visible_lead};
use super::extract::Path;
use crate::app::AppState;
use crate::error::AppError;
use crate::limits::LEAD_DELIVERIES_SHOWN;
use crate::store::Claim;

/// Owners exist unless `LEADHOOK_ASSIGNMENT=none`.
pub fn require_owners(state: &AppState) -> Result<(), AppError> {
    if state.leads.team().assignment == Assignment::None {
        Err(AppError::AssignmentOff)
    } else {
        Ok(())
    }
}

/// `POST /api/leads/{id}/claim`: the caller becomes the owner, unless another rep is (409).
pub async fn claim(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<axum::Json<ApiOk<Lead>>, AppError> {
    Ok(axum::Json(ApiOk::new(claim_as(&state, &rep, id).await?)))
}

/// `rep` claims lead `id`, with every check of the API's claim: what both the API and a claim
/// link from a phone ([`crate::claim_link`]) do.
pub async fn claim_as(state: &AppState, rep: &Caller, id: i64) -> Result<Lead, AppError> {
    require_owners(state)?;
    let lead = visible_lead(state, rep, id).await?;
    authorize(rep, &lead, LeadChange::Claim)?;
    match state.leads.claim(id, &rep.name).await? {
        Claim::Claimed(lead) => Ok(*lead),
        Claim::Taken { owner } => Err(AppError::AlreadyClaimed { id, owner }),
        Claim::NotFound => Err(AppError::LeadNotFound(id)),
    }
}

/// `POST /api/leads/{id}/release`: the lead goes back to the unowned queue.
pub async fn release(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<axum::Json<ApiOk<Lead>>, AppError> {
    require_owners(&state)?;
    let lead = visible_lead(&state, &rep, id).await?;
    authorize(&rep, &lead, LeadChange::Release)?;
    let lead = state
        .leads
        .release(id, &rep.name)
        .await?
        .ok_or(AppError::LeadNotFound(id))?;
    Ok(axum::Json(ApiOk::new(lead)))
}

/// `GET /api/leads/{id}/activity`, oldest first.
pub async fn activity(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<axum::Json<ApiOk<Vec<Activity>>>, AppError> {
    visible_lead(&state, &rep, id).await?;
    let history = state
        .store
        .activity(id)
        .await?
        .ok_or(AppError::LeadNotFound(id))?;
    Ok(axum::Json(ApiOk::new(history)))
}

/// Where the lead's events went beyond the terminal (channels, the Conversions API), newest
/// first: to whoever may see the lead.
pub async fn deliveries(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<axum::Json<ApiOk<Vec<LeadDelivery>>>, AppError> {
    visible_lead(&state, &rep, id).await?;
    let deliveries = state
        .outbox
        .outbox_of_lead(id, LEAD_DELIVERIES_SHOWN)
        .await?;
    Ok(axum::Json(ApiOk::new(deliveries)))
}
