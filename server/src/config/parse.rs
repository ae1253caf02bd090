//! Checks of single settings: each turns the text of one variable into its value, or into an
//! error naming the variable and what is wrong.

use std::path::{Path, PathBuf};
use std::time::Duration;

use leadhook_shared::secret_args::{SecretFileError, read_secret_file};
use leadhook_shared::{Assignment, Role, Visibility};
use secrecy::{ExposeSecret, SecretString};

use crate::triage::junk::JunkRules;

use super::{
    ApiToken, ConfigError, DEFAULT_ESCALATE_AFTER, DEFAULT_GRAPH_URL, DEFAULT_GRAPH_VERSION,
    StoreConfig,
};

/// The clap parser of every `--<secret>-file PATH`: the secret in that file, which only its owner
/// may read.
pub fn secret_file(path: &str) -> Result<SecretString, SecretFileError> {
    read_secret_file(Path::new(path)).map(SecretString::from)
}

pub(super) fn required_secret(
    value: Option<SecretString>,
    var: &'static str,
    hint: &'static str,
) -> Result<SecretString, ConfigError> {
    match value.map(|v| v.expose_secret().trim().to_string()) {
        Some(v) if !v.is_empty() => Ok(SecretString::from(v)),
        _ => Err(ConfigError::Missing { var, hint }),
    }
}

/// Longest retention accepted: a hundred years.
pub(super) const MAX_RETENTION_DAYS: u32 = 36_500;

pub(super) fn parse_retention_days(value: Option<String>) -> Result<Option<u32>, ConfigError> {
    let Some(text) = value
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    else {
        return Ok(None);
    };
    match text.parse::<u32>() {
        Ok(days) if (1..=MAX_RETENTION_DAYS).contains(&days) => Ok(Some(days)),
        _ => Err(ConfigError::invalid(
            "LEADHOOK_RETENTION_DAYS",
            format!("\"{text}\" is not a whole number of days from 1 to {MAX_RETENTION_DAYS}"),
        )),
    }
}

pub(super) fn parse_assignment(value: Option<String>) -> Result<Assignment, ConfigError> {
    match value.as_deref().map(str::trim).unwrap_or("") {
        "" | "claim" => Ok(Assignment::Claim),
        "round-robin" => Ok(Assignment::RoundRobin),
        "none" => Ok(Assignment::None),
        other => Err(ConfigError::invalid(
            "LEADHOOK_ASSIGNMENT",
            format!("\"{other}\" is not one of claim, round-robin, none"),
        )),
    }
}

pub(super) fn parse_escalate_after(value: Option<String>) -> Result<Duration, ConfigError> {
    parse_duration(
        value,
        "LEADHOOK_ESCALATE_AFTER",
        DEFAULT_ESCALATE_AFTER,
        Duration::from_secs(1)..=Duration::from_secs(86_400),
    )
}

/// `LEADHOOK_DUPLICATE_WINDOW`: 30 days unless set; `0` never links.
pub(super) fn parse_duplicate_window(
    value: Option<String>,
) -> Result<chrono::Duration, ConfigError> {
    if value.as_deref().map(str::trim) == Some("0") {
        return Ok(chrono::Duration::zero());
    }
    let window = parse_duration(
        value,
        "LEADHOOK_DUPLICATE_WINDOW",
        Duration::from_secs(30 * 86_400),
        Duration::from_secs(60)..=Duration::from_secs(365 * 86_400),
    )?;
    chrono::Duration::from_std(window)
        .map_err(|e| ConfigError::invalid("LEADHOOK_DUPLICATE_WINDOW", e.to_string()))
}

/// `LEADHOOK_JUNK_RULES`: the operator's junk rules file, read once at start.
pub(super) fn parse_junk_rules(path: Option<PathBuf>) -> Result<JunkRules, ConfigError> {
    let Some(path) = path.filter(|path| !path.as_os_str().is_empty()) else {
        return Ok(JunkRules::default());
    };
    JunkRules::read(&path).map_err(|message| {
        ConfigError::invalid(
            "LEADHOOK_JUNK_RULES",
            format!("{message}; fix the file or unset LEADHOOK_JUNK_RULES"),
        )
    })
}

