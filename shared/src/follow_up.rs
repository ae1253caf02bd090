//! Follow-ups on the wire: a lead's next step and the call attempts made on it
//! (`PUT /api/leads/{id}/next-step`, `POST /api/leads/{id}/attempts`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::lead::Lead;

/// What a rep plans to do next on a lead, and when (UTC). Also the body of
/// `PUT /api/leads/{id}/next-step`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextStep {
    pub at: DateTime<Utc>,
    pub what: String,
}

impl NextStep {
    /// Whether the step's time has come: it is overdue from then on (the reminder goes out, the
    /// header, the due view and `/api/stats` count it as overdue).
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.at <= now
    }

    /// The step as its `next_step` history entry spells it: `"<RFC 3339 UTC, seconds> <what>"`,
    /// e.g. `"2026-12-08T09:00:00Z Call back"`.
    pub fn history_text(&self) -> String {
        format!(
            "{} {}",
            self.at.to_rfc3339_opts(SecondsFormat::Secs, true),
            self.what
        )
    }

    /// The step a history entry spells ([`NextStep::history_text`]); `None` for text of another
    /// shape.
    pub fn from_history_text(text: &str) -> Option<NextStep> {
        let (at, what) = text.split_once(' ')?;
        Some(NextStep {
            at: DateTime::parse_from_rfc3339(at).ok()?.to_utc(),
            what: what.to_string(),
        })
    }
}

/// How a call attempt went. Its one spelling is [`CallOutcome::as_str`], on the wire and in the
/// `attempt` history entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum CallOutcome {
    NoAnswer,
    LeftVoicemail,
    Talked,
    WrongNumber,
}

impl CallOutcome {
    pub const ALL: [CallOutcome; 4] = [
        CallOutcome::NoAnswer,
        CallOutcome::LeftVoicemail,
        CallOutcome::Talked,
        CallOutcome::WrongNumber,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::LeftVoicemail => "left_voicemail",
            CallOutcome::Talked => "talked",
            CallOutcome::WrongNumber => "wrong_number",
        }
    }

    /// As a person reads it: "no answer".
    pub fn label(self) -> &'static str {
        match self {
            CallOutcome::NoAnswer => "no answer",
            CallOutcome::LeftVoicemail => "left voicemail",
            CallOutcome::Talked => "talked",
            CallOutcome::WrongNumber => "wrong number",
        }
    }

    /// An `attempt` history entry's `new` ([`CallOutcome::history_text`]) as a person reads it:
    /// "no answer — busy tone". An outcome this build does not know is shown as it is.
    pub fn read_history_text(text: &str) -> String {
        let (outcome, note) = match text.split_once(": ") {
            Some((outcome, note)) => (outcome, Some(note)),
            None => (text, None),
        };
        let outcome = outcome
            .parse::<CallOutcome>()
            .map_or_else(|_| outcome.to_string(), |known| known.label().to_string());
        match note {
            Some(note) => format!("{outcome} — {note}"),
            None => outcome,
        }
    }

    /// Whether the person was not reached, so the cadence schedules the next call.
    pub fn call_back(self) -> bool {
        matches!(self, CallOutcome::NoAnswer | CallOutcome::LeftVoicemail)
    }

    /// The `attempt` history entry's `new`: the outcome, then `": "` and the note when there is
    /// one (`"no_answer: busy tone"`). No outcome holds a `:`, so the first one splits them.
    pub fn history_text(self, note: Option<&str>) -> String {
        match note.filter(|note| !note.is_empty()) {
            Some(note) => format!("{}: {note}", self.as_str()),
            None => self.as_str().to_string(),
        }
    }
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown outcome {0:?}: one of no_answer, left_voicemail, talked, wrong_number")]
pub struct UnknownOutcome(pub String);

impl FromStr for CallOutcome {
    type Err = UnknownOutcome;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        CallOutcome::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == name)
            .ok_or_else(|| UnknownOutcome(name.to_string()))
    }
}

impl From<CallOutcome> for &'static str {
    fn from(outcome: CallOutcome) -> &'static str {
        outcome.as_str()
    }
}

