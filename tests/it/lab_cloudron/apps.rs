//! Auth, routing and the app lifecycle.

use serde_json::{Value, json};

use super::{Lab, assert_error, slow};

#[tokio::test]
async fn token_by_header_or_query_and_401_otherwise() {
    let lab = Lab::start().await;
    let apps = lab.url("/api/v1/apps");
    let by_header = lab
        .http
        .get(&apps)
        .bearer_auth(&lab.emu.token)
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 200);
    let by_query = lab
        .http
        .get(format!("{apps}?access_token={}", lab.emu.token))
        .send()
        .await
        .unwrap();
    assert_eq!(by_query.status(), 200);

    let none = lab.http.get(&apps).send().await.unwrap();
    let none = (none.status().as_u16(), none.json::<Value>().await.unwrap());
    assert_error(&none, 401, "Unauthorized", "Token required");
    let bad = lab
        .http
        .get(&apps)
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    let bad = (bad.status().as_u16(), bad.json::<Value>().await.unwrap());
    assert_error(&bad, 401, "Unauthorized", "No such token");

    // the status probe is public
    let status = lab
        .http
        .get(lab.url("/api/v1/cloudron/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 200);
    assert_eq!(
        status.json::<Value>().await.unwrap(),
        json!({"version": "9.0.15"})
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_no_such_route() {
    let lab = Lab::start().await;
    let id = lab.app("analytics").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_error(
        &lab.get("/api/v1/nothing").await,
        404,
        "Not Found",
        "No such route",
    );
    // DELETE /apps/:id does not exist on a live Cloudron: uninstall is a POST.
    let del = lab.delete(&format!("/api/v1/apps/{id}")).await;
    assert_error(&del, 404, "Not Found", "No such route");
    // ... and the token is not even looked at.
    let r = lab
        .http
        .delete(lab.url(&format!("/api/v1/apps/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_error(
        &lab.get("/api/v1/apps/9f9f78b2-6c5b-41df-9a21-5fa20dee3d6a")
            .await,
        404,
        "Not Found",
        "App not found",
    );
    // the app itself is untouched
    assert_eq!(lab.app("analytics").await["installationState"], "installed");
}

#[tokio::test]
async fn demo_estate_looks_like_a_real_cloudron() {
    let lab = Lab::start().await;
    let apps = lab.ok("/api/v1/apps").await;
    let apps = apps["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 6);
    let matomo = lab.app("analytics").await;
    assert_eq!(matomo["fqdn"], "analytics.example.org");
    assert_eq!(matomo["appStoreId"], "org.matomo.cloudronapp");
    assert_eq!(matomo["manifest"]["title"], "Matomo");
    assert_eq!(matomo["runState"], "running");
    assert!(matomo["taskId"].is_null());
    assert!(
        matomo["accessRestriction"]["groups"]
            .as_array()
            .is_some_and(|g| g.len() == 1)
    );
    // app ids are bare UUID v4
    let id = matomo["id"].as_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok_and(|u| u.get_version_num() == 4),
        "{id}"
    );
    assert!(
        !matomo.as_object().unwrap().contains_key("labData"),
        "lab fields stay private"
    );
    let cfg = lab.ok("/api/v1/dashboard/config").await;
    assert_eq!(cfg["adminFqdn"], "my.example.org");
}

#[tokio::test]
async fn install_moves_through_pending_install_to_installed() {
    let lab = Lab::with(slow()).await;
    let (s, v) = lab
        .post(
            "/api/v1/apps",
            json!({"appStoreId": "io.cloudron.surfer", "subdomain": "files",
                   "domain": "example.org", "accessRestriction": null}),
        )
        .await;
    assert_eq!(s, 202, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let tid = v["taskId"]
        .as_str()
        .expect("task id is a decimal string")
        .to_string();
    assert!(tid.parse::<u64>().is_ok());

    let app = lab.ok(&format!("/api/v1/apps/{id}")).await;
    assert_eq!(app["installationState"], "pending_install");
    assert_eq!(app["taskId"], tid.as_str());
    assert_eq!(app["fqdn"], "files.example.org");
    let t = lab.ok(&format!("/api/v1/apps/{id}/task")).await;
    assert_eq!(t["id"], tid.as_str());
    assert_eq!(t["type"], "app");

    let (task, percents) = lab.wait_task(&tid).await;
    assert_eq!(task["success"], true);
    assert!(task["error"].is_null());
    assert!(percents.len() >= 3, "progress moves in steps: {percents:?}");
    assert!(percents.windows(2).all(|w| w[0] < w[1]), "{percents:?}");
    assert_eq!(*percents.last().unwrap(), 100);

    let app = lab.ok(&format!("/api/v1/apps/{id}")).await;
    assert_eq!(app["installationState"], "installed");
    assert_eq!(app["runState"], "running");
    assert!(app["taskId"].is_null());
    assert_error(
        &lab.get(&format!("/api/v1/apps/{id}/task")).await,
        400,
        "Bad Request",
        "No active task",
    );
    let ev = lab
        .ok("/api/v1/eventlog?actions=app.install&per_page=1")
        .await;
    assert_eq!(ev["eventlogs"][0]["data"]["appId"], id.as_str());
}

#[tokio::test]
async fn install_validates_like_box() {
    let lab = Lab::start().await;
    let base = json!({"appStoreId": "io.cloudron.surfer", "subdomain": "x",
                      "domain": "example.org", "accessRestriction": null});
    let without = |k: &str| {
        let mut b = base.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let cases = [
        (without("domain"), 400, "domain is required"),
        (
            without("accessRestriction"),
            400,
            "accessRestriction is required",
        ),
        (without("subdomain"), 400, "subdomain is required"),
        (
            without("appStoreId"),
            400,
            "appStoreId or manifest is required",
        ),
        (json!({"appStoreId": 7}), 400, "appStoreId must be a string"),
    ];
    for (body, status, msg) in cases {
        let got = lab.post("/api/v1/apps", body).await;
        assert_error(&got, status, "Bad Request", msg);
    }
    let mut taken = base.clone();
    taken["subdomain"] = json!("analytics");
    assert_error(
        &lab.post("/api/v1/apps", taken).await,
        409,
        "Conflict",
        "analytics.example.org is already in use",
    );
    let mut unknown = base.clone();
    unknown["appStoreId"] = json!("com.example.nothing");
    assert_eq!(lab.post("/api/v1/apps", unknown).await.0, 404);
    // a body that is not JSON
    let r = lab
        .http
        .post(lab.url("/api/v1/apps"))
        .bearer_auth(&lab.emu.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let got = (r.status().as_u16(), r.json::<Value>().await.unwrap());
    assert_error(&got, 400, "Bad Request", "Failed to parse body");
    // routes that take no fields parse the body all the same, as box's body parser does
    let any_app = lab.ok("/api/v1/apps").await["apps"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for path in [
        format!("/api/v1/apps/{any_app}/backup"),
        format!("/api/v1/apps/{any_app}/stop"),
        format!("/api/v1/apps/{any_app}/uninstall"),
        "/api/v1/backups/create".to_string(),
    ] {
        let r = lab
            .http
            .post(lab.url(&path))
            .bearer_auth(&lab.emu.token)
            .header("content-type", "application/json")
            .body("{x")
            .send()
            .await
            .unwrap();
        let got = (r.status().as_u16(), r.json::<Value>().await.unwrap());
        assert_error(&got, 400, "Bad Request", "Failed to parse body");
    }
    // nothing was installed (or started) by any of this
    assert_eq!(
        lab.ok("/api/v1/apps").await["apps"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
}

#[tokio::test]
async fn a_busy_app_answers_409() {
    let lab = Lab::with(slow()).await;
    let id = lab.app("chat").await["id"].as_str().unwrap().to_string();
    let (s, v) = lab
        .post(&format!("/api/v1/apps/{id}/backup"), json!({}))
        .await;
    assert_eq!(s, 202);
    let tid = v["taskId"].as_str().unwrap().to_string();
    assert_eq!(
        lab.ok(&format!("/api/v1/apps/{id}")).await["installationState"],
        "pending_backup"
    );
    for op in ["backup", "restart", "stop", "uninstall"] {
        let (s, v) = lab
            .post(&format!("/api/v1/apps/{id}/{op}"), json!({}))
            .await;
        assert_eq!(s, 409, "{op}: {v}");
        assert_eq!(v["status"], "Conflict");
        assert!(v["message"].as_str().unwrap().contains(&tid), "{v}");
    }
    lab.wait_task(&tid).await;
    assert_eq!(
        lab.post(&format!("/api/v1/apps/{id}/restart"), json!({}))
            .await
            .0,
        202
    );
}

#[tokio::test]
async fn stop_and_start_change_the_run_state() {
    let lab = Lab::start().await;
    let id = lab.app("wiki").await["id"].as_str().unwrap().to_string();
    assert_eq!(lab.op(&id, "stop", json!({})).await["success"], true);
    assert_eq!(
        lab.ok(&format!("/api/v1/apps/{id}")).await["runState"],
        "stopped"
    );
    assert_eq!(lab.op(&id, "start", json!({})).await["success"], true);
    let app = lab.ok(&format!("/api/v1/apps/{id}")).await;
    assert_eq!(
        (app["installationState"].as_str(), app["runState"].as_str()),
        (Some("installed"), Some("running"))
    );
}

#[tokio::test]
async fn uninstall_makes_the_app_disappear() {
    let lab = Lab::with(slow()).await;
    let id = lab.app("www").await["id"].as_str().unwrap().to_string();
    let (s, v) = lab
        .post(&format!("/api/v1/apps/{id}/uninstall"), json!({}))
        .await;
    assert_eq!(s, 202);
    assert_eq!(
        lab.ok(&format!("/api/v1/apps/{id}")).await["installationState"],
        "pending_uninstall"
    );
    lab.wait_task(v["taskId"].as_str().unwrap()).await;
    assert_error(
        &lab.get(&format!("/api/v1/apps/{id}")).await,
        404,
        "Not Found",
        "App not found",
    );
    assert_eq!(
        lab.ok("/api/v1/apps").await["apps"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    // its backups are kept (a restore point outlives the app)
    let st = lab.ok("/__lab/state").await;
    assert!(
        st["backups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["identifier"] == id.as_str())
    );
    let ev = lab.ok("/api/v1/eventlog?actions=app.uninstall").await;
    assert_eq!(ev["eventlogs"][0]["data"]["appId"], id.as_str());
}

#[tokio::test]
async fn update_takes_a_backup_first_unless_skipped() {
    let lab = Lab::start().await;
    let id = lab.app("git").await["id"].as_str().unwrap().to_string();
    let before = lab.ok(&format!("/api/v1/apps/{id}/backups")).await["backups"]
        .as_array()
        .unwrap()
        .len();
    let t = lab
        .op(
            &id,
            "update",
            json!({"appStoreId": "io.gitea.cloudronapp@1.39.0"}),
        )
        .await;
    assert_eq!(t["success"], true);
    let app = lab.ok(&format!("/api/v1/apps/{id}")).await;
    assert_eq!(app["manifest"]["version"], "1.39.0");
    let backups = lab.ok(&format!("/api/v1/apps/{id}/backups")).await;
    let backups = backups["backups"].as_array().unwrap();
    assert_eq!(backups.len(), before + 1);
    assert_eq!(
        backups[0]["packageVersion"], "1.38.1",
        "the backup holds the old version"
    );

    lab.op(
        &id,
        "update",
        json!({"appStoreId": "io.gitea.cloudronapp@1.40.0", "skipBackup": true}),
    )
    .await;
    let after = lab.ok(&format!("/api/v1/apps/{id}/backups")).await["backups"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, before + 1);
    let wrong = lab
        .post(
            &format!("/api/v1/apps/{id}/update"),
            json!({"appStoreId": "org.matomo.cloudronapp"}),
        )
        .await;
    assert_eq!(wrong.0, 400, "{}", wrong.1);
}
