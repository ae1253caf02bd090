//! E-mail over SMTP with `lettre`: one mail per event to every `to`, with a plain-text part and
//! an HTML part (lead text HTML-escaped). The subject is the message's headline, one line
//! without control characters already, so nothing in a lead can add a header. A new connection
//! per mail (STARTTLS, TLS or, for a local relay, none); the attempt is held to the channel's
//! timeout as a whole.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use super::message::{Message, escape_markup};
use super::{Attempt, Medium};
use crate::config::{EmailChannel, SmtpTls};

pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    timeout: Duration,
}

impl Email {
    pub fn new(
        channel: &EmailChannel,
        timeout: Duration,
    ) -> Result<Email, lettre::transport::smtp::Error> {
        Ok(Email {
            transport: transport(channel, timeout)?,
            from: channel.from.clone(),
            to: channel.to.clone(),
            timeout,
        })
    }

    fn mail(&self, message: &Message) -> Result<lettre::Message, lettre::error::Error> {
        let mut mail = lettre::Message::builder()
            .from(self.from.clone())
            .subject(message.headline.clone());
        for to in &self.to {
            mail = mail.to(to.clone());
        }
        mail.multipart(MultiPart::alternative_plain_html(
            message.plain(),
            html(message),
        ))
    }
}

/// The connection `channel` sends with (also what `doctor` tries): `timeout` for each command.
pub fn transport(
    channel: &EmailChannel,
    timeout: Duration,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, lettre::transport::smtp::Error> {
    let tls = match channel.tls {
        SmtpTls::StartTls => Tls::Required(tls_parameters(channel)?),
        SmtpTls::Tls => Tls::Wrapper(tls_parameters(channel)?),
        SmtpTls::None => Tls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&channel.host)
        .port(channel.port)
        .tls(tls)
        .timeout(Some(timeout));
    if let Some((user, password)) = &channel.login {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            password.expose_secret().to_string(),
        ));
    }
    Ok(builder.build())
}

/// The server's certificate must name `host` and chain to a public root (Mozilla's, built in)
/// or to a CA of the channel's `ca_file`.
fn tls_parameters(channel: &EmailChannel) -> Result<TlsParameters, lettre::transport::smtp::Error> {
    let mut builder = TlsParameters::builder(channel.host.clone());
    for ca in &channel.ca {
        builder = builder.add_root_certificate(Certificate::from_der(ca.to_vec())?);
    }
    builder.build_rustls()
}

/// Why an attempt failed, as the outbox keeps it: a refused certificate says so, and what to do.
fn reason(error: &lettre::transport::smtp::Error) -> String {
    let text = error.to_string();
    if text.contains("invalid peer certificate") {
        format!(
            "the SMTP server's TLS certificate was refused, so nothing was sent ({text}): if \
             the server uses a private CA, give it in the channel's ca_file"
        )
    } else {
        format!("the SMTP server: {text}")
    }
}

/// The HTML part: the headline in bold, then a table of the details.
pub fn html(message: &Message) -> String {
    let mut html = format!(
        "<!DOCTYPE html>\n<html><body>\n<p><b>{}</b></p>\n<table>\n",
        escape_markup(&message.headline)
    );
    for (label, value) in &message.details {
        html.push_str(&format!(
            "<tr><td><b>{label}</b></td><td>{}</td></tr>\n",
            escape_markup(value)
        ));
    }
    html.push_str("</table>\n</body></html>\n");
    html
}

#[async_trait::async_trait]
impl Medium for Email {
    async fn deliver(&self, message: &Message) -> Attempt {
        let mail = match self.mail(message) {
            Ok(mail) => mail,
            Err(error) => return Attempt::Failed(format!("cannot write the mail: {error}")),
        };
        match tokio::time::timeout(self.timeout, self.transport.send(mail)).await {
            Ok(Ok(_)) => Attempt::Delivered,
            Ok(Err(error)) if error.is_timeout() => Attempt::Failed("timed out".into()),
            Ok(Err(error)) => Attempt::Failed(reason(&error)),
            Err(_) => Attempt::Failed("timed out".into()),
        }
    }
}
