//! Command line, environment and config file, merged into [`Settings`].
//!
//! Precedence: flags beat environment (both handled by clap's `env`), which beat the config
//! file (`<config dir>/leadhook/config.toml`), which beats the built-in defaults. The token is
//! never a flag ([`leadhook_shared::secret_args`]): it comes from `LEADHOOK_TOKEN`,
//! `--token-file` or the config file, and the files must be private.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use leadhook_shared::secret_args::{SecretFileError, ensure_private, read_secret_file};
use serde::Deserialize;

use crate::hyperlink::HyperlinkMode;
use crate::reach::OpenMode;
use crate::report::ReportArgs;

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(3);
const MIN_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Debug, Parser)]
#[command(
    name = "leadhook",
    version,
    about = "Real-time Facebook Lead Ads dashboard"
)]
pub struct Cli {
    /// Base URL of the leadhook server [default: http://127.0.0.1:8080]
    #[arg(long, env = "LEADHOOK_SERVER", global = true)]
    pub server: Option<String>,
    /// File holding the API token, one of the server's LEADHOOK_API_TOKENS (or set LEADHOOK_TOKEN)
    #[arg(
        long,
        env = "LEADHOOK_TOKEN_FILE",
        value_name = "PATH",
        value_parser = token_file,
        global = true
    )]
    pub token_file: Option<String>,
    /// Refused on the command line, where `ps` shows it (see `secret_args`): environment only.
    #[arg(
        long,
        env = "LEADHOOK_TOKEN",
        global = true,
        hide_env_values = true,
        hide = true
    )]
    pub token: Option<String>,
    /// How often to poll when push is unavailable, e.g. 3s or 500ms [default: 3s]
    #[arg(long, value_parser = parse_interval, global = true)]
    pub interval: Option<Duration>,
    /// Don't send desktop notifications (toasts still appear)
    #[arg(long, global = true)]
    pub no_notify: bool,
    /// Config file to read instead of <config dir>/leadhook/config.toml
    #[arg(long, env = "LEADHOOK_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Format of the log file: text, or json (one object a line) for log collectors
    #[arg(
        long,
        env = "LEADHOOK_LOG_FORMAT",
        value_enum,
        default_value_t,
        global = true
    )]
    pub log_format: LogFormat,
    /// Terminal hyperlinks (OSC 8) on the details' phone, WhatsApp and e-mail: auto, on or off [default: auto: on when stdout is a terminal whose TERM is not dumb or linux]
    #[arg(long, env = "LEADHOOK_HYPERLINKS", value_enum, global = true)]
    pub hyperlinks: Option<HyperlinkMode>,
    /// Whether o, w and e open the lead's phone, WhatsApp or e-mail with the system's opener: auto, on or off [default: auto: when in a graphical session on this computer, not over SSH]
    #[arg(long, env = "LEADHOOK_OPEN", value_enum, global = true)]
    pub open: Option<OpenMode>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// No screen: print each new lead as one line, for scripts
    Watch {
        /// One JSON object per line instead of tab-separated text
        #[arg(long)]
        json: bool,
    },
    /// Print the manager's figures for a period: which sources bring customers, the team's speed
    /// and each rep's figures (managers and admins)
    Report(ReportArgs),
    /// Print a shell completion script, e.g. `leadhook completions bash > ~/.local/share/bash-completion/completions/leadhook`
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff), e.g. `leadhook man | man -l -`
    Man,
}

/// How lines are written to the log file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (the default)
    #[default]
    Text,
    /// One JSON object a line: timestamp, level, target, message and the other fields
    Json,
}

/// The config file: the same keys as the flags.
#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    pub server: Option<String>,
    pub token: Option<String>,
    pub interval: Option<String>,
    pub no_notify: Option<bool>,
    pub hyperlinks: Option<HyperlinkMode>,
    pub open: Option<OpenMode>,
}

/// What a run uses, after merging flags, environment, file and defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub server: String,
    pub token: Option<String>,
    pub interval: Duration,
    pub notify: bool,
    pub hyperlinks: HyperlinkMode,
    pub open: OpenMode,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {} is invalid: {message}; allowed keys are server, token, interval, no-notify, hyperlinks, open", path.display())]
    Parse { path: PathBuf, message: String },
    #[error(
        "invalid interval \"{0}\": write seconds like 3 or 3s, or milliseconds like 500ms (at least 100ms)"
    )]
    Interval(String),
    #[error("invalid server URL \"{0}\": write it like http://127.0.0.1:8080")]
    Server(String),
    #[error("config file holds the API token, but {0}")]
    ExposedToken(SecretFileError),
}

