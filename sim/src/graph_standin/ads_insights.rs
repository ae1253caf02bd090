//! `GET /<version>/act_<id>/insights?level=campaign&fields=campaign_id,spend&time_range=...`:
//! what the simulated ad account spent on the simulator's ads, per campaign, ad set or ad (or the
//! whole account without `level`), as Meta answers it: spend as a decimal string in the
//! account's currency, `date_start`/`date_stop` of the range. Each ad spends a believable,
//! repeatable amount a day (its own budget, varying by day), so a period always costs the same.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde_json::{Map, Value, json};

use super::errors::GraphError;
use super::request::GraphRequest;
use crate::fake_leads::{AdPlacement, ad_placements};

/// The simulated ad account's currency.
pub const CURRENCY: &str = "USD";

/// Longest range Meta answers in one request, in days (37 months).
const MAX_DAYS: i64 = 37 * 31;

pub(super) fn answer(request: &GraphRequest) -> Result<Value, GraphError> {
    let (since, until) = time_range(request)?;
    let level = request.param("level").unwrap_or("account");
    let key = |ad: &AdPlacement| -> Result<Option<(String, String)>, GraphError> {
        Ok(match level {
            "account" => None,
            "campaign" => Some((ad.campaign_id.clone(), ad.campaign_name.clone())),
            "adset" => Some((ad.adset_id.clone(), ad.adset_name.clone())),
            "ad" => Some((ad.ad_id.clone(), ad.ad_name.clone())),
            other => {
                return Err(GraphError::invalid_parameter(format!(
                    "(#100) level must be one of the following values: ad, adset, campaign, account; got {other}"
                )));
            }
        })
    };
    let mut cents: BTreeMap<Option<(String, String)>, u64> = BTreeMap::new();
    for ad in ad_placements() {
        let spent: u64 = since
            .iter_days()
            .take_while(|day| *day <= until)
            .map(|day| daily_cents(&ad.ad_id, day))
            .sum();
        *cents.entry(key(&ad)?).or_default() += spent;
    }
    let fields: Vec<&str> = request
        .param("fields")
        .unwrap_or("spend")
        .split(',')
        .map(str::trim)
        .collect();
    let data: Vec<Value> = cents
        .into_iter()
        .map(|(object, cents)| {
            let (id, name) = object.unzip();
            let mut row = Map::new();
            for field in &fields {
                let value = match field.strip_prefix(level) {
                    Some("_id") => json!(id),
                    Some("_name") => json!(name),
                    _ if *field == "spend" => json!(format!("{}.{:02}", cents / 100, cents % 100)),
                    _ if *field == "account_currency" => json!(CURRENCY),
                    _ => continue,
                };
                row.insert((*field).to_string(), value);
            }
            row.insert("date_start".into(), json!(since.to_string()));
            row.insert("date_stop".into(), json!(until.to_string()));
            Value::Object(row)
        })
        .collect();
    Ok(json!({"data": data, "paging": {"cursors": {"before": "MAZDZD", "after": "MAZDZD"}}}))
}

/// `time_range={"since":"YYYY-MM-DD","until":"YYYY-MM-DD"}`; without it, the last 30 days
/// (Meta's default) are not simulated: the range is required here.
fn time_range(request: &GraphRequest) -> Result<(NaiveDate, NaiveDate), GraphError> {
    let invalid = || {
        GraphError::invalid_parameter(
            "(#100) time_range must be an object with since and until as YYYY-MM-DD",
        )
    };
    let range: Value = request
        .param("time_range")
        .and_then(|text| serde_json::from_str(text).ok())
        .ok_or_else(invalid)?;
    let day = |name: &str| -> Result<NaiveDate, GraphError> {
        range[name]
            .as_str()
            .and_then(|text| text.parse().ok())
            .ok_or_else(invalid)
    };
    let (since, until) = (day("since")?, day("until")?);
    if until < since || (until - since).num_days() > MAX_DAYS {
        return Err(invalid());
    }
    Ok((since, until))
}

/// What `ad_id` spent on `day`, in cents: its own daily budget of $20–$70, ±30 % by day.
pub fn daily_cents(ad_id: &str, day: NaiveDate) -> u64 {
    let budget = 2_000 + fnv(ad_id.as_bytes(), 0) % 5_000;
    let swing = fnv(
        ad_id.as_bytes(),
        u64::from(day.num_days_from_ce().unsigned_abs()),
    ) % 61;
    budget * (70 + swing) / 100
}

fn fnv(bytes: &[u8], salt: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for byte in bytes.iter().chain(&salt.to_le_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
