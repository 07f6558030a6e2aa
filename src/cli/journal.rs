//! `matelot journal ...`: read the operations journal. Clap types only.

use clap::{Args, Subcommand};

const LIST_EXAMPLES: &str = "\
Examples:
  matelot journal list                          every operation, newest first
  matelot journal list --since 7d               what changed in the last week
  matelot journal list --since 2025-06-01 --kind app
  matelot journal list --target matomo --status interrupted
  matelot journal list --limit 20 --json | jq '.[].id'

--since takes a duration back from now (90m, 36h, 7d, 2w) or a date (2025-06-01, midnight UTC,
or RFC 3339 such as 2025-06-01T08:00:00+02:00). --kind app matches app.uninstall, app.restore...
An operation left planned or running by a process that has died is listed as interrupted.";

const SHOW_EXAMPLES: &str = "\
Examples:
  matelot journal show 12
  matelot journal show 12 --json | jq .restore_point

Exit 2 if OP is not the number of an operation in the journal.";

/// `matelot journal ...`
#[derive(Debug, Subcommand)]
pub enum JournalCmd {
    /// List operations, newest first: id, time, status, kind, target, who, how to undo
    #[command(after_help = LIST_EXAMPLES)]
    List(ListArgs),
    /// Show one operation: every field, planned changes, restore point, undo hint, history
    #[command(after_help = SHOW_EXAMPLES)]
    Show {
        /// The operation number, as shown by `matelot journal list` (e.g. 12)
        #[arg(value_name = "OP")]
        op: String,
    },
    /// Judge every operation whose end was not seen (killed, signalled, connection lost)
    /// against the world now: done, not applied, partial, failed (changed), or unknown
    #[command(after_help = SETTLE_EXAMPLES)]
    Settle,
}

const SETTLE_EXAMPLES: &str = "\
Examples:
  matelot journal settle                 judge interrupted operations now
  matelot journal settle --json

Every mutating command does this first; `settle` does only this. It takes the run lock (exit 75
if another run holds it). A row whose target is busy, or whose system cannot be reached, stays
interrupted for a later run.";

/// Filters of `matelot journal list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only operations created since WHEN: a duration (7d, 36h, 2w) or a date (2025-06-01)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only operations whose target contains TEXT (ignoring case)
    #[arg(long, value_name = "TEXT")]
    pub target: Option<String>,
    /// Only operations of this kind; a prefix such as `app` matches app.uninstall, app.restore
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Only operations with this status: planned, running, done, failed, failed_changed,
    /// partial, refused, not_applied, interrupted, unknown
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
    /// Only the operations of one run (every operation of one command shares its run id)
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// At most N operations (the newest)
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}
