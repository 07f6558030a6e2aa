//! Conformance of the Cloudron emulator to the official Cloudron OpenAPI files: every
//! implemented route is called on a running emulator and its JSON answer validated against
//! the response schema the spec declares for that status.
//!
//! The spec lives in `shared/cloudron-api` beside the project (`../shared/cloudron-api` from
//! the crate). Where a live Cloudron differs from its own docs (REFERENCE.md §9), the emulator
//! follows the live server; each such difference is listed in [`DEVIATIONS`] with its
//! reason (in `deviations`), and an entry that no longer matches anything fails the test.

mod deviations;
mod schema;

use std::collections::HashSet;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::lab_cloudron::{Lab, with_tasks_of};
use deviations::DEVIATIONS;
use schema::{Lookup, Problem, Spec};

fn glob(pattern: &str, pointer: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = pointer.split('/').collect();
    p.len() == s.len() && p.iter().zip(&s).all(|(a, b)| *a == "*" || a == b)
}

/// Locate the spec; its absence is a failure, not a skip.
fn spec() -> Spec {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cloudron-api");
    assert!(
        root.join("openapi.json").is_file(),
        "the official Cloudron OpenAPI files are missing: expected {}/openapi.json (with \
         paths/ and components/). The conformance test needs `shared/cloudron-api` beside \
         the project checkout.",
        root.display()
    );
    Spec::new(root)
}

struct Checker {
    lab: Lab,
    spec: Spec,
    used: HashSet<usize>,
    unexplained: Vec<String>,
    checked: usize,
}

impl Checker {
    /// Call `METHOD path` (spec path `template`), expect `status`, validate the body.
    async fn call(
        &mut self,
        method: &str,
        template: &str,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let (got, v) = self.lab.call(method, &format!("/api/v1{path}"), body).await;
        assert_eq!(got, status, "{method} {path}: {v}");
        self.validate(method, template, status, &v);
        v
    }

    fn validate(&mut self, method: &str, template: &str, status: u16, v: &Value) {
        self.checked += 1;
        let mut problems = Vec::new();
        match self.spec.response(method, template, status) {
            Lookup::Schema { schema, base } => {
                if !(status == 204 && v.is_null()) {
                    self.spec.validate(&schema, &base, v, "", &mut problems);
                }
            }
            Lookup::NoSchema => {}
            Lookup::NoStatus => problems.push(Problem {
                pointer: String::new(),
                message: format!("status {status} is not declared"),
            }),
            Lookup::NoRoute => problems.push(Problem {
                pointer: String::new(),
                message: "the route is not in the spec".into(),
            }),
        }
        for p in problems {
            let hit = DEVIATIONS.iter().position(|d| {
                !d.silent
                    && (d.method == "*" || d.method == method)
                    && (d.path == "*" || d.path == template)
                    && glob(d.pointer, &p.pointer)
            });
            match hit {
                Some(i) => {
                    self.used.insert(i);
                }
                None => self.unexplained.push(format!(
                    "{method} {template} {status} {}: {}",
                    p.pointer, p.message
                )),
            }
        }
    }

    async fn get(&mut self, template: &str, path: &str) -> Value {
        self.call("GET", template, path, None, 200).await
    }

    async fn wait(&self, task_id: &Value) -> Value {
        self.lab
            .wait_task(task_id.as_str().expect("task id"))
            .await
            .0
    }
}

fn s(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .to_string()
}

