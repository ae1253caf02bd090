//! The first-message channels' setup checks, without messaging anyone: for WhatsApp, that the
//! token is taken and the template exists in its language and is approved (the WhatsApp
//! Business Account's `GET /<waba_id>/message_templates`); for SMS, that the account's
//! credentials are taken (`GET /2010-04-01/Accounts/<sid>.json`).

use secrecy::ExposeSecret;
use serde_json::Value;

use super::Check;
use crate::config::{Channel, ChannelKind, SmsChannel, WhatsAppChannel};

const NAME: &str = "first message";

/// The check of `channel`, when it is a first-message channel.
pub async fn check(channel: &Channel) -> Option<Check> {
    let label = format!("{} ({})", channel.name, channel.kind.table());
    let client = reqwest::Client::builder()
        .timeout(channel.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build();
    let client = match client {
        Ok(client) => client,
        Err(error) => {
            return Some(Check::fail(
                NAME,
                format!("{label}: {error}"),
                "report this",
            ));
        }
    };
    match &channel.kind {
        ChannelKind::WhatsApp(whatsapp) => Some(template(&client, &label, whatsapp).await),
        ChannelKind::Sms(sms) => Some(account(&client, &label, sms).await),
        _ => None,
    }
}

async fn answer(request: reqwest::RequestBuilder) -> Result<(u16, Value), String> {
    let response = request
        .send()
        .await
        .map_err(|error| format!("no answer: {}", error.without_url()))?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

async fn template(client: &reqwest::Client, label: &str, whatsapp: &WhatsAppChannel) -> Check {
    let Some(url) = &whatsapp.templates_url else {
        return Check::warn(
            NAME,
            format!("{label}: the template {} is not checked", whatsapp.template),
            "set waba_id (the WhatsApp Business Account's id) so doctor can check the template",
        );
    };
    let request = client
        .get(url.clone())
        .query(&[("name", whatsapp.template.as_str()), ("limit", "100")])
        .bearer_auth(whatsapp.token.expose_secret());
    let (status, body) = match answer(request).await {
        Ok(answer) => answer,
        Err(problem) => {
            return Check::fail(
                NAME,
                format!("{label}: {problem}"),
                "check api_url and the network",
            );
        }
    };
    if status == 401 || status == 403 {
        return Check::fail(
            NAME,
            format!("{label}: WhatsApp refused the token ({status})"),
            "give a system user's token with whatsapp_business_messaging and \
             whatsapp_business_management",
        );
    }
    let found = body["data"].as_array().into_iter().flatten().find(|t| {
        t["name"] == whatsapp.template.as_str() && t["language"] == whatsapp.language.as_str()
    });
    match found.and_then(|t| t["status"].as_str()) {
        Some("APPROVED") => Check::pass(
            NAME,
            format!(
                "{label}: the template {} ({}) is approved",
                whatsapp.template, whatsapp.language
            ),
        ),
        Some(other) => Check::fail(
            NAME,
            format!(
                "{label}: the template {} is {other}, not APPROVED",
                whatsapp.template
            ),
            "wait for Meta's review, or name an approved template",
        ),
        None => Check::fail(
            NAME,
            format!(
                "{label}: no template {} in {} (WhatsApp answered {status})",
                whatsapp.template, whatsapp.language
            ),
            "create it in WhatsApp Manager, or fix template and language",
        ),
    }
}

async fn account(client: &reqwest::Client, label: &str, sms: &SmsChannel) -> Check {
    let mut url = sms.messages_url.clone();
    url.set_path(&format!("/2010-04-01/Accounts/{}.json", sms.account_sid));
    let request = client
        .get(url)
        .basic_auth(&sms.account_sid, Some(sms.auth_token.expose_secret()));
    match answer(request).await {
        Ok((200, body)) => Check::pass(
            NAME,
            format!(
                "{label}: the account {} takes the credentials ({})",
                sms.account_sid,
                body["status"].as_str().unwrap_or("status not given")
            ),
        ),
        Ok((status, _)) => Check::fail(
            NAME,
            format!("{label}: the SMS API refused the account SID and auth token ({status})"),
            "copy both from the provider's console",
        ),
        Err(problem) => Check::fail(NAME, format!("{label}: {problem}"), "check api_url"),
    }
}
