//! `leadhook-server reps ...`: adds, lists, rotates, changes and removes the reps in the store the
//! server's settings select. A running server (every replica) picks each change up within a few
//! seconds. Tokens go to standard output, once; notes go to standard error.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use leadhook_shared::Role;
use leadhook_shared::team::actor::SYSTEM;
use secrecy::{ExposeSecret as _, SecretString};

use super::{NameError, token, valid_name};
use crate::config::{ConfigError, SupabaseArgs, data_dir_or_default};
use crate::store::{self, Rotation, StoreError};

/// Longest grace period of a rotation.
const MAX_GRACE: Duration = Duration::from_secs(30 * 86_400);

#[derive(Debug, Subcommand)]
pub enum RepsCommand {
    /// Add a rep and print their new token (shown this once).
    Add {
        name: String,
        /// What the rep may do: rep (their own and unowned leads), manager (the team), admin.
        #[arg(long)]
        role: Role,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the reps in the store: name, role, created, last used.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Give a rep a new token and print it (shown this once).
    Rotate {
        name: String,
        /// How long the old token keeps working, like 1h or 30m; by default it stops at once.
        #[arg(long, value_parser = humantime::parse_duration)]
        grace: Option<Duration>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Change a rep's role.
    SetRole {
        name: String,
        role: Role,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove a rep: their token stops working and their open leads go back to the queue.
    Remove {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Which store: the same settings as `leadhook-server serve`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Directory of the embedded lead store (leads.db).
    #[arg(long = "data-dir", env = "LEADHOOK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub supabase: SupabaseArgs,
}

#[derive(Debug, thiserror::Error)]
pub enum RepsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid rep name: {0}")]
    Name(#[from] NameError),
    #[error(
        "a rep named \"{0}\" exists already: choose another name, or run `leadhook-server reps rotate {0}` to give them a new token"
    )]
    Taken(String),
    #[error(
        "no rep named \"{0}\" in the store: `leadhook-server reps list` shows them (reps of LEADHOOK_API_TOKENS are changed there)"
    )]
    Unknown(String),
    #[error("the grace period may be at most 30 days")]
    GraceTooLong,
    #[error("cannot make a random token: {0}")]
    Random(#[from] rand::rand_core::OsError),
}

impl RepsError {
    /// Whether the settings are to blame (exit status 2, like a usage error).
    pub fn is_config(&self) -> bool {
        matches!(self, RepsError::Config(_))
    }
}

/// Runs one `reps` command, printing as it goes.
pub async fn run(command: RepsCommand) -> Result<(), RepsError> {
    match command {
        RepsCommand::Add { name, role, store } => {
            let name = valid_name(&name)?;
            let reps = open(store).await?;
            let token = token::generate()?;
            if !reps
                .add_rep(name, role, &token::hash(token.expose_secret()), Utc::now())
                .await?
            {
                return Err(RepsError::Taken(name.to_string()));
            }
            eprintln!("added {name} ({role}); their token:");
            show_once(&token);
        }
        RepsCommand::List { store } => {
            let reps = open(store).await?.list_reps().await?;
            if reps.is_empty() {
                eprintln!(
                    "no reps in the store yet: add one with `leadhook-server reps add NAME --role admin`"
                );
            } else {
                print!("{}", table(&reps));
            }
        }
        RepsCommand::Rotate { name, grace, store } => {
            if grace.is_some_and(|grace| grace > MAX_GRACE) {
                return Err(RepsError::GraceTooLong);
            }
            let name = name.trim();
            let reps = open(store).await?;
            let token = token::generate()?;
            let now = Utc::now();
            let previous_valid_until = grace
                .filter(|grace| !grace.is_zero())
                .and_then(|grace| chrono::TimeDelta::from_std(grace).ok())
                .map(|grace| now + grace);
            let rotation = Rotation {
                token_hash: &token::hash(token.expose_secret()),
                previous_valid_until,
            };
            if !reps.rotate_rep(name, rotation).await? {
                return Err(RepsError::Unknown(name.to_string()));
            }
            match previous_valid_until {
                Some(until) => eprintln!("{name}'s old token works until {}", format_time(until)),
                None => eprintln!("{name}'s old token stops working within a few seconds"),
            }
            eprintln!("{name}'s new token:");
            show_once(&token);
        }
        RepsCommand::SetRole { name, role, store } => {
            let name = name.trim();
            if !open(store).await?.set_rep_role(name, role).await? {
                return Err(RepsError::Unknown(name.to_string()));
            }
            println!("{name} is now {role}");
        }
        RepsCommand::Remove { name, store } => {
            let name = name.trim();
            let released = open(store)
                .await?
                .remove_rep(name, SYSTEM)
                .await?
                .ok_or_else(|| RepsError::Unknown(name.to_string()))?;
            println!(
                "removed {name}: {released} open lead(s) went back to the unowned queue; their history keeps the name"
            );
        }
    }
    Ok(())
}

async fn open(args: StoreArgs) -> Result<std::sync::Arc<dyn store::LeadStore>, RepsError> {
    let data_dir = data_dir_or_default(args.data_dir)?;
    Ok(store::open_at(&data_dir, &args.supabase.store()?).await?)
}

/// The token alone on standard output (for scripts), the warning beside it on standard error.
fn show_once(token: &SecretString) {
    println!("{}", token.expose_secret());
    eprintln!(
        "This token will not be shown again: give it to the rep now (the dashboard reads it from LEADHOOK_TOKEN or a private file given with --token-file)."
    );
}

fn format_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn table(reps: &[crate::store::StoredRep]) -> String {
    let rows: Vec<[String; 4]> = reps
        .iter()
        .map(|rep| {
            [
                rep.name.clone(),
                rep.role.to_string(),
                format_time(rep.created_at),
                rep.last_used_at.map_or_else(|| "never".into(), format_time),
            ]
        })
        .collect();
    let header = ["NAME", "ROLE", "CREATED", "LAST USED"].map(str::to_string);
    let widths: Vec<usize> = (0..4)
        .map(|column| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    std::iter::once(&header)
        .chain(&rows)
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            format!("{}\n", cells.join("  ").trim_end())
        })
        .collect()
}
