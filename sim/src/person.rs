//! The person's side of a conversation, as the providers report it to a leadhook server: signed
//! WhatsApp `messages` webhooks (statuses of the business's messages, the person's texts, with
//! the App Secret's `X-Hub-Signature-256`) and Twilio's status callbacks and inbound SMS (form
//! posts with `X-Twilio-Signature` over the public URL Twilio would call). Used by tests, the
//! demo and `leadhook-sim reply`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use leadhook_shared::meta::signature::{SIGNATURE_HEADER, sign};
use leadhook_shared::meta::whatsapp::{
    WhatsAppError, WhatsAppStatusKind, status_value, text_value, whatsapp_webhook,
};
use leadhook_shared::twilio;
use secrecy::{ExposeSecret, SecretString};

use crate::messaging_standin::PHONE_NUMBER_ID;

/// How long one report waits for the server.
const REPORT_TIMEOUT: Duration = Duration::from_secs(10);

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Where and how the providers' reports are sent.
pub struct Person {
    client: reqwest::Client,
    /// Where the server listens, like `http://127.0.0.1:8080`.
    server: String,
    app_secret: SecretString,
    /// The Auth Token and the public URL Twilio's signature covers (the server's
    /// `LEADHOOK_PUBLIC_URL`), when SMS is reported.
    twilio: Option<(SecretString, String)>,
}

impl Person {
    pub fn new(server: &str, app_secret: SecretString) -> Person {
        Person {
            client: reqwest::Client::new(),
            server: server.trim_end_matches('/').to_string(),
            app_secret,
            twilio: None,
        }
    }

    /// Also reports SMS, signed with `auth_token` for `public_url`.
    pub fn with_twilio(mut self, auth_token: SecretString, public_url: &str) -> Person {
        self.twilio = Some((auth_token, public_url.trim_end_matches('/').to_string()));
        self
    }

    /// The person (`from`: E.164, `+` optional) writes `text` on WhatsApp; the server's status.
    pub async fn whatsapp_reply(&self, from: &str, text: &str) -> reqwest::Result<u16> {
        let digits = from.trim_start_matches('+');
        let wamid = format!("wamid.person{}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
        let value = text_value(digits, "Person", &wamid, text, now());
        self.whatsapp(whatsapp_webhook(PHONE_NUMBER_ID, value))
            .await
    }

    /// WhatsApp reports `status` of message `wamid` sent to `recipient`.
    pub async fn whatsapp_status(
        &self,
        wamid: &str,
        status: WhatsAppStatusKind,
        recipient: &str,
        error: Option<&WhatsAppError>,
    ) -> reqwest::Result<u16> {
        let recipient = recipient.trim_start_matches('+');
        let value = status_value(wamid, status, recipient, error, now());
        self.whatsapp(whatsapp_webhook(PHONE_NUMBER_ID, value))
            .await
    }

    /// The person texts `body` from `from` to the business's number `to`.
    pub async fn sms_reply(&self, from: &str, to: &str, body: &str) -> reqwest::Result<u16> {
        let sid = format!("SMperson{:024}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
        self.twilio_post(&[
            ("MessageSid", sid.as_str()),
            ("SmsSid", sid.as_str()),
            ("SmsStatus", "received"),
            ("From", from),
            ("To", to),
            ("Body", body),
            ("NumMedia", "0"),
        ])
        .await
    }

    /// Twilio's status callback for message `sid` to `to` (`error_code` for a failure).
    pub async fn sms_status(
        &self,
        sid: &str,
        status: &str,
        to: &str,
        error_code: Option<&str>,
    ) -> reqwest::Result<u16> {
        let mut params = vec![("MessageSid", sid), ("MessageStatus", status), ("To", to)];
        if let Some(code) = error_code {
            params.push(("ErrorCode", code));
        }
        self.twilio_post(&params).await
    }

    async fn whatsapp(&self, body: serde_json::Value) -> reqwest::Result<u16> {
        let body = serde_json::to_vec(&body).expect("a JSON value serialises");
        let signature = sign(self.app_secret.expose_secret().as_bytes(), &body);
        let response = self
            .client
            .post(format!("{}/webhook", self.server))
            .header(SIGNATURE_HEADER, signature)
            .header("content-type", "application/json")
            .timeout(REPORT_TIMEOUT)
            .body(body)
            .send()
            .await?;
        Ok(response.status().as_u16())
    }

    async fn twilio_post(&self, params: &[(&str, &str)]) -> reqwest::Result<u16> {
        const PATH: &str = "/twilio/sms";
        let owned: Vec<(String, String)> = params
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        let mut request = self
            .client
            .post(format!("{}{PATH}", self.server))
            .timeout(REPORT_TIMEOUT)
            .form(&owned);
        if let Some((token, public_url)) = &self.twilio {
            let url = format!("{public_url}{PATH}");
            let signature = twilio::signature(token.expose_secret().as_bytes(), &url, &owned);
            request = request.header(twilio::SIGNATURE_HEADER, signature);
        }
        Ok(request.send().await?.status().as_u16())
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// `leadhook-sim reply`: a simulated person writes back to a leadhook server.
#[derive(Debug, clap::Args)]
pub struct ReplyArgs {
    /// The server's address (where the webhook and Twilio posts go).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The person's number in E.164, like +16502530000.
    #[arg(long)]
    pub from: String,
    /// What the person writes.
    #[arg(long)]
    pub text: String,
    /// As an SMS through Twilio instead of a WhatsApp message.
    #[arg(long)]
    pub sms: bool,
    /// The business's SMS number the person texts.
    #[arg(long, default_value = "+15550001111")]
    pub to: String,
    /// The server's App Secret (signs WhatsApp webhooks).
    #[arg(
        long = "fb-app-secret",
        env = "FB_APP_SECRET",
        hide_env_values = true,
        hide = true
    )]
    pub app_secret: SecretString,
    /// The Twilio Auth Token the server checks (for --sms).
    #[arg(
        long = "twilio-auth-token",
        env = "TWILIO_AUTH_TOKEN",
        hide_env_values = true,
        hide = true
    )]
    pub twilio_token: Option<SecretString>,
    /// The server's public URL, which Twilio's signature covers (for --sms).
    #[arg(long = "public-url", env = "LEADHOOK_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// Sends the reply; the server's HTTP status, or what is missing.
pub async fn reply(args: ReplyArgs) -> Result<u16, String> {
    let person = Person::new(&args.server, args.app_secret);
    let sent = if args.sms {
        let (Some(token), Some(public_url)) = (args.twilio_token, args.public_url) else {
            return Err(
                "--sms needs TWILIO_AUTH_TOKEN and LEADHOOK_PUBLIC_URL as the server has them"
                    .into(),
            );
        };
        person
            .with_twilio(token, &public_url)
            .sms_reply(&args.from, &args.to, &args.text)
            .await
    } else {
        person.whatsapp_reply(&args.from, &args.text).await
    };
    sent.map_err(|error| format!("cannot reach {}: {error}", args.server))
}
