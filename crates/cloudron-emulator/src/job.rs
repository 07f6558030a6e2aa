//! What a task is to the runner: the operation it performs ([`Op`], with what a request said
//! about it) and the job the runner is handed ([`Job`]). Plain data shared by the routes that
//! create tasks, the runner (`tasks.rs`) and the effects of a finished task (`effects.rs`).

use serde_json::Value;

use super::faults::TaskFault;

/// What a task does.
#[derive(Debug, Clone)]
pub enum Op {
    Install,
    Clone,
    Restore { backup_id: String },
    Update { manifest: Value, skip_backup: bool },
    Backup,
    Start,
    Stop,
    Restart,
    Uninstall,
    BoxBackup,
    Cleanup,
}

impl Op {
    /// The app's `installationState` while the task runs.
    pub fn pending_state(&self) -> &'static str {
        match self {
            Op::Install => "pending_install",
            Op::Clone => "pending_clone",
            Op::Restore { .. } => "pending_restore",
            Op::Update { .. } => "pending_update",
            Op::Backup => "pending_backup",
            Op::Start => "pending_start",
            Op::Stop => "pending_stop",
            Op::Restart => "pending_restart",
            Op::Uninstall => "pending_uninstall",
            Op::BoxBackup | Op::Cleanup => "",
        }
    }

    /// The task `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::BoxBackup => "backup",
            Op::Cleanup => "cleanBackups",
            _ => "app",
        }
    }

    pub(crate) fn steps(&self) -> Vec<(u32, &'static str)> {
        match self {
            Op::Install => vec![
                (10, "Registering subdomains"),
                (30, "Downloading image"),
                (55, "Setting up addons"),
                (75, "Creating container"),
                (90, "Waiting for app to start"),
            ],
            Op::Clone | Op::Restore { .. } => vec![
                (10, "Registering subdomains"),
                (30, "Downloading backup"),
                (60, "Restoring addons"),
                (80, "Creating container"),
                (90, "Waiting for app to start"),
            ],
            Op::Update { skip_backup, .. } => {
                let mut v = Vec::new();
                if !skip_backup {
                    v.push((10, "Backing up app"));
                }
                v.extend([
                    (30, "Downloading image"),
                    (60, "Running migrations"),
                    (85, "Starting app"),
                ]);
                v
            }
            Op::Backup => vec![
                (10, "Snapshotting app"),
                (40, "Uploading backup"),
                (80, "Checking backup"),
                (95, "Finalizing"),
            ],
            Op::Start => vec![(20, "Starting container"), (60, "Waiting for app to start")],
            Op::Stop => vec![(30, "Stopping container"), (70, "Stopped")],
            Op::Restart => vec![(20, "Stopping container"), (60, "Starting container")],
            Op::Uninstall => vec![
                (20, "Stopping app"),
                (40, "Deleting container"),
                (60, "Tearing down addons"),
                (80, "Unregistering domains"),
            ],
            Op::BoxBackup => vec![
                (10, "Backing up platform data"),
                (30, "Backing up apps"),
                (70, "Uploading"),
                (90, "Cleaning up"),
            ],
            Op::Cleanup => vec![
                (20, "Cleaning box backups"),
                (60, "Cleaning app backups"),
                (90, "Cleaning missing backups"),
            ],
        }
    }
}

/// A started task and what it is about.
#[derive(Debug, Clone)]
pub struct Job {
    pub task_id: String,
    pub app_id: Option<String>,
    pub op: Op,
    pub fault: Option<TaskFault>,
    /// Who asked, for the events written when it ends.
    pub source: Value,
}
