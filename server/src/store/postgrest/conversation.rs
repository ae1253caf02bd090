//! Conversations in the Supabase store (`20261208020000_conversations.sql`): the tables are read
//! and written through PostgREST, and what must be one transaction is a function of the migration.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::PostgrestStore;
use crate::store::conversation::{
    CONVERSATION_LIMIT, UNSETTLED, failed_note, message_text, unknown_note,
};
use crate::store::{
    ConversationMessage, Conversations, Direction, FirstMessage, FirstStart, MessageChannel,
    MessageStatus, NumberHash, OptOut, OptOutSource, StatusApplied, StoreError,
};

const MESSAGES_TABLE: &str = "lead_messages";
const OPT_OUTS_TABLE: &str = "message_opt_outs";
const MESSAGE_COLUMNS: &str =
    "id,lead_id,channel,direction,provider_id,status,body,template,error,created_at,updated_at";

#[derive(Deserialize)]
struct StartAnswer {
    outcome: String,
    id: Option<i64>,
    lead_id: Option<i64>,
    source: Option<String>,
}

#[derive(Deserialize)]
struct StatusAnswer {
    id: i64,
    lead_id: i64,
    changed: bool,
}

#[derive(Deserialize)]
struct LeadIdRow {
    lead_id: i64,
}

