//! Follow-ups: `PUT`/`DELETE /api/leads/{id}/next-step` and `POST /api/leads/{id}/attempts`.
//! Who may change a lead's follow-ups is decided in [`super::authz`] ([`LeadChange::Work`]).

use axum::Extension;
use axum::extract::State;
use chrono::{DateTime, Utc};
use leadhook_shared::{
    ApiOk, Assignment, Attempted, CallOutcome, Lead, LeadPatch, LeadStatus, NewAttempt, NextStep,
};
use serde::Deserialize;

use super::Caller;
use super::authz::workable_lead;
use super::extract::{Json, Path};
use super::text_limits;
use crate::app::AppState;
use crate::error::AppError;

/// How far in the past a next step may be set (a clock a little behind the server's).
const PAST_TOLERANCE: chrono::Duration = chrono::Duration::minutes(1);

/// Body of `PUT /api/leads/{id}/next-step`, read as text so that a bad time gets a 400 naming it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextStepBody {
    at: String,
    what: String,
}

/// Body of `POST /api/leads/{id}/attempts`, read as text so that an unknown outcome gets a 400
/// listing the known ones.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttemptBody {
    outcome: String,
    note: Option<String>,
}

fn parse_step(body: NextStepBody, now: DateTime<Utc>) -> Result<NextStep, AppError> {
    let at = DateTime::parse_from_rfc3339(body.at.trim())
        .map_err(|e| {
            AppError::BadRequest(format!(
                "\"at\" {:?} is not an RFC 3339 time like 2026-12-08T09:00:00Z ({e})",
                body.at
            ))
        })?
        .with_timezone(&Utc);
    if at < now - PAST_TOLERANCE {
        return Err(AppError::BadRequest(format!(
            "\"at\" {:?} is in the past; a next step is due from now on",
            body.at
        )));
    }
    let what = body.what.trim().to_string();
    if what.is_empty() {
        return Err(AppError::BadRequest(
            "\"what\" says what to do, like \"Call back\"".into(),
        ));
    }
    text_limits::NEXT_STEP.check_request(Some(&what))?;
    Ok(NextStep { at, what })
}

/// `PUT /api/leads/{id}/next-step` `{"at": "<RFC 3339>", "what": "..."}`.
pub async fn set(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<NextStepBody>,
) -> Result<axum::Json<ApiOk<Lead>>, AppError> {
    let step = parse_step(body, state.config.queue.clock.now())?;
    let before = workable_lead(&state, &rep, id).await?;
    take_if_unowned(&state, &rep, &before).await?;
    let lead = state
        .leads
        .set_next_step(id, Some(&step), &rep.name)
        .await?
        .ok_or(AppError::LeadNotFound(id))?;
    Ok(axum::Json(ApiOk::new(lead)))
}

/// `DELETE /api/leads/{id}/next-step`.
pub async fn clear(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<axum::Json<ApiOk<Lead>>, AppError> {
    workable_lead(&state, &rep, id).await?;
    let lead = state
        .leads
        .set_next_step(id, None, &rep.name)
        .await?
        .ok_or(AppError::LeadNotFound(id))?;
    Ok(axum::Json(ApiOk::new(lead)))
}

/// Whoever plans or logs a call on an unowned lead is working it: it becomes theirs (so it is in
/// their due list and nobody else calls), unless another rep claimed it first (the store decides).
async fn take_if_unowned(state: &AppState, rep: &Caller, lead: &Lead) -> Result<(), AppError> {
    if lead.owner.is_none() && state.leads.team().assignment != Assignment::None {
        state.leads.claim(lead.id, &rep.name).await?;
    }
    Ok(())
}

/// A call attempt is the first contact: a lead still `New Lead` becomes `Contacted` (speed to lead
/// stops counting, escalations stop), unless another rep owns it by now.
async fn first_contact(state: &AppState, rep: &Caller, lead: Lead) -> Result<Lead, AppError> {
    let still_new = lead.status == LeadStatus::NewLead;
    if !still_new || lead.owner.as_deref().is_some_and(|owner| owner != rep.name) {
        return Ok(lead);
    }
    let contacted = LeadPatch {
        status: Some(LeadStatus::Contacted),
        ..LeadPatch::default()
    };
    state
        .leads
        .update(lead.id, &contacted, &rep.name)
        .await?
        .ok_or(AppError::LeadNotFound(lead.id))
}

/// `POST /api/leads/{id}/attempts` `{"outcome": "no_answer", "note": "..."}`. After an unanswered
/// call the cadence plans the next one; after its last, the answer suggests closing the lead.
pub async fn attempt(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<AttemptBody>,
) -> Result<axum::Json<ApiOk<Attempted>>, AppError> {
    let outcome: CallOutcome = body
        .outcome
        .parse()
        .map_err(|e: leadhook_shared::UnknownOutcome| AppError::BadRequest(e.to_string()))?;
    let note = body
        .note
        .map(|note| note.trim().to_string())
        .filter(|note| !note.is_empty());
    text_limits::ATTEMPT_NOTE.check_request(note.as_deref())?;
    let before = workable_lead(&state, &rep, id).await?;
    take_if_unowned(&state, &rep, &before).await?;
    let cadence = &state.config.queue.cadence;
    let schedule = outcome
        .call_back()
        .then(|| cadence.schedule(state.config.queue.clock.now()));
    let attempt = NewAttempt { outcome, note };
    let lead = state
        .leads
        .record_attempt(id, &attempt, &rep.name, schedule.as_deref())
        .await?
        .ok_or(AppError::LeadNotFound(id))?;
    let lead = first_contact(&state, &rep, lead).await?;
    let ran_out = outcome.call_back() && lead.attempts as usize > cadence.waits().len();
    let suggest = ran_out.then(|| vec![LeadStatus::Lost, LeadStatus::Unqualified]);
    Ok(axum::Json(ApiOk::new(Attempted { lead, suggest })))
}
