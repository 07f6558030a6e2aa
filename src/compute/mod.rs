//! The compute server over SSH (russh): connect, verify the host key, run commands built by
//! pure functions. Probes and restic driving live here too.
//!
//! Entry points: [`Session::connect`] then [`Session::run`] with a [`RemoteCommand`];
//! [`fetch_host_key`] for `matelot host trust`. Host-key decisions come from our own
//! [`known_hosts`] reader, never from russh's.

pub mod account_snapshot;
pub mod auth;
pub mod command;
pub mod error;
pub mod host_pattern;
pub mod known_hosts;
pub mod restic;
pub mod scripts;
pub mod ssh;

pub use command::{CommandError, CommandOutput, RemoteCommand, sudo_wrap, wire_line};
pub use error::{HostKeyRefusal, SshError};
pub use known_hosts::{Decision, HostKey, KnownHosts, Location};
pub use ssh::{ConnectOptions, Session, fetch_host_key};

use std::path::PathBuf;

use crate::config::{ComputeHost, Config};

/// matelot's known_hosts for a host: its `known_hosts` setting, or `<state dir>/known_hosts`.
pub fn known_hosts_file(cfg: &Config, host: &ComputeHost) -> PathBuf {
    host.known_hosts
        .as_deref()
        .map(crate::config::expand_tilde)
        .unwrap_or_else(|| cfg.known_hosts_path())
}
