//! `matelot app ...`: the Cloudron's apps, the guarded subcommands (uninstall, restore) and
//! protections included. Clap types only; the handlers are in `commands/app/`.

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
    #[command(after_help = format!("{}\n\n{EXIT_CODES}", UNINSTALL_EXAMPLES))]
    Uninstall(SevereArgs),

    /// Overwrite an app's data with one of its backups, after a verified backup of what is
    /// there now (guarded: type its FQDN)
    #[command(after_help = format!("{}\n\n{EXIT_CODES}", RESTORE_EXAMPLES))]
    Restore(RestoreArgs),

    /// Protect an app: destructive commands refuse it until `app unprotect`
    #[command(after_help = format!("{}\n\n{EXIT_CODES}", PROTECT_EXAMPLES))]
    Protect(AppArg),

    /// Remove a protection set with `app protect` (asks first; --yes in scripts)
    #[command(after_help = format!("{}\n\n{EXIT_CODES}", UNPROTECT_EXAMPLES))]
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

pub const UNINSTALL_EXAMPLES: &str = "Examples:
  matelot app uninstall matomo                         shows what is lost, asks for the FQDN
  matelot app uninstall matomo --confirm analytics.example.org   in a script
  matelot --check app uninstall matomo                 the plan, restore point included; changes nothing
  matelot undo 12                                      reinstall it from the preserved backup

First a backup of the app is taken, checked to be listed, labelled \"matelot op N: before
uninstall\" and preserved past retention ([guard] preserve, 90 days by default). If any of that
fails, nothing is uninstalled. --yes is never enough: without a terminal, pass --confirm FQDN.";

pub const RESTORE_EXAMPLES: &str = "Examples:
  matelot app restore matomo                           from its newest backup; asks for the FQDN
  matelot app restore matomo --backup app_backup_20250601 --confirm analytics.example.org
  matelot --check app restore matomo
  matelot undo 13                                      put back the data as it was before

The data there now is backed up (verified, labelled, preserved) before it is overwritten.";

pub const PROTECT_EXAMPLES: &str = "Examples:
  matelot app protect matomo
  matelot app uninstall matomo --confirm analytics.example.org   now refused (exit 3)

The protection is kept in the journal, so it outlives configuration edits. Config-file
protections live in [cloudron] protect = [...].";

pub const UNPROTECT_EXAMPLES: &str = "Examples:
  matelot app unprotect matomo           asks y/N
  matelot app unprotect matomo --yes     in a script

Protections from [cloudron] protect in the configuration are removed by editing the file.";

/// `app uninstall`.
#[derive(Debug, Clone, Args)]
pub struct SevereArgs {
    #[arg(value_name = "APP", help = APP_HELP)]
    pub app: String,
    /// The app's exact FQDN, to confirm without a prompt (scripts)
    #[arg(long, value_name = "FQDN")]
    pub confirm: Option<String>,
}

/// `app restore`.
#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    #[arg(value_name = "APP", help = APP_HELP)]
    pub app: String,
    /// The backup to restore (default: the app's newest backup)
    #[arg(long, value_name = "ID")]
    pub backup: Option<String>,
    /// The app's exact FQDN, to confirm without a prompt (scripts)
    #[arg(long, value_name = "FQDN")]
    pub confirm: Option<String>,
}
