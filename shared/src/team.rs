//! The team's work queue on the wire: who works which lead (`/api/reps`), what happened to a lead
//! (`/api/leads/{id}/activity`), and the escalation pushed on `/api/events`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{Role, Visibility};
use crate::answer_columns::AnswerColumns;
use crate::paging::QuietHours;

/// How new leads get an owner (`LEADHOOK_ASSIGNMENT`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Assignment {
    /// New leads arrive unowned; a rep claims one with `POST /api/leads/{id}/claim`.
    #[default]
    Claim,
    /// Each new lead goes to the next available rep in turn.
    RoundRobin,
    /// Nobody owns leads.
    None,
}

/// `GET /api/reps/me` and the answer of `PUT /api/reps/me`: the rep the token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub name: String,
    pub available: bool,
    /// The server's assignment mode, so a dashboard offers only the actions that apply.
    pub assignment: Assignment,
    /// What the rep may do; servers before roles gave every token every power.
    #[serde(default = "all_powers")]
    pub role: Role,
    /// Whether this rep sees leads other reps own.
    #[serde(default)]
    pub visibility: Visibility,
    /// The rep's IANA time zone ("Europe/Berlin"), kept in the store: the dashboard reads typed
    /// follow-up times in it. `None` until a dashboard has set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The form answers the server names as columns (`LEADHOOK_ANSWER_COLUMNS`).
    #[serde(default, skip_serializing_if = "AnswerColumns::is_empty")]
    pub answer_columns: AnswerColumns,
    /// The ntfy topic the rep's phone subscribes to (pages for their leads go there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ntfy_topic: Option<String>,
    /// When pages wait, in the rep's time zone; escalations still come through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
}

fn all_powers() -> Role {
    Role::Admin
}

/// Body of `PUT /api/reps/me`: what to change, at least one of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeUpdate {
    /// Whether round robin may give the rep new leads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<bool>,
    /// An IANA time zone name ("Europe/Berlin").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The rep's ntfy topic; `""` removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ntfy_topic: Option<String>,
    /// Quiet hours like `"22:00-07:00"`; `""` removes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<String>,
}

/// One rep in `GET /api/reps`, with today's figures in the caller's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rep {
    pub name: String,
    pub available: bool,
    /// Leads the rep owns that are not `Won`, `Lost` or `Unqualified`.
    pub open_leads: u64,
    /// Leads the rep first contacted today.
    pub contacted_today: u64,
    /// Median of `first_contact_at - created_at` over the leads first contacted today.
    pub median_speed_to_lead_today_secs: Option<u64>,
}

/// What kind of change an activity row records. Its one spelling is [`ActivityKind::as_str`]:
/// the wire (serde), both stores' `kind` column, and the SQL that names kinds (checked by the
/// server's tests) all use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", from = "String")]
pub enum ActivityKind {
    /// The lead was first stored (by `facebook`, `sweeper`, or a rep for a manual lead).
    Stored,
    /// Meta delivered the lead again and its data changed.
    Redelivered,
    Status,
    Notes,
    Claim,
    Release,
    /// The owner was changed by someone other than through claim or release.
    Assign,
    /// The person's data was erased (by a rep, the `erase` command or retention); the row keeps
    /// no erased value.
    Erase,
    /// A rep (a manager or admin) took the lead whole in an export (`GET /api/leads/export`); the
    /// lead itself did not change.
    Exported,
    /// The next step was set (`new`), changed or cleared (`new` is `None`); both values are
    /// spelled as [`crate::NextStep::history_text`].
    NextStep,
    /// A call attempt; `new` is [`crate::CallOutcome::history_text`] (the outcome, then the note).
    Attempt,
    /// The lead became a submission of another lead's person: `new` says whose (`#12`) and how
    /// (`same phone`, `same e-mail`, `merged by hand`).
    Linked,
    /// The person of this lead submitted again: `new` names the new lead and its form.
    SubmittedAgain,
    /// A rep undid the lead's link to its person (`old`: `#12`); it is a person of its own again.
    Unlinked,
    /// A rep cleared the junk flag (`old`: the reason).
    JunkCleared,
    /// The lead waited too long and was escalated (by `system`; `new`: the level). Written by the
    /// stores when the escalation mark is taken, so the outbox queues `lead.escalated`.
    Escalated,
    /// The lead's next step fell due and its reminder went out (by `system`; `new`: the step, as
    /// [`crate::NextStep::history_text`]). Written by the stores when the reminder mark is taken,
    /// so the outbox queues `lead.follow_up_due`.
    Reminded,
    /// The person's first message (WhatsApp, SMS) was skipped, failed or has an unknown fate
    /// (by `system`; `new` says which and why). Queues no event.
    Message,
    /// A kind this build does not know, written by a newer server sharing the store (a rolling
    /// deploy). Read, shown as a change, never written.
    Other,
}

