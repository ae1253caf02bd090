//! The Graph API client: reads leads (and, for the sweeper, forms and their leads).

mod client;
mod error;
pub mod versions;

pub use client::{GraphClient, LeadForm, SubscribedApp, TokenInfo};
pub use error::{GraphError, classify};
