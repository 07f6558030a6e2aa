//! Command-line types (clap) and nothing else: no I/O, no logic. Each noun has its own file.
//! Handlers in `commands/` turn these into validated requests for the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::ColorChoice;

/// `--color auto|always|never` as clap sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorArg {
    #[default]
    Auto,
    Always,
    Never,
}

impl From<ColorArg> for ColorChoice {
    fn from(c: ColorArg) -> Self {
        match c {
            ColorArg::Auto => ColorChoice::Auto,
            ColorArg::Always => ColorChoice::Always,
            ColorArg::Never => ColorChoice::Never,
        }
    }
}

pub mod app;
pub mod backup;
pub mod config;
pub mod host;
pub mod journal;
pub mod lab;
pub mod lock;
pub mod undo;
pub mod user;

const ABOUT: &str = "Run a small organisation's shared compute server and Cloudron, safely.";

const LONG_ABOUT: &str = "\
matelot provisions people's accounts on a shared compute server (over SSH) and a Cloudron \
instance (over its REST API), runs and verifies backups, takes a verified restore point before \
anything destructive, checks health, and keeps a journal of every change with a way to undo it.

The Matomo rule: nothing destructive happens without a fresh, verified restore point, an explicit \
confirmation, and a journal entry that says how to undo it.";

const EXAMPLES: &str = "\
Examples:
  matelot lab tour                     a guided walk through the whole job on a local lab
  matelot config check                 validate the configuration
  matelot app list                     the Cloudron's apps, their state and health
  matelot user sync people.csv --check what onboarding this roster would change
  matelot -q backup run --ping URL     the nightly backup, as cron runs it
  matelot app uninstall analytics.example.org    guarded: restore point, typed confirmation
  matelot journal list --since 7d      what was changed in the last week, and how to undo it
  matelot completions bash > /etc/bash_completion.d/matelot

Exit codes: 0 done, 1 failed, 2 usage or configuration error, 3 refused or declined (nothing
changed), 4 partly applied (see the journal), 75 another matelot run holds the lock, 130
interrupted by a signal (the journal says what is known).";

/// The whole command line.
#[derive(Debug, Parser)]
#[command(
    name = "matelot",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Configuration file (default: ./matelot.toml, then the user's and the system's config);
    /// also MATELOT_CONFIG
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// State directory for the journal, lock and known hosts; also MATELOT_STATE_DIR
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Print exactly one JSON document on stdout
    #[arg(long, global = true)]
    pub json: bool,
    /// Only warnings and errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail on stderr
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// When to use colour (NO_COLOR and TERM=dumb are honoured with auto)
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN")]
    pub color: ColorArg,
    /// Never prompt; a question that needs an answer becomes an error
    #[arg(long, global = true)]
    pub no_input: bool,
    /// Gather facts and print the plan, change nothing (mutating commands)
    #[arg(long, global = true)]
    pub check: bool,
}

impl GlobalArgs {
    /// The flags as plain settings for the library.
    pub fn settings(&self) -> crate::ctx::Settings {
        crate::ctx::Settings {
            config: self.config.clone(),
            state_dir: self.state_dir.clone(),
            json: self.json,
            quiet: self.quiet,
            verbose: self.verbose,
            color: self.color.into(),
            no_input: self.no_input,
            check: self.check,
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate or show the configuration
    #[command(subcommand)]
    Config(config::ConfigCmd),
    /// Compute hosts: list them, check a connection, trust a host key
    #[command(subcommand, after_help = host::HOST_EXAMPLES)]
    Host(host::HostCmd),
    /// The Cloudron's apps: list, show, start, stop, restart, back up
    #[command(subcommand)]
    App(app::AppCmd),
    /// Backups: list them, take them now (cron-safe)
    #[command(subcommand)]
    Backup(backup::BackupCmd),
    /// The rehearsal lab: a Cloudron emulator (and sandboxed compute hosts)
    #[command(
        subcommand,
        after_help = "Examples:\n  matelot lab up && matelot --config lab/matelot.toml app list\n  matelot lab status\n  matelot lab down\n  matelot lab serve-cloudron --listen 127.0.0.1:8443"
    )]
    Lab(lab::LabCmd),
    /// Read the operations journal: what was changed, by whom, and how to undo it
    #[command(subcommand)]
    Journal(journal::JournalCmd),
    /// Undo an operation from the journal (from its restore point)
    #[command(after_help = undo::UNDO_EXAMPLES)]
    Undo(undo::UndoArgs),
    /// Show whether another matelot run holds the run lock
    #[command(subcommand)]
    Lock(lock::LockCmd),
    /// People's accounts on the compute hosts and the Cloudron: list, add, lock, unlock, sync, remove
    #[command(
        subcommand,
        after_help = "Examples:\n  matelot user list\n  matelot user add alice --email alice@example.org --key alice.pub --group physics\n  matelot --check user sync people.csv\n  matelot user lock bob --yes\n  matelot user remove bob --confirm bob"
    )]
    User(user::UserCmd),
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  matelot completions bash > /etc/bash_completion.d/matelot\n  matelot completions zsh > \"${fpath[1]}/_matelot\"\n  matelot completions fish > ~/.config/fish/completions/matelot.fish"
    )]
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout
    #[command(
        after_help = "Examples:\n  matelot man > /usr/local/share/man/man1/matelot.1\n  matelot man | man -l -"
    )]
    Man,
}
