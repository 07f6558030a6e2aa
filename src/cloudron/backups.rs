//! Platform backup and task routes (REFERENCE §3.3, §3.4): list and start platform (`box`)
//! backups, label or preserve one, and read or stop tasks.
//!
//! `GET /backups` lists platform backups only; an app's backups are under `/apps/:id/backups`
//! (`apps.rs`). Starting a backup is one POST, never retried.

use reqwest::Method;

use super::apps::{BackupUpdate, task_id_of};
use super::client::{Client, Request};
use super::error::CloudronError;
use super::models::{Backup, BackupsPage, Task, TaskId, TaskStarted, TasksPage};

impl Client {
    /// `GET /backups`, every page: completed platform backups, newest first.
    pub async fn list_backups(&self) -> Result<Vec<Backup>, CloudronError> {
        self.get_all(
            &["backups"],
            "the backup list",
            &[],
            |p: BackupsPage| p.backups,
            |b: &Backup| b.id.as_str(),
        )
        .await
    }

    /// `POST /backups/create`: start a platform backup (409 when one is already running).
    pub async fn create_backup(&self) -> Result<TaskId, CloudronError> {
        let started: TaskStarted = self
            .call(
                Method::POST,
                &["backups", "create"],
                "the backup route",
                serde_json::json!({}),
            )
            .await?;
        task_id_of(started, "POST /backups/create")
    }

    /// `POST /backups/:backupId {label, preserveSecs}`.
    pub async fn update_backup(
        &self,
        backup_id: &str,
        update: &BackupUpdate,
    ) -> Result<(), CloudronError> {
        let what = format!("backup {backup_id}");
        self.call_no_content(Method::POST, &["backups", backup_id], &what, update)
            .await
    }

    /// `GET /tasks/:id`.
    pub async fn get_task(&self, id: &TaskId) -> Result<Task, CloudronError> {
        let what = format!("task {id}");
        self.json(&Request::get(&["tasks", id.as_str()], &what))
            .await
    }

    /// `GET /tasks?type=...`: the most recent tasks, newest first (one page of `limit`).
    pub async fn list_tasks(
        &self,
        kind: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Task>, CloudronError> {
        let mut query = vec![
            ("page", "1".to_string()),
            ("per_page", limit.max(1).to_string()),
        ];
        if let Some(k) = kind {
            query.push(("type", k.to_string()));
        }
        let req = Request {
            query: &query,
            ..Request::get(&["tasks"], "the task list")
        };
        let page: TasksPage = self.json(&req).await?;
        Ok(page.tasks)
    }

    /// `POST /tasks/:id/stop` (204; 409 when the task is not running).
    pub async fn stop_task(&self, id: &TaskId) -> Result<(), CloudronError> {
        let what = format!("task {id}");
        self.call_no_content(
            Method::POST,
            &["tasks", id.as_str(), "stop"],
            &what,
            serde_json::json!({}),
        )
        .await
    }
}
