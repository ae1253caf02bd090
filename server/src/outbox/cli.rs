//! `leadhook-server channels test [NAME]`: sends one test message, marked as a test and about no
//! lead, through each channel of the channels file (or the one named), straight to the
//! receiver, not through the outbox (nothing is queued, retried or counted), and says per
//! channel what happened and what to do next. Exit status 0 only when every message was taken.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};

use super::{Attempt, SenderContext, sender_for};
use crate::clock::SystemClock;
use crate::config::{Channel, ChannelKind, ConfigError, load_channels};

#[derive(Debug, Subcommand)]
pub enum ChannelsCommand {
    /// Send a test message through each channel (or the one named) and say what happened.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The channel to test: its table's name, like sales for [slack.sales]; default: every one.
    pub name: Option<String>,
    /// The channels file (TOML), as the server reads it.
    #[arg(long = "channels", env = "LEADHOOK_CHANNELS", value_name = "PATH")]
    pub channels: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChannelsError {
    #[error(
        "LEADHOOK_CHANNELS is not set: give the channels file with --channels PATH or \
         LEADHOOK_CHANNELS (README: \"Notifications beyond the terminal\")"
    )]
    NoFile,
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("no channel is named \"{name}\"; the file has: {known}")]
    UnknownName { name: String, known: String },
}

/// Runs `command`, writing what happened to `out`: `Ok(true)` when every message was taken.
pub async fn run(command: ChannelsCommand, out: &mut dyn Write) -> Result<bool, ChannelsError> {
    let ChannelsCommand::Test(args) = command;
    let path = args.channels.ok_or(ChannelsError::NoFile)?;
    let config = load_channels(Some(&path))?.ok_or(ChannelsError::NoFile)?;
    let chosen: Vec<&Channel> = match &args.name {
        None => config.channels.iter().collect(),
        Some(name) => {
            let found: Vec<&Channel> = config.channels.iter().filter(|c| &c.name == name).collect();
            if found.is_empty() {
                let known: Vec<&str> = config.channels.iter().map(|c| c.name.as_str()).collect();
                return Err(ChannelsError::UnknownName {
                    name: name.escape_debug().to_string(),
                    known: if known.is_empty() {
                        "no channel".into()
                    } else {
                        known.join(", ")
                    },
                });
            }
            found
        }
    };
    let _ = writeln!(
        out,
        "channels test: a test message through {} channel(s) of {}\n",
        chosen.len(),
        path.display()
    );
    // A test message needs neither the work queue's clock nor claim links.
    let context = SenderContext {
        clock: Arc::new(SystemClock),
        claim_links: None,
        conversations: None,
        metrics: Arc::new(crate::metrics::Metrics::default()),
    };
    let mut failed = 0;
    for channel in &chosen {
        let label = format!("{} ({})", channel.name, channel.kind.table());
        if channel.kind.first_rules().is_some() {
            let _ = writeln!(
                out,
                "  - {label}: not tested: a first message goes only to a lead's person \
                 (`leadhook-server doctor` checks its setup)"
            );
            continue;
        }
        let attempt = match sender_for(channel, &context) {
            Ok(sender) => sender.test(&channel.name).await,
            Err(error) => Attempt::Failed(error.to_string()),
        };
        match &attempt {
            Attempt::Delivered => {
                let _ = writeln!(out, "  ✓ {label}: sent; {}", where_to_look(channel));
            }
            Attempt::Failed(reason)
            | Attempt::Throttled { reason, .. }
            | Attempt::Dropped(reason)
            | Attempt::Rejected(reason) => {
                failed += 1;
                let _ = writeln!(
                    out,
                    "  ✗ {label}: {reason}\n      next: {}",
                    next_step(channel, &attempt)
                );
            }
            Attempt::Held(_) => {
                failed += 1;
                let _ = writeln!(
                    out,
                    "  ✗ {label}: held\n      next: {}",
                    next_step(channel, &attempt)
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{} of {} channel(s) took the test message",
        chosen.len() - failed,
        chosen.len()
    );
    Ok(failed == 0)
}

fn where_to_look(channel: &Channel) -> String {
    match &channel.kind {
        ChannelKind::Webhook(_) => "the receiver answered 2xx to a signed request of type \
                                    leadhook.test"
            .into(),
        ChannelKind::Slack(_) => "look for it in the Slack channel the webhook posts to".into(),
        ChannelKind::Teams(_) => {
            "look for it where the workflow posts (its chat or channel)".into()
        }
        ChannelKind::Telegram(telegram) => format!(
            "look for it in the Telegram chat {}",
            serde_json::to_string(&telegram.chat_id).unwrap_or_default()
        ),
        ChannelKind::Ntfy(ntfy) => format!(
            "look for it on the phones subscribed to the team topic {}",
            ntfy.topic.as_deref().unwrap_or_default()
        ),
        ChannelKind::WhatsApp(_) | ChannelKind::Sms(_) => {
            "a first message goes only to a lead's person".into()
        }
        ChannelKind::Email(email) => {
            let to: Vec<String> = email.to.iter().map(|m| m.email.to_string()).collect();
            format!(
                "look for it in the inbox of {} (and its spam folder)",
                to.join(", ")
            )
        }
    }
}

/// What to do about a failed test, by kind and answer.
fn next_step(channel: &Channel, attempt: &Attempt) -> String {
    let reason = match attempt {
        Attempt::Delivered => return String::new(),
        Attempt::Throttled { after, .. } => {
            return format!(
                "the service asks to wait {}: run the test again after that",
                humantime::format_duration(*after)
            );
        }
        Attempt::Failed(reason) | Attempt::Dropped(reason) | Attempt::Rejected(reason) => reason,
        Attempt::Held(until) => {
            return format!("held until {until}: run the test again after that");
        }
    };
    if reason == "timed out" {
        return format!(
            "no answer within {}: check that this machine reaches the service (DNS, firewall, \
             proxy), or raise the channel's timeout",
            humantime::format_duration(channel.timeout)
        );
    }
    if reason.contains("answered 5") {
        return "the service failed on its side: run the test again in a few minutes (the \
                outbox retries real events by itself until expire_after)"
            .into();
    }
    let refused = ["401", "403", "404", "410"]
        .iter()
        .any(|status| reason.contains(&format!("answered {status}")));
    let secret = "replace the secret that secret_env or secret_file names";
    match &channel.kind {
        ChannelKind::Slack(_) if refused => format!(
            "Slack does not know this webhook (wrong, or revoked): make a new one (your Slack \
             app > Incoming Webhooks) and {secret}"
        ),
        ChannelKind::Teams(_) if refused => format!(
            "the workflow is off, deleted, or its URL is wrong: copy the URL from the \
             workflow's \"When a Teams webhook request is received\" trigger and {secret}"
        ),
        ChannelKind::Telegram(_) if reason.contains("answered 401") => {
            format!("the bot token is wrong or was revoked: get it from @BotFather and {secret}")
        }
        ChannelKind::Telegram(_) if reason.contains("answered 400") || refused => {
            "check chat_id, and that the bot is a member of the chat (an administrator, in a \
             channel)"
                .into()
        }
        ChannelKind::Webhook(_) if refused => {
            "check url, and that the receiver holds the same whsec_ secret".into()
        }
        ChannelKind::Email(_) => "check host, port, tls, username and the password against \
                                  the mail provider's SMTP settings"
            .into(),
        _ => "fix what the answer says, then run leadhook-server channels test again".into(),
    }
}
