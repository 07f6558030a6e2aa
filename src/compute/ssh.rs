//! One SSH connection to a compute host: connect with a timeout, verify the host key against
//! matelot's and the user's known_hosts, authenticate, then run commands on several channels
//! at once (bounded), each with its own timeout.
//!
//! This file moves bytes; it does not build command lines (see `command.rs`) and it does not
//! decide about host keys (see `known_hosts.rs`). It never connects to a host whose key is not
//! trusted, and it never writes a known_hosts file.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use russh::keys::{Algorithm, PublicKeyOrCertificate};
use russh::{ChannelMsg, Preferred};
use tokio::sync::Semaphore;

use super::auth::{Credentials, authenticate, load_identity};
use super::command::{
    CommandOutput, RemoteCommand, SUDO_PASSWORD_REQUIRED, TIMEOUT_STATUSES, wire_line,
};
use super::error::{HostKeyRefusal, SshError};
use super::known_hosts::{Decision, HostKey, KnownHosts, Location};
use crate::config::ComputeHost;

/// Default bound on commands running at once on one connection (sshd's default MaxSessions
/// is 10; stay below it).
pub const DEFAULT_MAX_CHANNELS: usize = 8;

/// Connection settings that are not part of the host's configuration.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The user's own known_hosts, read but never written (`~/.ssh/known_hosts`; `None` = skip).
    pub user_known_hosts: Option<PathBuf>,
    /// May an encrypted identity ask for its passphrase on the terminal?
    pub may_prompt: bool,
    /// Commands running at once on this connection.
    pub max_channels: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            user_known_hosts: dirs::home_dir().map(|h| h.join(".ssh/known_hosts")),
            may_prompt: false,
            max_channels: DEFAULT_MAX_CHANNELS,
        }
    }
}

/// What the handler saw during the handshake.
#[derive(Debug, Clone)]
enum Seen {
    Key(HostKey, Decision),
    Certificate,
}

/// The russh handler: decides about the server's key, records what it saw.
struct Verifier {
    host: String,
    port: u16,
    known: Arc<KnownHosts>,
    /// Only look (for `host trust`): record the key and abort the handshake.
    fetch_only: bool,
    seen: Arc<Mutex<Option<Seen>>>,
}

impl russh::client::Handler for Verifier {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let seen = match key {
            PublicKeyOrCertificate::Certificate(_) => Seen::Certificate,
            PublicKeyOrCertificate::PublicKey { key, .. } => {
                let offered = HostKey {
                    algorithm: key.algorithm().as_str().to_string(),
                    blob: key.to_bytes()?,
                };
                let decision = self.known.check(&self.host, self.port, &offered);
                Seen::Key(offered, decision)
            }
        };
        let trusted = matches!(&seen, Seen::Key(_, Decision::Trusted { .. }));
        if let Ok(mut slot) = self.seen.lock() {
            *slot = Some(seen);
        }
        Ok(trusted && !self.fetch_only)
    }
}

