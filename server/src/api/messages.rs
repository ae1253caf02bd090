//! `GET /api/leads/{id}/messages`: the lead's conversation with the person (WhatsApp, SMS), to
//! whoever may see the lead, with how an answer would go out now (WhatsApp's 24-hour window).

use axum::Extension;
use axum::extract::{Path, State};
use chrono::Utc;
use leadhook_shared::{AnswerMode, ApiOk, Conversation, ConversationEntry};

use super::Caller;
use super::authz::visible_lead;
use crate::app::AppState;
use crate::error::AppError;
use crate::store::ConversationMessage;

pub async fn list(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<axum::Json<ApiOk<Conversation>>, AppError> {
    visible_lead(&state, &rep, id).await?;
    let messages: Vec<ConversationEntry> = state
        .replies
        .conversations()
        .messages_of_lead(id)
        .await?
        .into_iter()
        .map(entry)
        .collect();
    let answer_mode = AnswerMode::of(&messages, Utc::now());
    Ok(axum::Json(ApiOk::new(Conversation {
        messages,
        answer_mode,
    })))
}

fn entry(message: ConversationMessage) -> ConversationEntry {
    ConversationEntry {
        id: message.id,
        channel: message.channel.to_string(),
        direction: message.direction.to_string(),
        status: message.status.to_string(),
        body: message.body,
        template: message.template,
        error: message.error,
        created_at: message.created_at,
        updated_at: message.updated_at,
    }
}
