//! The HTTP API for sales reps' clients, under `/api`, behind bearer tokens.

mod auth;
mod authz;
mod claims;
mod erase;
mod events;
mod export;
mod extract;
mod follow_ups;
mod health;
mod insights;
mod leads;
mod messages;
mod people;
mod reps;
mod stats;
mod sync;
mod text_limits;
mod throttle;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::{delete, get, post, put};

use leadhook_shared::Action;

use crate::app::AppState;
use crate::limits::MAX_API_BODY_BYTES;

pub use auth::Caller;
pub use claims::claim_as;
pub use health::healthz;
pub use throttle::AuthThrottle;

/// Every route, with the action it needs when the whole route needs one ([`authz::needs`]);
/// the rest decide per lead in [`authz`].
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/leads", get(leads::list).post(leads::create))
        .route(
            "/leads/sync",
            post(sync::run).route_layer(from_fn(authz::needs(Action::Sync))),
        )
        .route(
            "/leads/export",
            get(export::page).route_layer(from_fn(authz::needs(Action::Export))),
        )
        .route("/leads/{id}", get(leads::show).patch(leads::update))
        .route("/leads/{id}/claim", post(claims::claim))
        .route("/leads/{id}/release", post(claims::release))
        .route("/leads/{id}/activity", get(claims::activity))
        .route("/leads/{id}/deliveries", get(claims::deliveries))
        .route("/leads/{id}/messages", get(messages::list))
        .route(
            "/leads/{id}/next-step",
            put(follow_ups::set).delete(follow_ups::clear),
        )
        .route("/leads/{id}/attempts", post(follow_ups::attempt))
        .route(
            "/leads/{id}/person",
            put(people::merge).delete(people::unlink),
        )
        .route("/leads/{id}/junk", delete(people::clear_junk))
        .route(
            "/leads/{id}/erase",
            post(erase::erase).route_layer(from_fn(authz::needs(Action::Erase))),
        )
        .route("/reps", get(reps::list))
        .route("/reps/me", get(reps::me).put(reps::set_me))
        .route(
            "/reps/{name}/paging",
            put(reps::set_for).route_layer(from_fn(authz::needs(Action::ManageReps))),
        )
        .route("/stats", get(stats::show))
        .route(
            "/insights",
            get(insights::show).route_layer(from_fn(authz::needs(Action::SeeInsights))),
        )
        .route("/events", get(events::stream))
        .route("/health", get(health::detailed))
        .route(
            "/inbox/retry",
            post(health::retry_failed).route_layer(from_fn(authz::needs(Action::RetryInbox))),
        )
        // Innermost first: name the rep in the request span, check the token, count failures.
        .route_layer(from_fn(record_caller))
        .route_layer(from_fn_with_state(state.clone(), auth::require_token))
        .route_layer(from_fn_with_state(state, throttle::count_failures))
        .layer(DefaultBodyLimit::max(MAX_API_BODY_BYTES))
}

/// Names the rep in the request's span (see [`crate::serve::request_span`]), so its log lines say
/// whose token the request carried.
async fn record_caller(request: Request, next: Next) -> Response {
    if let Some(caller) = request.extensions().get::<Caller>() {
        tracing::Span::current().record("rep", caller.name.as_str());
    }
    next.run(request).await
}