#[tokio::test]
async fn the_emulator_answers_as_the_official_spec_says() {
    let spec = spec();
    // Long enough that the second `backups/create` meets the first one still running.
    let lab = Lab::with(with_tasks_of(std::time::Duration::from_millis(400))).await;
    let mut c = Checker {
        lab,
        spec,
        used: HashSet::new(),
        unexplained: Vec::new(),
        checked: 0,
    };
    let apps = c.lab.ok("/api/v1/apps").await;
    let by_sub = |sub: &str| {
        apps["apps"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["subdomain"] == sub))
            .map(|x| s(x, "id"))
            .unwrap_or_else(|| panic!("no {sub}"))
    };
    let (matomo, wiki, chat, git, www) = (
        by_sub("analytics"),
        by_sub("wiki"),
        by_sub("chat"),
        by_sub("git"),
        by_sub("www"),
    );

    // Stage every state the schemas must cover: an app stuck installing (health null, busy),
    // an app in error (error object), a failed task, a successful backup task.
    c.lab
        .post(
            "/__lab/faults",
            json!({"match": "POST /api/v1/apps", "effect": "task_stall", "times": 1}),
        )
        .await;
    c.lab
        .post(
            "/__lab/faults",
            json!({"match": "POST /api/v1/apps/{id}/backup", "effect": "task_error", "times": 1}),
        )
        .await;
    let install = json!({"appStoreId": "io.cloudron.surfer", "subdomain": "stalled", "domain": "example.org", "accessRestriction": null});
    let stalled = c.call("POST", "/apps", "/apps", Some(install), 202).await;
    let failed = c
        .call(
            "POST",
            "/apps/{appId}/backup",
            &format!("/apps/{wiki}/backup"),
            Some(json!({})),
            202,
        )
        .await;
    let failed_task = c.wait(&failed["taskId"]).await;
    assert_eq!(failed_task["success"], false);
    let backup = c
        .call(
            "POST",
            "/apps/{appId}/backup",
            &format!("/apps/{matomo}/backup"),
            Some(json!({})),
            202,
        )
        .await;
    let backup_task = c.wait(&backup["taskId"]).await;
    let backup_id = s(&backup_task, "result");

    // platform, profile, eventlog
    c.get("/cloudron/status", "/cloudron/status").await;
    c.get("/dashboard/config", "/dashboard/config").await;
    c.get("/system/info", "/system/info").await;
    c.get("/system/memory", "/system/memory").await;
    c.get("/system/disk_usage", "/system/disk_usage").await;
    c.get("/services", "/services").await;
    c.get("/services/platform_status", "/services/platform_status")
        .await;
    c.get("/services/{service}", "/services/mysql").await;
    c.get("/profile", "/profile").await;
    let events = c.get("/eventlog", "/eventlog?per_page=50").await;
    let event_id = s(&events["eventlogs"][0], "id");
    c.get("/eventlog/{eventId}", &format!("/eventlog/{event_id}"))
        .await;

    // apps
    c.get("/apps", "/apps").await;
    for id in [&matomo, &wiki, &s(&stalled, "id")] {
        c.get("/apps/{appId}", &format!("/apps/{id}")).await;
    }
    c.call(
        "GET",
        "/apps/{appId}",
        "/apps/9f9f78b2-6c5b-41df-9a21-5fa20dee3d6a",
        None,
        404,
    )
    .await;
    c.get(
        "/apps/{appId}/task",
        &format!("/apps/{}/task", s(&stalled, "id")),
    )
    .await;
    c.call(
        "GET",
        "/apps/{appId}/task",
        &format!("/apps/{matomo}/task"),
        None,
        400,
    )
    .await;
    c.get("/apps/{appId}/backups", &format!("/apps/{matomo}/backups"))
        .await;
    c.get(
        "/apps/{appId}/eventlog",
        &format!("/apps/{matomo}/eventlog"),
    )
    .await;
    c.call(
        "POST",
        "/apps/{appId}/backups/{backupId}",
        &format!("/apps/{matomo}/backups/{backup_id}"),
        Some(json!({"label": "kept", "preserveSecs": 3600})),
        200,
    )
    .await;
    c.call(
        "POST",
        "/apps/{appId}/configure/access_restriction",
        &format!("/apps/{chat}/configure/access_restriction"),
        Some(json!({"accessRestriction": null})),
        200,
    )
    .await;
    c.call(
        "POST",
        "/apps",
        "/apps",
        Some(json!({"subdomain": "x", "domain": "example.org"})),
        400,
    )
    .await;

    // tasks: list and each kind, then stop the stalled install
    c.get("/tasks", "/tasks?per_page=100").await;
    for t in [&stalled["taskId"], &failed["taskId"], &backup["taskId"]] {
        c.get(
            "/tasks/{taskId}",
            &format!("/tasks/{}", t.as_str().unwrap()),
        )
        .await;
    }
    let stop = format!("/tasks/{}/stop", stalled["taskId"].as_str().unwrap());
    c.call("POST", "/tasks/{taskId}/stop", &stop, Some(json!({})), 204)
        .await;
    c.call("POST", "/tasks/{taskId}/stop", &stop, Some(json!({})), 409)
        .await;
    c.get(
        "/tasks/{taskId}",
        &format!("/tasks/{}", stalled["taskId"].as_str().unwrap()),
    )
    .await;

    // lifecycle operations
    for op in ["restart", "stop"] {
        let t = c
            .call(
                "POST",
                &format!("/apps/{{appId}}/{op}"),
                &format!("/apps/{chat}/{op}"),
                Some(json!({})),
                202,
            )
            .await;
        c.wait(&t["taskId"]).await;
    }
    let t = c
        .call(
            "POST",
            "/apps/{appId}/start",
            &format!("/apps/{chat}/start"),
            Some(json!({})),
            202,
        )
        .await;
    c.wait(&t["taskId"]).await;
    let t = c
        .call(
            "POST",
            "/apps/{appId}/update",
            &format!("/apps/{git}/update"),
            Some(json!({"appStoreId": "io.gitea.cloudronapp@1.39.0"})),
            202,
        )
        .await;
    c.wait(&t["taskId"]).await;
    let t = c
        .call(
            "POST",
            "/apps/{appId}/restore",
            &format!("/apps/{matomo}/restore"),
            Some(json!({"backupId": backup_id})),
            202,
        )
        .await;
    c.wait(&t["taskId"]).await;
    let t = c
        .call(
            "POST",
            "/apps/{appId}/clone",
            &format!("/apps/{matomo}/clone"),
            Some(
                json!({"backupId": backup_id, "subdomain": "analytics2", "domain": "example.org"}),
            ),
            201,
        )
        .await;
    c.wait(&t["taskId"]).await;
    let t = c
        .call(
            "POST",
            "/apps/{appId}/uninstall",
            &format!("/apps/{www}/uninstall"),
            Some(json!({})),
            202,
        )
        .await;
    c.wait(&t["taskId"]).await;

    // platform backups
    c.get("/backups", "/backups").await;
    c.get("/backups/config", "/backups/config").await;
    c.get("/backups/mount_status", "/backups/mount_status")
        .await;
    c.get("/backups/policy", "/backups/policy").await;
    c.call(
        "POST",
        "/backups/policy",
        "/backups/policy",
        Some(json!({"schedule": "00 00 23 * * *", "retention": {"keepWithinSecs": 172800}})),
        200,
    )
    .await;
    let t = c
        .call(
            "POST",
            "/backups/create",
            "/backups/create",
            Some(json!({})),
            202,
        )
        .await;
    c.call(
        "POST",
        "/backups/create",
        "/backups/create",
        Some(json!({})),
        409,
    )
    .await;
    let done = c.wait(&t["taskId"]).await;
    c.call(
        "POST",
        "/backups/{backupId}",
        &format!("/backups/{}", s(&done, "result")),
        Some(json!({"label": "monthly"})),
        200,
    )
    .await;
    let t = c
        .call(
            "POST",
            "/backups/cleanup",
            "/backups/cleanup",
            Some(json!({})),
            202,
        )
        .await;
    c.wait(&t["taskId"]).await;

    // users and groups
    c.get("/users", "/users").await;
    let u = c
        .call(
            "POST",
            "/users",
            "/users",
            Some(json!({"email": "zoe@example.org", "username": "zoe"})),
            201,
        )
        .await;
    let uid = s(&u, "id");
    c.call(
        "POST",
        "/users",
        "/users",
        Some(json!({"email": "x@example.org", "username": "admin"})),
        400,
    )
    .await;
    c.get("/users/{userId}", &format!("/users/{uid}")).await;
    c.call(
        "POST",
        "/users/{userId}/profile",
        &format!("/users/{uid}/profile"),
        Some(json!({"displayName": "Zoé"})),
        204,
    )
    .await;
    c.call(
        "PUT",
        "/users/{userId}/role",
        &format!("/users/{uid}/role"),
        Some(json!({"role": "admin"})),
        204,
    )
    .await;
    c.call(
        "PUT",
        "/users/{userId}/active",
        &format!("/users/{uid}/active"),
        Some(json!({"active": false})),
        204,
    )
    .await;
    c.call(
        "PUT",
        "/users/{userId}/groups",
        &format!("/users/{uid}/groups"),
        Some(json!({"groupIds": []})),
        204,
    )
    .await;
    c.get(
        "/users/{userId}/invite_link",
        &format!("/users/{uid}/invite_link"),
    )
    .await;
    c.call(
        "POST",
        "/users/{userId}/send_invite_email",
        &format!("/users/{uid}/send_invite_email"),
        Some(json!({"email": "zoe@example.org"})),
        202,
    )
    .await;
    c.get("/groups", "/groups").await;
    let g = c
        .call(
            "POST",
            "/groups",
            "/groups",
            Some(json!({"name": "volunteers"})),
            201,
        )
        .await;
    let gid = s(&g, "id");
    c.get("/groups/{groupId}", &format!("/groups/{gid}")).await;
    c.call(
        "PUT",
        "/groups/{groupId}/members",
        &format!("/groups/{gid}/members"),
        Some(json!({"userIds": [uid]})),
        200,
    )
    .await;
    c.call(
        "PUT",
        "/groups/{groupId}/name",
        &format!("/groups/{gid}/name"),
        Some(json!({"name": "helpers"})),
        200,
    )
    .await;
    c.call(
        "DELETE",
        "/groups/{groupId}",
        &format!("/groups/{gid}"),
        None,
        204,
    )
    .await;
    c.call(
        "DELETE",
        "/users/{userId}",
        &format!("/users/{uid}"),
        None,
        204,
    )
    .await;
    c.call(
        "GET",
        "/users/{userId}",
        &format!("/users/{uid}"),
        None,
        404,
    )
    .await;

    // errors: no token, and a route the spec (and a live box) does not have
    let r = c
        .lab
        .http
        .get(c.lab.url("/api/v1/apps"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.expect("json");
    c.validate("GET", "/apps", 401, &body);
    let (status, body) = c.lab.delete(&format!("/api/v1/apps/{matomo}")).await;
    assert_eq!(status, 404);
    let error = c
        .spec
        .load(&c.spec.root.join("components/schemas/error.json"));
    let mut probs = Vec::new();
    c.spec.validate(
        &error,
        &c.spec.root.join("components/schemas"),
        &body,
        "",
        &mut probs,
    );
    assert!(probs.is_empty(), "{probs:?}");
    assert!(matches!(
        c.spec.response("DELETE", "/apps/{appId}", 404),
        Lookup::NoRoute
    ));

    assert!(c.checked >= 65, "only {} responses checked", c.checked);
    assert!(
        c.unexplained.is_empty(),
        "{} differences from the spec are not in DEVIATIONS:\n{}",
        c.unexplained.len(),
        c.unexplained.join("\n")
    );
    let stale: Vec<String> = DEVIATIONS
        .iter()
        .enumerate()
        .filter(|(i, d)| !d.silent && !c.used.contains(i))
        .map(|(_, d)| format!("{} {} {}: {}", d.method, d.path, d.pointer, d.reason))
        .collect();
    assert!(
        stale.is_empty(),
        "deviations that no longer occur:\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_validator_itself_is_sound() {
    // The spec's own example of an error validates; a wrong one does not.
    let spec = spec();
    let dir = spec.root.join("components/schemas");
    let error = spec.load(&dir.join("error.json"));
    let mut p = Vec::new();
    spec.validate(
        &error,
        &dir,
        &json!({"status": "Not Found", "message": "x"}),
        "",
        &mut p,
    );
    assert!(p.is_empty(), "{p:?}");
    spec.validate(&error, &dir, &json!({"status": 404}), "", &mut p);
    assert_eq!(p.len(), 2, "{p:?}");
    // the task schema is reached through a relative $ref
    let Lookup::Schema { schema, base } = spec.response("GET", "/tasks/{taskId}", 200) else {
        panic!("GET /tasks/{{taskId}} 200 has a schema")
    };
    let mut p = Vec::new();
    spec.validate(
        &schema,
        &base,
        &json!({"id": "1", "percent": 0, "active": "yes"}),
        "",
        &mut p,
    );
    let ptrs: Vec<&str> = p.iter().map(|x| x.pointer.as_str()).collect();
    assert_eq!(ptrs, ["/active", "/percent"], "{p:?}");
    for d in DEVIATIONS {
        assert!(!d.reason.is_empty());
    }
}
