//! Clap types for the guarded `app` subcommands (uninstall, restore, protect, unprotect); the
//! handlers are in `commands/app_guarded.rs`. No logic here.

use clap::Args;

use super::app::APP_HELP;

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
