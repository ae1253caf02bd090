//! The calls that check a setup rather than read leads: the app's webhook subscriptions, a page's
//! Leads Access, and test leads (created, listed, deleted), which Meta announces like real ones.

use serde_json::{Value, json};

use super::Shared;
use super::errors::GraphError;
use super::request::GraphRequest;
use super::world::World;
use crate::deliver::LeadgenChange;
use crate::fake_leads::{TEST_LEAD_EMAIL, test_lead_placeholder};

/// `GET /<version>/<app_id>/subscriptions` (with the app token): the app's webhook subscriptions.
pub(super) fn app_subscriptions(world: &World) -> Value {
    let data: Vec<Value> = world
        .app_subscription
        .iter()
        .map(|subscription| {
            let fields: Vec<Value> = subscription
                .fields
                .iter()
                .map(|name| json!({"name": name, "version": "v25.0"}))
                .collect();
            json!({
                "object": subscription.object,
                "callback_url": subscription.callback_url,
                "active": subscription.active,
                "fields": fields,
            })
        })
        .collect();
    json!({ "data": data })
}

/// The `has_lead_access` field of a page (field names of Meta's Business SDK `HasLeadAccess`).
pub(super) fn has_lead_access(world: &World, page_id: &str) -> Result<Value, GraphError> {
    world.require_scope("leads_retrieval")?;
    let readable = world.leads_readable;
    let mut access = json!({
        "app_has_leads_permission": readable,
        "can_access_lead": readable,
        "enabled_lead_access_manager": true,
        "is_page_admin": true,
        "user_has_leads_permission": true,
        "page_id": page_id,
        "user_id": "100012345678901",
    });
    if !readable {
        access["failure_reason"] =
            json!("The app is not among the CRMs allowed in the page's Leads Access Manager.");
        access["failure_resolution"] =
            json!("Give the app access in Meta Business Suite > Settings > Leads Access.");
    }
    Ok(access)
}

/// `GET /<version>/<form_id>/test_leads`: the form's test lead, if it has one.
pub(super) fn list_test_leads(world: &World, request: &GraphRequest) -> Result<Value, GraphError> {
    let form_id = known_form(world, request)?;
    let data: Vec<Value> = world
        .test_leads
        .get(form_id)
        .and_then(|id| world.leads.get(id).map(|lead| (id, lead)))
        .map(|(id, lead)| json!({"id": id, "created_time": lead.fields.get("created_time")}))
        .into_iter()
        .collect();
    Ok(json!({ "data": data }))
}

/// `POST /<version>/<form_id>/test_leads` (optional `field_data`): creates the form's one test
/// lead and, like Meta, queues a signed `leadgen` webhook to the app's callback.
pub(super) fn create_test_lead(
    world: &mut World,
    request: &GraphRequest,
) -> Result<Value, GraphError> {
    let form_id = known_form(world, request)?.to_string();
    world.require_scope("leads_retrieval")?;
    if world.test_leads.contains_key(&form_id) {
        return Err(GraphError::invalid_parameter(
            "(#100) This form already has a test lead. Delete it before creating another one.",
        ));
    }
    let field_data = match request.param("field_data") {
        None => default_field_data(),
        Some(text) => serde_json::from_str::<Value>(text)
            .ok()
            .filter(Value::is_array)
            .ok_or_else(|| {
                GraphError::invalid_parameter(
                    "(#100) param field_data must be an array of {name, values}",
                )
            })?,
    };
    let page_id = world.forms[&form_id].page_id.clone();
    let mut fields = serde_json::Map::new();
    fields.insert("field_data".into(), field_data);
    fields.insert("is_organic".into(), json!(true));
    let leadgen_id = world.add_lead(&page_id, &form_id, fields);
    world.test_leads.insert(form_id.clone(), leadgen_id.clone());
    if let Some(callback) = world.leadgen_callback(&page_id) {
        let created_time = world.leads[&leadgen_id].created;
        world.outbox.push((
            callback,
            LeadgenChange {
                leadgen_id: leadgen_id.clone(),
                page_id,
                form_id,
                ad_id: None,
                adgroup_id: None,
                created_time,
            },
        ));
    }
    Ok(json!({ "id": leadgen_id }))
}

/// `DELETE /<version>/<lead_id>`: removes a (test) lead.
pub(super) fn delete_lead(world: &mut World, request: &GraphRequest) -> Result<Value, GraphError> {
    if world.remove_lead(&request.node) {
        Ok(json!({"success": true}))
    } else {
        Err(GraphError::unreadable(&request.node))
    }
}

/// What Meta fills a test lead with when the request gives no `field_data`.
fn default_field_data() -> Value {
    json!([
        {"name": "full_name", "values": [test_lead_placeholder("full_name")]},
        {"name": "email", "values": [TEST_LEAD_EMAIL]},
        {"name": "phone_number", "values": [test_lead_placeholder("phone_number")]},
    ])
}

fn known_form<'a>(world: &World, request: &'a GraphRequest) -> Result<&'a str, GraphError> {
    let form_id = request.node.as_str();
    if world.forms.contains_key(form_id) {
        Ok(form_id)
    } else {
        Err(GraphError::unreadable(form_id))
    }
}

/// Sends the webhooks a request queued, after it is answered, with Meta-like retries.
pub(super) fn deliver_queued(shared: &Shared) {
    let outbox = std::mem::take(&mut shared.world().outbox);
    for (callback, change) in outbox {
        let app_secret = shared.config.app_secret.clone();
        tokio::spawn(async move {
            let retry = crate::deliver::RetryPolicy::like_meta(
                DELIVERY_ATTEMPTS,
                std::time::Duration::from_millis(500),
            );
            let sent = match crate::deliver::WebhookSender::new(callback.as_str(), app_secret) {
                Ok(sender) => {
                    sender
                        .with_retry(retry)
                        .send_leads(&[change], &crate::deliver::BodyStyle::default())
                        .await
                }
                Err(error) => Err(error),
            };
            match sent {
                Ok(delivery) if delivery.status.is_success() => {}
                Ok(delivery) => {
                    tracing::warn!(%callback, status = %delivery.status, "test lead webhook refused")
                }
                Err(error) => tracing::warn!(%callback, "test lead webhook not delivered: {error}"),
            }
        });
    }
}

/// Tries of one test-lead webhook (Meta keeps trying for 36 hours; a stand-in need not).
const DELIVERY_ATTEMPTS: u32 = 4;
