//! Open connections to the targeted systems and gather facts: on each compute host ONE SSH
//! round trip (the facts script on `bash -s`), hosts concurrently with a bound; on Cloudron the
//! user and group lists, concurrently. Connections are the run's [`World`]'s, so the apply
//! step (and anything else in the run) reuses them.
//! Reading only: nothing here changes a system.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};

use super::{AccountsError, HOST_CONCURRENCY, Targets, cloudron_facts};
use crate::cloudron::Client;
use crate::compute::Session;
use crate::compute::scripts::{SHELL, facts_script, parse_facts};
use crate::config::ComputeHost;
use crate::core::accounts::{CloudronFacts, ComputeFacts, Facts, UidRange};
use crate::exec::world::World;

/// The people's uids on a host: from its `min_uid` up to 60000 (Debian's `LAST_UID` + 1;
/// `nobody` is 65534, outside).
pub fn uid_range(host: &ComputeHost) -> UidRange {
    UidRange {
        min: host.min_uid,
        max: UidRange::default().max.max(host.min_uid.saturating_add(1)),
    }
}

/// One connected compute host.
struct Connected {
    host: ComputeHost,
    session: Arc<Session>,
}

/// Open connections to the systems a command works on.
pub struct Estate {
    hosts: Vec<Connected>,
    cloudron: Option<Client>,
}

impl std::fmt::Debug for Estate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Estate")
            .field(
                "hosts",
                &self.hosts.iter().map(|h| &h.host.name).collect::<Vec<_>>(),
            )
            .field(
                "cloudron",
                &self.cloudron.as_ref().map(|c| c.url().as_str()),
            )
            .finish()
    }
}

impl Estate {
    /// Connect to every targeted host through the run's [`World`] (concurrently; the first
    /// failure is returned and nothing is changed anywhere), and take its Cloudron client
    /// when the Cloudron is a target.
    pub async fn connect(world: &World, targets: &Targets) -> crate::error::Result<Estate> {
        let hosts: Vec<Connected> = futures::stream::iter(targets.hosts.iter().cloned())
            .map(|host| async move {
                let session = world.host(&host.name).await?;
                Ok::<_, crate::error::Error>(Connected { host, session })
            })
            .buffered(HOST_CONCURRENCY)
            .try_collect()
            .await?;
        let cloudron = match &targets.cloudron {
            Some(_) => Some(world.cloudron()?.clone()),
            None => None,
        };
        Ok(Estate { hosts, cloudron })
    }

    /// The hosts, in target order.
    pub fn hosts(&self) -> impl Iterator<Item = &ComputeHost> {
        self.hosts.iter().map(|c| &c.host)
    }

    /// The session to the host called `name`.
    pub fn session(&self, name: &str) -> Option<Arc<Session>> {
        self.hosts
            .iter()
            .find(|c| c.host.name == name)
            .map(|c| Arc::clone(&c.session))
    }

    /// The Cloudron client, when Cloudron is a target.
    pub fn cloudron(&self) -> Option<&Client> {
        self.cloudron.as_ref()
    }

    /// Facts from every system at once (previous locks are the journal's: see
    /// [`super::previous_locks`]).
    pub async fn gather(&self) -> Result<Facts, AccountsError> {
        let hosts = futures::stream::iter(self.hosts.iter())
            .map(|c| gather_host(&c.host, &c.session))
            .buffered(HOST_CONCURRENCY)
            .try_collect::<Vec<ComputeFacts>>();
        let (compute, cloudron) = tokio::try_join!(hosts, self.gather_cloudron())?;
        Ok(Facts {
            compute,
            cloudron,
            previous_locks: Vec::new(),
        })
    }

    /// Facts from one host again (after a failed step, to say what is left to do).
    pub async fn gather_host(&self, name: &str) -> Result<Option<ComputeFacts>, AccountsError> {
        match self.hosts.iter().find(|c| c.host.name == name) {
            Some(c) => gather_host(&c.host, &c.session).await.map(Some),
            None => Ok(None),
        }
    }

    /// The Cloudron's users and groups (`None` when Cloudron is not a target).
    pub async fn gather_cloudron(&self) -> Result<Option<CloudronFacts>, AccountsError> {
        let Some(client) = &self.cloudron else {
            return Ok(None);
        };
        let (users, groups) = tokio::try_join!(client.list_users(), client.list_groups())?;
        Ok(Some(cloudron_facts(&users, &groups)))
    }
}

/// Run the facts script on one host and parse its output.
pub async fn gather_host(
    host: &ComputeHost,
    session: &Session,
) -> Result<ComputeFacts, AccountsError> {
    let range = uid_range(host);
    let script = facts_script(range);
    let out = session.run(SHELL, Some(script.as_bytes()), None).await?;
    if !out.success() {
        return Err(AccountsError::FactsFailed {
            host: host.name.clone(),
            end: out.describe_end(),
            stderr: out.stderr_text(),
        });
    }
    Ok(parse_facts(&host.name, &out.stdout_text(), range)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uid_range_starts_at_min_uid() {
        let mut h = ComputeHost::new("calcul", "calcul.example.org");
        assert_eq!(
            uid_range(&h),
            UidRange {
                min: 1000,
                max: 60000
            }
        );
        h.min_uid = 5000;
        assert_eq!(
            uid_range(&h),
            UidRange {
                min: 5000,
                max: 60000
            }
        );
        h.min_uid = 70000;
        assert_eq!(
            uid_range(&h),
            UidRange {
                min: 70000,
                max: 70001
            }
        );
    }
}
