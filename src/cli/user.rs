//! `matelot user ...`: people's accounts on the compute hosts and the Cloudron. Clap types
//! only; the handlers are in `commands/user/`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

const ON_HELP: &str = "Work on these systems only: `compute` (every host), a host's name, \
`cloudron`; comma-separated or repeated (default: every configured system)";

const EXIT_CODES: &str = "Exit codes: 0 done, 1 failed (nothing applied), 2 usage, \
configuration or roster error (nothing changed), 3 declined or refused (nothing changed), \
4 partly applied (the journal says what), 75 another matelot run holds the lock.";

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// List people's accounts: one row per person per system
    #[command(after_help = "Examples:
  matelot user list
  matelot user list --on cloudron
  matelot user list --json | jq -r '.accounts[] | select(.state == \"locked\") | .username'

Compute hosts show accounts with uids from the host's min_uid (people), not system accounts.
Exit codes: 0 done, 1 a system could not be read, 2 usage or configuration error.")]
    List(ListArgs),

    /// Create a person's accounts (or bring existing ones in line); groups are created as needed
    #[command(after_help = format!("Examples:
  matelot user add alice --email alice@example.org --name 'Alice Martin' \\
      --key ~/keys/alice.pub --group physics --group gpu
  matelot user add bob --email bob@example.org --on compute
  matelot user add carol --email carol@example.org --on cloudron --invite
  matelot --check user add alice --email alice@example.org   print the plan, change nothing

On compute hosts: useradd with a group of the person's own, the same uid on every host, home
0700, authorized_keys holding exactly the keys given. On Cloudron: the user, their groups, and
with --invite the invitation email. Adding someone who exists changes only what differs; a
change that takes something away (a key, a group) asks first (--yes in scripts).

{EXIT_CODES}"))]
    Add(AddArgs),

    /// Lock a person out: password locked AND SSH refused; Cloudron user deactivated
    #[command(after_help = format!("Examples:
  matelot user lock bob                 asks y/N on a terminal
  matelot user lock bob --yes           in a script
  matelot user lock bob --on calcul --yes
  matelot --check user lock bob         print the plan, change nothing

On compute hosts `usermod -L -e 1`: the password is locked and the account expired, so sshd
refuses their keys too; the expiry it had is kept in the journal for unlock. Home, files and
keys are kept. Without a terminal and without --yes: exit 3, nothing changed.

{EXIT_CODES}"))]
    Lock(StateArgs),

    /// Unlock a person: restore the expiry they had before the lock; reactivate on Cloudron
    #[command(after_help = format!("Examples:
  matelot user unlock bob
  matelot user unlock bob --yes --on cloudron

The expiry restored is the one the lock replaced, read back from the journal (an expiry that
has passed since is cleared, and said so).

{EXIT_CODES}"))]
    Unlock(StateArgs),

    /// Bring every system in line with a roster (CSV or TOML)
    #[command(after_help = format!("Examples:
  matelot --check user sync people.csv            the plan, nothing changed
  matelot user sync people.csv
  matelot user sync people.csv --prune lock --yes lock accounts not in the roster
  matelot --json user sync people.toml --yes

The whole roster is checked first: every problem is listed with file:line and nothing is
changed (exit 2). Then facts are gathered, a plan is made and shown; a plan that locks or
takes something away asks y/N (--yes in scripts). Accounts not in the roster are left alone
unless --prune lock. Removal (--prune remove, state absent) is a guarded command of its own
and is refused here. A re-run with nothing to change changes nothing. Roster format:
docs/accounts.md.

{EXIT_CODES}"))]
    Sync(SyncArgs),

    /// Remove a person's accounts, after verified restore points (guarded: type the username)
    #[command(after_help = REMOVE_EXAMPLES)]
    Remove(UserRemoveArgs),
}

/// `--on SYSTEMS`.
#[derive(Debug, Clone, Args, Default)]
pub struct OnArgs {
    #[arg(long, value_name = "SYSTEMS", value_delimiter = ',', help = ON_HELP)]
    pub on: Vec<String>,
}

/// `user list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub on: OnArgs,
}

/// `user add`.
#[derive(Debug, Clone, Args)]
pub struct AddArgs {
    /// The username (a-z, 0-9, '_', '-'; upper case is folded)
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Email address (Cloudron login and password resets)
    #[arg(long, value_name = "EMAIL")]
    pub email: String,
    /// Full name (GECOS on compute hosts, display name on Cloudron)
    #[arg(long = "name", value_name = "FULL NAME")]
    pub full_name: Option<String>,
    /// An SSH public key, or a file holding keys (repeatable)
    #[arg(long = "key", value_name = "FILE|KEY")]
    pub keys: Vec<String>,
    /// A supplementary group, created if needed (repeatable)
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    #[command(flatten)]
    pub on: OnArgs,
    /// Send a new Cloudron user their invitation email
    #[arg(long)]
    pub invite: bool,
    /// Do not ask before a change that takes something away (for scripts)
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// `user lock` and `user unlock`.
#[derive(Debug, Clone, Args)]
pub struct StateArgs {
    /// The username
    #[arg(value_name = "NAME")]
    pub name: String,
    #[command(flatten)]
    pub on: OnArgs,
    /// Do not ask for confirmation (for scripts)
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// What to do with accounts that are not in the roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum PruneArg {
    /// Leave them alone (they are listed)
    #[default]
    Keep,
    /// Lock them (moderate: asks, or --yes)
    Lock,
    /// Remove them: refused here (removal is the guarded `user remove`)
    Remove,
}

/// `user sync`.
#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// The roster: CSV (`,` `;` or tab, BOM and CRLF tolerated) or TOML
    #[arg(value_name = "ROSTER")]
    pub roster: PathBuf,
    /// Accounts not in the roster: keep (default), lock, remove
    #[arg(long, value_enum, default_value_t = PruneArg::Keep, value_name = "HOW")]
    pub prune: PruneArg,
    #[command(flatten)]
    pub on: OnArgs,
    /// Send new Cloudron users their invitation email
    #[arg(long)]
    pub invite: bool,
    /// Do not ask before locking or taking something away (for scripts)
    #[arg(short = 'y', long)]
    pub yes: bool,
}

pub const REMOVE_EXAMPLES: &str = "Examples:
  matelot user remove alice                          shows what is lost, asks for the username
  matelot user remove alice --confirm alice          in a script
  matelot user remove alice --on compute --confirm alice
  matelot --check user remove alice                  the plan, restore points included
  matelot undo 14                                    bring alice back (same uid, gid, groups, keys, home)

On each compute host: a restic snapshot of the home (tagged with the operation) and the
account's passwd, group, shadow and authorized_keys lines are taken and verified, then
`userdel -r`. On the Cloudron: the user's record, groups and app access are recorded, then the
user is deleted. If a restore point fails, nothing is removed there.

Exit codes: 0 done, 1 failed, 2 usage or configuration error, 3 refused or declined (nothing
changed), 4 removed on some sides but not all (the journal says which), 75 another run holds
the lock.";

/// `user remove`.
#[derive(Debug, Clone, Args)]
pub struct UserRemoveArgs {
    /// The username (the same on the compute hosts and the Cloudron)
    #[arg(value_name = "NAME")]
    pub name: String,
    #[command(flatten)]
    pub on: OnArgs,
    /// The exact username, to confirm without a prompt (scripts)
    #[arg(long, value_name = "NAME")]
    pub confirm: Option<String>,
}