/// A duration like `5m` or `90s` within `range`, or `default` when unset.
pub(super) fn parse_duration(
    value: Option<String>,
    var: &'static str,
    default: Duration,
    range: std::ops::RangeInclusive<Duration>,
) -> Result<Duration, ConfigError> {
    let Some(text) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(default);
    };
    let parsed = humantime::parse_duration(&text).map_err(|e| {
        ConfigError::invalid(
            var,
            format!("\"{text}\" is not a duration like 5m or 90s ({e})"),
        )
    })?;
    if !range.contains(&parsed) {
        return Err(ConfigError::invalid(
            var,
            format!(
                "\"{text}\" must be between {} and {}",
                humantime::format_duration(*range.start()),
                humantime::format_duration(*range.end())
            ),
        ));
    }
    Ok(parsed)
}

/// `LEADHOOK_DATA_DIR`, by default `./leadhook-data`.
pub fn data_dir_or_default(data_dir: Option<PathBuf>) -> Result<PathBuf, ConfigError> {
    let data_dir = data_dir.unwrap_or_else(|| PathBuf::from("./leadhook-data"));
    if data_dir.as_os_str().is_empty() {
        return Err(ConfigError::invalid(
            "LEADHOOK_DATA_DIR",
            "is empty; give a directory path",
        ));
    }
    Ok(data_dir)
}

pub(super) fn parse_store(
    url: Option<String>,
    key: Option<SecretString>,
) -> Result<StoreConfig, ConfigError> {
    let url = url
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty());
    let key = key
        .map(|k| k.expose_secret().trim().to_string())
        .filter(|k| !k.is_empty());
    match (url, key) {
        (None, None) => Ok(StoreConfig::Sqlite),
        (Some(_), None) => Err(ConfigError::Missing {
            var: "SUPABASE_SERVICE_ROLE_KEY",
            hint: "SUPABASE_URL is set, so give the service_role key (or SUPABASE_SECRET_KEY) from Project Settings > API Keys",
        }),
        (None, Some(_)) => Err(ConfigError::Missing {
            var: "SUPABASE_URL",
            hint: "a Supabase key is set, so give the project URL like https://<project>.supabase.co/rest/v1",
        }),
        (Some(url), Some(key)) => {
            let parsed = reqwest::Url::parse(&url).map_err(|e| {
                ConfigError::invalid("SUPABASE_URL", format!("\"{url}\" is not a URL ({e})"))
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(ConfigError::invalid(
                    "SUPABASE_URL",
                    "must start with https://",
                ));
            }
            // The project URL alone is a common mistake: PostgREST lives under /rest/v1.
            let url = if parsed.path().trim_end_matches('/').is_empty() {
                format!("{url}/rest/v1")
            } else {
                url
            };
            Ok(StoreConfig::Supabase {
                url,
                key: SecretString::from(key),
            })
        }
    }
}

