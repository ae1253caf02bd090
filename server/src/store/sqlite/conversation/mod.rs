//! Conversations in the SQLite store (see [`crate::store::conversation`]): `lead_messages`, the
//! opt-outs, and the `message` history kind (the `activity` table rebuilt to allow it).

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::Utc;
use leadhook_shared::ActivityKind;
use leadhook_shared::team::actor::SYSTEM;
use rusqlite::{Connection, OptionalExtension, params};

use super::erase::activity_with_kinds;
use super::event_kinds::queue_trigger;
use super::insights::{stage_bit, stage_trigger};
mod first;

use super::rows::{micros, time_from};
use super::{SqliteStore, internal};
use crate::store::conversation::{CONVERSATION_LIMIT, failed_note, message_text};
use crate::store::{
    ConversationMessage, Conversations, Direction, FirstMessage, FirstStart, MessageChannel,
    MessageStatus, NumberHash, OptOut, OptOutSource, StatusApplied, StoreError,
};

/// The messages and opt-outs; erasing a lead removes its messages (a trigger, so every erase
/// path does); `activity` rebuilt to allow `message`.
pub(super) const MIGRATION: &str = concat!(
    r#"
    CREATE TABLE lead_messages (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        lead_id         INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
        channel         TEXT NOT NULL CHECK (channel IN ('whatsapp', 'sms')),
        direction       TEXT NOT NULL CHECK (direction IN ('out', 'in')),
        provider_id     TEXT,
        status          TEXT NOT NULL CHECK (status IN ('sending', 'queued', 'sent', 'delivered',
                                                        'read', 'failed', 'unknown', 'received')),
        body            TEXT,
        template        TEXT,
        error           TEXT,
        number_hash     TEXT NOT NULL,
        first_of_person INTEGER,
        delivery_id     INTEGER,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
    );
    CREATE INDEX lead_messages_by_lead ON lead_messages (lead_id, id);
    CREATE INDEX lead_messages_by_number ON lead_messages (channel, number_hash, id);
    CREATE UNIQUE INDEX lead_messages_by_provider ON lead_messages (channel, provider_id)
        WHERE provider_id IS NOT NULL;
    CREATE UNIQUE INDEX lead_messages_first_of_person ON lead_messages (channel, first_of_person)
        WHERE first_of_person IS NOT NULL;
    CREATE UNIQUE INDEX lead_messages_first_to_number ON lead_messages (channel, number_hash)
        WHERE first_of_person IS NOT NULL;
    CREATE TABLE message_opt_outs (
        number_hash TEXT NOT NULL,
        channel     TEXT NOT NULL CHECK (channel IN ('whatsapp', 'sms')),
        source      TEXT NOT NULL,
        at          INTEGER NOT NULL,
        PRIMARY KEY (number_hash, channel)
    );
    CREATE TRIGGER lead_messages_erased AFTER UPDATE OF erased_at ON leads
    WHEN OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL
    BEGIN
        DELETE FROM lead_messages WHERE lead_id = NEW.id;
    END;
"#,
    activity_with_kinds!(
        "'stored','redelivered','status','notes','claim','release','assign','erase','exported','next_step','attempt','linked','submitted_again','unlinked','junk_cleared','escalated','reminded','message'",
        concat!(stage_trigger!(), queue_trigger!())
    )
);

const MESSAGE_COLUMNS: &str = "id, lead_id, channel, direction, provider_id, status, body, \
                               template, error, created_at, updated_at";

fn message_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ConversationMessage> {
    let spelled = |index: usize| row.get::<_, String>(index);
    let unknown = |index: usize, text: String| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            format!("unknown spelling {text:?}").into(),
        )
    };
    let channel = spelled(2)?;
    let direction = spelled(3)?;
    let status = spelled(5)?;
    Ok(ConversationMessage {
        id: row.get(0)?,
        lead_id: row.get(1)?,
        channel: MessageChannel::read(&channel).ok_or_else(|| unknown(2, channel))?,
        direction: Direction::read(&direction).ok_or_else(|| unknown(3, direction))?,
        provider_id: row.get(4)?,
        status: MessageStatus::read(&status).ok_or_else(|| unknown(5, status))?,
        body: row.get(6)?,
        template: row.get(7)?,
        error: row.get(8)?,
        created_at: time_from(row.get(9)?),
        updated_at: time_from(row.get(10)?),
    })
}

