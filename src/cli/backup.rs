//! `matelot backup ...`: listing and taking backups. Clap types only; the handlers are in
//! `commands/backup.rs`.

use clap::{Args, Subcommand};

use super::app::APP_HELP;

const EXIT_CODES: &str = "Exit codes: 0 done, 1 failed (the message says why and what to do), 2 \
usage or configuration error, or APP matches no app or several.";

#[derive(Debug, Subcommand)]
pub enum BackupCmd {
    /// List backups: the Cloudron's platform backups (default), or one app's
    #[command(after_help = format!("Examples:
  matelot backup list                  the Cloudron's platform backups
  matelot backup list --cloudron
  matelot backup list --app matomo     one app's backups, newest first
  matelot backup list --app matomo --json | jq -r '.backups[0].id'

{EXIT_CODES}"))]
    List(ListArgs),

    /// Take backups now, wait for them and verify each is listed (cron-safe)
    #[command(after_help = format!("Examples:
  matelot backup run --cloudron        a platform backup of the whole Cloudron
  matelot -q backup run --cloudron     in cron: the backup id on stdout, errors on stderr
  matelot --check backup run --cloudron

With no selection, every configured target is backed up (today: the Cloudron). A backup counts
only when its task succeeded AND it is listed afterwards.

{EXIT_CODES}"))]
    Run(RunArgs),
}

/// `backup list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// The Cloudron's platform backups
    #[arg(long)]
    pub cloudron: bool,
    /// One app's backups
    #[arg(long, value_name = "APP", conflicts_with = "cloudron", long_help = APP_HELP)]
    pub app: Option<String>,
}

/// `backup run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Back up the Cloudron (a platform backup: every app with automatic backups on, and the
    /// platform itself)
    #[arg(long)]
    pub cloudron: bool,
}
