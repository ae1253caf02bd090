//! Meta's Lead Ads payloads: webhook notifications (IDs only) and Graph API leads (the answers),
//! and the webhook signature both the server (verifying) and the simulator (signing) need.

mod flex_id;
pub mod graph_lead;
pub mod signature;
pub mod webhook;
pub mod whatsapp;

pub use graph_lead::{
    GRAPH_LEAD_FIELDS, GraphLead, IncomingLead, LeadParseError, parse_graph_lead, parse_meta_time,
};
pub use webhook::{LeadgenEvent, Notification, PayloadError, parse_notification};
