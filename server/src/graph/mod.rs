//! The Graph API client: reads leads (and, for the sweeper, forms and their leads; for `doctor`,
//! the app's subscriptions, Leads Access and test leads).

mod ads;
mod client;
mod error;
mod setup;
pub mod versions;

pub use ads::SpendRow;
pub use client::{GraphClient, LeadForm, SubscribedApp, TokenInfo};
pub use error::{GraphError, classify};
pub use setup::{AppSubscription, LeadAccess, SubscribedField};