/// A `message` history row for lead `lead_id`, by the system.
fn note(conn: &Connection, lead_id: i64, text: &str, at: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO activity (lead_id, at, actor, kind, new) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            lead_id,
            at,
            SYSTEM,
            ActivityKind::Message.as_str(),
            message_text(text)
        ],
    )
    .map_err(internal)?;
    Ok(())
}

/// Sets message `id`'s status (and error) and writes `history` for its lead, when given.
fn settle(
    conn: &mut Connection,
    id: i64,
    status: MessageStatus,
    error: Option<&str>,
    history: Option<&str>,
) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(internal)?;
    let now = micros(Utc::now());
    let lead_id: Option<i64> = tx
        .query_row(
            "UPDATE lead_messages SET status = ?2, error = ?3, updated_at = ?4 WHERE id = ?1
             RETURNING lead_id",
            params![id, status.as_str(), error.map(message_text), now],
            |row| row.get(0),
        )
        .optional()
        .map_err(internal)?;
    if let (Some(lead_id), Some(history)) = (lead_id, history) {
        note(&tx, lead_id, history, now)?;
    }
    tx.commit().map_err(internal)
}

#[async_trait]
impl Conversations for SqliteStore {
    async fn first_message_start(&self, first: &FirstMessage) -> Result<FirstStart, StoreError> {
        let first = first.clone();
        self.with(move |inner| first::first_start(&mut inner.conn, &first))
            .await
    }

