//! `matelot host ...`: compute hosts and their SSH host keys.

use clap::Subcommand;

pub const HOST_EXAMPLES: &str = "\
Examples:
  matelot host list
  matelot host check calcul
  matelot host trust calcul
  matelot host trust calcul --fingerprint SHA256:LyzZrr9AsLaJHR8PjOJwXD9Do11ZrrpOGyW6KdOVI20

Host keys are checked against matelot's known_hosts (<state dir>/known_hosts, or the host's
known_hosts setting) and ~/.ssh/known_hosts (read only). An unknown key is refused (exit 3) until
it is trusted; a changed or revoked key is a hard stop that no flag overrides.";

#[derive(Debug, Subcommand)]
pub enum HostCmd {
    /// List the configured compute hosts and whether their host keys are known (no connection)
    #[command(after_help = "Examples:\n  matelot host list\n  matelot host list --json")]
    List,
    /// Connect, verify the host key, run `uname -a` and `id -u`, and report
    #[command(
        after_help = "Examples:\n  matelot host check calcul\n  matelot host check calcul --json\n\nExit codes: 0 reachable and usable, 1 connection or command failed, 3 host key unknown,\nchanged or revoked."
    )]
    Check {
        /// The host's name in the configuration ([compute.NAME])
        name: String,
    },
    /// Show the host key fingerprint and record it in matelot's known_hosts after confirmation
    #[command(
        after_help = "Examples:\n  matelot host trust calcul                      asks y/N on a terminal\n  matelot host trust calcul --fingerprint SHA256:LyzZrr9AsLaJHR8PjOJwXD9Do11ZrrpOGyW6KdOVI20\n  matelot --check host trust calcul              show the key, record nothing\n\nCompare the fingerprint with the one the host itself prints (ssh-keygen -lf\n/etc/ssh/ssh_host_ed25519_key.pub, on its console) before trusting it.\nExit codes: 0 recorded or already trusted, 3 declined, mismatch, no terminal and no\n--fingerprint, or a changed or revoked key (never overridable: edit the file by hand)."
    )]
    Trust {
        /// The host's name in the configuration ([compute.NAME])
        name: String,
        /// Trust without asking, only if the host's key has this SHA256 fingerprint
        #[arg(long, value_name = "SHA256:...")]
        fingerprint: Option<String>,
    },
}
