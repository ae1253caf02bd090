//! A simulated Facebook: realistic leads, a Graph API stand-in serving them, and signed leadgen
//! webhooks delivered to a leadhook server. Used by the server's integration tests, the dashboard's
//! end-to-end test, the local demo, the benchmarks and `leadhook-sim simulate`; never by the
//! production server.
//!
//! In a test: `GraphStandin::spawn(StandinConfig::default())` gives a Graph API at
//! `standin.base_url()` (the server adds `/<version>/...`) accepting `standin.config().page_token`;
//! `standin.add_fake_lead(&LeadFaker::new(seed).next_lead(time))` stores a lead, and
//! `WebhookSender::new(server_webhook_url, app_secret).send_leads(&[(&lead).into()], &BodyStyle::default())`
//! announces it to the server with a valid signature. [`harness`] starts the server itself, in
//! this process or as a child process.

pub mod cli;
pub mod deliver;
pub mod fake_leads;
pub mod graph_standin;
pub mod harness;
pub mod messaging_standin;
pub mod meta_json;
pub mod person;
#[cfg(test)]
mod test_receiver;

pub use cli::{SimulateArgs, SimulateError, SimulateSummary};
pub use deliver::{
    BodyStyle, Delivery, DeliveryError, IdStyle, LeadgenChange, RetryPolicy, WebhookSender,
    notification_body,
};
pub use fake_leads::{FakeLead, LeadFaker, PastMonth, past_month};
pub use graph_standin::{
    AppSubscription, CallKind, DEFAULT_AD_ACCOUNT_ID, DEFAULT_DATASET_ID, GraphError, GraphFault,
    GraphStandin, StandinConfig, StandinError, TokenState,
};
pub use harness::{ServerProcess, TestServer, TestSettings};
pub use messaging_standin::{Api, Arrived, MessagingFault, MessagingStandin};
pub use person::Person;