/// Host-key algorithms to ask for: the types already known for the host first (so a server
/// with several keys shows one we can check), then russh's defaults.
pub fn preferred_host_key_algorithms(known_types: &[String]) -> Vec<Algorithm> {
    let defaults: Vec<Algorithm> = Preferred::DEFAULT.key.to_vec();
    let mut out: Vec<Algorithm> = Vec::new();
    for t in known_types {
        for a in &defaults {
            let same = a.as_str() == t.as_str() || (t == "ssh-rsa" && a.clone().is_rsa());
            if same && !out.contains(a) {
                out.push(a.clone());
            }
        }
    }
    for a in defaults {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// `host:port` for messages.
pub fn display_addr(host: &ComputeHost) -> String {
    if host.host.contains(':') {
        format!("[{}]:{}", host.host, host.port)
    } else {
        format!("{}:{}", host.host, host.port)
    }
}

/// Turn a non-trusting decision into the error that explains it.
pub fn refusal(host: &ComputeHost, key: &HostKey, decision: &Decision) -> Option<SshError> {
    if matches!(decision, Decision::Trusted { .. }) {
        return None;
    }
    Some(SshError::HostKey(Box::new(HostKeyRefusal {
        name: host.name.clone(),
        addr: display_addr(host),
        offered: key.clone(),
        decision: decision.clone(),
    })))
}

fn load_known(known_hosts: &Path, opts: &ConnectOptions) -> Result<KnownHosts, SshError> {
    let mut files = vec![known_hosts.to_path_buf()];
    files.extend(opts.user_known_hosts.clone());
    KnownHosts::load(&files).map_err(SshError::KnownHosts)
}

/// TCP connect and key exchange, bounded by the host's connect timeout.
async fn handshake(
    host: &ComputeHost,
    known: KnownHosts,
    fetch_only: bool,
) -> Result<(Option<russh::client::Handle<Verifier>>, Option<Seen>), SshError> {
    let preferred = Preferred {
        key: Cow::Owned(preferred_host_key_algorithms(
            &known.known_types(&host.host, host.port),
        )),
        ..Preferred::DEFAULT
    };
    let config = Arc::new(russh::client::Config {
        preferred,
        nodelay: true,
        keepalive_interval: Some(Duration::from_secs(30)),
        ..Default::default()
    });
    let seen = Arc::new(Mutex::new(None));
    let verifier = Verifier {
        host: host.host.clone(),
        port: host.port,
        known: Arc::new(known),
        fetch_only,
        seen: seen.clone(),
    };
    let connect = russh::client::connect(config, (host.host.as_str(), host.port), verifier);
    let result = tokio::time::timeout(host.connect_timeout, connect).await;
    let seen = seen.lock().ok().and_then(|mut s| s.take());
    match result {
        Err(_) => Err(SshError::ConnectTimeout {
            name: host.name.clone(),
            addr: display_addr(host),
            after: host.connect_timeout,
        }),
        Ok(Ok(handle)) => Ok((Some(handle), seen)),
        Ok(Err(_)) if seen.is_some() => Ok((None, seen)),
        Ok(Err(russh::Error::IO(source))) => Err(SshError::Connect {
            name: host.name.clone(),
            addr: display_addr(host),
            source,
        }),
        Ok(Err(source)) => Err(SshError::Protocol {
            name: host.name.clone(),
            source,
        }),
    }
}

/// Connect only to look at the server's key and what matelot's and the user's known_hosts
/// say about it (for `matelot host trust`). Never authenticates, never runs anything.
pub async fn fetch_host_key(
    host: &ComputeHost,
    known_hosts: &Path,
    opts: &ConnectOptions,
) -> Result<(HostKey, Decision), SshError> {
    let known = load_known(known_hosts, opts)?;
    let (_, seen) = handshake(host, known, true).await?;
    match seen {
        Some(Seen::Key(key, decision)) => Ok((key, decision)),
        Some(Seen::Certificate) => Err(SshError::HostCertificate {
            name: host.name.clone(),
        }),
        None => Err(SshError::Protocol {
            name: host.name.clone(),
            source: russh::Error::UnknownKey,
        }),
    }
}

/// An authenticated SSH connection to one compute host.
pub struct Session {
    handle: russh::client::Handle<Verifier>,
    host: ComputeHost,
    host_key: HostKey,
    trusted_at: Location,
    channels: Arc<Semaphore>,
    /// Time from the start of `connect` to an authenticated session.
    pub connect_time: Duration,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("host", &self.host.name)
            .field("addr", &display_addr(&self.host))
            .field("user", &self.host.user)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Connect, verify the host key (refusing unknown, changed and revoked keys), authenticate.
    /// `known_hosts` is matelot's file for this host; the user's file in `opts` is read too.
    pub async fn connect(
        host: &ComputeHost,
        known_hosts: &Path,
        opts: &ConnectOptions,
    ) -> Result<Session, SshError> {
        let creds = match &host.identity {
            Some(path) => Credentials::Key(Arc::new(load_identity(
                &host.name,
                &crate::config::expand_tilde(path),
                opts.may_prompt,
            )?)),
            None => Credentials::Agent,
        };
        // After a passphrase prompt: the operator's typing is not the network's time.
        let started = Instant::now();
        let known = load_known(known_hosts, opts)?;
        let (handle, seen) = handshake(host, known, false).await?;
        let (key, decision) = match seen {
            Some(Seen::Key(k, d)) => (k, d),
            Some(Seen::Certificate) => {
                return Err(SshError::HostCertificate {
                    name: host.name.clone(),
                });
            }
            None => {
                return Err(SshError::Protocol {
                    name: host.name.clone(),
                    source: russh::Error::UnknownKey,
                });
            }
        };
        let trusted_at = match &decision {
            Decision::Trusted { at } => at.clone(),
            other => {
                return Err(refusal(host, &key, other).unwrap_or(SshError::Protocol {
                    name: host.name.clone(),
                    source: russh::Error::UnknownKey,
                }));
            }
        };
        let Some(mut handle) = handle else {
            return Err(SshError::Protocol {
                name: host.name.clone(),
                source: russh::Error::Disconnect,
            });
        };
        let addr = display_addr(host);
        let remaining = host.connect_timeout.saturating_sub(started.elapsed());
        let auth = authenticate(&mut handle, &host.name, &addr, &host.user, &creds);
        match tokio::time::timeout(remaining.max(Duration::from_secs(1)), auth).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(SshError::ConnectTimeout {
                    name: host.name.clone(),
                    addr,
                    after: host.connect_timeout,
                });
            }
        }
        Ok(Session {
            handle,
            host: host.clone(),
            host_key: key,
            trusted_at,
            channels: Arc::new(Semaphore::new(opts.max_channels.max(1))),
            connect_time: started.elapsed(),
        })
    }

    /// The host this session is connected to.
    pub fn host(&self) -> &ComputeHost {
        &self.host
    }

    /// The (trusted) key the server presented.
    pub fn host_key(&self) -> &HostKey {
        &self.host_key
    }

    /// The known_hosts line that trusts the server's key.
    pub fn trusted_at(&self) -> &Location {
        &self.trusted_at
    }

    /// Run one command line (wrapped in `sudo -n` when the host says `sudo = true`), feeding
    /// `stdin` if given, within `timeout` (default: the host's `command_timeout`), enforced
    /// both here and on the host by timeout(1) (see [`wire_line`]). Several calls may run at
    /// once on one session; at most `max_channels` do.
    pub async fn run(
        &self,
        cmd: impl Into<RemoteCommand>,
        stdin: Option<&[u8]>,
        timeout: Option<Duration>,
    ) -> Result<CommandOutput, SshError> {
        let cmd: RemoteCommand = cmd.into();
        let limit = timeout.unwrap_or(self.host.command_timeout);
        let line = wire_line(&cmd, self.host.sudo, Some(limit))?;
        let _permit = self
            .channels
            .acquire()
            .await
            .map_err(|_| self.protocol(russh::Error::Disconnect))?;
        let started = Instant::now();
        let mut channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| self.protocol(e))?;
        let timed_out = || SshError::CommandTimeout {
            name: self.host.name.clone(),
            command: cmd.to_string(),
            after: limit,
        };
        let exchange = exchange(&mut channel, &line, stdin);
        let out = match tokio::time::timeout(limit, exchange).await {
            Ok(r) => r.map_err(|e| self.protocol(e))?,
            Err(_) => {
                // timeout(1) on the host ends the command; a signal helps for non-root
                // logins (sshd refuses it for root), then the channel is dropped.
                let _ = channel.signal(russh::Sig::KILL).await;
                let _ = channel.close().await;
                return Err(timed_out());
            }
        };
        let Some(out) = out else {
            return Err(SshError::ExecRefused {
                name: self.host.name.clone(),
                command: cmd.to_string(),
            });
        };
        if out.status.is_some_and(|s| TIMEOUT_STATUSES.contains(&s)) && started.elapsed() >= limit {
            return Err(timed_out());
        }
        if self.host.sudo
            && !out.success()
            && String::from_utf8_lossy(&out.stderr).contains(SUDO_PASSWORD_REQUIRED)
        {
            return Err(SshError::SudoPasswordRequired {
                name: self.host.name.clone(),
                user: self.host.user.clone(),
            });
        }
        Ok(out)
    }

    /// Close the connection politely.
    pub async fn close(self) -> Result<(), SshError> {
        self.handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await
            .map_err(|e| SshError::Protocol {
                name: self.host.name.clone(),
                source: e,
            })
    }

    fn protocol(&self, source: russh::Error) -> SshError {
        SshError::Protocol {
            name: self.host.name.clone(),
            source,
        }
    }
}