#[derive(Deserialize)]
struct OptOutRow {
    source: String,
    at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct FigureRow {
    channel: String,
    direction: String,
    status: String,
    messages: i64,
}

fn unreadable(what: &str) -> StoreError {
    StoreError::Internal(format!(
        "the store answered {what} that leadhook cannot read"
    ))
}

impl PostgrestStore {
    async fn message_settle(
        &self,
        id: i64,
        status: MessageStatus,
        error: Option<&str>,
        history: Option<&str>,
    ) -> Result<(), StoreError> {
        let args = json!({"message_id": id, "new_status": status.as_str(),
            "why": error.map(message_text), "history": history.map(message_text)});
        self.call(self.client.rpc("message_settle", args.to_string()))
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Conversations for PostgrestStore {
    async fn first_message_start(&self, first: &FirstMessage) -> Result<FirstStart, StoreError> {
        let args = json!({
            "message_lead_id": first.lead_id,
            "person_id": first.person_id,
            "number": first.number.as_str(),
            "message_channel": first.channel.as_str(),
            "message_delivery_id": first.delivery_id,
            "message_body": first.body.as_deref().map(message_text),
            "message_template": first.template,
            "unknown_error": UNSETTLED,
            "unknown_history": unknown_note(first.channel),
        });
        let answer: StartAnswer = self
            .call(self.client.rpc("first_message_start", args.to_string()))
            .await?
            .json()?;
        match (answer.outcome.as_str(), answer.id) {
            ("started", Some(id)) => Ok(FirstStart::Started(id)),
            ("unknown", Some(id)) => Ok(FirstStart::Unknown(id)),
            ("already", _) => Ok(FirstStart::AlreadyMessaged {
                lead_id: answer.lead_id.unwrap_or(first.lead_id),
            }),
            ("opted_out", _) => Ok(FirstStart::OptedOut(
                answer
                    .source
                    .as_deref()
                    .and_then(OptOutSource::read)
                    .unwrap_or(OptOutSource::Manual),
            )),
            _ => Err(unreadable("a first message's start")),
        }
    }

    async fn message_accepted(
        &self,
        id: i64,
        provider_id: &str,
        status: MessageStatus,
    ) -> Result<(), StoreError> {
        let patch = json!({"provider_id": provider_id, "status": status.as_str(), "error": null,
            "updated_at": Utc::now()});
        self.call(
            self.client
                .from(MESSAGES_TABLE)
                .eq("id", id.to_string())
                .update(patch.to_string()),
        )
        .await?;
        Ok(())
    }

    async fn message_retry(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.message_settle(id, MessageStatus::Queued, Some(error), None)
            .await
    }

    async fn message_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.message_settle(
            id,
            MessageStatus::Failed,
            Some(error),
            Some(&failed_note(error)),
        )
        .await
    }

    async fn message_status(
        &self,
        channel: MessageChannel,
        provider_id: &str,
        status: MessageStatus,
        error: Option<&str>,
    ) -> Result<Option<StatusApplied>, StoreError> {
        let args = json!({"message_channel": channel.as_str(), "message_provider_id": provider_id,
            "new_status": status.as_str(), "why": error.map(message_text)});
        let answer: Option<StatusAnswer> = self
            .call(self.client.rpc("message_status", args.to_string()))
            .await?
            .json()?;
        Ok(answer.map(|found| StatusApplied {
            message_id: found.id,
            lead_id: found.lead_id,
            changed: found.changed,
        }))
    }

    async fn message_received(
        &self,
        lead_id: i64,
        channel: MessageChannel,
        provider_id: &str,
        number: &NumberHash,
        body: &str,
    ) -> Result<Option<i64>, StoreError> {
        let args = json!({"message_lead_id": lead_id, "message_channel": channel.as_str(),
            "message_provider_id": provider_id, "number": number.as_str(),
            "message_body": message_text(body)});
        self.call(self.client.rpc("message_received", args.to_string()))
            .await?
            .json()
    }

    async fn message_note(&self, lead_id: i64, text: &str) -> Result<(), StoreError> {
        let row = json!({"lead_id": lead_id, "actor": leadhook_shared::team::actor::SYSTEM,
            "kind": leadhook_shared::ActivityKind::Message.as_str(), "new": message_text(text)});
        self.call(self.client.from("activity").insert(row.to_string()))
            .await?;
        Ok(())
    }

    async fn messages_of_lead(&self, lead_id: i64) -> Result<Vec<ConversationMessage>, StoreError> {
        let rows = self
            .client
            .from(MESSAGES_TABLE)
            .select(MESSAGE_COLUMNS)
            .eq("lead_id", lead_id.to_string())
            .order("id.asc")
            .limit(CONVERSATION_LIMIT as usize);
        self.call(rows).await?.json()
    }

    async fn lead_of_number(
        &self,
        channel: MessageChannel,
        number: &NumberHash,
    ) -> Result<Option<i64>, StoreError> {
        let rows: Vec<LeadIdRow> = self
            .call(
                self.client
                    .from(MESSAGES_TABLE)
                    .select("lead_id")
                    .eq("channel", channel.as_str())
                    .eq("number_hash", number.as_str())
                    .order("id.desc")
                    .limit(1),
            )
            .await?
            .json()?;
        Ok(rows.into_iter().next().map(|row| row.lead_id))
    }

    async fn opt_out(
        &self,
        number: &NumberHash,
        channel: MessageChannel,
        source: OptOutSource,
    ) -> Result<(), StoreError> {
        let row = json!({"number_hash": number.as_str(), "channel": channel.as_str(),
            "source": source.as_str()});
        self.insert_new(OPT_OUTS_TABLE, "number_hash", &row).await?;
        Ok(())
    }

    async fn opt_in(
        &self,
        number: &NumberHash,
        channel: MessageChannel,
    ) -> Result<bool, StoreError> {
        let removed: Vec<serde_json::Value> = self
            .call(
                self.client
                    .from(OPT_OUTS_TABLE)
                    .select("channel")
                    .eq("number_hash", number.as_str())
                    .eq("channel", channel.as_str())
                    .delete(),
            )
            .await?
            .json()?;
        Ok(!removed.is_empty())
    }

    async fn opted_out(
        &self,
        number: &NumberHash,
        channel: MessageChannel,
    ) -> Result<Option<OptOut>, StoreError> {
        let rows: Vec<OptOutRow> = self
            .call(
                self.client
                    .from(OPT_OUTS_TABLE)
                    .select("source,at")
                    .eq("number_hash", number.as_str())
                    .eq("channel", channel.as_str()),
            )
            .await?
            .json()?;
        Ok(rows.into_iter().next().map(|row| OptOut {
            channel,
            source: OptOutSource::read(&row.source).unwrap_or(OptOutSource::Manual),
            at: row.at,
        }))
    }

    async fn message_figures(
        &self,
    ) -> Result<BTreeMap<(MessageChannel, Direction, MessageStatus), u64>, StoreError> {
        let rows: Vec<FigureRow> = self
            .call(self.client.rpc("message_figures", "{}"))
            .await?
            .json()?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let key = (
                    MessageChannel::read(&row.channel)?,
                    Direction::read(&row.direction)?,
                    MessageStatus::read(&row.status)?,
                );
                Some((key, row.messages.max(0) as u64))
            })
            .collect())
    }
}
