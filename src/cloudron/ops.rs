//! Verified operations: start something on the Cloudron, wait for its task, then check on the
//! server that the promised result exists. This is the restore-point primitive the guard uses
//! before anything destructive (an app backup that succeeded, is listed, and is labelled and
//! preserved past retention), and what `app backup`, `backup run` and `app start|stop|restart`
//! call.
//!
//! "The task said success" is never taken as proof: the new backup must be listed by the
//! server, and a run-state change must show in the app's state. Nothing here prints or prompts.

use std::collections::HashSet;
use std::time::Duration;

use serde::Serialize;

use super::apps::{BackupUpdate, Lifecycle};
use super::client::Client;
use super::error::CloudronError;
use super::models::{App, Backup, RunState, TaskId};
use crate::core::progress::Progress;

/// How a new backup should be kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeepOptions {
    /// Set this label on the backup.
    pub label: Option<String>,
    /// Preserve the backup at least this long, whatever the retention policy says.
    pub preserve: Option<Duration>,
}

impl KeepOptions {
    fn is_empty(&self) -> bool {
        self.label.is_none() && self.preserve.is_none()
    }
}

/// A backup that was taken and found listed afterwards.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedBackup {
    pub task_id: TaskId,
    pub backup: Backup,
}

/// Back up one app, wait, and verify: the new backup is listed by `GET /apps/:id/backups`
/// in state `normal`, and carries the requested label and preservation.
/// `on_task` hears the task id as soon as the server answers, before the wait.
pub async fn backup_app(
    client: &Client,
    app_id: &str,
    keep: &KeepOptions,
    progress: &dyn Progress,
    timeout: Duration,
    on_task: &(dyn Fn(&TaskId) + Send + Sync),
) -> Result<VerifiedBackup, CloudronError> {
    let before = ids(&client.list_app_backups(app_id).await?);
    let task_id = client.app_lifecycle(app_id, Lifecycle::Backup).await?;
    on_task(&task_id);
    let task = client.wait_task(&task_id, progress, timeout).await?;
    let after = client.list_app_backups(app_id).await?;
    let found = find_new_backup(&before, &after, task.result_str())
        .map_err(|why| unverified(&format!("app {app_id}"), &task_id, &why))?
        .clone();
    if keep.is_empty() {
        return Ok(VerifiedBackup {
            task_id,
            backup: found,
        });
    }
    let update = update_for(&found, keep);
    client.update_app_backup(app_id, &found.id, &update).await?;
    let relisted = client.list_app_backups(app_id).await?;
    let backup = check_kept(&relisted, &found.id, &update)
        .map_err(|why| unverified(&format!("app {app_id}"), &task_id, &why))?;
    Ok(VerifiedBackup { task_id, backup })
}

/// Take a platform backup, wait, and verify that it is listed by `GET /backups`.
pub async fn backup_platform(
    client: &Client,
    keep: &KeepOptions,
    progress: &dyn Progress,
    timeout: Duration,
    on_task: &(dyn Fn(&TaskId) + Send + Sync),
) -> Result<VerifiedBackup, CloudronError> {
    let before = ids(&client.list_backups().await?);
    let task_id = client.create_backup().await?;
    on_task(&task_id);
    let task = client.wait_task(&task_id, progress, timeout).await?;
    let after = client.list_backups().await?;
    let found = find_new_backup(&before, &after, task.result_str())
        .map_err(|why| unverified("the platform", &task_id, &why))?
        .clone();
    if keep.is_empty() {
        return Ok(VerifiedBackup {
            task_id,
            backup: found,
        });
    }
    let update = update_for(&found, keep);
    client.update_backup(&found.id, &update).await?;
    let relisted = client.list_backups().await?;
    let backup = check_kept(&relisted, &found.id, &update)
        .map_err(|why| unverified("the platform", &task_id, &why))?;
    Ok(VerifiedBackup { task_id, backup })
}

/// Start, stop or restart an app, wait for the task, and check the app's run state.
pub async fn change_run_state(
    client: &Client,
    app_id: &str,
    action: Lifecycle,
    progress: &dyn Progress,
    timeout: Duration,
    on_task: &(dyn Fn(&TaskId) + Send + Sync),
) -> Result<App, CloudronError> {
    let want = match action {
        Lifecycle::Start | Lifecycle::Restart => RunState::Running,
        Lifecycle::Stop => RunState::Stopped,
        other => {
            return Err(CloudronError::Config(format!(
                "{} is not a run-state change",
                other.segment()
            )));
        }
    };
    let task_id = client.app_lifecycle(app_id, action).await?;
    on_task(&task_id);
    client.wait_task(&task_id, progress, timeout).await?;
    let app = client.get_app(app_id).await?;
    if app.run_state != want {
        return Err(unverified(
            &format!("app {}", app.fqdn),
            &task_id,
            &format!(
                "the app's run state is {} (installation state {}), not {want}",
                app.run_state, app.installation_state
            ),
        ));
    }
    Ok(app)
}

/// True when `action` would change nothing: starting a running app, stopping a stopped one.
pub fn already_done(app: &App, action: Lifecycle) -> bool {
    !app.is_busy()
        && match action {
            Lifecycle::Start => app.run_state == RunState::Running,
            Lifecycle::Stop => app.run_state == RunState::Stopped,
            _ => false,
        }
}

fn ids(backups: &[Backup]) -> HashSet<String> {
    backups.iter().map(|b| b.id.clone()).collect()
}

