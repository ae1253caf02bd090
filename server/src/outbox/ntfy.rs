//! Pages to phones through ntfy, in its JSON publish form (`POST <server>/` with the topic in the
//! body), so no lead text ever travels in a header. Each page goes to the topic of the lead's
//! owner, else the channel's team topic; `lead.created` only while the lead has no owner (an
//! owner hears of it by `lead.assigned`). An owner who is away gets only escalations; during
//! their quiet hours (in their time zone) a page is held until the hours end, escalations
//! excepted. A page that no longer applies when it falls due (the lead was reassigned, contacted
//! or erased) is dropped with the reason.
//!
//! ```json
//! {"topic": "alice-7f3a…", "title": "New lead: Jane Doe", "message": "Jane Doe\n+1 555-123-4567\nForm: Spring offer",
//!  "priority": 4, "tags": ["telephone_receiver"], "click": "tel:+15551234567",
//!  "actions": [{"action": "view", "label": "Call", "url": "tel:+15551234567"},
//!              {"action": "view", "label": "Claim", "url": "https://leads.example.com/claim/…", "clear": true}]}
//! ```

use std::sync::Arc;

use chrono::Utc;
use leadhook_shared::Tz;
use leadhook_shared::phone::international;
use leadhook_shared::{ActivityKind, Lead, LeadStatus, NextStep};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::message::{Message, clean, history_entry};
use super::{Attempt, SenderContext, http};
use crate::claim_link::ClaimLinks;
use crate::clock::Clock;
use crate::config::{Channel, NtfyChannel};
use crate::store::{Delivery, EventType, LeadReader, RepPaging};

#[derive(Debug, Serialize)]
struct Publish {
    topic: String,
    title: String,
    message: String,
    priority: u8,
    tags: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    click: Option<String>,
    actions: Vec<Action>,
}

#[derive(Debug, Serialize)]
struct Action {
    action: &'static str,
    label: &'static str,
    url: String,
    clear: bool,
}

/// Where a page goes.
enum Target {
    /// The owner's own topic, with what paging them depends on.
    Rep {
        name: String,
        topic: String,
        paging: RepPaging,
    },
    Team(String),
}

pub struct NtfySender {
    client: reqwest::Client,
    server: reqwest::Url,
    token: Option<SecretString>,
    team_topic: Option<String>,
    claim_links: Option<Arc<ClaimLinks>>,
    clock: Arc<dyn Clock>,
}

impl NtfySender {
    pub fn new(
        channel: &Channel,
        ntfy: &NtfyChannel,
        context: &SenderContext,
    ) -> Result<NtfySender, reqwest::Error> {
        Ok(NtfySender {
            client: http::client(channel.timeout)?,
            server: ntfy.server.clone(),
            token: ntfy.token.clone(),
            team_topic: ntfy.topic.clone(),
            claim_links: context.claim_links.clone(),
            clock: Arc::clone(&context.clock),
        })
    }

    /// Where the page for `lead` goes, or why it goes nowhere.
    async fn target(&self, lead: &Lead, leads: &dyn LeadReader) -> Result<Target, Attempt> {
        if let Some(owner) = &lead.owner {
            let paging = leads
                .rep_paging(owner)
                .await
                .map_err(|e| Attempt::Failed(format!("cannot read {owner}'s settings: {e}")))?;
            if let Some(topic) = paging.ntfy_topic.clone() {
                return Ok(Target::Rep {
                    name: owner.clone(),
                    topic,
                    paging,
                });
            }
        }
        match &self.team_topic {
            Some(topic) => Ok(Target::Team(topic.clone())),
            None => Err(Attempt::Dropped(match &lead.owner {
                Some(owner) => format!("{owner} has no ntfy topic and the channel no team topic"),
                None => "the lead has no owner and the channel no team topic".into(),
            })),
        }
    }

    /// Why the page no longer applies, if it does not: what was true when it was queued may not
    /// be when it falls due (after quiet hours, or a retry).
    async fn stale(
        &self,
        delivery: &Delivery,
        event: EventType,
        lead: &Lead,
        leads: &dyn LeadReader,
    ) -> Result<Option<String>, Attempt> {
        if lead.erased_at.is_some() {
            return Ok(Some("the lead was erased".into()));
        }
        let about_a_new_lead = matches!(
            event,
            EventType::Created | EventType::Assigned | EventType::Escalated
        );
        if about_a_new_lead && lead.status != LeadStatus::NewLead {
            return Ok(Some(format!("the lead was contacted ({})", lead.status)));
        }
        // An owned lead is paged to its owner by its `lead.assigned`; `lead.created` pages the
        // team while nobody owns the lead (so an assignment at arrival is not paged twice).
        if event == EventType::Created && lead.owner.is_some() {
            return Ok(Some(
                "the lead has an owner: its lead.assigned pages them".into(),
            ));
        }
        if matches!(event, EventType::Assigned | EventType::FollowUpDue) {
            let entry = history_entry(delivery, leads)
                .await
                .map_err(Attempt::Failed)?;
            let given_to = entry
                .as_ref()
                .filter(|row| matches!(row.kind, ActivityKind::Claim | ActivityKind::Assign))
                .and_then(|row| row.new.clone());
            if given_to.is_some() && given_to != lead.owner {
                return Ok(Some(format!(
                    "the lead was reassigned to {} since",
                    lead.owner.as_deref().unwrap_or("nobody")
                )));
            }
            let due = entry
                .as_ref()
                .filter(|row| row.kind == ActivityKind::Reminded)
                .and_then(|row| row.new.clone());
            if due.is_some() && due != lead.next_step.as_ref().map(NextStep::history_text) {
                return Ok(Some("the next step was changed or done since".into()));
            }
        }
        Ok(None)
    }

