use axum::Extension;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use leadhook_shared::{ApiList, ApiOk, Cursor, Lead, LeadPatch, LeadStatus, NewManualLead};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::Caller;
use super::authz::{LeadChange, authorize, visible_lead};
use super::extract::{Json, Path, Query};
use super::text_limits;
use crate::app::AppState;
use crate::error::AppError;
use crate::limits::MAX_LIST_OFFSET;
use crate::store::{LeadQuery, MAX_PAGE};

#[derive(Debug, Deserialize)]
pub struct ListParams {
    limit: Option<u32>,
    offset: Option<u64>,
    status: Option<String>,
    q: Option<String>,
    since: Option<String>,
    /// Only leads with a next step due before this RFC 3339 time.
    due_before: Option<String>,
    /// `me`: only the caller's leads.
    owner: Option<String>,
    /// `true`: every lead's `fields` (its form answers, most of its size) is sent empty. For
    /// lists that show no answers, like the dashboard's; `GET /api/leads/{id}` has them.
    omit_fields: Option<bool>,
}

fn parse_status(text: &str) -> Result<LeadStatus, AppError> {
    text.parse()
        .map_err(|e: leadhook_shared::UnknownStatus| AppError::Unprocessable(e.to_string()))
}

/// `GET /api/leads`
pub async fn list(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    headers: HeaderMap,
    Query(params): Query<ListParams>,
) -> Result<Response, AppError> {
    let (limit, offset) = page_bounds(params.limit, params.offset)?;
    let query = LeadQuery {
        limit,
        offset,
        status: params
            .status
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(parse_status)
            .transpose()?,
        search: params.q.filter(|q| !q.trim().is_empty()),
        since: params
            .since
            .as_deref()
            .map(str::parse::<Cursor>)
            .transpose()
            .map_err(|e| AppError::BadRequest(e.to_string()))?,
        visible_to: rep.visible_to(state.config.visibility),
        due_before: params.due_before.as_deref().map(parse_time).transpose()?,
        owner: match params.owner.as_deref() {
            None | Some("") => None,
            Some("me") => Some(rep.name.clone()),
            Some(other) => {
                return Err(AppError::BadRequest(format!(
                    "owner={other:?}: only owner=me is supported"
                )));
            }
        },
    };
    let mut page = state.store.list(&query).await?;
    if params.omit_fields == Some(true) {
        let columns = &state.config.answer_columns;
        for lead in &mut page.leads {
            lead.meta
                .fields
                .retain(|question, _| columns.reads(question));
        }
    }
    let list = ApiList {
        success: true,
        data: page.leads,
        count: page.count,
        cursor: page.cursor,
    };
    Ok(with_etag(&headers, &list))
}

fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&chrono::Utc))
        .map_err(|e| {
            AppError::BadRequest(format!(
                "due_before={text:?} is not an RFC 3339 time like 2026-12-08T09:00:00Z ({e})"
            ))
        })
}

/// A page's `limit` (100 when not given) and `offset`, checked; `GET /api/leads/export` pages
/// alike.
pub(super) fn page_bounds(limit: Option<u32>, offset: Option<u64>) -> Result<(u32, u64), AppError> {
    let limit = limit.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE}"
        )));
    }
    let offset = offset.unwrap_or(0);
    if offset > MAX_LIST_OFFSET {
        return Err(AppError::BadRequest(format!(
            "offset must be between 0 and {MAX_LIST_OFFSET}"
        )));
    }
    Ok((limit, offset))
}

/// Answers 304 when the client already holds this exact answer (`If-None-Match`), so a dashboard
/// polling an unchanged list gets no body at all.
fn with_etag(headers: &HeaderMap, list: &ApiList) -> Response {
    let body = match serde_json::to_vec(list) {
        Ok(body) => body,
        Err(error) => {
            return AppError::Internal(format!("cannot encode the lead list: {error}"))
                .into_response();
        }
    };
    let digest = Sha256::digest(&body);
    let etag = format!("\"{}\"", hex::encode(&digest[..12]));
    let matches = headers
        .get(IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|tag| tag.trim().trim_start_matches("W/") == etag)
        });
    if matches {
        return (StatusCode::NOT_MODIFIED, [(ETAG, etag)]).into_response();
    }
    (
        StatusCode::OK,
        [(ETAG, etag), (CONTENT_TYPE, "application/json".to_string())],
        body,
    )
        .into_response()
}

