//! The answer to each Graph call: nodes, edges, token checks and `debug_token`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use leadhook_shared::meta::signature;
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use super::errors::{GraphError, json_response};
use super::faults::GraphFault;
use super::paging::{paged, time_filters};
use super::request::{GraphRequest, parse_request};
use super::setup_routes;
use super::world::{NodeType, StoredForm, StoredLead, World};
use super::{CallKind, Shared, TokenState};

/// The one handler: Graph paths are `/<version>/<id>[/<edge>]`, and ids and edges decide the answer.
pub(super) async fn handle(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = parse_request(&shared, method, &uri, &headers, &body);
    shared.calls[request.kind as usize].fetch_add(1, Ordering::SeqCst);
    let reads_leads = request.kind.reads_leads();
    let _in_flight = reads_leads.then(|| shared.lead_reads.enter());
    let page_id = shared.config.page_id.as_str();

    let fault = shared.faults().next_fault();
    match fault {
        Some(GraphFault::Error(error)) => return error.response(page_id),
        Some(GraphFault::Hang) => {
            shared.stopped().await;
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        Some(GraphFault::Delay(delay)) if !shared.sleep(delay).await => {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        Some(GraphFault::Delay(_)) | None => {}
    }
    if reads_leads {
        let latency = *shared.lead_read_latency();
        // Even a zero sleep would wait for the timer's next tick.
        let still_up = latency.is_zero() || shared.sleep(latency).await;
        if !still_up || !shared.wait_unstalled().await {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let response = match answer(&shared, &request) {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(error) => error.response(page_id),
    };
    setup_routes::deliver_queued(&shared);
    response
}

pub(super) fn answer(shared: &Shared, request: &GraphRequest) -> Result<Value, GraphError> {
    if !request.well_formed {
        return Err(unknown_path(request));
    }
    let mut world = shared.world();
    check_token(shared, &world, request)?;
    match (request.edge.as_deref(), &request.method) {
        (None, &Method::GET) if request.kind == CallKind::DebugToken => {
            debug_token(shared, &world, request)
        }
        (None, &Method::GET) if request.node == shared.config.dataset_id => Ok(json!({
            "id": shared.config.dataset_id,
            "name": "leadhook CRM dataset",
        })),
        (None, &Method::GET) => read_node(shared, &world, request),
        (None, &Method::DELETE) => setup_routes::delete_lead(&mut world, request),
        (Some("subscriptions"), &Method::GET) if request.node == shared.config.app_id => {
            Ok(setup_routes::app_subscriptions(&world))
        }
        (Some("test_leads"), &Method::GET) => setup_routes::list_test_leads(&world, request),
        (Some("test_leads"), &Method::POST) => setup_routes::create_test_lead(&mut world, request),
        (Some("leads"), &Method::GET) => form_leads(shared, &world, request),
        (Some("leadgen_forms"), &Method::GET) => leadgen_forms(shared, &world, request),
        (Some("subscribed_apps"), _) => subscribed_apps(shared, &mut world, request),
        (Some("events"), &Method::POST) if request.node == shared.config.dataset_id => {
            super::capi::receive(&mut shared.capi(), request)
        }
        (Some("insights"), &Method::GET)
            if request.node == format!("act_{}", shared.config.ad_account_id) =>
        {
            super::ads_insights::answer(request)
        }
        (Some("insights"), &Method::GET) => Err(GraphError::unreadable(&request.node)),
        (Some(edge), &Method::GET) => Err(GraphError::invalid_parameter(format!(
            "(#100) Tried accessing nonexisting field ({edge}) on node type (Page)"
        ))),
        _ => Err(unsupported_request(request)),
    }
}

fn unknown_path(request: &GraphRequest) -> GraphError {
    let path = [
        Some(request.version.as_str()),
        Some(request.node.as_str()),
        request.edge.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("/");
    GraphError::new(2500, None).with_message(format!("Unknown path components: /{path}"))
}

fn unsupported_request(request: &GraphRequest) -> GraphError {
    GraphError::unreadable(&request.node).with_message(format!(
        "Unsupported {} request. Object with ID '{}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
        request.method.as_str().to_lowercase(),
        request.node
    ))
}

/// The `access_token` (and `appsecret_proof`) check every call goes through first.
fn check_token(shared: &Shared, world: &World, request: &GraphRequest) -> Result<(), GraphError> {
    let token = request
        .param("access_token")
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            GraphError::new(190, None)
                .with_message("An access token is required to request this resource.")
        })?;
    if request.kind == CallKind::DebugToken && token == shared.app_token() {
        return Ok(());
    }
    if request.node == shared.config.app_id {
        return if token == shared.app_token() {
            Ok(())
        } else {
            Err(GraphError::new(15, None)
                .with_message("(#15) This method must be called with an app access_token."))
        };
    }
    if token != shared.config.page_token {
        return Err(GraphError::new(190, None));
    }
    let expected_proof = appsecret_proof(shared, token);
    let proof_error = |message: &str| GraphError {
        error_type: "GraphMethodException",
        ..GraphError::invalid_parameter(message)
    };
    match request.param("appsecret_proof") {
        Some(proof) if !proof.eq_ignore_ascii_case(&expected_proof) => {
            return Err(proof_error(
                "Invalid appsecret_proof provided in the API argument",
            ));
        }
        None if shared.config.require_appsecret_proof => {
            return Err(proof_error(
                "API calls from the server require an appsecret_proof argument",
            ));
        }
        _ => {}
    }
    if world.token == TokenState::Expired {
        return Err(expired_token_error(world));
    }
    Ok(())
}

/// `appsecret_proof`: hex HMAC-SHA256 of the access token keyed with the App Secret.
pub(super) fn appsecret_proof(shared: &Shared, token: &str) -> String {
    let signed = signature::sign(
        shared.config.app_secret.expose_secret().as_bytes(),
        token.as_bytes(),
    );
    signed.trim_start_matches("sha256=").to_string()
}

fn expired_token_error(world: &World) -> GraphError {
    let expired = DateTime::from_timestamp(world.token_expires_at(), 0).unwrap_or_default();
    GraphError::new(190, Some(463)).with_message(format!(
        "Error validating access token: Session has expired on {}. The current time is {}.",
        expired.format("%A, %d-%b-%y %H:%M:%S UTC"),
        Utc::now().format("%A, %d-%b-%y %H:%M:%S UTC"),
    ))
}

/// `GET /<version>/debug_token?input_token=...`: what Meta knows about a token.
pub(super) fn debug_token(
    shared: &Shared,
    world: &World,
    request: &GraphRequest,
) -> Result<Value, GraphError> {
    let config = &shared.config;
    let input = request
        .param("input_token")
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            GraphError::invalid_parameter("(#100) The parameter input_token is required")
        })?;
    if input == shared.app_token() {
        return Ok(json!({"data": {
            "app_id": config.app_id, "type": "APP", "application": config.app_name, "is_valid": true,
        }}));
    }
    if input != config.page_token {
        return Ok(json!({"data": {
            "error": {"code": 190, "message": "Invalid OAuth access token - Cannot parse access token"},
            "is_valid": false,
            "scopes": [],
        }}));
    }
    let issued_at = world.token_changed_at.timestamp() - 86_400;
    let mut data = json!({
        "app_id": config.app_id,
        "type": "PAGE",
        "application": config.app_name,
        "data_access_expires_at": world.token_changed_at.timestamp() + 90 * 86_400,
        "expires_at": world.token_expires_at(),
        "is_valid": world.token != TokenState::Expired,
        "issued_at": issued_at,
        "profile_id": config.page_id,
        "scopes": world.scopes(),
        "user_id": "100012345678901",
    });
    if world.token == TokenState::Expired {
        let error = expired_token_error(world);
        data["error"] =
            json!({"code": error.code, "message": error.message, "subcode": error.subcode});
    }
    Ok(json!({ "data": data }))
}

/// `GET /<version>/<id>`: a lead, a form, a page or `me` (the token's page).
fn read_node(shared: &Shared, world: &World, request: &GraphRequest) -> Result<Value, GraphError> {
    let node = request.node.as_str();
    let page_id = page_id_of(shared, node);
    if let Some(name) = world.pages.get(page_id) {
        let fields = wanted_fields(request, NodeType::Page)?;
        let mut page = json!({"id": page_id, "name": name});
        if fields.contains(&"has_lead_access") {
            page["has_lead_access"] = setup_routes::has_lead_access(world, page_id)?;
        }
        return Ok(select(into_object(page), &fields));
    }
    if let Some(form) = world.forms.get(node) {
        let fields = wanted_fields(request, NodeType::LeadgenForm)?;
        return Ok(select(form_json(world, node, form), &fields));
    }
    let fields = wanted_fields(request, NodeType::Lead)?;
    check_leads_access(world, node)?;
    let lead = world
        .leads
        .get(node)
        .ok_or_else(|| GraphError::unreadable(node))?;
    Ok(select(lead.fields.clone(), &fields))
}

fn into_object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn form_json(world: &World, form_id: &str, form: &StoredForm) -> Map<String, Value> {
    let leads_count = world
        .leads
        .values()
        .filter(|lead| lead.form_id == form_id)
        .count();
    into_object(json!({
        "id": form_id,
        "name": form.name,
        "status": "ACTIVE",
        "locale": "en_US",
        "leads_count": leads_count,
    }))
}

/// Lead reads need `leads_retrieval` and Leads Access for the app; `id` names the object read.
fn check_leads_access(world: &World, id: &str) -> Result<(), GraphError> {
    world.require_scope("leads_retrieval")?;
    if world.leads_readable {
        Ok(())
    } else {
        Err(GraphError::unreadable(id))
    }
}

/// The fields a request asks for (`fields=a,b`), or the node type's defaults; an unknown
/// field is Meta's error 100.
fn wanted_fields(request: &GraphRequest, node_type: NodeType) -> Result<Vec<&str>, GraphError> {
    let Some(list) = request
        .param("fields")
        .filter(|list| !list.trim().is_empty())
    else {
        return Ok(node_type.default_fields().to_vec());
    };
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            if node_type.knows(name) {
                Ok(name)
            } else {
                Err(GraphError::invalid_parameter(format!(
                    "(#100) Tried accessing nonexisting field ({name}) on node type ({node_type:?})"
                )))
            }
        })
        .collect()
}

