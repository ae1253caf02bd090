//! The Graph API client: reads leads (and, for the sweeper, forms and their leads).

mod client;
mod error;

pub use client::{GraphClient, LeadForm, SubscribedApp, TokenInfo};
pub use error::{GraphError, classify};
