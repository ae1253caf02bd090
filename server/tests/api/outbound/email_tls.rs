//! E-mail over TLS end to end: the real SMTP server (`aiosmtpd`) with a certificate of a private
//! CA made for the test, over STARTTLS and over TLS from the first byte. The server's own channel
//! configuration (`ca_file`) is what makes the CA trusted. Without it, or for a certificate of
//! another CA or for another name, the certificate is refused, the outbox keeps the reason, and
//! nothing (no login, no mail) goes in clear.

use std::path::{Path, PathBuf};
use std::time::Duration;

use leadhook_sim::harness::poll_until;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

use super::smtp::{Security, SmtpServer};
use super::{new_lead, secret_file, spawn_with_file, write_channels};
use crate::helpers::TestApp;

const USER: &str = "leadhook";
const PASSWORD: &str = "s3cret-smtp-tls";

/// A private CA's certificate and an SMTP server certificate it signed for `names`, with its
/// key: PEM files in `dir`.
struct Certificates {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn certificates(dir: &Path, names: &[&str]) -> Certificates {
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Leadhook test private CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).expect("the CA certificate");
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().expect("a server key");
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let mut server = CertificateParams::new(names).expect("server params");
    server
        .distinguished_name
        .push(DnType::CommonName, "smtp.test");
    let cert = server
        .signed_by(&key, &issuer)
        .expect("the server certificate");
    let write = |name: &str, pem: String| {
        let path = dir.join(name);
        std::fs::write(&path, pem).expect("write a PEM file");
        path
    };
    Certificates {
        ca: write("ca.pem", ca_cert.pem()),
        cert: write("server.pem", cert.pem()),
        key: write("server-key.pem", key.serialize_pem()),
    }
}

/// The real server mailing lead.created to `smtp` over `tls`, trusting `ca_file` when given.
async fn spawn(smtp: &SmtpServer, tls: &str, ca_file: Option<&Path>, dir: &Path) -> TestApp {
    let password = secret_file(dir, "smtp-password", PASSWORD);
    let ca_line = ca_file.map_or(String::new(), |ca| {
        format!("ca_file = \"{}\"\n", ca.display())
    });
    let path = write_channels(
        dir,
        &format!(
            "[email.inbox]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"{tls}\"\n{ca_line}\
             username = \"{USER}\"\nsecret_file = \"{}\"\n\
             from = \"Leadhook <leadhook@example.com>\"\nto = [\"sales@example.com\"]\n\
             events = [\"lead.created\"]\ntimeout = \"5s\"\n",
            smtp.port,
            password.display()
        ),
    );
    spawn_with_file(path).await
}

#[tokio::test]
async fn mail_crosses_starttls_and_implicit_tls_to_a_server_of_a_private_ca() {
    let dir = tempfile::tempdir().expect("dir");
    let certs = certificates(dir.path(), &["127.0.0.1", "localhost"]);
    let cases = [
        (
            "starttls",
            Security::StartTls {
                cert: &certs.cert,
                key: &certs.key,
                required: true,
            },
            "1234567890123561",
        ),
        (
            "tls",
            Security::Implicit {
                cert: &certs.cert,
                key: &certs.key,
            },
            "1234567890123562",
        ),
    ];
    for (tls, security, leadgen_id) in cases {
        let smtp = SmtpServer::start_with(0, Some((USER, PASSWORD)), security);
        let config = tempfile::tempdir().expect("dir");
        let app = spawn(&smtp, tls, Some(&certs.ca), config.path()).await;
        new_lead(&app, leadgen_id, "Jane Doe").await;
        let mails = poll_until(
            Duration::from_secs(30),
            || async { smtp.mails() },
            |m| !m.is_empty(),
        )
        .await;
        assert_eq!(mails.len(), 1, "{tls}: {mails:#?}");
        let mail = &mails[0];
        assert_eq!(mail["tls"], true, "{tls}: the mail came encrypted");
        assert_eq!(mail["login"], USER, "{tls}");
        assert_eq!(
            mail["subject"], "New lead: Jane Doe (Winter campaign)",
            "{tls}"
        );
        let logins = smtp.logins();
        assert!(
            !logins.is_empty() && logins.iter().all(|l| l["tls"] == true),
            "{tls}: the password only ever crossed encrypted: {logins:?}"
        );
    }
}

#[tokio::test]
async fn a_certificate_not_trusted_is_refused_with_its_reason_and_nothing_goes_in_clear() {
    let dir = tempfile::tempdir().expect("dir");
    let certs = certificates(dir.path(), &["127.0.0.1", "localhost"]);
    // A certificate of the trusted CA, for another server.
    let elsewhere = tempfile::tempdir().expect("dir");
    let elsewhere = certificates(elsewhere.path(), &["smtp.elsewhere.test"]);
    // Another private CA (of the same name, so rustls finds the issuer and refuses the
    // signature): the server's certificate does not chain to it.
    let other = tempfile::tempdir().expect("dir");
    let other = certificates(other.path(), &["127.0.0.1", "localhost"]);
    let cases = [
        // STARTTLS offered but not required: had the sender gone on in clear after the refused
        // certificate, the server would have taken its login and mail, and said so.
        (
            "starttls",
            Security::StartTls {
                cert: &certs.cert,
                key: &certs.key,
                required: false,
            },
            None,
        ),
        (
            "tls",
            Security::Implicit {
                cert: &certs.cert,
                key: &certs.key,
            },
            Some(other.ca.as_path()),
        ),
        (
            "starttls",
            Security::StartTls {
                cert: &elsewhere.cert,
                key: &elsewhere.key,
                required: false,
            },
            Some(elsewhere.ca.as_path()),
        ),
    ];
    for (tls, security, ca_file) in cases {
        let smtp = SmtpServer::start_with(0, Some((USER, PASSWORD)), security);
        let config = tempfile::tempdir().expect("dir");
        let app = spawn(&smtp, tls, ca_file, config.path()).await;
        new_lead(&app, "1234567890123563", "Jane Doe").await;
        let health = app
            .wait_for_health(|h| h["outbox"]["destinations"]["inbox"]["retry_reason"].is_string())
            .await;
        let reason = health["outbox"]["destinations"]["inbox"]["retry_reason"]
            .as_str()
            .unwrap_or_default();
        assert!(
            reason.contains("TLS certificate was refused")
                && reason.contains("nothing was sent")
                && reason.contains("invalid peer certificate")
                && reason.contains("ca_file"),
            "{tls}: {reason}"
        );
        assert_eq!(smtp.mails().len(), 0, "{tls}: no mail went in clear");
        assert_eq!(smtp.logins().len(), 0, "{tls}: no login went in clear");
    }
}
