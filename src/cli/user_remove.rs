//! Clap types for `matelot user remove` (guarded), a variant of the `user` noun
//! (`cli/user.rs`); the handler is `commands/user_remove.rs`. No logic here.

use clap::{Args, ValueEnum};

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

/// Where a person has accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Side {
    Compute,
    Cloudron,
}

/// `user remove`.
#[derive(Debug, Clone, Args)]
pub struct UserRemoveArgs {
    /// The username (the same on the compute hosts and the Cloudron)
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Which sides (default: every side configured)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "SIDES")]
    pub on: Vec<Side>,
    /// The exact username, to confirm without a prompt (scripts)
    #[arg(long, value_name = "NAME")]
    pub confirm: Option<String>,
}
