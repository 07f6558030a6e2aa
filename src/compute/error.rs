//! What can go wrong between matelot and a compute host, each case with a message that says
//! what failed, where, and what to do next, and whether trying again later may help.
//!
//! Host-key refusals map to exit 3 (refused, nothing changed); they are never "transient" and
//! no flag turns them into something else. Messages never contain secrets (passphrases).

use std::path::PathBuf;
use std::time::Duration;

use super::command::CommandError;
use super::known_hosts::{Decision, HostKey};

/// An error of the SSH adapter.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("cannot connect to compute host {name} ({addr}): {source}")]
    Connect {
        name: String,
        addr: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "compute host {name} ({addr}) did not complete the SSH handshake within {}; check the address and port, or raise connect_timeout in [compute.{name}]",
        humantime::format_duration(*after)
    )]
    ConnectTimeout {
        name: String,
        addr: String,
        after: Duration,
    },

    /// The host key is unknown, changed or revoked (see [`HostKeyRefusal`]).
    #[error("{0}")]
    HostKey(Box<HostKeyRefusal>),

    #[error(
        "compute host {name} presented a host certificate; matelot only verifies plain host keys"
    )]
    HostCertificate { name: String },

    #[error("reading known hosts: {0}")]
    KnownHosts(#[source] std::io::Error),

    #[error("cannot read identity file {}: {reason}", path.display())]
    Identity { path: PathBuf, reason: String },

    #[error(
        "identity file {} is encrypted and there is no terminal to ask its passphrase: load it into ssh-agent (ssh-add {}) and remove identity from [compute.{name}], or use a key without passphrase",
        path.display(), path.display()
    )]
    PassphraseNeeded { name: String, path: PathBuf },

    #[error("wrong passphrase for identity file {}", path.display())]
    BadPassphrase { path: PathBuf },

    #[error(
        "no identity for compute host {name}: set identity = \"~/.ssh/id_ed25519\" in [compute.{name}], or start an ssh-agent ({reason})"
    )]
    NoAgent { name: String, reason: String },

    #[error(
        "{user}@{name} ({addr}) refused our key ({method}); is the public key in ~{user}/.ssh/authorized_keys on the host?"
    )]
    AuthRejected {
        name: String,
        addr: String,
        user: String,
        method: String,
    },

    #[error(
        "command on {name} timed out after {}: {command}",
        humantime::format_duration(*after)
    )]
    CommandTimeout {
        name: String,
        command: String,
        after: Duration,
    },

    #[error(
        "sudo on {name} asked for a password (user {user}): allow it without one (e.g. \"{user} ALL=(ALL) NOPASSWD: ALL\" in /etc/sudoers.d/matelot) or connect as root"
    )]
    SudoPasswordRequired { name: String, user: String },

    #[error("the server on {name} refused to run the command: {command}")]
    ExecRefused { name: String, command: String },

    #[error(transparent)]
    Command(#[from] CommandError),

    #[error("SSH error with compute host {name}: {source}")]
    Protocol {
        name: String,
        #[source]
        source: russh::Error,
    },
}

/// Why matelot will not talk to a host: the key it offered and what known_hosts says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKeyRefusal {
    /// The host's name in the configuration.
    pub name: String,
    /// `host:port`.
    pub addr: String,
    pub offered: HostKey,
    /// Never `Trusted`.
    pub decision: Decision,
}

fn short_type(algorithm: &str) -> &str {
    match algorithm {
        "ssh-ed25519" => "ed25519",
        "ssh-rsa" => "rsa",
        a if a.starts_with("ecdsa-") => "ecdsa",
        a => a.trim_start_matches("ssh-"),
    }
}

impl std::fmt::Display for HostKeyRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (name, addr) = (&self.name, &self.addr);
        let (alg, fp) = (&self.offered.algorithm, self.offered.fingerprint());
        match &self.decision {
            Decision::Unknown { cert_authority } => {
                write!(
                    f,
                    "refusing to connect to {name} ({addr}): its host key is unknown\n  \
                     {alg} {fp}\n  \
                     check this fingerprint out of band (on the host: ssh-keygen -lf \
                     /etc/ssh/ssh_host_{short}_key.pub), then run:\n  \
                     matelot host trust {name} --fingerprint {fp}",
                    short = short_type(alg)
                )?;
                if let Some(at) = cert_authority {
                    write!(
                        f,
                        "\n  (the @cert-authority line at {at} matches this host, but matelot \
                         does not support host certificates)"
                    )?;
                }
                Ok(())
            }
            Decision::Changed { at, known } => write!(
                f,
                "HOST KEY CHANGED for {name} ({addr}): the server offered {alg} {fp}, but {at} \
                 holds another key for this host ({} {}).\n  \
                 This can be a reinstalled server or someone intercepting the connection; \
                 matelot will not connect, whatever the flags.\n  \
                 Verify the new key out of band; if it is legitimate, delete line {} of {} by \
                 hand, then run: matelot host trust {name}",
                known.algorithm,
                known.fingerprint(),
                at.line,
                at.file.display()
            ),
            Decision::Revoked { at } => write!(
                f,
                "REVOKED HOST KEY for {name} ({addr}): {alg} {fp} is marked @revoked at {at}; \
                 matelot will not connect"
            ),
            Decision::Trusted { at } => {
                write!(f, "host key of {name} ({addr}) is trusted ({at})")
            }
        }
    }
}

impl SshError {
    /// True when trying again later may succeed (network trouble, timeouts).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SshError::Connect { .. }
                | SshError::ConnectTimeout { .. }
                | SshError::CommandTimeout { .. }
                | SshError::Protocol { .. }
        )
    }

    /// True for host-key refusals (unknown, changed, revoked, certificate).
    pub fn is_host_key_refusal(&self) -> bool {
        matches!(
            self,
            SshError::HostKey(_) | SshError::HostCertificate { .. }
        )
    }
}

impl From<SshError> for crate::error::Error {
    fn from(e: SshError) -> Self {
        use crate::error::Error;
        if e.is_host_key_refusal() {
            Error::Refused(e.to_string())
        } else {
            match e {
                e @ (SshError::Identity { .. }
                | SshError::NoAgent { .. }
                | SshError::PassphraseNeeded { .. }) => Error::Config(vec![e.to_string()]),
                e => Error::Other(anyhow::Error::new(e)),
            }
        }
    }
}