impl Settings {
    /// Merges the command line (flags and environment) with the config file it names, or the
    /// default one if that exists.
    pub fn load(cli: &Cli) -> Result<Settings, ConfigError> {
        let file = match &cli.config {
            Some(path) => read_file(path)?,
            None => match default_config_path() {
                Some(path) if path.exists() => read_file(&path)?,
                _ => FileConfig::default(),
            },
        };
        Settings::merge(cli, file)
    }

    pub fn merge(cli: &Cli, file: FileConfig) -> Result<Settings, ConfigError> {
        let server = cli
            .server
            .clone()
            .or(file.server)
            .unwrap_or_else(|| DEFAULT_SERVER.to_string());
        let server = server.trim().trim_end_matches('/').to_string();
        match reqwest::Url::parse(&server) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => return Err(ConfigError::Server(server)),
        }
        let interval = match (cli.interval, file.interval) {
            (Some(interval), _) => interval,
            (None, Some(text)) => parse_interval(&text)?,
            (None, None) => DEFAULT_INTERVAL,
        };
        let token = cli
            .token_file
            .clone()
            .or_else(|| cli.token.clone())
            .or(file.token)
            .filter(|token| !token.trim().is_empty());
        Ok(Settings {
            server,
            token,
            interval,
            notify: !(cli.no_notify || file.no_notify.unwrap_or(false)),
            hyperlinks: cli.hyperlinks.or(file.hyperlinks).unwrap_or_default(),
            open: cli.open.or(file.open).unwrap_or_default(),
        })
    }
}

/// `<config dir>/leadhook/config.toml`, e.g. `~/.config/leadhook/config.toml` on Linux.
pub fn default_config_path() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|dirs| dirs.config_dir().join("leadhook").join("config.toml"))
}

/// The config file at `path`; refused when it holds a token that group or others can read.
fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let unreadable = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    let file: FileConfig = toml::from_str(&text).map_err(|err| ConfigError::Parse {
        path: path.to_path_buf(),
        message: err.message().to_string(),
    })?;
    if file.token.is_some() {
        let metadata = std::fs::metadata(path).map_err(unreadable)?;
        ensure_private(path, &metadata).map_err(ConfigError::ExposedToken)?;
    }
    Ok(file)
}

/// The clap parser of `--token-file PATH`: the token in that file, which only its owner may read.
fn token_file(path: &str) -> Result<String, SecretFileError> {
    read_secret_file(Path::new(path))
}

/// A warning for a token sent over plain HTTP to `server` beyond this machine, where anyone on
/// the way can read it; `None` for HTTPS, loopback, or without a token.
pub fn cleartext_token_warning(server: &str, has_token: bool) -> Option<String> {
    let url = reqwest::Url::parse(server).ok()?;
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback());
    (has_token && url.scheme() == "http" && !loopback).then(|| {
        format!(
            "warning: the API token travels unencrypted to {server}, readable by anyone on the way; \
             use https:// (a TLS proxy in front of the server)"
        )
    })
}