    async fn message_accepted(
        &self,
        id: i64,
        provider_id: &str,
        status: MessageStatus,
    ) -> Result<(), StoreError> {
        let provider_id = provider_id.to_string();
        self.with(move |inner| {
            inner
                .conn
                .execute(
                    "UPDATE lead_messages SET provider_id = ?2, status = ?3, error = NULL,
                            updated_at = ?4
                      WHERE id = ?1",
                    params![id, provider_id, status.as_str(), micros(Utc::now())],
                )
                .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn message_retry(&self, id: i64, error: &str) -> Result<(), StoreError> {
        let error = error.to_string();
        self.with(move |inner| {
            settle(
                &mut inner.conn,
                id,
                MessageStatus::Queued,
                Some(&error),
                None,
            )
        })
        .await
    }

    async fn message_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        let error = error.to_string();
        self.with(move |inner| {
            let history = failed_note(&error);
            settle(
                &mut inner.conn,
                id,
                MessageStatus::Failed,
                Some(&error),
                Some(&history),
            )
        })
        .await
    }

    async fn message_status(
        &self,
        channel: MessageChannel,
        provider_id: &str,
        status: MessageStatus,
        error: Option<&str>,
    ) -> Result<Option<StatusApplied>, StoreError> {
        let (provider_id, error) = (provider_id.to_string(), error.map(message_text));
        self.with(move |inner| {
            let tx = inner.conn.transaction().map_err(internal)?;
            let found: Option<(i64, i64, String)> = tx
                .query_row(
                    "SELECT id, lead_id, status FROM lead_messages
                      WHERE channel = ?1 AND provider_id = ?2",
                    params![channel.as_str(), provider_id],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .optional()
                .map_err(internal)?;
            let Some((id, lead_id, current)) = found else {
                return Ok(None);
            };
            let current_rank = MessageStatus::read(&current).map_or(0, MessageStatus::rank);
            let changed = status.rank() > current_rank;
            if changed {
                tx.execute(
                    "UPDATE lead_messages SET status = ?2, error = COALESCE(?3, error),
                            updated_at = ?4
                      WHERE id = ?1",
                    params![id, status.as_str(), error, micros(Utc::now())],
                )
                .map_err(internal)?;
            }
            tx.commit().map_err(internal)?;
            Ok(Some(StatusApplied {
                message_id: id,
                lead_id,
                changed,
            }))
        })
        .await
    }

    async fn message_received(
        &self,
        lead_id: i64,
        channel: MessageChannel,
        provider_id: &str,
        number: &NumberHash,
        body: &str,
    ) -> Result<Option<i64>, StoreError> {
        let (provider_id, number, body) =
            (provider_id.to_string(), number.clone(), message_text(body));
        self.with(move |inner| {
            let now = micros(Utc::now());
            inner
                .conn
                .query_row(
                    "INSERT INTO lead_messages (lead_id, channel, direction, provider_id, status,
                         body, number_hash, created_at, updated_at)
                     VALUES (?1, ?2, 'in', ?3, 'received', ?4, ?5, ?6, ?6)
                     ON CONFLICT DO NOTHING RETURNING id",
                    params![
                        lead_id,
                        channel.as_str(),
                        provider_id,
                        body,
                        number.as_str(),
                        now
                    ],
                    |row| row.get(0),
                )
                .optional()
                .map_err(internal)
        })
        .await
    }

    async fn message_note(&self, lead_id: i64, text: &str) -> Result<(), StoreError> {
        let text = text.to_string();
        self.with(move |inner| note(&inner.conn, lead_id, &text, micros(Utc::now())))
            .await
    }

    async fn messages_of_lead(&self, lead_id: i64) -> Result<Vec<ConversationMessage>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM lead_messages WHERE lead_id = ?1
                      ORDER BY id LIMIT ?2"
                ))
                .map_err(internal)?;
            let rows = statement
                .query_map(params![lead_id, CONVERSATION_LIMIT], message_from_row)
                .map_err(internal)?;
            rows.collect::<Result<_, _>>().map_err(internal)
        })
        .await
    }

    async fn lead_of_number(
        &self,
        channel: MessageChannel,
        number: &NumberHash,
    ) -> Result<Option<i64>, StoreError> {
        let number = number.clone();
        self.read(move |conn| {
            conn.query_row(
                "SELECT lead_id FROM lead_messages WHERE channel = ?1 AND number_hash = ?2
                  ORDER BY id DESC LIMIT 1",
                params![channel.as_str(), number.as_str()],
                |row| row.get(0),
            )
            .optional()
            .map_err(internal)
        })
        .await
    }

    async fn opt_out(
        &self,
        number: &NumberHash,
        channel: MessageChannel,
        source: OptOutSource,
    ) -> Result<(), StoreError> {
        let number = number.clone();
        self.with(move |inner| {
            inner
                .conn
                .execute(
                    "INSERT INTO message_opt_outs (number_hash, channel, source, at)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    params![
                        number.as_str(),
                        channel.as_str(),
                        source.as_str(),
                        micros(Utc::now())
                    ],
                )
                .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn opt_in(
        &self,
        number: &NumberHash,
        channel: MessageChannel,
    ) -> Result<bool, StoreError> {
        let number = number.clone();
        self.with(move |inner| {
            let removed = inner
                .conn
                .execute(
                    "DELETE FROM message_opt_outs WHERE number_hash = ?1 AND channel = ?2",
                    params![number.as_str(), channel.as_str()],
                )
                .map_err(internal)?;
            Ok(removed > 0)
        })
        .await
    }

    async fn opted_out(
        &self,
        number: &NumberHash,
        channel: MessageChannel,
    ) -> Result<Option<OptOut>, StoreError> {
        let number = number.clone();
        self.read(move |conn| {
            let row: Option<(String, i64)> = conn
                .query_row(
                    "SELECT source, at FROM message_opt_outs WHERE number_hash = ?1 AND channel = ?2",
                    params![number.as_str(), channel.as_str()],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
                .map_err(internal)?;
            Ok(row.map(|(source, at)| OptOut {
                channel,
                source: OptOutSource::read(&source).unwrap_or(OptOutSource::Manual),
                at: time_from(at),
            }))
        })
        .await
    }

    async fn message_figures(
        &self,
    ) -> Result<BTreeMap<(MessageChannel, Direction, MessageStatus), u64>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT channel, direction, status, count(*) FROM lead_messages
                      GROUP BY channel, direction, status",
                )
                .map_err(internal)?;
            let rows = statement
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, i64>(3)?,
                    ))
                })
                .map_err(internal)?;
            let mut figures = BTreeMap::new();
            for row in rows {
                let (channel, direction, status, count) = row.map_err(internal)?;
                if let (Some(channel), Some(direction), Some(status)) = (
                    MessageChannel::read(&channel),
                    Direction::read(&direction),
                    MessageStatus::read(&status),
                ) {
                    figures.insert((channel, direction, status), count.max(0) as u64);
                }
            }
            Ok(figures)
        })
        .await
    }
}