/// The object with only `fields` (and its `id`, which Graph always returns); absent fields stay absent.
pub(super) fn select(mut object: Map<String, Value>, fields: &[&str]) -> Value {
    object.retain(|name, _| name == "id" || fields.contains(&name.as_str()));
    Value::Object(object)
}

/// `GET /<version>/<form_id>/leads`: newest first, optionally filtered by `time_created`, paged.
fn form_leads(shared: &Shared, world: &World, request: &GraphRequest) -> Result<Value, GraphError> {
    let form_id = request.node.as_str();
    if !world.forms.contains_key(form_id) {
        return Err(GraphError::unreadable(form_id));
    }
    let fields = wanted_fields(request, NodeType::Lead)?;
    check_leads_access(world, form_id)?;
    let filters = time_filters(request.param("filtering"))?;
    let mut leads: Vec<(&String, &StoredLead)> = world
        .leads
        .iter()
        .filter(|(_, lead)| lead.form_id == form_id)
        .filter(|(_, lead)| filters.iter().all(|filter| filter.accepts(lead.created)))
        .collect();
    leads.sort_by(|(a_id, a), (b_id, b)| b.created.cmp(&a.created).then_with(|| b_id.cmp(a_id)));
    let items = leads
        .into_iter()
        .map(|(id, lead)| (id.clone(), select(lead.fields.clone(), &fields)))
        .collect();
    paged(shared, request, items)
}

