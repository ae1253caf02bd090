//! Conversation checks every `LeadStore` must pass: a person's first message is claimed once per
//! person and per number, marked `sending` before it goes; a send left `sending` becomes
//! `unknown` and is never started again; a known failure restarts only its own message; opt-outs
//! block the start until the number opts back in, and survive the person's erasure, which takes
//! the conversation; provider statuses never move a message back; replies are stored once.

use leadhook_server::store::{
    Direction, FirstMessage, FirstStart, LeadStore, MessageChannel, MessageStatus, NumberHash,
    OptOutSource, StatusApplied,
};
use leadhook_shared::ActivityKind;

use super::Fixture;
use super::queue::new_lead as lead;

fn first(lead_id: i64, person_id: i64, number: &str, delivery_id: i64) -> FirstMessage {
    FirstMessage {
        lead_id,
        person_id,
        number: NumberHash::of(number),
        channel: MessageChannel::WhatsApp,
        delivery_id,
        body: None,
        template: Some("first_contact".into()),
    }
}

async fn history(store: &dyn LeadStore, lead_id: i64) -> Vec<String> {
    store
        .activity(lead_id)
        .await
        .unwrap()
        .unwrap()
        .into_iter()
        .filter(|row| row.kind == ActivityKind::Message)
        .map(|row| row.new.unwrap_or_default())
        .collect()
}

async fn status_of(store: &dyn LeadStore, lead_id: i64) -> Vec<MessageStatus> {
    store
        .messages_of_lead(lead_id)
        .await
        .unwrap()
        .into_iter()
        .map(|message| message.status)
        .collect()
}

pub async fn a_first_message_is_claimed_once_per_person_and_number(store: &dyn LeadStore) {
    let (a, b, c) = (
        lead(store, "7001").await,
        lead(store, "7002").await,
        lead(store, "7003").await,
    );
    let FirstStart::Started(id) = store
        .first_message_start(&first(a, a, "+15550007001", 1))
        .await
        .unwrap()
    else {
        panic!("the first start of a person starts");
    };
    assert_eq!(status_of(store, a).await, [MessageStatus::Sending]);
    assert_eq!(
        store
            .first_message_start(&first(b, b, "+15550007001", 2))
            .await
            .unwrap(),
        FirstStart::AlreadyMessaged { lead_id: a },
        "another person at the same number"
    );
    assert_eq!(
        store
            .first_message_start(&first(c, a, "+15550007003", 3))
            .await
            .unwrap(),
        FirstStart::AlreadyMessaged { lead_id: a },
        "the same person at another number"
    );
    assert!(status_of(store, b).await.is_empty());
    let mut sms = first(c, a, "+15550007003", 3);
    sms.channel = MessageChannel::Sms;
    sms.template = None;
    sms.body = Some("Hi Jane".into());
    assert!(
        matches!(
            store.first_message_start(&sms).await.unwrap(),
            FirstStart::Started(_)
        ),
        "each channel has its own first message"
    );

    store
        .message_accepted(id, "wamid.AAA", MessageStatus::Sent)
        .await
        .unwrap();
    let whatsapp = MessageChannel::WhatsApp;
    for (status, want, changed) in [
        (MessageStatus::Delivered, MessageStatus::Delivered, true),
        (MessageStatus::Delivered, MessageStatus::Delivered, false),
        (MessageStatus::Sent, MessageStatus::Delivered, false),
        (MessageStatus::Read, MessageStatus::Read, true),
        (MessageStatus::Delivered, MessageStatus::Read, false),
    ] {
        assert_eq!(
            store
                .message_status(whatsapp, "wamid.AAA", status, None)
                .await
                .unwrap(),
            Some(StatusApplied {
                message_id: id,
                lead_id: a,
                changed
            }),
            "{status}"
        );
        assert_eq!(status_of(store, a).await, [want], "after {status}");
    }
    assert_eq!(
        store
            .message_status(whatsapp, "wamid.unknown", MessageStatus::Read, None)
            .await
            .unwrap(),
        None
    );
    let message = &store.messages_of_lead(a).await.unwrap()[0];
    assert_eq!(message.provider_id.as_deref(), Some("wamid.AAA"));
    assert_eq!(message.template.as_deref(), Some("first_contact"));
    assert_eq!(message.direction, Direction::Out);
    let figures = store.message_figures().await.unwrap();
    assert_eq!(
        figures.get(&(whatsapp, Direction::Out, MessageStatus::Read)),
        Some(&1)
    );
    assert_eq!(
        figures.get(&(MessageChannel::Sms, Direction::Out, MessageStatus::Sending)),
        Some(&1)
    );
}

pub async fn a_send_left_sending_becomes_unknown_and_never_starts_again(store: &dyn LeadStore) {
    let a = lead(store, "7101").await;
    let send = first(a, a, "+15550007101", 11);
    let FirstStart::Started(id) = store.first_message_start(&send).await.unwrap() else {
        panic!("started");
    };
    // The same delivery claimed again: the server stopped between the start and the settle.
    assert_eq!(
        store.first_message_start(&send).await.unwrap(),
        FirstStart::Unknown(id)
    );
    assert_eq!(status_of(store, a).await, [MessageStatus::Unknown]);
    let notes = history(store, a).await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("unknown"), "{notes:?}");
    assert_eq!(
        store.first_message_start(&send).await.unwrap(),
        FirstStart::AlreadyMessaged { lead_id: a },
        "an unknown send is never started again"
    );
    assert_eq!(history(store, a).await.len(), 1);
}