    /// Away or in quiet hours: dropped or held (never for an escalation).
    fn paging_rule(&self, name: &str, paging: &RepPaging) -> Option<Attempt> {
        if !paging.available {
            return Some(Attempt::Dropped(format!("{name} is away")));
        }
        let hours = paging.quiet_hours?;
        let zone: Tz = paging
            .time_zone
            .as_deref()
            .and_then(|zone| zone.parse().ok())
            .unwrap_or(Tz::UTC);
        let now = self.clock.now();
        let until = hours.holds_until(now, zone)?;
        // The hold ends by the work queue's clock; the store counts in real time.
        Some(Attempt::Held(Utc::now() + (until - now)))
    }

    fn publish(
        &self,
        delivery: &Delivery,
        event: EventType,
        lead: &Lead,
        target: &Target,
    ) -> Publish {
        let name = clean(lead.meta.name.as_deref().unwrap_or("(no name)"));
        let (title, priority, tag) = match event {
            EventType::Escalated => (format!("Waiting too long: {name}"), 5, "rotating_light"),
            EventType::Created => (format!("New lead: {name}"), 4, "telephone_receiver"),
            EventType::Assigned => (format!("Lead for you: {name}"), 4, "telephone_receiver"),
            EventType::StatusChanged => (format!("{name}: {}", delivery.stage), 3, "memo"),
            EventType::FollowUpDue => (format!("Follow-up due: {name}"), 4, "alarm_clock"),
            EventType::SubmittedAgain => (format!("{name} submitted again"), 4, "repeat"),
            EventType::NextStepChanged => (format!("{name}: next step"), 2, "calendar"),
            EventType::AttemptLogged => (format!("{name}: call attempt"), 2, "telephone"),
            EventType::Linked => (format!("{name}: the same person"), 2, "link"),
            EventType::Unlinked => (format!("{name}: link undone"), 2, "link"),
            EventType::JunkCleared => (format!("{name}: not junk"), 3, "wastebasket"),
        };
        let tel = lead
            .meta
            .phone_e164
            .as_deref()
            .filter(|e164| is_e164(e164))
            .map(|e164| format!("tel:{e164}"));
        let mut lines = vec![name.clone()];
        if let Some(e164) = lead.meta.phone_e164.as_deref().filter(|e| is_e164(e)) {
            lines.push(international(e164).unwrap_or_else(|| e164.to_string()));
        }
        if let Some(form) = &lead.meta.form_name {
            lines.push(format!("Form: {}", clean(form)));
        }
        let mut actions = Vec::new();
        if let Some(tel) = &tel {
            actions.push(Action {
                action: "view",
                label: "Call",
                url: tel.clone(),
                clear: false,
            });
        }
        let claimable = matches!(
            event,
            EventType::Created | EventType::Assigned | EventType::Escalated
        );
        if let (Some(links), Target::Rep { name, .. }, true) =
            (&self.claim_links, target, claimable)
        {
            actions.push(Action {
                action: "view",
                label: "Claim",
                url: links.link(lead.id, name, &format!("d{}", delivery.id), Utc::now()),
                clear: true,
            });
        }
        Publish {
            topic: match target {
                Target::Rep { topic, .. } | Target::Team(topic) => topic.clone(),
            },
            title,
            message: lines.join("\n"),
            priority,
            tags: [tag],
            click: tel,
            actions,
        }
    }
}

#[async_trait::async_trait]
impl super::Sender for NtfySender {
    async fn send(&self, delivery: &Delivery, leads: &dyn LeadReader) -> Attempt {
        let Some(event) = EventType::read(&delivery.event_type) else {
            return Attempt::Dropped(format!(
                "this version does not page for {}",
                clean(&delivery.event_type)
            ));
        };
        let lead = match leads.get(delivery.lead_id).await {
            Ok(Some(lead)) => lead,
            Ok(None) => return Attempt::Dropped("the lead is gone".into()),
            Err(error) => return Attempt::Failed(format!("cannot read the lead: {error}")),
        };
        match self.stale(delivery, event, &lead, leads).await {
            Ok(Some(reason)) => return Attempt::Dropped(reason),
            Ok(None) => {}
            Err(attempt) => return attempt,
        }
        let target = match self.target(&lead, leads).await {
            Ok(target) => target,
            Err(attempt) => return attempt,
        };
        if let Target::Rep { name, paging, .. } = &target
            && event != EventType::Escalated
            && let Some(attempt) = self.paging_rule(name, paging)
        {
            return attempt;
        }
        let body = self.publish(delivery, event, &lead, &target);
        self.post(&body).await
    }

    /// A test page to the team's topic: the reps' own topics are in the store, which
    /// `channels test` does not open.
    async fn test(&self, channel: &str) -> Attempt {
        let Some(topic) = &self.team_topic else {
            return Attempt::Failed(
                "this channel pages each rep's own topic and has no team topic to test: add \
                 topic = \"…\" to its table, or have a rep set theirs and watch a real lead"
                    .into(),
            );
        };
        let message = Message::test(channel);
        let body = Publish {
            topic: topic.clone(),
            title: message.headline.clone(),
            message: message.plain(),
            priority: 3,
            tags: ["white_check_mark"],
            click: None,
            actions: Vec::new(),
        };
        self.post(&body).await
    }
}

impl NtfySender {
    async fn post(&self, body: &Publish) -> Attempt {
        let mut request = self.client.post(self.server.clone()).json(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose_secret());
        }
        http::attempt(request).await
    }
}

fn is_e164(text: &str) -> bool {
    text.strip_prefix('+').is_some_and(|digits| {
        (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_e164_number_makes_a_tel_link() {
        assert!(is_e164("+15551234567"));
        assert!(!is_e164("+1555 123"));
        assert!(!is_e164("tel:+1"));
    }
}