/// `GET /api/leads/{id}`
pub async fn show(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<axum::Json<ApiOk<Lead>>, AppError> {
    Ok(axum::Json(ApiOk::new(
        visible_lead(&state, &rep, id).await?,
    )))
}

/// Body of PATCH, read leniently so a bad status gets a 422 listing the allowed ones.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    status: Option<String>,
    notes: Option<String>,
    /// `"bob"` reassigns, `null` leaves the lead unowned, no key keeps the owner.
    #[serde(default, deserialize_with = "leadhook_shared::lead::present")]
    owner: Option<Option<String>>,
}

/// `PATCH /api/leads/{id}` with `status`, `notes` and/or `owner`.
pub async fn update(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<PatchBody>,
) -> Result<axum::Json<ApiOk<Lead>>, AppError> {
    text_limits::NOTES.check(body.notes.as_deref())?;
    if let Some(owner) = &body.owner {
        check_owner(&state, owner.as_deref())?;
    }
    let patch = LeadPatch {
        status: body.status.as_deref().map(parse_status).transpose()?,
        notes: body.notes,
        owner: body.owner,
    };
    if patch.is_empty() {
        return Err(AppError::Unprocessable(
            "send \"status\", \"notes\" and/or \"owner\" to change".into(),
        ));
    }
    let lead = visible_lead(&state, &rep, id).await?;
    if patch.status.is_some() || patch.notes.is_some() {
        authorize(&rep, &lead, LeadChange::Work)?;
    }
    if let Some(owner) = &patch.owner {
        authorize(&rep, &lead, LeadChange::SetOwner(owner.as_deref()))?;
    }
    let lead = state
        .leads
        .update(id, &patch, &rep.name)
        .await?
        .ok_or(AppError::LeadNotFound(id))?;
    Ok(axum::Json(ApiOk::new(lead)))
}

/// A new owner must be one of the reps of `LEADHOOK_API_TOKENS`, and owners must be on.
fn check_owner(state: &AppState, owner: Option<&str>) -> Result<(), AppError> {
    super::claims::require_owners(state)?;
    let team = state.leads.team();
    match owner {
        Some(name) if !team.is_rep(name) => Err(AppError::Unprocessable(format!(
            "owner {name:?} is not a rep; the reps are {}",
            team.reps.join(", ")
        ))),
        _ => Ok(()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    status: Option<String>,
    notes: Option<String>,
}

fn non_blank(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// `POST /api/leads`: a lead a rep took by phone or in person.
pub async fn create(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Json(body): Json<CreateBody>,
) -> Result<(StatusCode, axum::Json<ApiOk<Lead>>), AppError> {
    let name = non_blank(body.name)
        .ok_or_else(|| AppError::Unprocessable("a manual lead needs a \"name\"".into()))?;
    let (email, phone) = (non_blank(body.email), non_blank(body.phone));
    if email.is_none() && phone.is_none() {
        return Err(AppError::Unprocessable(
            "a manual lead needs a \"phone\" or an \"email\"".into(),
        ));
    }
    text_limits::check_manual_lead(
        &name,
        email.as_deref(),
        phone.as_deref(),
        body.notes.as_deref(),
    )?;
    let new = NewManualLead {
        phone_e164: None,
        phone_invalid: false,
        email_key: None,
        name,
        email,
        phone,
        status: body.status.as_deref().map(parse_status).transpose()?,
        notes: non_blank(body.notes),
    };
    let lead = state.leads.create_manual(&new, &rep.name).await?;
    Ok((StatusCode::CREATED, axum::Json(ApiOk::new(lead))))
}
