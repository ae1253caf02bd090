//! The person's first message, claimed in the SQLite store: once per person and per number, in
//! the transaction that marks it `sending`; a claim that finds its own message still `sending`
//! (the sender died mid-request) makes it `unknown` instead of sending again.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::super::internal;
use super::super::rows::micros;
use super::note;
use crate::store::conversation::{UNSETTLED, message_text, unknown_note};
use crate::store::{FirstMessage, FirstStart, MessageStatus, OptOutSource, StoreError};

pub(super) fn first_start(
    conn: &mut Connection,
    first: &FirstMessage,
) -> Result<FirstStart, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(internal)?;
    let now = micros(Utc::now());
    let channel = first.channel.as_str();
    let opted_out: Option<String> = tx
        .query_row(
            "SELECT source FROM message_opt_outs WHERE number_hash = ?1 AND channel = ?2",
            params![first.number.as_str(), channel],
            |row| row.get(0),
        )
        .optional()
        .map_err(internal)?;
    if let Some(source) = opted_out {
        let source = OptOutSource::read(&source).unwrap_or(OptOutSource::Manual);
        return Ok(FirstStart::OptedOut(source));
    }
    // This delivery's own message, from an earlier claim.
    let own: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, status FROM lead_messages
              WHERE delivery_id = ?1 AND channel = ?2 AND first_of_person IS NOT NULL",
            params![first.delivery_id, channel],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(internal)?;
    let started = match own {
        Some((id, status)) if status == MessageStatus::Queued.as_str() => {
            tx.execute(
                "UPDATE lead_messages SET status = 'sending', updated_at = ?2 WHERE id = ?1",
                params![id, now],
            )
            .map_err(internal)?;
            FirstStart::Started(id)
        }
        Some((id, status)) if status == MessageStatus::Sending.as_str() => {
            tx.execute(
                "UPDATE lead_messages SET status = 'unknown', error = ?2, updated_at = ?3
                  WHERE id = ?1",
                params![id, UNSETTLED, now],
            )
            .map_err(internal)?;
            note(&tx, first.lead_id, &unknown_note(first.channel), now)?;
            FirstStart::Unknown(id)
        }
        Some(_) => FirstStart::AlreadyMessaged {
            lead_id: first.lead_id,
        },
        None => {
            let inserted: Option<i64> = tx
                .query_row(
                    "INSERT INTO lead_messages (lead_id, channel, direction, status, body,
                         template, number_hash, first_of_person, delivery_id, created_at,
                         updated_at)
                     VALUES (?1, ?2, 'out', 'sending', ?3, ?4, ?5, ?6, ?7, ?8, ?8)
                     ON CONFLICT DO NOTHING RETURNING id",
                    params![
                        first.lead_id,
                        channel,
                        first.body.as_deref().map(message_text),
                        first.template,
                        first.number.as_str(),
                        first.person_id,
                        first.delivery_id,
                        now
                    ],
                    |row| row.get(0),
                )
                .optional()
                .map_err(internal)?;
            match inserted {
                Some(id) => FirstStart::Started(id),
                None => FirstStart::AlreadyMessaged {
                    lead_id: tx
                        .query_row(
                            "SELECT lead_id FROM lead_messages
                              WHERE channel = ?1 AND first_of_person IS NOT NULL
                                AND (first_of_person = ?2 OR number_hash = ?3)
                              ORDER BY id LIMIT 1",
                            params![channel, first.person_id, first.number.as_str()],
                            |row| row.get(0),
                        )
                        .map_err(internal)?,
                },
            }
        }
    };
    tx.commit().map_err(internal)?;
    Ok(started)
}
