//! Waiting for a Cloudron task: poll `GET /tasks/:id` until it is neither active nor pending,
//! report progress as it goes, and give up after a deadline.
//!
//! A task is done when `active == false && pending == false` (REFERENCE §4.3); it succeeded if
//! `success`, otherwise `error.message` says why. A poll that fails transiently is retried by
//! the client (it is a GET) and, if it still fails, the wait goes on until the deadline or a
//! run of failed polls, because the task keeps running on the server regardless. Giving up
//! never stops the task: the error says it may still be running.

use std::time::{Duration, Instant};

use super::client::Client;
use super::error::CloudronError;
use super::models::{Task, TaskId};
use crate::core::progress::Progress;

/// After this many polls in a row that failed even with retries, stop waiting.
const MAX_FAILED_POLLS: u32 = 5;

impl Client {
    /// Wait for task `id` to finish, driving `progress` (0..100 and the task's message).
    /// Ok with the final task on success; [`CloudronError::TaskFailed`] with the task's message
    /// on failure; [`CloudronError::TaskTimeout`] when `timeout` passes first.
    pub async fn wait_task(
        &self,
        id: &TaskId,
        progress: &dyn Progress,
        timeout: Duration,
    ) -> Result<Task, CloudronError> {
        let deadline = Instant::now() + timeout;
        progress.set_length(100);
        let mut polls = 0u32;
        let mut failed_in_a_row = 0u32;
        let mut last: Option<Task> = None;
        let mut last_error: Option<String> = None;
        loop {
            match self.get_task(id).await {
                Ok(task) => {
                    failed_in_a_row = 0;
                    let msg = (!task.message.is_empty()).then_some(task.message.as_str());
                    progress.update(u64::from(task.percent), msg);
                    if task.is_finished() {
                        return finish(id, task, progress);
                    }
                    last = Some(task);
                }
                Err(e) if e.is_retryable() && failed_in_a_row + 1 < MAX_FAILED_POLLS => {
                    failed_in_a_row += 1;
                    last_error = Some(e.to_string());
                }
                Err(e) => {
                    progress.finish("could not follow the task");
                    return Err(e);
                }
            }
            let now = Instant::now();
            if now >= deadline {
                progress.finish("gave up waiting");
                return Err(CloudronError::TaskTimeout {
                    task_id: id.to_string(),
                    what: last.as_ref().map_or_else(|| "task".into(), kind_of),
                    after: timeout,
                    last: describe_last(last.as_ref(), last_error.as_deref()),
                });
            }
            let pause = self.poll.interval(polls).min(deadline - now);
            tokio::time::sleep(pause).await;
            polls += 1;
        }
    }
}

fn finish(id: &TaskId, task: Task, progress: &dyn Progress) -> Result<Task, CloudronError> {
    if task.success {
        progress.set_position(100);
        progress.finish("done");
        return Ok(task);
    }
    let message = task.failure_message();
    progress.finish(&format!("failed: {message}"));
    Err(CloudronError::TaskFailed {
        task_id: id.to_string(),
        what: kind_of(&task),
        message,
        code: task.error.and_then(|e| e.code),
    })
}

fn kind_of(task: &Task) -> String {
    if task.kind.is_empty() {
        "task".to_string()
    } else {
        task.kind.clone()
    }
}

/// "40% Uploading", or the last polling error when the task was never seen.
fn describe_last(task: Option<&Task>, error: Option<&str>) -> String {
    match (task, error) {
        (Some(t), _) if t.message.is_empty() => format!("{}%", t.percent),
        (Some(t), _) => format!("{}% {}", t.percent, t.message),
        (None, Some(e)) => format!("no answer: {e}"),
        (None, None) => "none".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_report_is_described_briefly() {
        let t = Task {
            percent: 40,
            message: "Uploading".into(),
            ..Task::default()
        };
        assert_eq!(describe_last(Some(&t), None), "40% Uploading");
        let quiet = Task {
            percent: 0,
            ..Task::default()
        };
        assert_eq!(describe_last(Some(&quiet), Some("x")), "0%");
        assert_eq!(describe_last(None, Some("reset")), "no answer: reset");
        assert_eq!(describe_last(None, None), "none");
    }
}
