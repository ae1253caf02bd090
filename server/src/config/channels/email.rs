//! `[email.<name>]`: e-mail over SMTP. The secret is the SMTP password of `username`.
//!
//! ```toml
//! [email.sales]
//! host = "smtp.example.com"
//! tls = "starttls"                  # starttls (default, port 587), tls (465), none (25: unsafe)
//! ca_file = "/etc/leadhook/smtp-ca.pem"  # optional: a private CA, trusted besides the public roots
//! username = "leadhook@example.com"
//! secret_env = "SMTP_PASSWORD"
//! from = "Leadhook <leadhook@example.com>"
//! to = ["sales@example.com", "Alice <alice@example.com>"]
//! events = ["lead.created"]
//! ```

use std::ops::Range;
use std::path::Path;

use lettre::message::Mailbox;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use secrecy::SecretString;

use super::{At, Env, channel_table, secret};
use crate::config::ConfigError;
use crate::limits::{MAX_CA_FILE_BYTES, MAX_EMAIL_RECIPIENTS};

channel_table!(EmailTable {
    host: toml::Spanned<String>,
    port: Option<u16>,
    tls: Option<toml::Spanned<String>>,
    ca_file: Option<toml::Spanned<std::path::PathBuf>>,
    username: Option<toml::Spanned<String>>,
    from: toml::Spanned<String>,
    to: toml::Spanned<Vec<toml::Spanned<String>>>,
});

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain at first, then upgraded with STARTTLS, which must succeed.
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// Never encrypted: for a relay on this machine or a test server only.
    None,
}

impl SmtpTls {
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }
}

#[derive(Debug)]
pub struct EmailChannel {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// The CAs of `ca_file`, trusted besides the public roots (Mozilla's, built in); empty
    /// without one.
    pub ca: Vec<CertificateDer<'static>>,
    /// The SMTP login: `username` and the channel's secret; `None` for a server without one.
    pub login: Option<(String, SecretString)>,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
}

pub(super) fn read(
    table: &EmailTable,
    span: Range<usize>,
    at: &At<'_>,
    env: &Env<'_>,
) -> Result<EmailChannel, ConfigError> {
    let host = table.host.get_ref().trim().to_string();
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    if !host_ok {
        return Err(at(
            table.host.span(),
            "host must be the SMTP server's name or address, like smtp.example.com".into(),
        ));
    }
    let tls = match table.tls.as_ref().map(|tls| tls.get_ref().as_str()) {
        None | Some("starttls") => SmtpTls::StartTls,
        Some("tls") => SmtpTls::Tls,
        Some("none") => SmtpTls::None,
        Some(_) => {
            return Err(at(
                table.tls.as_ref().map_or(span, |tls| tls.span()),
                "tls must be starttls (port 587), tls (port 465) or none (unencrypted: for a \
                 relay on this machine only)"
                    .into(),
            ));
        }
    };
    let ca = match &table.ca_file {
        None => Vec::new(),
        Some(file) if tls == SmtpTls::None => {
            return Err(at(
                file.span(),
                "ca_file is for a TLS connection: set tls = \"starttls\" or \"tls\", or remove \
                 ca_file"
                    .into(),
            ));
        }
        Some(file) => {
            read_ca(file.get_ref()).map_err(|what| at(file.span(), format!("ca_file: {what}")))?
        }
    };
    let password = secret(table, span.clone(), at, env)?;
    let login = match (&table.username, password) {
        (None, None) => None,
        (Some(user), Some((password, _, _))) => {
            let local = matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1");
            if tls == SmtpTls::None && !local {
                return Err(at(
                    user.span(),
                    "with tls = \"none\" the password would cross the network unencrypted: \
                     use starttls or tls"
                        .into(),
                ));
            }
            Some((user.get_ref().clone(), password))
        }
        (Some(user), None) => {
            return Err(at(
                user.span(),
                "give the password of username as exactly one of secret_env or secret_file".into(),
            ));
        }
        (None, Some((_, _, secret_span))) => {
            return Err(at(
                secret_span,
                "a password without a username: add username, or remove the secret".into(),
            ));
        }
    };
    let mailbox = |text: &toml::Spanned<String>, field: &str| {
        text.get_ref().parse::<Mailbox>().map_err(|error| {
            at(
                text.span(),
                format!(
                    "{field} \"{}\" is not an e-mail address ({error}); write it like \
                     alice@example.com or Alice <alice@example.com>",
                    text.get_ref().escape_debug()
                ),
            )
        })
    };
    let from = mailbox(&table.from, "from")?;
    if table.to.get_ref().is_empty() || table.to.get_ref().len() > MAX_EMAIL_RECIPIENTS {
        return Err(at(
            table.to.span(),
            format!(
                "to must list 1 to {MAX_EMAIL_RECIPIENTS} addresses (for more, send to a \
                 mailing list)"
            ),
        ));
    }
    let to = table
        .to
        .get_ref()
        .iter()
        .map(|address| mailbox(address, "to"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(EmailChannel {
        host,
        port: table.port.unwrap_or(tls.default_port()),
        tls,
        ca,
        login,
        from,
        to,
    })
}

/// The certificates of the PEM file at `path`, each one a CA rustls would trust as a root.
fn read_ca(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read {shown} ({e})"))?;
    if metadata.len() > MAX_CA_FILE_BYTES {
        return Err(format!(
            "{shown} has {} bytes, more than the {MAX_CA_FILE_BYTES} read",
            metadata.len()
        ));
    }
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {shown} ({e})"))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{shown} is not PEM certificates ({e})"))?;
    if certificates.is_empty() {
        return Err(format!(
            "{shown} holds no certificate: give the PEM file of the CA that signed the SMTP \
             server's certificate (-----BEGIN CERTIFICATE-----)"
        ));
    }
    let mut roots = rustls::RootCertStore::empty();
    for (n, certificate) in certificates.iter().enumerate() {
        roots.add(certificate.clone()).map_err(|e| {
            format!(
                "certificate {} of {shown} cannot be a trusted root ({e})",
                n + 1
            )
        })?;
    }
    Ok(certificates)
}