impl TryFrom<String> for CallOutcome {
    type Error = UnknownOutcome;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

/// Body of `POST /api/leads/{id}/attempts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAttempt {
    pub outcome: CallOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Answer of `POST /api/leads/{id}/attempts`: the lead as it is now, and what to do when the
/// cadence has run out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempted {
    pub lead: Lead,
    /// Set after the last call the cadence plans went unanswered: no next step was scheduled, and
    /// the rep should close the lead as one of these statuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggest: Option<Vec<crate::LeadStatus>>,
}

/// The `reminder` event of `/api/events`: a lead's next step fell due. Announced once per step,
/// whichever replica noticed; an unowned lead's reminder is for the available reps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    pub lead_id: i64,
    /// The lead's display name.
    pub name: String,
    pub form_name: Option<String>,
    pub owner: Option<String>,
    pub at: DateTime<Utc>,
    pub what: String,
}

impl Reminder {
    /// The reminder of `lead`'s next step, if it has one.
    pub fn of(lead: &Lead) -> Option<Reminder> {
        let step = lead.next_step.as_ref()?;
        Some(Reminder {
            lead_id: lead.id,
            name: lead.display_name(),
            form_name: lead.meta.form_name.clone(),
            owner: lead.owner.clone(),
            at: step.at,
            what: step.what.clone(),
        })
    }
}

/// `follow_ups` in `/api/stats`: the call attempts on the leads the caller may see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpStats {
    /// Every call attempt recorded.
    pub attempts: u64,
    /// Leads with at least one attempt.
    pub leads_attempted: u64,
    /// Leads with at least one `talked` attempt: the person was reached.
    pub leads_talked: u64,
    /// Next steps past due, whoever owns the lead.
    pub overdue: u64,
}

impl FollowUpStats {
    /// Attempts per lead attempted, in tenths (`23` is 2.3), so the figure stays exact.
    pub fn attempts_per_lead_tenths(&self) -> Option<u64> {
        (self.leads_attempted > 0)
            .then(|| (self.attempts * 10 + self.leads_attempted / 2) / self.leads_attempted)
    }

    /// Leads reached per lead attempted, in whole percent.
    pub fn contact_rate_percent(&self) -> Option<u64> {
        (self.leads_attempted > 0)
            .then(|| (self.leads_talked * 100 + self.leads_attempted / 2) / self.leads_attempted)
    }
}

#[cfg(test)]
mod tests {
    use chrono::SubsecRound;

    use super::*;

    #[test]
    fn outcomes_have_one_spelling() {
        for outcome in CallOutcome::ALL {
            let wire = serde_json::to_string(&outcome).unwrap();
            assert_eq!(wire, format!("\"{}\"", outcome.as_str()));
            assert_eq!(
                serde_json::from_str::<CallOutcome>(&wire).ok(),
                Some(outcome)
            );
            assert!(!outcome.as_str().contains(':'));
        }
        let error = serde_json::from_str::<NewAttempt>(r#"{"outcome": "busy"}"#).unwrap_err();
        assert!(
            error.to_string().contains("no_answer, left_voicemail"),
            "{error}"
        );
    }

    #[test]
    fn follow_up_figures_round_to_the_nearest() {
        let none = FollowUpStats::default();
        assert_eq!(none.attempts_per_lead_tenths(), None);
        assert_eq!(none.contact_rate_percent(), None);
        let some = FollowUpStats {
            attempts: 7,
            leads_attempted: 3,
            leads_talked: 2,
            overdue: 0,
        };
        assert_eq!(some.attempts_per_lead_tenths(), Some(23));
        assert_eq!(some.contact_rate_percent(), Some(67));
    }

    #[test]
    fn history_texts() {
        let step = NextStep {
            at: "2026-12-08T09:00:00.5Z".parse().unwrap(),
            what: "Call back".into(),
        };
        assert_eq!(step.history_text(), "2026-12-08T09:00:00Z Call back");
        let read = NextStep::from_history_text(&step.history_text()).unwrap();
        assert_eq!(
            (read.at, read.what.as_str()),
            (step.at.trunc_subsecs(0), "Call back")
        );
        assert_eq!(NextStep::from_history_text("Call back tomorrow"), None);
        assert_eq!(CallOutcome::NoAnswer.history_text(None), "no_answer");
        assert_eq!(CallOutcome::Talked.history_text(Some("")), "talked");
        assert_eq!(
            CallOutcome::LeftVoicemail.history_text(Some("a: b")),
            "left_voicemail: a: b"
        );
    }
}
