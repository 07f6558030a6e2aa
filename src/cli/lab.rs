//! `matelot lab ...`: the rehearsal lab (a Cloudron emulator and sandboxed compute hosts) and
//! the newcomer's tour of it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use secrecy::SecretString;

/// Parse a token into a secret (redacted in `Debug`).
fn secret(s: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(s))
}

#[derive(Debug, Subcommand)]
pub enum LabCmd {
    /// Start the lab in the background and write a ready matelot.toml into its directory
    #[command(after_help = "Examples:
  matelot lab up                        start in ./lab, resuming its saved state
  matelot lab up --dir /tmp/lab --fresh start from the demo estate again
  matelot lab up --hosts 3              three compute hosts: calcul1, calcul2, calcul3
  matelot lab up --hosts 0              a Cloudron-only lab (no root needed)
  matelot --config lab/matelot.toml host check calcul

Compute hosts are real sshd servers in private namespaces on 127.0.0.2, 127.0.0.3, ...
(needs root, openssh-server and util-linux). The emulator keeps its estate in
DIR/cloudron-state.json: `lab down` then `lab up` resumes it; the hosts start empty.")]
    Up(UpArgs),
    /// Stop what `lab up` started (and only that)
    #[command(after_help = "Examples:
  matelot lab down
  matelot lab down --dir /tmp/lab")]
    Down(DirArgs),
    /// Say whether the lab is running, where, and under which process id
    #[command(after_help = "Examples:
  matelot lab status
  matelot --json lab status --dir /tmp/lab")]
    Status(DirArgs),
    /// Walk through the job on a fresh lab: real commands, each explained, then stop the lab
    #[command(after_help = "Examples:
  matelot lab tour                      in ./lab, stopped at the end
  matelot lab tour --dir /tmp/tour --keep
                                        leave the lab running to keep exploring
  matelot --check lab tour              list the steps and their commands, run nothing

Each step prints what it shows and the exact command to type, then runs it. A step that fails
stops the tour (exit 1) and the lab is stopped, unless --keep. A lab already running in DIR is
left alone: the tour refuses to start (exit 3).")]
    Tour(TourArgs),
    /// Run the Cloudron emulator in the foreground until SIGINT or SIGTERM
    #[command(after_help = "Examples:
  matelot lab serve-cloudron
  matelot lab serve-cloudron --listen 127.0.0.1:8443 --token secret --state lab/state.json
  matelot lab serve-cloudron --seed empty --task-duration 50ms --http

When ready it prints one JSON line on stdout: {\"url\":...,\"token\":...,\"ca_file\":...}.
Requests are logged on stderr. Control routes (faults, request log, state) live under /__lab.")]
    ServeCloudron(ServeArgs),
}

/// `--dir DIR` (default ./lab).
#[derive(Debug, Args)]
pub struct DirArgs {
    /// The lab directory
    #[arg(long, value_name = "DIR", default_value = "lab")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub dir: DirArgs,
    /// Forget the saved estate and start from the seed
    #[arg(long)]
    pub fresh: bool,
    /// The estate to start from when there is no saved state
    #[arg(long, value_enum, default_value_t = SeedArg::Demo)]
    pub seed: SeedArg,
    /// How long each emulated Cloudron task takes
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = humantime::parse_duration)]
    pub task_duration: std::time::Duration,
    /// How many sandboxed compute hosts to start (named calcul, or calcul1..N)
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(0..=64))]
    pub hosts: u8,
}

#[derive(Debug, Args)]
pub struct TourArgs {
    #[command(flatten)]
    pub dir: DirArgs,
    /// Leave the lab running at the end (and after a failed step)
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeedArg {
    /// Six apps on example.org, people, groups, backup history
    Demo,
    /// Only the owner
    Empty,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// API token (random when not given; the saved one with --state)
    #[arg(
        long,
        value_name = "TOKEN",
        env = "MATELOT_LAB_TOKEN",
        hide_env_values = true,
        value_parser = secret
    )]
    pub token: Option<SecretString>,
    /// The estate to start from when there is no saved state
    #[arg(long, value_enum, default_value_t = SeedArg::Demo)]
    pub seed: SeedArg,
    /// Generated apps on top of the seed (for benchmarks on a large estate)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub extra_apps: usize,
    /// How long each task takes
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = humantime::parse_duration)]
    pub task_duration: std::time::Duration,
    /// Keep the estate in this JSON file and resume from it
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Serve plain HTTP instead of HTTPS
    #[arg(long)]
    pub http: bool,
    /// Directory for the CA file (default: beside --state, else a temporary directory)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}
