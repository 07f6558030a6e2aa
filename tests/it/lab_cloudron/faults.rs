//! Injected faults of each kind, task stop, and the request log.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Lab, assert_error};

async fn fault(lab: &Lab, pattern: &str, effect: &str, times: Option<u64>) -> Value {
    let mut body = json!({"match": pattern, "effect": effect});
    if let Some(t) = times {
        body["times"] = json!(t);
    }
    let (s, v) = lab.post("/__lab/faults", body).await;
    assert_eq!(s, 201, "{v}");
    v
}

#[tokio::test]
async fn http_errors_count_down_and_skip_the_handler() {
    let lab = Lab::start().await;
    let app = lab.app("analytics").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    fault(&lab, "POST /api/v1/apps/{id}/backup", "http_500", Some(1)).await;
    fault(&lab, "GET /api/v1/apps", "http_503", Some(2)).await;

    let got = lab
        .post(&format!("/api/v1/apps/{app}/backup"), json!({}))
        .await;
    assert_eq!(got.0, 500);
    assert_eq!(got.1["status"], "Internal Server Error");
    assert_eq!(
        lab.ok(&format!("/api/v1/apps/{app}")).await["installationState"],
        "installed",
        "the handler did not run"
    );
    // times = 1 is spent: the next call goes through
    assert_eq!(
        lab.post(&format!("/api/v1/apps/{app}/backup"), json!({}))
            .await
            .0,
        202
    );

    for _ in 0..2 {
        assert_eq!(lab.get("/api/v1/apps").await.0, 503);
    }
    assert_eq!(lab.get("/api/v1/apps").await.0, 200);
    let left = lab.ok("/__lab/faults").await;
    assert!(left["faults"].as_array().unwrap().is_empty(), "{left}");
}