impl ActivityKind {
    /// The kind of a history entry as stored or sent, a kind this build does not know included.
    pub fn read(name: &str) -> ActivityKind {
        name.parse().unwrap_or(ActivityKind::Other)
    }

    pub const ALL: [ActivityKind; 18] = [
        ActivityKind::Stored,
        ActivityKind::Redelivered,
        ActivityKind::Status,
        ActivityKind::Notes,
        ActivityKind::Claim,
        ActivityKind::Release,
        ActivityKind::Assign,
        ActivityKind::Erase,
        ActivityKind::Exported,
        ActivityKind::NextStep,
        ActivityKind::Attempt,
        ActivityKind::Linked,
        ActivityKind::SubmittedAgain,
        ActivityKind::Unlinked,
        ActivityKind::JunkCleared,
        ActivityKind::Escalated,
        ActivityKind::Reminded,
        ActivityKind::Message,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Stored => "stored",
            ActivityKind::Redelivered => "redelivered",
            ActivityKind::Status => "status",
            ActivityKind::Notes => "notes",
            ActivityKind::Claim => "claim",
            ActivityKind::Release => "release",
            ActivityKind::Assign => "assign",
            ActivityKind::Erase => "erase",
            ActivityKind::Other => "other",
            ActivityKind::Exported => "exported",
            ActivityKind::NextStep => "next_step",
            ActivityKind::Attempt => "attempt",
            ActivityKind::Linked => "linked",
            ActivityKind::SubmittedAgain => "submitted_again",
            ActivityKind::Unlinked => "unlinked",
            ActivityKind::JunkCleared => "junk_cleared",
            ActivityKind::Escalated => "escalated",
            ActivityKind::Reminded => "reminded",
            ActivityKind::Message => "message",
        }
    }
}

impl fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown activity kind {0:?}")]
pub struct UnknownActivityKind(pub String);

impl FromStr for ActivityKind {
    type Err = UnknownActivityKind;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ActivityKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownActivityKind(name.to_string()))
    }
}

impl From<ActivityKind> for &'static str {
    fn from(kind: ActivityKind) -> &'static str {
        kind.as_str()
    }
}

impl From<String> for ActivityKind {
    fn from(name: String) -> Self {
        ActivityKind::read(&name)
    }
}

/// Actors that are not reps.
pub mod actor {
    /// A lead that arrived through Meta's webhook.
    pub const FACEBOOK: &str = "facebook";
    /// A lead the sweeper found in the Graph API.
    pub const SWEEPER: &str = "sweeper";
    /// The server itself (round-robin assignment, retention, ...).
    pub const SYSTEM: &str = "system";
}

/// One entry of `GET /api/leads/{id}/activity`, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub id: i64,
    pub lead_id: i64,
    pub at: DateTime<Utc>,
    /// A rep's name, or one of [`actor`].
    pub actor: String,
    pub kind: ActivityKind,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// The `escalation` event of `/api/events`: a lead still `New Lead` after a threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub lead_id: i64,
    /// The lead's display name.
    pub name: String,
    pub form_name: Option<String>,
    pub owner: Option<String>,
    /// The threshold crossed (`LEADHOOK_ESCALATE_AFTER`, then 30 minutes).
    pub threshold_secs: u64,
    /// How long the lead has waited since it was submitted.
    pub waiting_secs: u64,
}

