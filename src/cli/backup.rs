//! `matelot backup ...`: taking, listing, verifying and pruning backups of the Cloudron and of
//! the compute hosts (restic). Clap types only; the handlers are in `commands/backup.rs`.

use clap::{Args, Subcommand};

use super::app::APP_HELP;
use crate::commands::backup::ping::RawPing;

const EXIT_CODES: &str = "Exit codes: 0 done, 1 failed (the message says why and what to do), 2 \
usage or configuration error (or APP matches no app or several), 3 declined or refused (nothing \
changed), 4 some targets failed and others did not (each is reported), 75 another matelot run \
holds the lock (try again later).";

#[derive(Debug, Subcommand)]
pub enum BackupCmd {
    /// Take backups now, wait for them and verify each is listed (cron-safe)
    #[command(after_help = format!("Examples:
  matelot backup run                   every configured target: the Cloudron and each compute host
  matelot backup run --cloudron        a platform backup of the whole Cloudron
  matelot backup run --compute --host calcul
  matelot --json backup run | jq '.status'
  matelot --check backup run           say what would be backed up, change nothing
  # in cron: errors on stderr (mailed), a dead man's switch pinged:
  30 2 * * * matelot -q backup run --ping https://hc-ping.com/UUID >/dev/null

With no selection, every configured target is backed up, at the same time: the Cloudron if
[cloudron] is configured, and every [compute.NAME] host if [backup.compute] is. A backup counts
only when it is verified: a Cloudron backup whose task succeeded AND which is listed afterwards,
a restic snapshot listed afterwards with the configured paths. One result is printed for the
whole run (a table, or one JSON document with --json), and one journal row is written.

--ping URL: after the run, GET URL on success or URL/fail on failure (healthchecks.io style);
--ping-start also sends URL/start first. A failed ping is a warning, never a failed backup, and
the URL is never printed whole. A run refused because another holds the lock (75) pings nothing.

{EXIT_CODES}"))]
    Run(RunArgs),

    /// List backups: the Cloudron's platform backups, one app's, or the compute snapshots
    #[command(after_help = format!("Examples:
  matelot backup list                  the Cloudron's platform backups (or, without a Cloudron, the compute snapshots)
  matelot backup list --cloudron
  matelot backup list --compute        every compute host's snapshots
  matelot backup list --compute --host calcul --json
  matelot backup list --app matomo     one app's backups, newest first
  matelot backup list --app matomo --json | jq -r '.backups[0].id'

{EXIT_CODES}"))]
    List(ListArgs),

    /// Check the newest backups: there, complete, and how old (optionally read the data back)
    #[command(after_help = format!("Examples:
  matelot backup verify                the newest Cloudron backup and each host's newest snapshot
  matelot backup verify --compute --host calcul
  matelot backup verify --compute --read-data       read the whole repository back (slow)
  matelot backup verify --compute --read-data 5%    read a random 5% back

Changes nothing. --read-data runs `restic check --read-data-subset`, which holds restic's
exclusive lock on the repository while it runs.

{EXIT_CODES}"))]
    Verify(VerifyArgs),

    /// Forget compute snapshots beyond [backup.compute] keep and prune the repository
    #[command(after_help = format!("Examples:
  matelot backup prune --compute               asks y/N on a terminal
  matelot backup prune --compute --yes         in a script or cron job
  matelot --check backup prune --compute       what would be forgotten (a restic dry run)

Only nightly snapshots (tags matelot, nightly) are forgotten; restore points taken before a
destructive change are never touched. The Cloudron applies its own retention policy.

{EXIT_CODES}"))]
    Prune(PruneArgs),

    /// Create the compute hosts' restic repository where it does not exist yet
    #[command(after_help = format!("Examples:
  matelot backup init --compute                every compute host
  matelot backup init --compute --host calcul
  matelot --check backup init --compute        which repositories are missing, change nothing

An existing repository is left as it is. The password comes from [backup.compute]
password_file, on the host; keep a copy of it somewhere else: without it the backups are lost.

{EXIT_CODES}"))]
    Init(InitArgs),
}

/// `backup list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// The Cloudron's platform backups
    #[arg(long, conflicts_with_all = ["compute", "app"])]
    pub cloudron: bool,
    /// The compute hosts' restic snapshots
    #[arg(long, conflicts_with = "app")]
    pub compute: bool,
    /// Only this compute host (implies --compute)
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// One app's backups
    #[arg(long, value_name = "APP", long_help = APP_HELP)]
    pub app: Option<String>,
}

/// `backup run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Back up the Cloudron (a platform backup: every app with automatic backups on, and the
    /// platform itself)
    #[arg(long)]
    pub cloudron: bool,
    /// Back up the compute hosts ([backup.compute] paths, with restic)
    #[arg(long)]
    pub compute: bool,
    /// Only this compute host (implies --compute)
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// After the run, GET URL on success or URL/fail on failure (healthchecks.io style)
    #[arg(long, value_name = "URL", value_parser = RawPing::new)]
    pub ping: Option<RawPing>,
    /// Also GET URL/start before the run (needs --ping)
    #[arg(long, requires = "ping")]
    pub ping_start: bool,
}

/// `backup verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// The Cloudron's newest platform backup
    #[arg(long)]
    pub cloudron: bool,
    /// Each compute host's newest nightly snapshot
    #[arg(long)]
    pub compute: bool,
    /// Only this compute host (implies --compute)
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Read the repository's data back: all of it, or a subset (5%, 1/10, 500M)
    #[arg(long, value_name = "SUBSET", num_args = 0..=1, default_missing_value = "100%")]
    pub read_data: Option<String>,
}

/// `backup prune`.
#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Prune the compute hosts' restic repository (required: the Cloudron prunes its own)
    #[arg(long, required = true)]
    pub compute: bool,
    /// Only this compute host's snapshots
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Do not ask for confirmation (for scripts)
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// `backup init`.
#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Create the compute hosts' restic repository (required)
    #[arg(long, required = true)]
    pub compute: bool,
    /// Only on this compute host
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
}
