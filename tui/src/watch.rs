//! `leadhook watch [--json]`: no screen, one line per new lead on stdout, for scripts and
//! for measuring latency. Each line is flushed as soon as it is written.

use std::collections::HashSet;
use std::io::{self, Write};

use leadhook_shared::Lead;

use crate::Error;
use crate::client::Client;
use crate::client_error::ClientError;
use crate::config::Settings;
use crate::poller::{self, PollEvent};
use crate::sanitize;

/// What one poll event prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A new lead, for stdout.
    Lead(String),
    /// A change of connection state, for stderr.
    Status(String),
}

/// Turns poll events into output lines; new leads are detected by id, never by count.
pub struct Watcher {
    json: bool,
    known: HashSet<i64>,
    status: Option<String>,
}

impl Watcher {
    pub fn new(json: bool) -> Watcher {
        Watcher {
            json,
            known: HashSet::new(),
            status: None,
        }
    }

    pub fn handle(&mut self, event: PollEvent<Lead>) -> Vec<Output> {
        match event {
            PollEvent::Leads { leads, first_load } => leads
                .into_iter()
                .filter(|lead| self.known.insert(lead.id) && !first_load)
                .map(|lead| Output::Lead(line(&lead, self.json)))
                .collect(),
            // watch prints new leads; the dashboard tells the reps about escalations and replies
            // and drops the leads the server hides.
            PollEvent::Escalation(_)
            | PollEvent::Reminder(_)
            | PollEvent::Reply(_)
            | PollEvent::Hidden(_) => Vec::new(),
            PollEvent::Synced { push, .. } => {
                let how = if push { "live" } else { "polling" };
                let message = format!("connected ({how}), {} leads known", self.known.len());
                self.status_change(how.to_string(), message)
            }
            PollEvent::Failed { error, .. } => {
                let message = match &error {
                    ClientError::Unauthorized => error.to_string(),
                    other => format!("{other}; retrying"),
                };
                self.status_change(error.to_string(), message)
            }
        }
    }

    /// Prints `message` only when the state named by `state` differs from the last one.
    fn status_change(&mut self, state: String, message: String) -> Vec<Output> {
        if self.status.as_ref() == Some(&state) {
            return Vec::new();
        }
        self.status = Some(state);
        vec![Output::Status(message)]
    }
}

/// A lead as one line: JSON, or tab-separated received time, id, name, phone, email, form, status.
fn line(lead: &Lead, json: bool) -> String {
    if json {
        return sanitize::json(
            serde_json::to_string(lead)
                .unwrap_or_else(|err| format!("{{\"id\":{},\"error\":\"{err}\"}}", lead.id)),
        );
    }
    let text = |value: &Option<String>| {
        value
            .as_deref()
            .map_or_else(String::new, sanitize::tsv_field)
    };
    [
        lead.received_at.to_rfc3339(),
        lead.id.to_string(),
        sanitize::tsv_field(&lead.display_name()),
        text(&lead.meta.phone),
        text(&lead.meta.email),
        text(&lead.meta.form_name),
        lead.status.to_string(),
    ]
    .join("\t")
}

pub async fn run(settings: Settings, json: bool) -> Result<(), Error> {
    eprintln!(
        "leadhook: watching {} for new leads (Ctrl-C stops)",
        settings.server
    );
    let (mut polls, _commands) = poller::spawn::<Lead>(Client::new(&settings), settings.interval);
    let mut watcher = Watcher::new(json);
    loop {
        let event = tokio::select! {
            event = polls.recv() => event,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let Some(event) = event else {
            return Ok(());
        };
        for output in watcher.handle(event) {
            match output {
                Output::Lead(line) => {
                    let mut stdout = io::stdout().lock();
                    let written = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
                    match written {
                        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
                        other => other?,
                    }
                }
                Output::Status(status) => eprintln!("leadhook: {}", sanitize::screen(&status)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{lead, now};

    fn leads(first_load: bool, leads: Vec<Lead>) -> PollEvent<Lead> {
        PollEvent::Leads { leads, first_load }
    }

    #[test]
    fn prints_only_leads_new_after_the_first_load() {
        let mut watcher = Watcher::new(false);
        assert!(
            watcher
                .handle(leads(true, vec![lead(1, "Old", 60), lead(2, "Older", 90)]))
                .is_empty()
        );
        let mut updated = lead(1, "Old", 60);
        updated.status = leadhook_shared::LeadStatus::Won;
        let out = watcher.handle(leads(false, vec![updated, lead(3, "Jane Doe", 0)]));
        assert_eq!(
            out,
            vec![Output::Lead(format!(
                "{}\t3\tJane Doe\t+15550000003\tjane.doe@example.com\tSpring Promo\tNew Lead",
                (now() + chrono::Duration::seconds(2)).to_rfc3339()
            ))]
        );
    }

    #[test]
    fn json_lines_parse_back_into_the_lead() {
        let line = printed(true, lead(5, "Ann", 0));
        assert_eq!(
            serde_json::from_str::<Lead>(&line).unwrap(),
            lead(5, "Ann", 0)
        );
    }

    /// A name that tries to forge a second record, retitle the terminal, clear the screen and
    /// write the clipboard, in every field `watch` prints.
    fn hostile_lead() -> Lead {
        let mut eve = lead(9, "Eve", 0);
        eve.meta.name = Some("Eve\t\n2026-03-10T15:00:00+00:00\t99\tForged\tWon".into());
        eve.meta.phone = Some("\x1b]0;pwned\x07+1555".into());
        eve.meta.email = Some("\u{9b}2Jeve@example.com\x1b]52;c;ZXZpbA==\x07".into());
        eve.meta.form_name = Some("Promo\u{202e}gnp.exe\u{2066}\x7f".into());
        eve
    }

    /// What `watch` prints for `lead` arriving after the first load.
    fn printed(json: bool, lead: Lead) -> String {
        let mut watcher = Watcher::new(json);
        watcher.handle(leads(true, vec![]));
        let out = watcher.handle(leads(false, vec![lead]));
        let [Output::Lead(line)] = out.as_slice() else {
            panic!("expected one line, got {out:?}");
        };
        line.clone()
    }

    #[test]
    fn a_hostile_lead_is_one_inert_tsv_record() {
        let line = printed(false, hostile_lead());
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 7, "{line:?}");
        for field in &fields {
            assert!(!field.chars().any(crate::sanitize::is_hazard), "{field:?}");
        }
        assert_eq!(
            fields[2],
            "Eve\\t\\n2026-03-10T15:00:00+00:00\\t99\\tForged\\tWon"
        );
    }

    #[test]
    fn json_lines_escape_c1_and_bidi_controls_and_keep_the_data() {
        let line = printed(true, hostile_lead());
        assert!(!line.chars().any(crate::sanitize::is_hazard), "{line:?}");
        assert!(
            line.contains("\\u009b2J") && line.contains("\\u202e"),
            "{line}"
        );
        assert_eq!(serde_json::from_str::<Lead>(&line).unwrap(), hostile_lead());
    }

    #[test]
    fn connection_changes_are_reported_once() {
        let mut watcher = Watcher::new(false);
        let failed = || PollEvent::Failed {
            error: ClientError::Unauthorized,
            retry_at: now(),
        };
        assert_eq!(watcher.handle(failed()).len(), 1);
        assert!(watcher.handle(failed()).is_empty());
        let synced = || PollEvent::Synced {
            at: now(),
            push: false,
        };
        assert_eq!(watcher.handle(synced()).len(), 1);
        assert!(watcher.handle(synced()).is_empty());
    }
}
