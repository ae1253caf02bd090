//! `GET /claim/<token>` shows what the link would do, with a button; `POST /claim/<token>` (the
//! button, or an ntfy `http` action) claims the lead for the link's rep through the API's own
//! claim ([`crate::api::claim_as`]: the same checks, the same write, the same announcement) and
//! answers a plain page. Every refusal is a plain page with its status: 404 not a link (or the
//! lead is gone), 403 not ours (or the rep may no longer work leads), 410 expired or already
//! used, 409 someone else owns the lead, 503 the store did not answer. Lead text is HTML-escaped.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use leadhook_shared::Lead;
use leadhook_shared::phone::international;

use super::{Ticket, TokenError};
use crate::api::claim_as;
use crate::app::AppState;
use crate::error::AppError;

/// `GET /claim/<token>`: never claims (link previews fetch it too).
pub async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Page {
    let ticket = match ticket(&state, &token) {
        Ok(ticket) => ticket,
        Err(refusal) => return refusal,
    };
    match state.store.get(ticket.lead_id).await {
        Ok(Some(lead)) if lead.erased_at.is_none() => page(
            StatusCode::OK,
            "Claim this lead?",
            &format!(
                "<p>Claim <b>{}</b> for {}?</p>\
                 <form method=\"post\"><button type=\"submit\">Claim</button></form>",
                escape(&who(&lead)),
                escape(&ticket.rep)
            ),
        ),
        Ok(_) => gone_lead(),
        Err(error) => {
            tracing::warn!(%error, "claim link: cannot read the lead");
            unavailable()
        }
    }
}

/// `POST /claim/<token>`: uses the link (once, across replicas), then claims.
pub async fn claim(State(state): State<AppState>, Path(token): Path<String>) -> Page {
    let ticket = match ticket(&state, &token) {
        Ok(ticket) => ticket,
        Err(refusal) => return refusal,
    };
    let Some(caller) = state.reps.caller(&ticket.rep) else {
        return page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "<p>This link's rep may no longer use leadhook. Ask your manager.</p>",
        );
    };
    match state
        .leads
        .use_claim_link(&ticket.nonce, ticket.lead_id, &ticket.rep)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            return page(
                StatusCode::GONE,
                "Link already used",
                "<p>This claim link was already used. Open the dashboard to see the lead.</p>",
            );
        }
        Err(error) => {
            tracing::warn!(%error, "claim link: cannot record its use");
            return unavailable();
        }
    }
    match claim_as(&state, &caller, ticket.lead_id).await {
        Ok(lead) => {
            let call = match &lead.meta.phone_e164 {
                Some(e164) => format!(
                    " — call <a href=\"tel:{}\">{}</a>",
                    escape(e164),
                    escape(&international(e164).unwrap_or_else(|| e164.clone()))
                ),
                None => String::new(),
            };
            tracing::info!(lead = lead.id, rep = %caller.name, "lead claimed from a claim link");
            page(
                StatusCode::OK,
                "Claimed",
                &format!("<p>Claimed: <b>{}</b>{call}</p>", escape(&who(&lead))),
            )
        }
        Err(AppError::AlreadyClaimed { owner, .. }) => page(
            StatusCode::CONFLICT,
            "Already claimed",
            &format!("<p>{} already owns this lead.</p>", escape(&owner)),
        ),
        Err(AppError::LeadNotFound(_)) => gone_lead(),
        Err(error @ (AppError::Forbidden { .. } | AppError::AssignmentOff)) => page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            &format!("<p>{}</p>", escape(&error.to_string())),
        ),
        Err(error) => {
            tracing::warn!(%error, "claim link: the claim failed");
            unavailable()
        }
    }
}

/// The link's ticket, or the page that refuses it.
fn ticket(state: &AppState, token: &str) -> Result<Ticket, Page> {
    let Some(links) = &state.config.claim_links else {
        return Err(page(
            StatusCode::NOT_FOUND,
            "Not found",
            "<p>Claim links are off on this server.</p>",
        ));
    };
    links.check(token, chrono::Utc::now()).map_err(|error| {
        let (status, what) = match error {
            TokenError::Malformed => (StatusCode::NOT_FOUND, "Not a claim link"),
            TokenError::Forged => (StatusCode::FORBIDDEN, "Not a valid claim link"),
            TokenError::Expired => (StatusCode::GONE, "Link expired"),
        };
        page(
            status,
            what,
            &format!(
                "<p>{}. Open the dashboard to claim the lead.</p>",
                capitalised(&error.to_string())
            ),
        )
    })
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The lead as a rep knows it: the name, else the number, else its id.
fn who(lead: &Lead) -> String {
    lead.meta
        .name
        .clone()
        .filter(|name| !name.trim().is_empty())
        .or_else(|| lead.meta.phone_e164.clone())
        .unwrap_or_else(|| format!("lead #{}", lead.id))
}

fn gone_lead() -> Page {
    page(
        StatusCode::NOT_FOUND,
        "Lead not found",
        "<p>This lead no longer exists.</p>",
    )
}

fn unavailable() -> Page {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again",
        "<p>The server cannot reach its store right now. Try again in a minute.</p>",
    )
}

/// A plain HTML page with its status; `body` is HTML, already escaped where it holds lead text.
pub struct Page {
    status: StatusCode,
    title: &'static str,
    body: String,
}

fn page(status: StatusCode, title: &'static str, body: &str) -> Page {
    Page {
        status,
        title,
        body: body.to_string(),
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let Page {
            status,
            title,
            body,
        } = self;
        let html = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"robots\" content=\"noindex\"><title>{title}</title></head>\
             <body style=\"font-family: sans-serif; font-size: 1.3em; margin: 2em\">\
             <h1>{title}</h1>{body}</body></html>"
        );
        (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
                (header::REFERRER_POLICY, "no-referrer"),
                (header::X_FRAME_OPTIONS, "DENY"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
                ),
            ],
            html,
        )
            .into_response()
    }
}

/// `text` safe inside HTML text and quoted attributes, on one line.
fn escape(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    html_escape::encode_quoted_attribute(&line).into_owned()
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_in_lead_text_is_inert() {
        assert_eq!(
            escape("<script>alert(\"x\")</script> & 'y'\r\n"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;y&#x27;  "
        );
    }
}
