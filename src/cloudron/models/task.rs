//! An asynchronous Cloudron task (`GET /tasks/:id`, REFERENCE §4.3).
//!
//! A task has finished when it is neither `active` nor `pending`; it succeeded when `success`
//! is true, otherwise `error.message` says why. This file only describes the object: polling
//! lives in `tasks.rs`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{TaskId, lenient_time, null_default};

/// Why a task failed: `{message, code}` on current servers (`code` a string such as `stopped`,
/// `crashed`, `timeout`, although the docs say integer), a bare string on some others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TaskError {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl<'de> Deserialize<'de> for TaskError {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(match v {
            serde_json::Value::String(message) => TaskError {
                message,
                code: None,
            },
            serde_json::Value::Object(map) => {
                let code = map.get("code").and_then(|c| match c {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                });
                let message = map
                    .get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| match &code {
                        Some(c) => format!("task ended with code {c}"),
                        None => "task failed without a message".to_string(),
                    });
                TaskError { message, code }
            }
            other => TaskError {
                message: other.to_string(),
                code: None,
            },
        })
    }
}

/// One task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: TaskId,
    /// `app`, `backup`, `update`, ... (kept as text: the list grows with each version).
    #[serde(default, rename = "type", deserialize_with = "null_default")]
    pub kind: String,
    /// 0..100 (some servers send floats).
    #[serde(default, deserialize_with = "percent")]
    pub percent: u8,
    #[serde(default, deserialize_with = "null_default")]
    pub message: String,
    #[serde(default, deserialize_with = "null_default")]
    pub active: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub pending: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub success: bool,
    #[serde(default)]
    pub error: Option<TaskError>,
    /// Type-specific result; for a backup task, believed to be the new backup's id.
    #[serde(default)]
    pub result: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub creation_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub ts: Option<DateTime<Utc>>,
}

fn percent<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    let p = match v {
        Some(serde_json::Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    };
    Ok(p.clamp(0.0, 100.0).round() as u8)
}

impl Task {
    /// Finished, successfully or not (REFERENCE §4.3: `active == false && pending == false`).
    pub fn is_finished(&self) -> bool {
        !self.active && !self.pending
    }

    /// Finished and successful.
    pub fn succeeded(&self) -> bool {
        self.is_finished() && self.success
    }

    /// The failure text of a finished, unsuccessful task.
    pub fn failure_message(&self) -> String {
        match &self.error {
            Some(e) if !e.message.is_empty() => e.message.clone(),
            _ if !self.message.is_empty() => self.message.clone(),
            _ => "the task ended without success and without a message".to_string(),
        }
    }

    /// The `result` as a string, when it is one (a backup id for backup tasks).
    pub fn result_str(&self) -> Option<&str> {
        self.result
            .as_ref()
            .and_then(|r| r.as_str())
            .filter(|s| !s.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_states_and_errors() {
        // (json, finished, succeeded, failure message)
        let cases = [
            (
                r#"{"id":"364","type":"backup","percent":40,"message":"Uploading","active":true,"pending":false,"success":false,"error":null}"#,
                false,
                false,
                None,
            ),
            (
                r#"{"id":364,"percent":0,"active":false,"pending":true}"#,
                false,
                false,
                None,
            ),
            (
                r#"{"id":"364","percent":100,"active":false,"pending":false,"success":true,"result":"app_v1.52.0_ff231fee"}"#,
                true,
                true,
                None,
            ),
            (
                r#"{"id":"364","percent":62.5,"active":false,"pending":false,"success":false,"error":{"message":"Backup storage full","code":"crashed"}}"#,
                true,
                false,
                Some("Backup storage full"),
            ),
            (
                r#"{"id":"364","active":false,"pending":false,"success":false,"error":{"code":7}}"#,
                true,
                false,
                Some("task ended with code 7"),
            ),
            (
                r#"{"id":"364","active":false,"pending":false,"success":false,"error":"Task 364 stopped"}"#,
                true,
                false,
                Some("Task 364 stopped"),
            ),
        ];
        for (json, finished, succeeded, failure) in cases {
            let t: Task = serde_json::from_str(json).expect(json);
            assert_eq!(t.is_finished(), finished, "{json}");
            assert_eq!(t.succeeded(), succeeded, "{json}");
            if let Some(f) = failure {
                assert_eq!(t.failure_message(), f, "{json}");
            }
        }
        let t: Task = serde_json::from_str(cases[2].0).expect("done");
        assert_eq!(t.result_str(), Some("app_v1.52.0_ff231fee"));
        let t: Task = serde_json::from_str(cases[3].0).expect("failed");
        assert_eq!(t.percent, 63);
        assert_eq!(t.error.and_then(|e| e.code), Some("crashed".into()));
    }
}
