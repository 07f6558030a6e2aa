//! `--state FILE`: the estate survives a restart. The file is JSON, written atomically
//! (temporary file in the same directory, then rename) shortly after each change and once
//! more at shutdown, with mode 0600 because it holds the API token.
//!
//! On load, what a restart interrupted is settled the way a rebooted Cloudron does: running
//! tasks are marked crashed and their apps go to `error`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::LabError;
use super::http::now_iso;
use super::model::Estate;
use super::state::Shared;

/// Read a saved estate; `Ok(None)` when the file does not exist.
pub fn load(path: &Path) -> Result<Option<Estate>, LabError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(LabError::Io {
                what: "reading the emulator state file",
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut estate: Estate = serde_json::from_str(&text).map_err(|e| LabError::StateFile {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    recover(&mut estate);
    Ok(Some(estate))
}

/// Settle tasks that were running when the emulator stopped.
pub fn recover(e: &mut Estate) {
    let running: Vec<String> = e
        .tasks
        .iter()
        .filter(|t| t.active || t.pending)
        .map(|t| t.id.clone())
        .collect();
    for id in running {
        let msg = format!("Task {id} crashed: the Cloudron restarted while it was running");
        super::tasks::fail(e, &id, &msg, "crashed");
    }
    // An app left busy without a task (should not happen) is put in error too.
    let now = now_iso();
    for app in e.apps.iter_mut().filter(|a| a.is_busy()) {
        app.error = Some(serde_json::json!({
            "reason": "Task Error",
            "message": "The Cloudron restarted while the app was busy",
            "details": {},
            "taskId": app.task_id,
            "installationState": app.installation_state,
        }));
        app.installation_state = "error".into();
        app.task_id = None;
        app.ts = now.clone();
    }
}

/// Write the estate atomically.
pub fn save(path: &Path, estate: &Estate) -> Result<(), LabError> {
    let io = |source| LabError::Io {
        what: "writing the emulator state file",
        path: path.to_path_buf(),
        source,
    };
    let bytes = serde_json::to_vec_pretty(estate).map_err(|e| LabError::StateFile {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let tmp = tmp_path(path);
    {
        let mut f = private_file(&tmp).map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

fn tmp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Create (truncate) a file readable by its owner only.
pub fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// Save after changes (coalescing bursts) until shutdown, then save once more.
pub async fn writer(shared: Arc<Shared>, path: PathBuf) {
    let mut shutdown = shared.shutdown_signal();
    loop {
        tokio::select! {
            _ = shared.dirty.notified() => {}
            _ = shutdown.changed() => break,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        save_now(&shared, &path).await;
        if shared.is_shut_down() {
            break;
        }
    }
    save_now(&shared, &path).await;
}

/// Snapshot under the lock, write (and fsync, which can take a while on a busy disk) on a
/// blocking thread so requests are not held up.
async fn save_now(shared: &Shared, path: &Path) {
    let snapshot = shared.read().clone();
    let path = path.to_path_buf();
    let result = tokio::task::spawn_blocking(move || save(&path, &snapshot)).await;
    let err = match result {
        Ok(Ok(())) => return,
        Ok(Err(e)) => e.to_string(),
        Err(e) => format!("saving the emulator state: {e}"),
    };
    // No caller to return to: the server keeps running and says why the state is stale.
    eprintln!("warning: {err}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factory::new_task;
    use crate::model::Token;
    use crate::seed;

    #[test]
    fn save_then_load_round_trips_and_is_private() {
        let dir = tempfile::tempdir().map_err(|e| e.to_string());
        let dir = match dir {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let path = dir.path().join("state.json");
        let e = seed::build("demo", 0, Token("tok".into()));
        assert!(save(&path, &e).is_ok());
        let back = load(&path).ok().flatten();
        assert!(back.as_ref().is_some_and(|b| b.apps.len() == e.apps.len()));
        assert!(back.is_some_and(|b| b.token.0 == "tok"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode.ok(), Some(0o600));
    }

    #[test]
    fn missing_file_is_none_and_garbage_is_an_error() {
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { panic!("tempdir") };
        assert!(matches!(load(&dir.path().join("nope.json")), Ok(None)));
        let bad = dir.path().join("bad.json");
        assert!(std::fs::write(&bad, "{not json").is_ok());
        let err = load(&bad).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("bad.json"), "{err}");
    }

    #[test]
    fn recover_crashes_running_tasks_and_their_apps() {
        let mut e = seed::build("demo", 0, Token("tok".into()));
        let id = e.take_task_id();
        e.tasks.push(new_task(id.clone(), "app", vec![]));
        e.apps[0].installation_state = "pending_backup".into();
        e.apps[0].task_id = Some(id.clone());
        recover(&mut e);
        let t = e.task(&id);
        assert!(t.is_some_and(|t| !t.active && !t.success));
        assert_eq!(e.apps[0].installation_state, "error");
        assert_eq!(e.apps[0].task_id, None);
    }
}