/// `3`, `3s`, `1.5s` or `500ms`.
pub fn parse_interval(text: &str) -> Result<Duration, ConfigError> {
    let invalid = || ConfigError::Interval(text.to_string());
    let trimmed = text.trim();
    let (number, scale) = if let Some(ms) = trimmed.strip_suffix("ms") {
        (ms, 0.001)
    } else {
        (trimmed.strip_suffix('s').unwrap_or(trimmed), 1.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| invalid())?;
    let duration = Duration::try_from_secs_f64(value * scale).map_err(|_| invalid())?;
    if duration < MIN_INTERVAL {
        return Err(invalid());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        let mut argv = vec!["leadhook"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("valid arguments")
    }

    #[test]
    fn intervals_accept_seconds_and_milliseconds() {
        assert_eq!(parse_interval("3").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_interval("3s").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_interval("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_interval("500ms").unwrap(), Duration::from_millis(500));
        for bad in ["", "fast", "0", "10ms", "-1s"] {
            assert!(parse_interval(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn flags_beat_file_and_file_beats_defaults() {
        let file = FileConfig {
            server: Some("http://file:1".into()),
            token: Some("file-token".into()),
            interval: Some("10s".into()),
            no_notify: Some(true),
            hyperlinks: Some(HyperlinkMode::Off),
            open: Some(OpenMode::On),
        };
        let settings = Settings::merge(
            &cli(&[
                "--server",
                "http://flag:2/",
                "--interval",
                "1s",
                "--hyperlinks",
                "on",
            ]),
            file,
        )
        .unwrap();
        assert_eq!(settings.server, "http://flag:2");
        assert_eq!(settings.interval, Duration::from_secs(1));
        assert_eq!(settings.token.as_deref(), Some("file-token"));
        assert!(!settings.notify);
        assert_eq!(settings.hyperlinks, HyperlinkMode::On);
        assert_eq!(settings.open, OpenMode::On);

        let defaults = Settings::merge(&cli(&[]), FileConfig::default()).unwrap();
        assert_eq!(defaults.server, DEFAULT_SERVER);
        assert_eq!(defaults.interval, DEFAULT_INTERVAL);
        assert!(defaults.notify);
        assert_eq!(defaults.hyperlinks, HyperlinkMode::Auto);
        assert_eq!(defaults.open, OpenMode::Auto);
    }

    #[test]
    fn config_file_uses_the_flag_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "server = \"http://x:9\"\ninterval = \"2s\"\nno-notify = true\nhyperlinks = \"off\"\nopen = \"off\"\n",
        )
        .unwrap();
        let file = read_file(&path).unwrap();
        assert_eq!(file.server.as_deref(), Some("http://x:9"));
        assert_eq!(file.no_notify, Some(true));
        assert_eq!(file.hyperlinks, Some(HyperlinkMode::Off));
        assert_eq!(file.open, Some(OpenMode::Off));

        std::fs::write(&path, "sever = \"typo\"\n").unwrap();
        let err = read_file(&path).unwrap_err().to_string();
        assert!(err.contains("allowed keys"), "{err}");
    }

    #[test]
    fn bad_server_url_says_how_to_write_it() {
        let err = Settings::merge(&cli(&["--server", "localhost:8080"]), FileConfig::default())
            .unwrap_err();
        assert!(err.to_string().contains("http://127.0.0.1:8080"));
    }

    fn private_file(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        #[cfg(not(unix))]
        let _ = mode;
        path
    }

    #[test]
    fn the_token_file_is_read_without_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = private_file(dir.path(), "token", "file-token\n", 0o600);
        let shown = path.display().to_string();
        let cli: Cli = leadhook_shared::secret_args::try_parse_from([
            "leadhook",
            "--token-file",
            shown.as_str(),
        ])
        .unwrap();
        let settings = Settings::merge(&cli, FileConfig::default()).unwrap();
        assert_eq!(settings.token.as_deref(), Some("file-token"));
    }

    #[cfg(unix)]
    #[test]
    fn a_config_file_holding_a_token_others_can_read_is_refused_with_chmod() {
        let dir = tempfile::tempdir().unwrap();
        let exposed = private_file(dir.path(), "exposed.toml", "token = \"t0ken-123\"\n", 0o644);
        let shown = exposed.display().to_string();
        let err = Settings::load(&cli(&["--config", &shown]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&shown) && err.ends_with(&format!("run chmod 600 {shown}")),
            "{err}"
        );
        assert!(!err.contains("t0ken-123"), "{err}");

        let private = private_file(dir.path(), "private.toml", "token = \"t0ken-123\"\n", 0o600);
        let cli_private = cli(&["--config", &private.display().to_string()]);
        let settings = Settings::load(&cli_private).unwrap();
        assert_eq!(settings.token.as_deref(), Some("t0ken-123"));

        let tokenless = private_file(dir.path(), "tokenless.toml", "interval = \"2s\"\n", 0o644);
        let cli_tokenless = cli(&["--config", &tokenless.display().to_string()]);
        assert!(
            Settings::load(&cli_tokenless).is_ok(),
            "no token, nothing to protect"
        );
    }

    #[test]
    fn a_token_over_plain_http_to_another_host_is_warned_about() {
        for server in [
            "http://leads.example.com",
            "http://10.0.0.5:8080",
            "http://[2001:db8::1]:8080",
            "http://localhost.example.com",
        ] {
            let warning = cleartext_token_warning(server, true)
                .unwrap_or_else(|| panic!("{server} must be warned about"));
            assert!(
                warning.contains(server) && warning.contains("https://"),
                "{warning}"
            );
        }
        for server in [
            "https://leads.example.com",
            "http://127.0.0.1:8080",
            "http://127.8.9.10",
            "http://[::1]:8080",
            "http://localhost:8080",
            "http://LOCALHOST",
        ] {
            assert_eq!(cleartext_token_warning(server, true), None, "{server}");
        }
        assert_eq!(
            cleartext_token_warning("http://leads.example.com", false),
            None
        );
    }

    #[test]
    fn watch_subcommand_takes_json() {
        assert_eq!(
            cli(&["watch", "--json"]).command,
            Some(Command::Watch { json: true })
        );
    }
}
