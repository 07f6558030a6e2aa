//! App routes (REFERENCE §3.2): list and read apps, the lifecycle POSTs that start tasks
//! (start, stop, restart, backup, uninstall, restore, clone, install), and an app's backups.
//!
//! Each lifecycle call is one POST, sent once: it returns the task id and does not wait.
//! Waiting and verifying is `tasks.rs` and `ops.rs`'s business.

use reqwest::Method;
use serde::Serialize;

use super::client::{Client, Request};
use super::error::CloudronError;
use super::models::{
    AccessRestriction, App, AppsPage, Backup, BackupsPage, Task, TaskId, TaskStarted,
};

/// The lifecycle actions that take no body and start a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Start,
    Stop,
    Restart,
    Backup,
    Uninstall,
}

impl Lifecycle {
    /// The last path segment of `POST /apps/:id/<segment>`.
    pub fn segment(self) -> &'static str {
        match self {
            Lifecycle::Start => "start",
            Lifecycle::Stop => "stop",
            Lifecycle::Restart => "restart",
            Lifecycle::Backup => "backup",
            Lifecycle::Uninstall => "uninstall",
        }
    }
}

/// `POST /apps` (install). `accessRestriction` is always sent, `null` included: live servers
/// require the key.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallRequest {
    /// `id` or `id@version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_store_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<serde_json::Value>,
    pub subdomain: String,
    pub domain: String,
    pub access_restriction: Option<AccessRestriction>,
    /// Install from this backup (restore into a new app).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// `POST /apps/:id/clone`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloneRequest {
    pub backup_id: String,
    pub subdomain: String,
    pub domain: String,
}

/// `POST /apps/:id/backups/:backupId` and `POST /backups/:backupId`: label and retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupUpdate {
    pub label: String,
    /// 0 follows the retention policy.
    pub preserve_secs: u64,
}

impl Client {
    /// `GET /apps`: every app the token's owner can see (list items carry a subset of fields).
    pub async fn list_apps(&self) -> Result<Vec<App>, CloudronError> {
        let page: AppsPage = self.json(&Request::get(&["apps"], "the app list")).await?;
        Ok(page.apps)
    }

    /// `GET /apps/:id`: one app, unwrapped.
    pub async fn get_app(&self, id: &str) -> Result<App, CloudronError> {
        let what = format!("app {id}");
        self.json(&Request::get(&["apps", id], &what)).await
    }

    /// `POST /apps/:id/{start,stop,restart,backup,uninstall}`: start the task (never retried).
    pub async fn app_lifecycle(
        &self,
        id: &str,
        action: Lifecycle,
    ) -> Result<TaskId, CloudronError> {
        let what = format!("app {id}");
        let started: TaskStarted = self
            .call(
                Method::POST,
                &["apps", id, action.segment()],
                &what,
                serde_json::json!({}),
            )
            .await?;
        task_id_of(started, &format!("POST /apps/{id}/{}", action.segment()))
    }

    /// `POST /apps/:id/restore {backupId}`: overwrite the app's data with a backup.
    pub async fn restore_app(&self, id: &str, backup_id: &str) -> Result<TaskId, CloudronError> {
        let what = format!("app {id} or backup {backup_id}");
        let started: TaskStarted = self
            .call(
                Method::POST,
                &["apps", id, "restore"],
                &what,
                serde_json::json!({ "backupId": backup_id }),
            )
            .await?;
        task_id_of(started, &format!("POST /apps/{id}/restore"))
    }

    /// `POST /apps/:id/clone`: a new app from a backup. Returns the new app's id and the task.
    pub async fn clone_app(
        &self,
        id: &str,
        request: &CloneRequest,
    ) -> Result<(String, TaskId), CloudronError> {
        let what = format!("app {id} or backup {}", request.backup_id);
        let started: TaskStarted = self
            .call(Method::POST, &["apps", id, "clone"], &what, request)
            .await?;
        let new_id = started.id.clone().unwrap_or_default();
        let task = task_id_of(started, &format!("POST /apps/{id}/clone"))?;
        Ok((new_id, task))
    }

    /// `POST /apps` (install, Cloudron 8.2 and later). Returns the new app's id and the task.
    pub async fn install_app(
        &self,
        request: &InstallRequest,
    ) -> Result<(String, TaskId), CloudronError> {
        let started: TaskStarted = self
            .call(Method::POST, &["apps"], "the app store entry", request)
            .await?;
        let new_id = started.id.clone().ok_or_else(|| CloudronError::Protocol {
            action: "POST /apps".into(),
            detail: "the answer has no app id".into(),
        })?;
        let task = task_id_of(started, "POST /apps")?;
        Ok((new_id, task))
    }

    /// `GET /apps/:id/backups`, every page: the app's completed backups, newest first.
    pub async fn list_app_backups(&self, id: &str) -> Result<Vec<Backup>, CloudronError> {
        let what = format!("app {id}");
        self.get_all(
            &["apps", id, "backups"],
            &what,
            &[],
            |p: BackupsPage| p.backups,
            |b: &Backup| b.id.as_str(),
        )
        .await
    }

    /// `POST /apps/:id/backups/:backupId {label, preserveSecs}`.
    pub async fn update_app_backup(
        &self,
        id: &str,
        backup_id: &str,
        update: &BackupUpdate,
    ) -> Result<(), CloudronError> {
        let what = format!("backup {backup_id} of app {id}");
        self.call_no_content(
            Method::POST,
            &["apps", id, "backups", backup_id],
            &what,
            update,
        )
        .await
    }

    /// `GET /apps/:id/task`: the app's current task (400 "No active task" when there is none).
    pub async fn get_app_task(&self, id: &str) -> Result<Task, CloudronError> {
        let what = format!("app {id}");
        self.json(&Request::get(&["apps", id, "task"], &what)).await
    }
}

/// The task id of an async POST's answer; its absence is a protocol error (v4 answered `{}`).
pub(crate) fn task_id_of(started: TaskStarted, action: &str) -> Result<TaskId, CloudronError> {
    started
        .task_id
        .filter(|t| !t.as_str().is_empty())
        .ok_or_else(|| CloudronError::Protocol {
            action: action.to_string(),
            detail: "the answer has no taskId, so the operation cannot be followed (is this \
                     Cloudron older than version 5?)"
                .to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_body_sends_a_null_access_restriction() {
        let r = InstallRequest {
            app_store_id: Some("org.matomo.cloudronapp@1.52.0".into()),
            subdomain: "analytics".into(),
            domain: "example.org".into(),
            ..InstallRequest::default()
        };
        assert_eq!(
            serde_json::to_string(&r).expect("json"),
            r#"{"appStoreId":"org.matomo.cloudronapp@1.52.0","subdomain":"analytics","domain":"example.org","accessRestriction":null}"#
        );
        let u = BackupUpdate {
            label: "before upgrade".into(),
            preserve_secs: 86_400,
        };
        assert_eq!(
            serde_json::to_string(&u).expect("json"),
            r#"{"label":"before upgrade","preserveSecs":86400}"#
        );
    }

    #[test]
    fn an_answer_without_task_id_is_a_protocol_error() {
        let empty = TaskStarted {
            id: None,
            task_id: None,
        };
        let e = task_id_of(empty, "POST /apps/x/backup").expect_err("no task");
        assert!(e.to_string().contains("has no taskId"), "{e}");
    }
}
