//! The Conversions API check: the CRM dataset is readable with the token that sends events.

use crate::config::{CapiConfig, Config};
use crate::graph::{GraphClient, GraphError};

use super::Check;

const NAME: &str = "Conversions API dataset";

/// Reads `FB_DATASET_ID` with `FB_CAPI_TOKEN` (or the Page token); sends no event.
pub async fn check_dataset(config: &Config, capi: &CapiConfig) -> Check {
    let graph = match GraphClient::for_capi(config, capi) {
        Ok(graph) => graph,
        Err(error) => return Check::from_graph_error(NAME, &error),
    };
    match graph.object_name(&capi.dataset_id).await {
        Ok(name) => Check::pass(
            NAME,
            format!(
                "dataset {} ({}) is readable with the CAPI token; stages are sent to it",
                capi.dataset_id,
                name.as_deref().unwrap_or("no name")
            ),
        ),
        Err(error) => {
            let fix = match error {
                GraphError::Transient(_) | GraphError::RateLimited { .. } => {
                    "run doctor again in a few minutes"
                }
                GraphError::TokenInvalid { .. } => {
                    "set FB_CAPI_TOKEN to a valid system-user token (or a valid Page token)"
                }
                _ => {
                    "check FB_DATASET_ID (Events Manager > your CRM dataset > Settings) and give FB_CAPI_TOKEN's user or app access to that dataset"
                }
            };
            Check::fail(NAME, error.to_string(), fix)
        }
    }
}