fn unverified(target: &str, task: &TaskId, why: &str) -> CloudronError {
    CloudronError::Unverified(format!(
        "the backup task {task} for {target} reported success, but {why}; do not rely on this \
         backup: check the Cloudron's backups before any destructive change"
    ))
}

/// The backup a finished task created: the one the task names in its result, or else the one
/// listed now that was not listed before (the newest, if several appeared). It must be
/// complete (`state == normal`).
pub fn find_new_backup<'a>(
    before: &HashSet<String>,
    after: &'a [Backup],
    task_result: Option<&str>,
) -> Result<&'a Backup, String> {
    let found = match task_result {
        Some(id) => after
            .iter()
            .find(|b| b.id == id)
            .ok_or_else(|| format!("backup {id} (named by the task) is not listed"))?,
        None => after
            .iter()
            .filter(|b| !before.contains(&b.id))
            .max_by(|a, b| a.creation_time.cmp(&b.creation_time))
            .ok_or_else(|| "no new backup is listed".to_string())?,
    };
    if !found.is_complete() {
        return Err(format!(
            "backup {} is listed in state {}, not normal",
            found.id, found.state
        ));
    }
    Ok(found)
}

fn update_for(found: &Backup, keep: &KeepOptions) -> BackupUpdate {
    BackupUpdate {
        label: keep.label.clone().unwrap_or_else(|| found.label.clone()),
        preserve_secs: keep.preserve.map_or(found.preserve_secs, |d| d.as_secs()),
    }
}

/// The relisted backup, if it carries the label and preservation that were asked for.
fn check_kept(relisted: &[Backup], id: &str, update: &BackupUpdate) -> Result<Backup, String> {
    let b = relisted
        .iter()
        .find(|b| b.id == id)
        .ok_or_else(|| format!("backup {id} is no longer listed after labelling it"))?;
    if b.label != update.label || b.preserve_secs != update.preserve_secs {
        return Err(format!(
            "backup {id} shows label {:?} and preserveSecs {} after being set to {:?} and {}",
            b.label, b.preserve_secs, update.label, update.preserve_secs
        ));
    }
    Ok(b.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudron::models::{BackupState, InstallationState};

    fn backup(id: &str, time: &str, state: BackupState) -> Backup {
        Backup {
            id: id.into(),
            creation_time: chrono::DateTime::parse_from_rfc3339(time)
                .ok()
                .map(|t| t.with_timezone(&chrono::Utc)),
            state,
            ..Backup::default()
        }
    }

    #[test]
    fn the_new_backup_is_found_or_the_reason_given() {
        let old = backup("a", "2025-01-01T00:00:00Z", BackupState::Normal);
        let new1 = backup("b", "2025-01-02T00:00:00Z", BackupState::Normal);
        let new2 = backup("c", "2025-01-03T00:00:00Z", BackupState::Normal);
        let broken = backup("d", "2025-01-04T00:00:00Z", BackupState::Error);
        let before: HashSet<String> = ["a".to_string()].into();
        let after = vec![new2.clone(), new1.clone(), old.clone()];
        // (after, task result, expected id or error substring)
        type Case<'a> = (Vec<Backup>, Option<&'a str>, Result<&'a str, &'a str>);
        let cases: Vec<Case> = vec![
            (after.clone(), None, Ok("c")),
            (after.clone(), Some("b"), Ok("b")),
            (
                after.clone(),
                Some("zz"),
                Err("zz (named by the task) is not listed"),
            ),
            (vec![old.clone()], None, Err("no new backup is listed")),
            (vec![broken, old], None, Err("in state error, not normal")),
        ];
        for (after, result, want) in cases {
            let got = find_new_backup(&before, &after, result).map(|b| b.id.as_str());
            match want {
                Ok(id) => assert_eq!(got, Ok(id)),
                Err(why) => {
                    let e = got.expect_err(why);
                    assert!(e.contains(why), "{e}");
                }
            }
        }
    }

    #[test]
    fn labelling_keeps_what_is_not_asked_and_is_checked() {
        let mut b = backup("b", "2025-01-02T00:00:00Z", BackupState::Normal);
        b.label = "nightly".into();
        b.preserve_secs = 3600;
        let only_label = KeepOptions {
            label: Some("before upgrade".into()),
            preserve: None,
        };
        let u = update_for(&b, &only_label);
        assert_eq!(
            (u.label.as_str(), u.preserve_secs),
            ("before upgrade", 3600)
        );
        let only_days = KeepOptions {
            label: None,
            preserve: Some(Duration::from_secs(7 * 86_400)),
        };
        let u = update_for(&b, &only_days);
        assert_eq!((u.label.as_str(), u.preserve_secs), ("nightly", 604_800));
        let err = check_kept(std::slice::from_ref(&b), "b", &u).expect_err("not applied");
        assert!(err.contains("after being set to"), "{err}");
        b.preserve_secs = 604_800;
        assert!(check_kept(&[b], "b", &u).is_ok());
    }

    #[test]
    fn start_and_stop_are_idempotent_but_not_when_busy() {
        let mut app = App {
            installation_state: InstallationState::Installed,
            run_state: RunState::Running,
            ..App::default()
        };
        assert!(already_done(&app, Lifecycle::Start));
        assert!(!already_done(&app, Lifecycle::Stop));
        assert!(!already_done(&app, Lifecycle::Restart));
        app.installation_state = InstallationState::PendingStop;
        assert!(!already_done(&app, Lifecycle::Start));
    }
}