/// Exec on an open channel, send stdin, collect output until the channel closes.
/// `Ok(None)` when the server refused the exec request.
async fn exchange(
    channel: &mut russh::Channel<russh::client::Msg>,
    line: &str,
    stdin: Option<&[u8]>,
) -> Result<Option<CommandOutput>, russh::Error> {
    channel.exec(true, line.as_bytes()).await?;
    if let Some(input) = stdin {
        channel.data(input).await?;
    }
    channel.eof().await?;
    let mut out = CommandOutput::default();
    while let Some(msg) = channel.wait().await {
        match msg {
            ChannelMsg::Data { data } => out.stdout.extend_from_slice(&data),
            ChannelMsg::ExtendedData { data, ext: 1 } => out.stderr.extend_from_slice(&data),
            ChannelMsg::ExitStatus { exit_status } => out.status = Some(exit_status),
            ChannelMsg::ExitSignal { signal_name, .. } => {
                out.signal = Some(match signal_name {
                    russh::Sig::Custom(name) => name,
                    known => format!("{known:?}"),
                });
            }
            ChannelMsg::Failure => return Ok(None),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_types_come_first_then_the_defaults() {
        let names = |v: Vec<Algorithm>| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let defaults = names(Preferred::DEFAULT.key.to_vec());
        assert_eq!(names(preferred_host_key_algorithms(&[])), defaults);
        let rsa_first = names(preferred_host_key_algorithms(&["ssh-rsa".into()]));
        assert_eq!(
            rsa_first[..4],
            ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-ed25519"]
        );
        assert_eq!(rsa_first.len(), defaults.len());
        let ecdsa = names(preferred_host_key_algorithms(&[
            "ecdsa-sha2-nistp256".into(),
            "unknown-type".into(),
        ]));
        assert_eq!(ecdsa[..2], ["ecdsa-sha2-nistp256", "ssh-ed25519"]);
    }
}