/// `GET /<version>/<page_id>/leadgen_forms`.
pub(super) fn leadgen_forms(
    shared: &Shared,
    world: &World,
    request: &GraphRequest,
) -> Result<Value, GraphError> {
    let page_id = known_page(shared, world, request)?;
    world.require_scope("pages_manage_ads")?;
    let fields = wanted_fields(request, NodeType::LeadgenForm)?;
    let items = world
        .forms
        .iter()
        .rev()
        .filter(|(_, form)| form.page_id == page_id)
        .map(|(id, form)| (id.clone(), select(form_json(world, id, form), &fields)))
        .collect();
    paged(shared, request, items)
}

/// `me` is the token's page.
fn page_id_of<'a>(shared: &'a Shared, node: &'a str) -> &'a str {
    if node == "me" {
        shared.config.page_id.as_str()
    } else {
        node
    }
}

/// The page a page edge is called on.
fn known_page<'a>(
    shared: &'a Shared,
    world: &World,
    request: &'a GraphRequest,
) -> Result<&'a str, GraphError> {
    let page_id = page_id_of(shared, &request.node);
    if world.pages.contains_key(page_id) {
        Ok(page_id)
    } else {
        Err(GraphError::unreadable(&request.node))
    }
}

/// `GET|POST|DELETE /<version>/<page_id>/subscribed_apps`.
pub(super) fn subscribed_apps(
    shared: &Shared,
    world: &mut World,
    request: &GraphRequest,
) -> Result<Value, GraphError> {
    let page_id = known_page(shared, world, request)?.to_string();
    let config = &shared.config;
    match request.method {
        Method::GET => {
            let apps: Vec<Value> = world
                .subscriptions
                .get(&page_id)
                .map(|fields| {
                    json!({"category": "Business", "link": "https://leadhook.example/",
                           "name": config.app_name, "id": config.app_id, "subscribed_fields": fields})
                })
                .into_iter()
                .collect();
            Ok(json!({ "data": apps }))
        }
        Method::POST => {
            world.require_scope("pages_manage_metadata")?;
            let fields: Vec<String> = request
                .param("subscribed_fields")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|field| !field.is_empty())
                .map(str::to_string)
                .collect();
            if fields.is_empty() {
                return Err(GraphError::invalid_parameter(
                    "(#100) The parameter subscribed_fields is required.",
                ));
            }
            world.subscriptions.insert(page_id, fields);
            Ok(json!({"success": true}))
        }
        Method::DELETE => {
            world.require_scope("pages_manage_metadata")?;
            world.subscriptions.remove(&page_id);
            Ok(json!({"success": true}))
        }
        _ => Err(unsupported_request(request)),
    }
}
