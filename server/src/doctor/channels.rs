//! The channels file's checks: one per channel, that its receiver's host resolves and answers
//! (a TCP connection within the channel's timeout; for e-mail, the SMTP greeting, TLS and the
//! login too). No message is sent: `leadhook-server channels test` does that.

use std::time::Duration;

use super::Check;
use crate::config::{Channel, ChannelKind, ChannelsConfig, EmailChannel, SecretUrl};

const NAME: &str = "channel";

pub async fn check_all(channels: &ChannelsConfig) -> Vec<Check> {
    let mut checks = Vec::new();
    for channel in &channels.channels {
        checks.push(check(channel).await);
    }
    checks
}

async fn check(channel: &Channel) -> Check {
    let label = format!("{} ({})", channel.name, channel.kind.table());
    let reached = match &channel.kind {
        ChannelKind::Webhook(webhook) => {
            let port = webhook.url.port_or_known_default().unwrap_or(443);
            connect(
                webhook.url.host_str().unwrap_or_default(),
                port,
                channel.timeout,
            )
            .await
        }
        ChannelKind::Slack(slack) => reach(&slack.url, channel.timeout).await,
        ChannelKind::Teams(teams) => reach(&teams.url, channel.timeout).await,
        ChannelKind::Telegram(telegram) => reach(&telegram.send_message, channel.timeout).await,
        ChannelKind::Email(email) => smtp(channel, email).await,
        ChannelKind::Ntfy(ntfy) => address(&ntfy.server, channel.timeout).await,
        ChannelKind::WhatsApp(whatsapp) => address(&whatsapp.messages_url, channel.timeout).await,
        ChannelKind::Sms(sms) => address(&sms.messages_url, channel.timeout).await,
    };
    match reached {
        Ok(detail) => Check::pass(
            NAME,
            format!(
                "{label}: {detail}; `leadhook-server channels test {}` sends a test message",
                channel.name
            ),
        ),
        Err(problem) => Check::fail(
            NAME,
            format!("{label}: {problem}"),
            match channel.kind {
                ChannelKind::Email(_) => {
                    "check host, port, tls, username and the password against the mail provider's SMTP settings"
                }
                _ => {
                    "check that this machine reaches the host (DNS, firewall, proxy) and the address in the channels file"
                }
            },
        ),
    }
}

async fn address(url: &reqwest::Url, timeout: Duration) -> Result<String, String> {
    let port = url.port_or_known_default().unwrap_or(443);
    connect(url.host_str().unwrap_or_default(), port, timeout).await
}

async fn reach(url: &SecretUrl, timeout: Duration) -> Result<String, String> {
    let port = url.expose().port_or_known_default().unwrap_or(443);
    connect(url.host(), port, timeout).await
}

/// Resolves `host` and opens a TCP connection to `port` within `timeout`.
async fn connect(host: &str, port: u16, timeout: Duration) -> Result<String, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port))).await {
        Ok(Ok(_)) => Ok(format!("{host} answers on port {port}")),
        Ok(Err(error)) => Err(format!("cannot connect to {host} port {port}: {error}")),
        Err(_) => Err(format!(
            "{host} port {port} did not answer within {}",
            humantime::format_duration(timeout)
        )),
    }
}

/// Connects as a send would (greeting, STARTTLS or TLS, login) and says goodbye.
async fn smtp(channel: &Channel, email: &EmailChannel) -> Result<String, String> {
    let transport = crate::outbox::smtp_transport(email, channel.timeout)
        .map_err(|error| format!("cannot set up SMTP: {error}"))?;
    let test = transport.test_connection();
    match tokio::time::timeout(channel.timeout, test).await {
        Ok(Ok(true)) => Ok(format!(
            "the SMTP server {}:{} answers{}",
            email.host,
            email.port,
            if email.login.is_some() {
                " and takes the login"
            } else {
                ""
            }
        )),
        Ok(Ok(false)) => Err(format!(
            "the SMTP server {}:{} does not answer well",
            email.host, email.port
        )),
        Ok(Err(error)) => Err(format!(
            "the SMTP server {}:{}: {error}",
            email.host, email.port
        )),
        Err(_) => Err(format!(
            "the SMTP server {}:{} did not answer within {}",
            email.host,
            email.port,
            humantime::format_duration(channel.timeout)
        )),
    }
}
