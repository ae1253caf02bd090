//! What the ads cost: Meta's ads insights read per campaign, ad set or ad for the period,
//! cached ([`SPEND_FRESH_FOR`]) so dashboards refreshing do not spend the ad account's rate
//! limit. A failure never holds the figures back: they go out without cost, saying why.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use leadhook_shared::insights::{Grouping, SpendStatus};

use crate::graph::{GraphClient, GraphError, SpendRow};
use crate::limits::{SPEND_CACHE_ENTRIES, SPEND_FAILURE_KEPT_FOR, SPEND_FRESH_FOR};

/// The spend of each source (by its key) and how it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Spend {
    by_key: HashMap<String, Spent>,
    pub status: SpendStatus,
}

/// What one object spent, and its name in Meta's ads.
#[derive(Debug, Clone, PartialEq)]
pub struct Spent {
    pub amount: f64,
    pub name: Option<String>,
}

impl Spend {
    pub fn without(status: SpendStatus) -> Spend {
        Spend {
            by_key: HashMap::new(),
            status,
        }
    }

    pub fn of(&self, key: &str) -> Option<&Spent> {
        self.by_key.get(key)
    }

    /// Everything spent in the period, when it was read.
    pub fn total(&self) -> Option<f64> {
        matches!(self.status, SpendStatus::Read { .. })
            .then(|| self.by_key.values().map(|spent| spent.amount).sum())
    }

    /// Every object that spent, by key: sources that cost money and brought no lead show too.
    pub fn objects(&self) -> impl Iterator<Item = (&String, &Spent)> {
        self.by_key.iter()
    }
}

/// The Marketing API's level for a grouping, if it has one.
fn level(by: &Grouping) -> Option<&'static str> {
    match by {
        Grouping::Campaign => Some("campaign"),
        Grouping::AdSet => Some("adset"),
        Grouping::Ad => Some("ad"),
        Grouping::Form | Grouping::Platform | Grouping::Organic | Grouping::Answer { .. } => None,
    }
}

type Key = (&'static str, NaiveDate, NaiveDate);

struct Cached {
    at: Instant,
    spend: Spend,
}

/// Reads spend from one ad account.
pub struct SpendReader {
    graph: GraphClient,
    account: String,
    cache: Mutex<HashMap<Key, Cached>>,
}

impl SpendReader {
    pub fn new(graph: GraphClient, account: String) -> Arc<SpendReader> {
        Arc::new(SpendReader {
            graph,
            account,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The spend per source of `by` from `first` through `last`.
    pub async fn spend(&self, by: &Grouping, first: NaiveDate, last: NaiveDate) -> Spend {
        let Some(level) = level(by) else {
            return Spend::without(SpendStatus::NotForGrouping);
        };
        let key = (level, first, last);
        if let Some(spend) = self.cached(&key) {
            return spend;
        }
        let spend = match self.graph.ad_spend(&self.account, level, first, last).await {
            Ok(rows) => read(level, &rows),
            Err(error) => {
                tracing::warn!(%error, account = %self.account, "cannot read the ads' spend");
                Spend::without(SpendStatus::Unavailable {
                    reason: reason(&error),
                })
            }
        };
        self.keep(key, spend.clone());
        spend
    }

    fn cached(&self, key: &Key) -> Option<Spend> {
        let cache = self.cache.lock().ok()?;
        let cached = cache.get(key)?;
        let kept_for = match cached.spend.status {
            SpendStatus::Read { .. } => SPEND_FRESH_FOR,
            _ => SPEND_FAILURE_KEPT_FOR,
        };
        (cached.at.elapsed() < kept_for).then(|| cached.spend.clone())
    }

    fn keep(&self, key: Key, spend: Spend) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= SPEND_CACHE_ENTRIES && !cache.contains_key(&key) {
            let oldest = cache
                .iter()
                .min_by_key(|(_, cached)| cached.at)
                .map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                cache.remove(&oldest);
            }
        }
        cache.insert(
            key,
            Cached {
                at: Instant::now(),
                spend,
            },
        );
    }
}

/// The rows' spend by id; a row without an id or with a spend that is not a number is left out.
fn read(level: &str, rows: &[SpendRow]) -> Spend {
    let mut by_key: HashMap<String, Spent> = HashMap::new();
    for row in rows {
        let amount = row
            .spend
            .as_deref()
            .and_then(|s| s.trim().parse::<f64>().ok());
        match (row.id(level), amount) {
            (Some(id), Some(amount)) if amount.is_finite() && amount >= 0.0 => {
                let spent = by_key.entry(id.to_string()).or_insert(Spent {
                    amount: 0.0,
                    name: None,
                });
                spent.amount += amount;
                if spent.name.is_none() {
                    spent.name = row.name(level).map(str::to_string);
                }
            }
            _ => tracing::warn!(
                level,
                "an ads insights row without an id or a spend, left out"
            ),
        }
    }
    Spend {
        by_key,
        status: SpendStatus::Read {
            currency: rows.iter().find_map(|row| row.account_currency.clone()),
            read_at: Utc::now(),
        },
    }
}

/// What the manager is told when spend cannot be read: Meta's reason and what to do.
fn reason(error: &GraphError) -> String {
    format!(
        "{error}; check FB_AD_ACCOUNT_ID and that the token (FB_ADS_TOKEN, else the Page token) \
         has ads_read on the ad account"
    )
}
