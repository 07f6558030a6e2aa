//! `matelot lock ...`: look at the run lock. Clap types only.

use clap::Subcommand;

const STATUS_EXAMPLES: &str = "\
Examples:
  matelot lock status
  matelot lock status --json | jq -r .state

Prints whether the run lock of the state directory is free or which run holds it (pid, host,
user, command, since when). Exit 0 either way; a mutating command that finds the lock held
exits 75.";

/// `matelot lock ...`
#[derive(Debug, Subcommand)]
pub enum LockCmd {
    /// Show whether the run lock is free, or which matelot run holds it
    #[command(after_help = STATUS_EXAMPLES)]
    Status,
}
