//! Lead changes as they happen, for clients that listen instead of polling.

use leadhook_shared::Lead;
use tokio::sync::broadcast;

/// Fan-out of stored or changed leads. Slow listeners lose their place and resume from their cursor.
#[derive(Clone)]
pub struct LeadFeed {
    sender: broadcast::Sender<Lead>,
}

impl Default for LeadFeed {
    fn default() -> Self {
        LeadFeed {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl LeadFeed {
    pub fn publish(&self, lead: &Lead) {
        // No listeners is fine.
        let _ = self.sender.send(lead.clone());
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Lead> {
        self.sender.subscribe()
    }
}
