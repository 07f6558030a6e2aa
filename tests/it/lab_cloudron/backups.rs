//! App and platform backups, restores that really restore, install from a backup, clone,
//! retention, persistence.

use cloudron_emulator::EmulatorOptions;
use serde_json::{Value, json};

use super::{Lab, assert_error, slow};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn an_app_backup_is_listed_first_and_is_the_task_result() {
    let lab = Lab::start().await;
    let app = id(&lab.app("analytics").await);
    let task = lab.op(&app, "backup", json!({})).await;
    assert_eq!(task["success"], true);
    let backup_id = task["result"].as_str().expect("result is the backup id");
    let list = lab.ok(&format!("/api/v1/apps/{app}/backups")).await;
    let list = list["backups"].as_array().unwrap();
    assert_eq!(list[0]["id"], backup_id);
    assert!(
        backup_id.starts_with(&format!("app_{app}_v1.58.2_")),
        "{backup_id}"
    );
    assert_eq!(list[0]["type"], "app");
    assert_eq!(list[0]["identifier"], app.as_str());
    assert_eq!(list[0]["packageVersion"], "1.58.2");
    assert!(list.iter().all(|b| b["state"] == "normal"));
    let times: Vec<&str> = list
        .iter()
        .map(|b| b["creationTime"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    // paging
    let one = lab
        .ok(&format!("/api/v1/apps/{app}/backups?page=2&per_page=1"))
        .await;
    assert_eq!(one["backups"].as_array().unwrap().len(), 1);
    assert_eq!(one["backups"][0]["id"], list[1]["id"]);
    let ev = lab.ok("/api/v1/eventlog?actions=app.backup").await;
    assert_eq!(ev["eventlogs"][0]["data"]["appId"], app.as_str());
}

#[tokio::test]
async fn restore_brings_back_the_data_of_the_backup() {
    let lab = Lab::with(slow()).await;
    let app = id(&lab.app("cloud").await);
    let task = lab.op(&app, "backup", json!({})).await;
    let backup = task["result"].as_str().unwrap().to_string();
    let at_backup = lab.data(&app).await;

    for _ in 0..2 {
        let (s, v) = lab.post(&format!("/__lab/apps/{app}/use"), json!({})).await;
        assert_eq!(s, 200, "{v}");
    }
    let used = lab.data(&app).await;
    assert_ne!(used["checksum"], at_backup["checksum"]);
    assert_eq!(
        used["version"].as_u64(),
        at_backup["version"].as_u64().map(|v| v + 2)
    );

    let (s, v) = lab
        .post(
            &format!("/api/v1/apps/{app}/restore"),
            json!({"backupId": backup}),
        )
        .await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(
        lab.ok(&format!("/api/v1/apps/{app}")).await["installationState"],
        "pending_restore"
    );
    assert_eq!(
        lab.data(&app).await,
        used,
        "data changes only when the restore is done"
    );
    lab.wait_task(v["taskId"].as_str().unwrap()).await;
    assert_eq!(lab.data(&app).await, at_backup);
    assert_eq!(
        lab.ok(&format!("/api/v1/apps/{app}")).await["installationState"],
        "installed"
    );

    assert_error(
        &lab.post(
            &format!("/api/v1/apps/{app}/restore"),
            json!({"backupId": "app_nope"}),
        )
        .await,
        404,
        "Not Found",
        "Backup not found",
    );
    assert_error(
        &lab.post(&format!("/api/v1/apps/{app}/restore"), json!({}))
            .await,
        400,
        "Bad Request",
        "backupId must be a string",
    );
}

#[tokio::test]
async fn install_from_a_backup_id_brings_the_data_back_after_uninstall() {
    let lab = Lab::start().await;
    let app = id(&lab.app("analytics").await);
    let backup = lab.op(&app, "backup", json!({})).await["result"]
        .as_str()
        .unwrap()
        .to_string();
    let data = lab.data(&app).await;
    lab.op(&app, "uninstall", json!({})).await;
    assert_eq!(lab.get(&format!("/api/v1/apps/{app}")).await.0, 404);

    let (s, v) = lab
        .post(
            "/api/v1/apps",
            json!({"appStoreId": "org.matomo.cloudronapp", "subdomain": "analytics",
                   "domain": "example.org", "accessRestriction": null, "backupId": backup}),
        )
        .await;
    assert_eq!(s, 202, "{v}");
    let new_id = id(&v);
    assert_ne!(new_id, app, "a reinstalled app gets a new id");
    lab.wait_task(v["taskId"].as_str().unwrap()).await;
    assert_eq!(lab.data(&new_id).await, data);

    // a backup of another app cannot seed this one
    let wiki = id(&lab.app("wiki").await);
    let other = lab.ok(&format!("/api/v1/apps/{wiki}/backups")).await["backups"][0]["id"].clone();
    let (s, _) = lab
        .post(
            "/api/v1/apps",
            json!({"appStoreId": "org.matomo.cloudronapp", "subdomain": "stats",
                   "domain": "example.org", "accessRestriction": null, "backupId": other}),
        )
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn clone_answers_201_and_starts_from_the_backup() {
    let lab = Lab::with(slow()).await;
    let app = id(&lab.app("chat").await);
    let backup = lab.ok(&format!("/api/v1/apps/{app}/backups")).await["backups"][1].clone();
    let (s, v) = lab
        .post(
            &format!("/api/v1/apps/{app}/clone"),
            json!({"backupId": backup["id"], "subdomain": "chat-test", "domain": "example.org"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let clone = id(&v);
    assert_eq!(
        lab.ok(&format!("/api/v1/apps/{clone}")).await["installationState"],
        "pending_clone"
    );
    lab.wait_task(v["taskId"].as_str().unwrap()).await;
    let st = lab.ok("/__lab/state").await;
    let backup_data = st["backups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == backup["id"])
        .map(|b| b["labData"].clone())
        .unwrap();
    assert_eq!(lab.data(&clone).await, backup_data);
    assert_ne!(
        lab.data(&app).await,
        backup_data,
        "the source app keeps its own data"
    );
}

#[tokio::test]
async fn platform_backup_depends_on_fresh_app_backups_and_is_exclusive() {
    let lab = Lab::with(slow()).await;
    let before = lab.ok("/api/v1/backups").await["backups"]
        .as_array()
        .unwrap()
        .len();
    let (s, v) = lab.post("/api/v1/backups/create", json!({})).await;
    assert_eq!(s, 202);
    let tid = v["taskId"].as_str().unwrap().to_string();
    let again = lab.post("/api/v1/backups/create", json!({})).await;
    assert_error(&again, 409, "Conflict", "Backup already in progress");
    let (task, _) = lab.wait_task(&tid).await;
    assert_eq!(task["type"], "backup");
    let list = lab.ok("/api/v1/backups").await;
    let list = list["backups"].as_array().unwrap();
    assert_eq!(list.len(), before + 1);
    let newest = &list[0];
    assert_eq!(newest["id"], task["result"]);
    assert!(newest["id"].as_str().unwrap().starts_with("box_v9.0.15_"));
    assert!(list.iter().all(|b| b["type"] == "box"));
    let deps: Vec<&str> = newest["dependsOn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(deps.len(), 6);
    // Gitea has automatic backups off: its last backup is reused, not a new one.
    let gitea = id(&lab.app("git").await);
    let gitea_latest = lab.ok(&format!("/api/v1/apps/{gitea}/backups")).await["backups"][0].clone();
    assert!(deps.contains(&gitea_latest["id"].as_str().unwrap()));
    assert!(gitea_latest["creationTime"].as_str() < newest["creationTime"].as_str());
    let matomo = id(&lab.app("analytics").await);
    let matomo_latest =
        lab.ok(&format!("/api/v1/apps/{matomo}/backups")).await["backups"][0].clone();
    assert!(deps.contains(&matomo_latest["id"].as_str().unwrap()));
    assert_eq!(
        matomo_latest["creationTime"], newest["creationTime"],
        "a fresh app backup"
    );
}

#[tokio::test]
async fn cleanup_applies_retention_and_spares_preserved_backups() {
    let lab = Lab::start().await;
    let matomo = id(&lab.app("analytics").await);
    let all = lab.ok(&format!("/api/v1/apps/{matomo}/backups")).await;
    let all = all["backups"].as_array().unwrap().clone();
    let preserved = all
        .iter()
        .find(|b| b["preserveSecs"].as_u64() > Some(0))
        .expect("a preserved backup");
    assert_eq!(preserved["label"], "before-5.3-upgrade");
    // label and preserve the oldest nightly one too
    let oldest = all.iter().rfind(|b| b["preserveSecs"] == 0).unwrap()["id"].clone();
    let (s, v) = lab
        .post(
            &format!("/api/v1/apps/{matomo}/backups/{}", oldest.as_str().unwrap()),
            json!({"label": "keep me", "preserveSecs": 86400 * 30}),
        )
        .await;
    assert_eq!((s, v), (200, json!({})));

    let (s, _) = lab
        .post(
            "/api/v1/backups/policy",
            json!({"retention": {"keepWithinSecs": 3600}, "schedule": "00 00 23 * * *"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        lab.ok("/api/v1/backups/policy").await["policy"]["retention"],
        json!({"keepWithinSecs": 3600})
    );
    let (s, v) = lab.post("/api/v1/backups/cleanup", json!({})).await;
    assert_eq!(s, 202);
    let (task, _) = lab.wait_task(v["taskId"].as_str().unwrap()).await;
    assert_eq!(task["type"], "cleanBackups");
    assert!(
        !task["result"]["removedAppBackupPaths"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let left = lab.ok(&format!("/api/v1/apps/{matomo}/backups")).await;
    let left: Vec<&Value> = left["backups"].as_array().unwrap().iter().collect();
    let ids: Vec<&str> = left.iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&preserved["id"].as_str().unwrap()), "{ids:?}");
    assert!(ids.contains(&oldest.as_str().unwrap()), "{ids:?}");
    assert!(
        ids.contains(&all[0]["id"].as_str().unwrap()),
        "the latest stays: {ids:?}"
    );
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(
        lab.ok("/api/v1/backups").await["backups"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let bad = lab
        .post(
            "/api/v1/backups/policy",
            json!({"retention": {"keepForever": 1}}),
        )
        .await;
    assert_eq!(bad.0, 400);
}

#[tokio::test]
async fn the_estate_survives_a_restart_with_a_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let opts = EmulatorOptions {
        state_file: Some(dir.path().join("state.json")),
        ..slow()
    };
    let lab = Lab::with(opts.clone()).await;
    let token = lab.emu.token.clone();
    let (s, v) = lab
        .post(
            "/api/v1/apps",
            json!({"appStoreId": "io.cloudron.surfer", "subdomain": "files",
                   "domain": "example.org", "accessRestriction": null}),
        )
        .await;
    assert_eq!(s, 202);
    let new = id(&v);
    lab.wait_task(v["taskId"].as_str().unwrap()).await;
    lab.post(&format!("/__lab/apps/{new}/use"), json!({})).await;
    let data = lab.data(&new).await;
    // a task left running when the emulator stops is crashed on the next start
    let chat = id(&lab.app("chat").await);
    let (_, running) = lab
        .post(&format!("/api/v1/apps/{chat}/backup"), json!({}))
        .await;
    lab.emu.shutdown().await;
    assert!(
        dir.path().join("cloudron-ca.pem").exists(),
        "the CA is written beside the state"
    );

    let lab = Lab::with(opts).await;
    assert_eq!(lab.emu.token, token, "the token is kept");
    assert_eq!(
        lab.ok(&format!("/api/v1/apps/{new}")).await["fqdn"],
        "files.example.org"
    );
    assert_eq!(lab.data(&new).await, data);
    let t = lab
        .ok(&format!(
            "/api/v1/tasks/{}",
            running["taskId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (t["active"].as_bool(), t["success"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(t["error"]["code"], "crashed");
    assert_eq!(
        lab.ok(&format!("/api/v1/apps/{chat}")).await["installationState"],
        "error"
    );
}

#[tokio::test]
async fn reset_goes_back_to_the_seed() {
    let lab = Lab::start().await;
    let www = id(&lab.app("www").await);
    lab.op(&www, "uninstall", json!({})).await;
    assert_eq!(
        lab.ok("/api/v1/apps").await["apps"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let (s, _) = lab.post("/__lab/reset", json!({})).await;
    assert_eq!(s, 204);
    assert_eq!(
        lab.ok("/api/v1/apps").await["apps"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    // the log starts again too: only the request made since the reset is in it
    let log = lab.ok("/__lab/requests").await;
    assert_eq!(log["requests"].as_array().unwrap().len(), 1, "{log}");
}
