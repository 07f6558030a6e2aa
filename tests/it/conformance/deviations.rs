//! The documented differences between a live Cloudron (which the emulator follows) and the
//! official OpenAPI files (REFERENCE.md §9), each with its reason. `docs/lab.md` lists the same.

/// A documented difference between the emulator (= a live Cloudron) and the spec.
pub struct Deviation {
    pub method: &'static str,
    pub path: &'static str,
    /// JSON pointer into the body, `*` for one segment; `""` for the route or status itself.
    pub pointer: &'static str,
    pub reason: &'static str,
    /// True when the validator cannot see it (the spec schema has no required keys).
    pub silent: bool,
}

const fn dev(
    method: &'static str,
    path: &'static str,
    pointer: &'static str,
    reason: &'static str,
) -> Deviation {
    Deviation {
        method,
        path,
        pointer,
        reason,
        silent: false,
    }
}

const fn silent(method: &'static str, path: &'static str, reason: &'static str) -> Deviation {
    Deviation {
        method,
        path,
        pointer: "",
        reason,
        silent: true,
    }
}

const TASK_ID: &str =
    "task ids are decimal strings (\"2737\") on a live 9.0.15; the spec says integer";
const ACCESS: &str =
    "accessRestriction is null or {users, groups}; the spec's response type is string";
const APP_ERROR: &str = "an app's error is an object {reason, message, taskId, installationState}; the spec says string";
const APP_TASK_ID: &str =
    "an app's taskId is null when no task runs; the spec types it string only";
const HEALTH: &str = "health is null until the first health check (dashboard: \"Starting...\")";
const TASK_ERROR: &str = "a task's error is null unless it failed; the spec types it object only";
const TASK_CODE: &str =
    "a task's error.code is a string (stopped, crashed, timeout); the spec says integer";
const TASK_RESULT: &str = "a task's result is type-specific: the backup id (a string) or null";

pub static DEVIATIONS: &[Deviation] = &[
    dev("POST", "*", "/taskId", TASK_ID),
    dev("GET", "/apps", "/apps/*/taskId", APP_TASK_ID),
    dev("GET", "/apps/{appId}", "/taskId", APP_TASK_ID),
    dev("GET", "/apps", "/apps/*/accessRestriction", ACCESS),
    dev("GET", "/apps/{appId}", "/accessRestriction", ACCESS),
    dev("GET", "/apps", "/apps/*/error", APP_ERROR),
    dev("GET", "/apps/{appId}", "/error", APP_ERROR),
    dev("GET", "/apps", "/apps/*/health", HEALTH),
    dev("GET", "/apps/{appId}", "/health", HEALTH),
    dev(
        "GET",
        "/apps",
        "/apps/*/checklist",
        "checklist is an object (as in the spec's own app.json); apps.json says array",
    ),
    dev("GET", "/tasks", "/tasks/*/error", TASK_ERROR),
    dev("GET", "/tasks/{taskId}", "/error", TASK_ERROR),
    dev("GET", "/tasks", "/tasks/*/error/code", TASK_CODE),
    dev("GET", "/tasks/{taskId}", "/error/code", TASK_CODE),
    dev("GET", "/tasks", "/tasks/*/result", TASK_RESULT),
    dev("GET", "/tasks/{taskId}", "/result", TASK_RESULT),
    dev(
        "GET",
        "/backups",
        "/backups/*/manifest",
        "platform backups have manifest null (only app backups carry one)",
    ),
    dev(
        "GET",
        "/services/platform_status",
        "/message",
        "the message is a string (\"Ready\"); the spec says object with that very example",
    ),
    dev(
        "GET",
        "/apps/{appId}",
        "",
        "a live 9.0.15 answers 404 \"App not found\"; the spec declares no 404",
    ),
    dev(
        "POST",
        "/apps/{appId}/backup",
        "",
        "the route is missing from the spec but used by the dashboard and the CLI",
    ),
    silent(
        "GET",
        "/groups/{groupId}",
        "the group object itself, as the dashboard reads it; the spec wraps it in {group: [...]}",
    ),
    silent(
        "GET",
        "/dashboard/config",
        "the config object itself; the spec wraps it in {dashboard: [...]}",
    ),
    silent(
        "GET",
        "/services/{service}",
        "wrapped {service: {...}} as the dashboard reads it; the spec shows it unwrapped",
    ),
];
