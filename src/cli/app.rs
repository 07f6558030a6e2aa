//! `matelot app ...`: the Cloudron's apps. Clap types only; the handlers are in
//! `commands/app.rs`.

use clap::{Args, Subcommand};

/// How an APP argument is read, shared by every command that takes one.
pub const APP_HELP: &str = "The app: its id, subdomain (matomo), FQDN (matomo.example.org), URL \
(https://matomo.example.org/), or its label or title when no other app claims that word. Case does \
not matter; a name that matches several apps is an error listing them";

const EXIT_CODES: &str = "Exit codes: 0 done, 1 failed (the message says why and what to do), 2 \
usage or configuration error, or APP matches no app or several, 3 declined or refused (nothing \
changed).";

#[derive(Debug, Subcommand)]
pub enum AppCmd {
    /// List the Cloudron's apps with their state, health and version
    #[command(after_help = format!("Examples:
  matelot app list
  matelot app list --json | jq -r '.apps[] | select(.health != \"healthy\") | .fqdn'

{EXIT_CODES}"))]
    List,

    /// Show one app in detail
    #[command(after_help = format!("Examples:
  matelot app show matomo
  matelot app show https://analytics.example.org/ --json

{EXIT_CODES}"))]
    Show(AppArg),

    /// Start a stopped app and wait until it runs
    #[command(after_help = format!("Examples:
  matelot app start wiki
  matelot --check app start wiki       say what would happen, change nothing

{EXIT_CODES}"))]
    Start(AppArg),

    /// Stop an app and wait until it is stopped (asks first; --yes in scripts)
    #[command(after_help = format!("Examples:
  matelot app stop chat                asks y/N on a terminal
  matelot app stop chat --yes          in a script or cron job
  matelot --check app stop chat        say what would happen, change nothing

Without a terminal to ask on (or with --no-input), stop needs --yes, or it exits 3 and changes
nothing.

{EXIT_CODES}"))]
    Stop(StopArgs),

    /// Restart an app and wait until it runs again
    #[command(after_help = format!("Examples:
  matelot app restart cloud
  matelot --check app restart cloud

{EXIT_CODES}"))]
    Restart(AppArg),

    /// Back up one app now, wait, verify the backup is listed, and print its id
    #[command(after_help = format!("Examples:
  matelot app backup matomo
  matelot app backup matomo --label before-upgrade --keep-days 30
  id=$(matelot -q app backup matomo)   the backup id alone on stdout

The backup counts only when its task succeeded AND the Cloudron lists it afterwards; a label
and --keep-days are set on it and checked too.

{EXIT_CODES}"))]
    Backup(BackupArgs),

    /// Uninstall an app, after a verified, preserved backup (guarded: type its FQDN)
    #[command(after_help = format!("{}\n\n{EXIT_CODES}", crate::cli::app_guarded::UNINSTALL_EXAMPLES))]
    Uninstall(crate::cli::app_guarded::SevereArgs),

    /// Overwrite an app's data with one of its backups, after a verified backup of what is
    /// there now (guarded: type its FQDN)
    #[command(after_help = format!("{}\n\n{EXIT_CODES}", crate::cli::app_guarded::RESTORE_EXAMPLES))]
    Restore(crate::cli::app_guarded::RestoreArgs),

    /// Protect an app: destructive commands refuse it until `app unprotect`
    #[command(after_help = format!("{}\n\n{EXIT_CODES}", crate::cli::app_guarded::PROTECT_EXAMPLES))]
    Protect(AppArg),

    /// Remove a protection set with `app protect` (asks first; --yes in scripts)
    #[command(after_help = format!("{}\n\n{EXIT_CODES}", crate::cli::app_guarded::UNPROTECT_EXAMPLES))]
    Unprotect(StopArgs),
}

/// One APP argument.
#[derive(Debug, Clone, Args)]
pub struct AppArg {
    #[arg(value_name = "APP", help = APP_HELP)]
    pub app: String,
}

/// `app stop`.
#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    #[arg(value_name = "APP", help = APP_HELP)]
    pub app: String,
    /// Do not ask for confirmation (for scripts)
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// `app backup`.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    #[arg(value_name = "APP", help = APP_HELP)]
    pub app: String,
    /// Label the new backup
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// Keep the new backup at least this many days, whatever the retention policy says
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub keep_days: Option<u32>,
}
