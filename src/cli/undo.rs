//! Clap types for `matelot undo OP`; the handler is `commands/undo.rs`. No logic here.

use clap::Args;

pub const UNDO_EXAMPLES: &str = "Examples:
  matelot journal list                   find the operation (its UNDO column)
  matelot undo 12                        shows what it would do, asks
  matelot undo 12 --yes                  undo an uninstall from a script (re-creates, overwrites nothing)
  matelot undo 13 --confirm analytics.example.org   undo a restore (overwrites: severe)
  matelot --check undo 12
  matelot undo --run k3v9x2qa --confirm zoe     every operation of one run (a removal on all sides)

An uninstall is undone by installing the app again at the same place from the preserved backup;
a restore by restoring the backup taken just before it (after a new backup of the data there now).
Only an operation that changed something (done, partial, or failed after changing things) and
was not undone already can be undone; an undo that was interrupted and never took effect does not
count. Exit codes: 0 done, 1 failed, 2 no such operation, 3 refused or declined (nothing
changed), 4 partly undone, 75 another run holds the lock (or is undoing it right now), 130
interrupted by a signal.";

/// `undo`.
#[derive(Debug, Clone, Args)]
pub struct UndoArgs {
    /// The operations (`12` or `#12`), from `matelot journal list`; several are undone
    /// newest first
    #[arg(value_name = "OP", required_unless_present = "run")]
    pub ops: Vec<String>,
    /// Undo every operation of one run (the RUN column of `matelot journal list`)
    #[arg(long, value_name = "ID", conflicts_with = "ops")]
    pub run: Option<String>,
    /// Go ahead without asking, when the undo overwrites nothing
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// The exact name (FQDN, username) of each undo that overwrites something
    #[arg(long, value_name = "NAME")]
    pub confirm: Vec<String>,
}