/// `waiting` in `/api/stats`: leads still `New Lead`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub count: u64,
    /// `created_at` of the oldest one; its age is how long the queue's head has waited.
    pub oldest_created_at: Option<DateTime<Utc>>,
}

/// Speed to lead over a window: leads first contacted in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeedToLead {
    pub count: u64,
    pub median_secs: Option<u64>,
    pub p90_secs: Option<u64>,
}

impl SpeedToLead {
    /// The figures of `sorted` speeds in seconds, ascending.
    pub fn of_sorted(sorted: &[u64]) -> SpeedToLead {
        SpeedToLead {
            count: sorted.len() as u64,
            median_secs: median(sorted),
            p90_secs: percentile(sorted, 90),
        }
    }
}

/// The nearest-rank percentile of `sorted` (ascending) samples: the smallest sample with at least
/// `percent`% of them at or below it; `None` without samples.
///
/// The one definition of speed-to-lead figures, for the server's `/api/stats` and `/api/reps`
/// and the dashboard's header alike. Nearest rank always answers a time some lead really took,
/// and whole seconds (the API's unit) round the same way as any finer unit.
pub fn percentile<T: Copy>(sorted: &[T], percent: usize) -> Option<T> {
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// The [`percentile`] 50: for an even count the lower of the two middle samples (2 and 4
/// minutes have a 2-minute median, not 3).
pub fn median<T: Copy>(sorted: &[T]) -> Option<T> {
    percentile(sorted, 50)
}

/// `speed_to_lead` in `/api/stats`, in the caller's time zone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeedToLeadStats {
    pub today: SpeedToLead,
    pub last_7_days: SpeedToLead,
}

/// One row of `per_rep` in `/api/stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepStats {
    pub name: String,
    pub owned: u64,
    pub contacted: u64,
    pub won: u64,
    pub median_speed_to_lead_secs: Option<u64>,
    /// The rep's leads whose next step is past due.
    #[serde(default)]
    pub overdue: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_kinds_read_back_as_written_on_the_wire_and_in_the_stores() {
        for kind in ActivityKind::ALL {
            let wire = serde_json::to_string(&kind).expect("serializes");
            assert_eq!(wire, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<ActivityKind>(&wire).ok(), Some(kind));
            assert_eq!(kind.as_str().parse(), Ok(kind));
        }
        assert_eq!(
            "Stored".parse::<ActivityKind>(),
            Err(UnknownActivityKind("Stored".into()))
        );
    }

    /// During a rolling deploy an older server (or dashboard) reads the history a newer one
    /// wrote: a kind it does not know must not make the whole history unreadable.
    #[test]
    fn a_history_entry_of_a_kind_from_a_newer_server_still_reads() {
        let entry = r#"{"id": 1, "lead_id": 2, "at": "2026-12-07T10:00:00Z", "actor": "alice",
            "kind": "follow_up", "old": null, "new": "Call back"}"#;
        let activity: Activity = serde_json::from_str(entry).expect("an activity");
        assert_eq!(activity.kind, ActivityKind::Other);
        assert_eq!(activity.new.as_deref(), Some("Call back"));
        assert_eq!(ActivityKind::read("claim"), ActivityKind::Claim);
        assert!(
            !ActivityKind::ALL.contains(&ActivityKind::Other),
            "never written"
        );
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(percentile::<u64>(&[], 50), None);
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), Some(9));
        assert_eq!(
            percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90),
            Some(10)
        );
        assert_eq!(percentile(&[1, 2, 3], 100), Some(3));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_lower_middle() {
        assert_eq!(median(&[120, 240]), Some(120));
        assert_eq!(median(&[1, 2, 9]), Some(2));
        assert_eq!(
            SpeedToLead::of_sorted(&[60, 120, 240, 9000]),
            SpeedToLead {
                count: 4,
                median_secs: Some(120),
                p90_secs: Some(9000),
            }
        );
    }
}
