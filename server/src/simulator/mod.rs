//! A simulated Facebook: realistic leads, a Graph API stand-in serving them, and signed leadgen
//! webhooks delivered to a leadhook server. Used by the server's integration tests, the local demo
//! and `leadhook-server simulate`.

pub mod cli;
pub mod deliver;
pub mod fake_leads;
pub mod graph_standin;
pub mod meta_json;
#[cfg(test)]
mod test_receiver;

pub use cli::{SimulateArgs, SimulateError, SimulateSummary};
pub use deliver::{
    BodyStyle, Delivery, DeliveryError, IdStyle, LeadgenChange, RetryPolicy, WebhookSender,
    notification_body,
};
pub use fake_leads::{FakeLead, LeadFaker};
pub use graph_standin::{
    CallKind, GraphError, GraphFault, GraphStandin, StandinConfig, StandinError, TokenState,
};
