//! Secrets (tokens, keys) never on a command line: every local user reads a process's arguments
//! in `ps` or /proc. A secret comes from its environment variable or from `--<flag>-file PATH`,
//! a file only its owner can read (refused otherwise, as ssh refuses an open private key).
//!
//! A secret flag is an argument declared with `hide_env_values = true`: [`parse`] refuses any of
//! them given on the command line, while the same argument filled from the environment passes.

use std::ffi::OsString;
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, Command, Parser};

/// A secret flag given with its value on the command line.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("--{flag} puts the secret in `ps` for every local user; use {env} or --{flag}-file")]
pub struct SecretOnCommandLine {
    pub flag: String,
    pub env: String,
}

/// A secret file that cannot be read, or that others can read.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} can be read by group or others (mode {mode:03o}): run chmod 600 {}",
        path.display(),
        path.display()
    )]
    Exposed { path: PathBuf, mode: u32 },
}

/// `C::parse()`, refusing secret flags given on the command line; errors exit with status 2.
pub fn parse<C: Parser>() -> C {
    try_parse_from(std::env::args_os()).unwrap_or_else(|error| error.exit())
}

/// `C::try_parse_from(args)`, refusing secret flags given on the command line.
pub fn try_parse_from<C, I, T>(args: I) -> Result<C, clap::Error>
where
    C: Parser,
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut command = C::command();
    let matches = command.try_get_matches_from_mut(args)?;
    refuse_secret_flags(&command, &matches).map_err(|refused| {
        clap::Error::raw(ErrorKind::ValueValidation, format!("{refused}\n")).with_cmd(&command)
    })?;
    C::from_arg_matches(&matches).map_err(|error| error.with_cmd(&command))
}

/// The first secret flag (`hide_env_values`) of `command` or its chosen subcommands whose value
/// came from the command line rather than the environment.
pub fn refuse_secret_flags(
    command: &Command,
    matches: &ArgMatches,
) -> Result<(), SecretOnCommandLine> {
    let refused = command
        .get_arguments()
        .filter(|arg| arg.is_hide_env_values_set())
        .find(|arg| matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine));
    if let Some(arg) = refused {
        return Err(SecretOnCommandLine {
            flag: arg.get_long().unwrap_or(arg.get_id().as_str()).to_string(),
            env: arg
                .get_env()
                .map(|env| env.to_string_lossy().into_owned())
                .unwrap_or_default(),
        });
    }
    match matches.subcommand() {
        Some((name, sub_matches)) => command
            .find_subcommand(name)
            .map_or(Ok(()), |sub| refuse_secret_flags(sub, sub_matches)),
        None => Ok(()),
    }
}

/// The secret in the file at `path`, without one trailing newline; refused when group or others
/// can read the file.
pub fn read_secret_file(path: &Path) -> Result<String, SecretFileError> {
    let unreadable = |source| SecretFileError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(unreadable)?;
    ensure_private(path, &file.metadata().map_err(unreadable)?)?;
    let mut secret = String::new();
    file.read_to_string(&mut secret).map_err(unreadable)?;
    let trimmed = secret.strip_suffix('\n').unwrap_or(&secret);
    Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_string())
}

/// Refuses a file holding a secret that group or others can read (`chmod 600` fixes it).
pub fn ensure_private(path: &Path, metadata: &std::fs::Metadata) -> Result<(), SecretFileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretFileError::Exposed {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (path, metadata);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[derive(Debug, Parser)]
    struct Cli {
        #[arg(
            long,
            env = "SECRET_ARGS_TEST_TOKEN",
            hide_env_values = true,
            hide = true
        )]
        token: Option<String>,
        #[arg(long)]
        server: Option<String>,
        #[command(subcommand)]
        command: Option<Sub>,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Sub {
        Check {
            #[arg(long, env = "SECRET_ARGS_TEST_KEY", hide_env_values = true)]
            key: Option<String>,
        },
    }

    #[test]
    fn a_secret_flag_on_the_command_line_is_refused_with_the_way_out() {
        let error = try_parse_from::<Cli, _, _>(["cli", "--token", "abc"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error.to_string().contains(
                "--token puts the secret in `ps` for every local user; \
                 use SECRET_ARGS_TEST_TOKEN or --token-file"
            ),
            "{error}"
        );
        let error = try_parse_from::<Cli, _, _>(["cli", "check", "--key=abc"]).unwrap_err();
        assert!(error.to_string().contains("--key puts"), "{error}");
    }

    #[test]
    fn other_flags_pass() {
        let cli = try_parse_from::<Cli, _, _>(["cli", "--server", "http://x", "check"]).unwrap();
        assert_eq!(cli.server.as_deref(), Some("http://x"));
    }

    #[test]
    fn a_secret_from_the_environment_passes() {
        let command = Cli::command();
        let matches = command
            .clone()
            .mut_arg("token", |arg| arg.env("PATH"))
            .try_get_matches_from(["cli"])
            .unwrap();
        assert_eq!(
            matches.value_source("token"),
            Some(ValueSource::EnvVariable)
        );
        assert_eq!(refuse_secret_flags(&command, &matches), Ok(()));
    }

    fn secret_file(text: &str, mode: u32) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        (dir, path)
    }

    #[test]
    fn a_secret_file_loses_one_trailing_newline() {
        let (_dir, path) = secret_file("s3cret\n", 0o600);
        assert_eq!(read_secret_file(&path).unwrap(), "s3cret");
        let (_dir, path) = secret_file("s3cret\r\n\n", 0o400);
        assert_eq!(read_secret_file(&path).unwrap(), "s3cret\r\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_file_others_can_read_is_refused_with_chmod() {
        for mode in [0o644, 0o640, 0o604, 0o660] {
            let (_dir, path) = secret_file("s3cret\n", mode);
            let error = read_secret_file(&path).unwrap_err().to_string();
            let shown = path.display();
            assert!(
                error.contains(&format!("{shown} can be read by group or others"))
                    && error.ends_with(&format!("run chmod 600 {shown}")),
                "{error}"
            );
        }
    }

    #[test]
    fn a_missing_secret_file_names_the_file() {
        let error = read_secret_file(Path::new("/nonexistent/secret"))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("cannot read /nonexistent/secret"),
            "{error}"
        );
    }
}
