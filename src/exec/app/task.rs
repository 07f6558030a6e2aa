//! Following a Cloudron task an app change started: record its id in the journal the moment
//! the server answers (before waiting), wait for it with progress, record its end. A request
//! that got no answer, or a wait that lost sight of the task, is "unknown" (the next run
//! judges it from the recorded id); a task that failed is handed back for the caller to judge
//! against the app's state.

use crate::cloudron::models::{App, Task, TaskId};
use crate::cloudron::{Client, CloudronError};
use crate::exec::action::{Failure, OpCtx};
use crate::journal::{OpResult, TaskRecord};

/// How a followed task ended, when it did not succeed.
pub enum TaskEnd {
    /// The task failed: the message, and the app as it is now (if it could be read).
    Failed {
        error: CloudronError,
        app: Option<Box<App>>,
    },
    /// No answer, or sight of the task was lost: it may or may not have happened.
    Lost(Failure),
}

/// Record the task on the operation (and on the result, as it goes).
pub fn record(op: &OpCtx<'_>, task: &TaskId, app_id: Option<&str>, end: Option<String>) {
    op.record(OpResult::Task(TaskRecord {
        task_id: task.to_string(),
        app_id: app_id.map(str::to_string),
        backup_id: None,
        end,
    }));
}

/// The app as it is now (for judging a failure), if it can be read.
pub async fn app_now(client: &Client, app_id: &str) -> Option<App> {
    client.get_app(app_id).await.ok()
}

/// Sort a failed POST: a lost connection or timeout may have reached the server (unknown);
/// an answer with an error status (refused, busy, server error) started nothing.
pub fn sent<T>(result: Result<T, CloudronError>) -> Result<T, Failure> {
    match result {
        Ok(t) => Ok(t),
        Err(e @ (CloudronError::Transport { .. } | CloudronError::Timeout { .. })) => {
            Err(Failure::unknown(e))
        }
        Err(error) => Err(Failure::NotApplied(error.into())),
    }
}

/// Wait for `task` (already recorded), then record its end.
pub async fn follow(
    op: &OpCtx<'_>,
    client: &Client,
    app_id: &str,
    task: &TaskId,
    what: &str,
) -> Result<Task, TaskEnd> {
    let progress = op.progress(what);
    match client
        .wait_task(task, progress.as_ref(), client.task_timeout())
        .await
    {
        Ok(t) => {
            record(op, task, Some(app_id), Some("success".into()));
            Ok(t)
        }
        Err(error @ CloudronError::TaskFailed { .. }) => {
            record(op, task, Some(app_id), Some(format!("error: {error}")));
            Err(TaskEnd::Failed {
                app: app_now(client, app_id).await.map(Box::new),
                error,
            })
        }
        Err(other) => Err(TaskEnd::Lost(Failure::unknown(other))),
    }
}

/// A failure that left the app broken is "failed (changed)"; one that left it as it was is
/// "not applied". `way_back` is the command that returns it to where it was.
pub fn judge_failure(end: TaskEnd, fqdn: &str, way_back: Option<String>) -> Failure {
    match end {
        TaskEnd::Lost(f) => f,
        TaskEnd::Failed { error, app } => match app {
            Some(a) if a.error.is_some() || a.is_busy() => Failure::Changed {
                error: error.into(),
                state: format!("{fqdn} is now {}", a.state_label()),
                way_back,
            },
            Some(_) => Failure::NotApplied(error.into()),
            None => Failure::Changed {
                error: error.into(),
                state: format!("{fqdn} can no longer be read from the Cloudron"),
                way_back,
            },
        },
    }
}
