//! Asynchronous tasks, as a Cloudron runs them: a lifecycle request creates a task and
//! returns at once; a runner then moves `percent`/`message` through a few steps over the
//! configured task duration and finally applies the operation's effect (the app becomes
//! `installed`, a backup appears, the app disappears...) or fails it (`error`).
//!
//! Injected faults make a task fail (`task_error`) or hang (`task_stall`); a task can be
//! stopped. Runners stop touching the estate after a reset or at shutdown.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::factory::new_event;
use super::faults::TaskFault;
use super::http::now_iso;
use super::job::Job;
use super::model::{Estate, TaskError};
use super::state::Shared;

/// Run the job in the background.
pub fn spawn(shared: &Arc<Shared>, job: Job) {
    let shared = Arc::clone(shared);
    let gen_ = shared.generation();
    tokio::spawn(async move { run(shared, job, gen_).await });
}

/// Sleep, or return false if the emulator shuts down meanwhile.
async fn pause(shared: &Shared, d: Duration) -> bool {
    let mut sd = shared.shutdown_signal();
    if *sd.borrow() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = sd.changed() => false,
    }
}

async fn run(shared: Arc<Shared>, job: Job, gen_: u64) {
    let steps = job.op.steps();
    let tick = shared.task_duration / u32::try_from(steps.len() + 1).unwrap_or(1);
    let trouble_at = steps.len() / 2;
    for (i, (percent, message)) in steps.iter().enumerate() {
        if !pause(&shared, tick).await {
            return;
        }
        if i == trouble_at && job.fault == Some(TaskFault::Error) {
            let msg = format!("{message}: failed (lab fault task_error)");
            shared.mutate_if_current(gen_, |e| fail(e, &job.task_id, &msg, "crashed"));
            return;
        }
        let alive =
            shared.mutate_if_current(gen_, |e| progress(e, &job.task_id, *percent, message));
        if alive != Some(true) {
            return;
        }
        if i == trouble_at && job.fault == Some(TaskFault::Stall) {
            // Hang here until stopped, reset or shut down.
            loop {
                if !pause(&shared, Duration::from_millis(50)).await {
                    return;
                }
                let active = shared
                    .mutate_if_current(gen_, |e| e.task(&job.task_id).is_some_and(|t| t.active));
                if active != Some(true) {
                    return;
                }
            }
        }
    }
    if !pause(&shared, tick).await {
        return;
    }
    shared.mutate_if_current(gen_, |e| {
        if e.task(&job.task_id).is_some_and(|t| t.active)
            && let Err(msg) = super::effects::finish(e, &job)
        {
            fail(e, &job.task_id, &msg, "crashed");
        }
    });
}

/// Record progress; false when the task is no longer active (stopped).
fn progress(e: &mut Estate, task_id: &str, percent: u32, message: &str) -> bool {
    let Some(t) = e.task_mut(task_id) else {
        return false;
    };
    if !t.active {
        return false;
    }
    t.percent = percent;
    t.message = message.to_string();
    t.ts = now_iso();
    t.lab_log.push(format!("{} {percent}% {message}", t.ts));
    true
}

/// End a task in failure; its app (if any) goes to `error`.
pub fn fail(e: &mut Estate, task_id: &str, message: &str, code: &str) {
    let now = now_iso();
    let Some(t) = e.task_mut(task_id) else { return };
    t.active = false;
    t.pending = false;
    t.success = false;
    t.error = Some(TaskError {
        message: message.to_string(),
        code: code.to_string(),
    });
    t.ts = now.clone();
    t.lab_log.push(format!("{now} error: {message}"));
    let kind = t.kind.clone();
    if let Some(app) = e
        .apps
        .iter_mut()
        .find(|a| a.task_id.as_deref() == Some(task_id))
    {
        app.error = Some(json!({
            "reason": if code == "stopped" { "Task Error" } else { "External Error" },
            "message": message,
            "details": {},
            "taskId": task_id,
            "installationState": app.installation_state,
        }));
        app.installation_state = "error".into();
        app.task_id = None;
        app.ts = now.clone();
    }
    if kind == "backup" {
        let src = json!({"username": "cron", "userId": null, "ip": null});
        e.events.push(new_event(
            "backup.finish",
            &src,
            json!({"taskId": task_id, "backupId": null, "errorMessage": message}),
            now,
        ));
    }
}