#[tokio::test]
async fn delay_holds_the_answer() {
    let lab = Lab::start().await;
    fault(&lab, "GET /api/v1/cloudron/status", "delay_ms:300", None).await;
    let t = Instant::now();
    assert_eq!(lab.get("/api/v1/cloudron/status").await.0, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    let (s, _) = lab.delete("/__lab/faults").await;
    assert_eq!(s, 204);
    let t = Instant::now();
    lab.get("/api/v1/cloudron/status").await;
    assert!(t.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn drop_connection_closes_the_socket_without_an_answer() {
    let lab = Lab::start().await;
    fault(&lab, "GET /api/v1/apps/{id}", "drop_connection", Some(1)).await;
    let app = lab.app("chat").await["id"].as_str().unwrap().to_string();
    let err = lab
        .http
        .get(lab.url(&format!("/api/v1/apps/{app}")))
        .bearer_auth(&lab.emu.token)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect_err("no response");
    assert!(!err.is_timeout(), "closed at once, not timed out: {err:?}");
    // the same client recovers with a new connection
    assert_eq!(lab.get(&format!("/api/v1/apps/{app}")).await.0, 200);
    let log = lab.ok("/__lab/requests").await;
    let dropped: Vec<&Value> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"].is_null())
        .collect();
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0]["path"], format!("/api/v1/apps/{app}"));
}

#[tokio::test]
async fn drop_connection_really_closes_the_tcp_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let lab = Lab::with(super::Lab::plain()).await;
    fault(&lab, "GET /api/v1/cloudron/status", "drop_connection", None).await;
    let mut sock = tokio::net::TcpStream::connect(lab.emu.addr).await.unwrap();
    sock.write_all(b"GET /api/v1/cloudron/status HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), sock.read_to_end(&mut buf))
        .await
        .expect("closed, not hanging")
        .unwrap_or(0);
    assert_eq!(
        n,
        0,
        "no bytes answered: {:?}",
        String::from_utf8_lossy(&buf)
    );
}

#[tokio::test]
async fn task_error_fails_the_task_and_puts_the_app_in_error() {
    let lab = Lab::start().await;
    let app = lab.app("wiki").await["id"].as_str().unwrap().to_string();
    fault(&lab, "POST /api/v1/apps/{id}/backup", "task_error", Some(1)).await;
    let task = lab.op(&app, "backup", json!({})).await;
    assert_eq!(task["success"], false);
    assert!(
        task["error"]["message"]
            .as_str()
            .unwrap()
            .contains("task_error"),
        "{task}"
    );
    assert!(task["result"].is_null());
    let a = lab.ok(&format!("/api/v1/apps/{app}")).await;
    assert_eq!(a["installationState"], "error");
    assert_eq!(a["error"]["installationState"], "pending_backup");
    assert_eq!(a["error"]["taskId"], task["id"]);
    // in error, only uninstall, restore or a retry of what failed is allowed
    assert_error(
        &lab.post(&format!("/api/v1/apps/{app}/restart"), json!({}))
            .await,
        409,
        "Conflict",
        "Not allowed in error state",
    );
    let retry = lab.op(&app, "backup", json!({})).await;
    assert_eq!(retry["success"], true);
    let a = lab.ok(&format!("/api/v1/apps/{app}")).await;
    assert_eq!(a["installationState"], "installed");
    assert!(a["error"].is_null());
}

#[tokio::test]
async fn task_stall_hangs_until_stopped() {
    let lab = Lab::start().await;
    let app = lab.app("git").await["id"].as_str().unwrap().to_string();
    fault(
        &lab,
        "POST /api/v1/apps/{id}/restart",
        "task_stall",
        Some(1),
    )
    .await;
    let (s, v) = lab
        .post(&format!("/api/v1/apps/{app}/restart"), json!({}))
        .await;
    assert_eq!(s, 202);
    let tid = v["taskId"].as_str().unwrap().to_string();
    // far longer than the task duration: still active, stuck at one percent
    tokio::time::sleep(Duration::from_millis(600)).await;
    let t1 = lab.ok(&format!("/api/v1/tasks/{tid}")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t2 = lab.ok(&format!("/api/v1/tasks/{tid}")).await;
    assert_eq!(t1["active"], true);
    assert_eq!(t1["percent"], t2["percent"]);
    assert!(t1["percent"].as_u64().unwrap() < 100);

    let (s, body) = lab
        .post(&format!("/api/v1/tasks/{tid}/stop"), json!({}))
        .await;
    assert_eq!((s, body), (204, Value::Null));
    let t = lab.ok(&format!("/api/v1/tasks/{tid}")).await;
    assert_eq!(
        (t["active"].as_bool(), t["success"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(t["error"]["code"], "stopped");
    assert_eq!(
        lab.ok(&format!("/api/v1/apps/{app}")).await["installationState"],
        "error"
    );
    assert_error(
        &lab.post(&format!("/api/v1/tasks/{tid}/stop"), json!({}))
            .await,
        409,
        "Conflict",
        "Task is not active",
    );
    assert_error(
        &lab.post("/api/v1/tasks/999999/stop", json!({})).await,
        404,
        "Not Found",
        "No such task",
    );
}

#[tokio::test]
async fn the_request_log_lists_every_api_request_in_order_without_queries() {
    let lab = Lab::start().await;
    lab.get("/api/v1/cloudron/status").await;
    lab.get("/api/v1/users?page=1&per_page=2").await;
    lab.get("/api/v1/nope").await;
    let r = lab
        .http
        .get(format!(
            "{}?access_token={}",
            lab.url("/api/v1/apps"),
            lab.emu.token
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let log = lab.ok("/__lab/requests").await;
    let got: Vec<(String, String, u64)> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let want = [
        ("GET", "/api/v1/cloudron/status", 200),
        ("GET", "/api/v1/users", 200),
        ("GET", "/api/v1/nope", 404),
        ("GET", "/api/v1/apps", 200),
    ];
    let want: Vec<(String, String, u64)> = want
        .iter()
        .map(|(m, p, s)| (m.to_string(), p.to_string(), *s))
        .collect();
    assert_eq!(got, want);
    assert!(
        !log.to_string().contains(&lab.emu.token),
        "no token in the log"
    );
    let t = log["requests"][0]["time"].as_str().unwrap();
    assert!(t.ends_with('Z') && t.len() == 24, "{t}");
}

#[tokio::test]
async fn control_routes_need_the_token_and_validate() {
    let lab = Lab::start().await;
    let r = lab.http.get(lab.url("/__lab/state")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let bad = lab
        .post(
            "/__lab/faults",
            json!({"match": "GET /x", "effect": "explode"}),
        )
        .await;
    assert_eq!(bad.0, 400);
    let bad = lab
        .post("/__lab/faults", json!({"match": "x", "effect": "http_500"}))
        .await;
    assert_eq!(bad.0, 400);
    assert!(
        !lab.ok("/__lab/state")
            .await
            .to_string()
            .contains(&lab.emu.token)
    );
}
