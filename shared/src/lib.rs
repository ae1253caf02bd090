//! Types that cross the wire between the leadhook server and its clients,
//! and parsing of the payloads Meta sends (webhook notifications and Graph API leads).

pub mod access;
pub mod answer_columns;
pub mod api;
pub mod backoff;
pub mod conversation;
pub mod cursor;
pub mod delivery;
pub mod due_time;
pub mod follow_up;
pub mod insights;
pub mod lead;
pub mod meta;
pub mod paging;
pub mod person;
pub mod phone;
pub mod plain_text;
pub mod secret_args;
pub mod status;
pub mod team;
pub mod twilio;

pub use access::{Action, Role, UnknownRole, Visibility};
pub use answer_columns::{AnswerColumn, AnswerColumns};
pub use api::{ApiError, ApiErrorBody, ApiList, ApiOk, FormCount, PeopleStats, Stats, SyncReport};
pub use backoff::Backoff;
pub use conversation::{AnswerMode, Conversation, ConversationEntry, Reply};
pub use cursor::Cursor;
pub use delivery::{DeliveryState, LeadDelivery};
pub use due_time::{DueTimeError, QuickChoice, Tz, parse_due, parse_zone, quick_choices, show_due};
pub use follow_up::{
    Attempted, CallOutcome, FollowUpStats, NewAttempt, NextStep, Reminder, UnknownOutcome,
};
pub use insights::{Grouping, Insights, InsightsParams, Period};
pub use lead::{Answer, Lead, LeadPatch, MetaFields, NewManualLead, PersonLink};
pub use paging::{PagingError, QuietHours, check_ntfy_topic};
pub use phone::{Phone, Region, UnknownRegion};
pub use status::{LeadStatus, UnknownStatus};
pub use team::{
    Activity, ActivityKind, Assignment, Escalation, Me, MeUpdate, Rep, RepStats, SpeedToLead,
    SpeedToLeadStats, UnknownActivityKind, Waiting,
};