pub async fn a_known_failure_restarts_only_its_own_message(store: &dyn LeadStore) {
    let (a, b) = (lead(store, "7201").await, lead(store, "7202").await);
    let send = first(a, a, "+15550007201", 21);
    let FirstStart::Started(id) = store.first_message_start(&send).await.unwrap() else {
        panic!("started");
    };
    store
        .message_retry(id, "HTTP 503, no message id")
        .await
        .unwrap();
    assert_eq!(status_of(store, a).await, [MessageStatus::Queued]);
    assert_eq!(
        store
            .first_message_start(&first(b, b, "+15550007201", 22))
            .await
            .unwrap(),
        FirstStart::AlreadyMessaged { lead_id: a },
        "a queued retry still holds the number"
    );
    assert_eq!(
        store.first_message_start(&send).await.unwrap(),
        FirstStart::Started(id),
        "the delivery's own retry starts again"
    );
    store
        .message_failed(id, "template not approved")
        .await
        .unwrap();
    let message = &store.messages_of_lead(a).await.unwrap()[0];
    assert_eq!(message.status, MessageStatus::Failed);
    assert_eq!(message.error.as_deref(), Some("template not approved"));
    assert_eq!(
        history(store, a).await,
        ["first message failed: template not approved"]
    );
    assert_eq!(
        store.first_message_start(&send).await.unwrap(),
        FirstStart::AlreadyMessaged { lead_id: a },
        "a failed one is not started again"
    );
}

pub async fn opt_outs_block_the_start_until_the_number_opts_back_in(store: &dyn LeadStore) {
    let a = lead(store, "7301").await;
    let number = NumberHash::of("+15550007301");
    let (whatsapp, sms) = (MessageChannel::WhatsApp, MessageChannel::Sms);
    assert_eq!(store.opted_out(&number, sms).await.unwrap(), None);
    store
        .opt_out(&number, sms, OptOutSource::Keyword)
        .await
        .unwrap();
    store
        .opt_out(&number, sms, OptOutSource::Twilio21610)
        .await
        .unwrap();
    let opt_out = store.opted_out(&number, sms).await.unwrap().unwrap();
    assert_eq!(
        opt_out.source,
        OptOutSource::Keyword,
        "the first record stays"
    );
    assert_eq!(store.opted_out(&number, whatsapp).await.unwrap(), None);

    let mut send = first(a, a, "+15550007301", 31);
    send.channel = sms;
    assert_eq!(
        store.first_message_start(&send).await.unwrap(),
        FirstStart::OptedOut(OptOutSource::Keyword)
    );
    assert!(status_of(store, a).await.is_empty(), "nothing was started");
    assert!(store.opt_in(&number, sms).await.unwrap());
    assert!(!store.opt_in(&number, sms).await.unwrap(), "only once");
    assert!(matches!(
        store.first_message_start(&send).await.unwrap(),
        FirstStart::Started(_)
    ));
}

pub async fn erasure_takes_the_conversation_and_keeps_the_opt_out(store: &dyn LeadStore) {
    let a = lead(store, "7401").await;
    let number = NumberHash::of("+15550007401");
    let whatsapp = MessageChannel::WhatsApp;
    let FirstStart::Started(id) = store
        .first_message_start(&first(a, a, "+15550007401", 41))
        .await
        .unwrap()
    else {
        panic!("started");
    };
    store
        .message_accepted(id, "wamid.BBB", MessageStatus::Sent)
        .await
        .unwrap();
    let reply = store
        .message_received(
            a,
            whatsapp,
            "wamid.IN1",
            &number,
            "Tomorrow at 10 is better",
        )
        .await
        .unwrap();
    assert!(reply.is_some());
    assert_eq!(
        store
            .message_received(
                a,
                whatsapp,
                "wamid.IN1",
                &number,
                "Tomorrow at 10 is better"
            )
            .await
            .unwrap(),
        None,
        "a re-delivered reply is stored once"
    );
    assert_eq!(
        store.lead_of_number(whatsapp, &number).await.unwrap(),
        Some(a)
    );
    let conversation = store.messages_of_lead(a).await.unwrap();
    assert_eq!(conversation.len(), 2);
    assert_eq!(conversation[1].direction, Direction::In);
    assert_eq!(conversation[1].status, MessageStatus::Received);
    assert_eq!(
        conversation[1].body.as_deref(),
        Some("Tomorrow at 10 is better")
    );
    store
        .opt_out(&number, whatsapp, OptOutSource::WhatsApp131050)
        .await
        .unwrap();

    store.erase(a, "alice", Some("DSR-1")).await.unwrap();
    assert!(store.messages_of_lead(a).await.unwrap().is_empty());
    assert_eq!(store.lead_of_number(whatsapp, &number).await.unwrap(), None);
    assert_eq!(
        store
            .opted_out(&number, whatsapp)
            .await
            .unwrap()
            .map(|o| o.source),
        Some(OptOutSource::WhatsApp131050),
        "the opt-out outlives the person's data"
    );
}

pub async fn racing_replicas_start_one_first_message_per_person(fixture: &Fixture) {
    let other = fixture.reopen().await;
    for round in 0..5_i64 {
        let a = lead(&*fixture.store, &format!("75{round}1")).await;
        let b = lead(&*fixture.store, &format!("75{round}2")).await;
        let number = format!("+1555000750{round}");
        let (mine, theirs) = (
            first(a, a, &number, 100 + round * 2),
            first(b, a, &number, 101 + round * 2),
        );
        let (one, two) = tokio::join!(
            fixture.store.first_message_start(&mine),
            other.first_message_start(&theirs),
        );
        let outcomes = [one.unwrap(), two.unwrap()];
        let started = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, FirstStart::Started(_)))
            .count();
        assert_eq!(started, 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .any(|outcome| matches!(outcome, FirstStart::AlreadyMessaged { .. })),
            "round {round}: {outcomes:?}"
        );
    }
}
