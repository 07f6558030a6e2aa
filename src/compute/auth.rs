//! Client authentication: an identity file (asking its passphrase on a terminal when it is
//! encrypted) or the keys of the ssh-agent at `SSH_AUTH_SOCK`.
//!
//! The passphrase is held as a `SecretString` and never printed or logged. Loading the key
//! happens before any network traffic, so a prompt never races a connect timeout.

use std::path::Path;
use std::sync::Arc;

use russh::client::{AuthResult, Handle};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use secrecy::{ExposeSecret, SecretString};

use super::error::SshError;

/// How the client proves who it is.
pub enum Credentials {
    Key(Arc<PrivateKey>),
    Agent,
}

/// Load an identity file. An encrypted key asks for its passphrase when `may_prompt`
/// (a terminal and no `--no-input`), and fails with a clear error otherwise.
pub fn load_identity(name: &str, path: &Path, may_prompt: bool) -> Result<PrivateKey, SshError> {
    let text = std::fs::read_to_string(path).map_err(|e| SshError::Identity {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    match russh::keys::decode_secret_key(&text, None) {
        Ok(k) => Ok(k),
        Err(russh::keys::Error::KeyIsEncrypted) => {
            if !may_prompt {
                return Err(SshError::PassphraseNeeded {
                    name: name.to_string(),
                    path: path.to_path_buf(),
                });
            }
            let pass = ask_passphrase(path)?;
            russh::keys::decode_secret_key(&text, Some(pass.expose_secret())).map_err(|_| {
                SshError::BadPassphrase {
                    path: path.to_path_buf(),
                }
            })
        }
        Err(e) => Err(SshError::Identity {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }),
    }
}

fn ask_passphrase(path: &Path) -> Result<SecretString, SshError> {
    crate::output::prompt::passphrase(&format!("Passphrase for {}", path.display())).map_err(
        |reason| SshError::Identity {
            path: path.to_path_buf(),
            reason: format!("reading the passphrase: {reason}"),
        },
    )
}

/// Authenticate `user` on an open connection with the identity file or the agent's keys.
pub async fn authenticate<H: russh::client::Handler>(
    handle: &mut Handle<H>,
    name: &str,
    addr: &str,
    user: &str,
    creds: &Credentials,
) -> Result<(), SshError> {
    let protocol = |source| SshError::Protocol {
        name: name.to_string(),
        source,
    };
    let rejected = |method: &str| SshError::AuthRejected {
        name: name.to_string(),
        addr: addr.to_string(),
        user: user.to_string(),
        method: method.to_string(),
    };
    match creds {
        Credentials::Key(key) => {
            let hash = handle
                .best_supported_rsa_hash()
                .await
                .map_err(protocol)?
                .flatten();
            let res = handle
                .authenticate_publickey(user, PrivateKeyWithHashAlg::new(key.clone(), hash))
                .await
                .map_err(protocol)?;
            match res {
                AuthResult::Success => Ok(()),
                AuthResult::Failure { .. } => Err(rejected("identity file")),
            }
        }
        Credentials::Agent => {
            let no_agent = |reason: String| SshError::NoAgent {
                name: name.to_string(),
                reason,
            };
            let mut agent = russh::keys::agent::client::AgentClient::connect_env()
                .await
                .map_err(|e| no_agent(e.to_string()))?;
            let ids = agent
                .request_identities()
                .await
                .map_err(|e| no_agent(format!("asking the ssh-agent for keys: {e}")))?;
            if ids.is_empty() {
                return Err(no_agent("the ssh-agent holds no keys; ssh-add one".into()));
            }
            let hash = handle
                .best_supported_rsa_hash()
                .await
                .map_err(protocol)?
                .flatten();
            for id in ids {
                let russh::keys::agent::AgentIdentity::PublicKey { key, .. } = id else {
                    continue;
                };
                let hash = if key.algorithm().is_rsa() { hash } else { None };
                match handle
                    .authenticate_publickey_with(user, key, hash, &mut agent)
                    .await
                {
                    Ok(AuthResult::Success) => return Ok(()),
                    Ok(AuthResult::Failure { .. }) | Err(_) => continue,
                }
            }
            Err(rejected("ssh-agent keys"))
        }
    }
}
