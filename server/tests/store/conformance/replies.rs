//! Reply routing every `LeadStore` must pass: a message from a number no message went to belongs
//! to the newest lead with that phone, never to an erased one.

use leadhook_server::store::LeadStore;
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::team::actor::FACEBOOK;

use super::suite::{at, incoming};

fn with_phone(leadgen_id: &str, phone: &str, hours_ago: i64) -> IncomingLead {
    let mut lead = incoming(leadgen_id, "Jane Doe", at(hours_ago));
    lead.meta.phone = Some(phone.to_string());
    lead.meta.normalize("US".parse().ok());
    lead
}

async fn stored(store: &dyn LeadStore, lead: IncomingLead) -> i64 {
    store.upsert(&lead, FACEBOOK).await.unwrap().lead.id
}

pub async fn a_phone_finds_its_newest_lead_that_is_not_erased(store: &dyn LeadStore) {
    assert_eq!(
        store.newest_lead_of_phone("+16502530000").await.unwrap(),
        None
    );
    let older = stored(store, with_phone("9101", "(650) 253-0000", 3)).await;
    let newer = stored(store, with_phone("9102", "+1 650 253 0000", 2)).await;
    stored(store, with_phone("9103", "+1 650 253 0001", 1)).await;
    assert_eq!(
        store.newest_lead_of_phone("+16502530000").await.unwrap(),
        Some(newer)
    );
    store.erase(newer, "alice", None).await.unwrap();
    assert_eq!(
        store.newest_lead_of_phone("+16502530000").await.unwrap(),
        Some(older),
        "an erased lead receives nothing"
    );
}