pub(super) fn parse_number(
    value: Option<String>,
    var: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let Some(text) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(default);
    };
    text.parse()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            ConfigError::invalid(
                var,
                format!(
                    "\"{text}\" is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// Comma-separated Facebook IDs (digits only).
pub(super) fn parse_ids(
    value: Option<String>,
    var: &'static str,
) -> Result<Vec<String>, ConfigError> {
    let text = value.unwrap_or_default();
    let ids: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = ids
        .iter()
        .find(|id| !id.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ConfigError::invalid(
            var,
            format!("\"{bad}\" is not a numeric Facebook ID"),
        ));
    }
    Ok(ids)
}

pub(super) fn parse_graph_url(value: Option<String>) -> Result<String, ConfigError> {
    let url = value.unwrap_or_else(|| DEFAULT_GRAPH_URL.to_string());
    let url = url.trim().trim_end_matches('/').to_string();
    let parsed = reqwest::Url::parse(&url).map_err(|e| {
        ConfigError::invalid("FB_GRAPH_URL", format!("\"{url}\" is not a URL ({e})"))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ConfigError::invalid(
            "FB_GRAPH_URL",
            "must start with https:// (or http:// for a local stand-in)",
        ));
    }
    Ok(url)
}

pub(super) fn parse_public_url(value: Option<String>) -> Result<Option<String>, ConfigError> {
    const VAR: &str = "LEADHOOK_PUBLIC_URL";
    let Some(url) = value
        .map(|v| v.trim().trim_end_matches('/').to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let parsed = reqwest::Url::parse(&url)
        .map_err(|e| ConfigError::invalid(VAR, format!("\"{url}\" is not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ConfigError::invalid(
            VAR,
            format!("\"{url}\" is not an address like https://leads.example.com"),
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(ConfigError::invalid(
            VAR,
            "give the address only, without ?query or #fragment",
        ));
    }
    if parsed.path().ends_with("/webhook") {
        return Err(ConfigError::invalid(
            VAR,
            format!(
                "give the server's address without /webhook, like {}",
                url.trim_end_matches("/webhook")
            ),
        ));
    }
    Ok(Some(url))
}

pub(super) fn parse_graph_version(value: Option<String>) -> Result<String, ConfigError> {
    let version = value
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| DEFAULT_GRAPH_VERSION.to_string());
    let valid = version
        .strip_prefix('v')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.bytes().all(|b| b.is_ascii_digit())
        });
    if valid {
        Ok(version)
    } else {
        Err(ConfigError::invalid(
            "FB_GRAPH_VERSION",
            format!("\"{version}\" is not a Graph API version like {DEFAULT_GRAPH_VERSION}"),
        ))
    }
}

pub(super) fn parse_api_tokens(value: Option<SecretString>) -> Result<Vec<ApiToken>, ConfigError> {
    const VAR: &str = "LEADHOOK_API_TOKENS";
    let text = value.as_ref().map_or("", |text| text.expose_secret());
    let mut tokens: Vec<ApiToken> = Vec::new();
    for (index, pair) in text
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        let (name, token) = pair.split_once(':').ok_or_else(|| {
            ConfigError::invalid(
                VAR,
                format!(
                    "entry {} has no ':'; write name:token pairs like alice:s3cret",
                    index + 1
                ),
            )
        })?;
        // `name:role:token` sets a role; `name:token`, the older form, keeps every power.
        let (role, token, role_given) = match token.split_once(':') {
            Some((role, rest)) => match role.parse::<Role>() {
                Ok(role) => (role, rest, true),
                Err(_) => (Role::Admin, token, false),
            },
            None => (Role::Admin, token, false),
        };
        let (name, token) = (name.trim(), token.trim());
        if name.is_empty() || token.is_empty() {
            return Err(ConfigError::invalid(
                VAR,
                format!("entry {} needs both a name and a token", index + 1),
            ));
        }
        crate::reps::valid_name(name)
            .map_err(|e| ConfigError::invalid(VAR, format!("entry {}: {e}", index + 1)))?;
        if token.len() < 8 {
            return Err(ConfigError::invalid(
                VAR,
                format!(
                    "the token of \"{name}\" is shorter than 8 characters; use a long random one"
                ),
            ));
        }
        if tokens.iter().any(|t| t.name == name) {
            return Err(ConfigError::invalid(
                VAR,
                format!("\"{name}\" appears twice"),
            ));
        }
        if tokens.iter().any(|t| t.token.expose_secret() == token) {
            return Err(ConfigError::invalid(
                VAR,
                format!("the token of \"{name}\" is used by another rep too"),
            ));
        }
        tokens.push(ApiToken {
            name: name.to_string(),
            role,
            token: SecretString::from(token.to_string()),
            role_given,
        });
    }
    // Empty is fine: the reps may all be in the store (`leadhook-server reps add`).
    Ok(tokens)
}

pub(super) fn parse_visibility(value: Option<String>) -> Result<Visibility, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("") | Some("team") => Ok(Visibility::Team),
        Some("own") => Ok(Visibility::Own),
        Some(other) => Err(ConfigError::invalid(
            "LEADHOOK_VISIBILITY",
            format!(
                "\"{other}\" is not a visibility; use team (reps see every lead) or own (reps see their own and unowned leads)"
            ),
        )),
    }
}
