//! The client against the lab's Cloudron emulator, in-process over HTTPS: every route family
//! the commands do not already exercise through the binary (users, groups, paging, tasks,
//! platform status, install, clone, restore, uninstall), and the progress a task wait drives.
//!
//! Tests only. The emulator speaks the shapes of REFERENCE.md; a failure here means the client
//! or the emulator strayed from them.

use std::sync::Mutex;
use std::time::Duration;

use cloudron_emulator::{Emulator, EmulatorOptions, start};
use secrecy::SecretString;

use super::models::{NewUser, Role, TaskId};
use super::{Client, CloudronError, InstallRequest, Lifecycle, ProfileUpdate, ops};
use crate::config::{CloudronConfig, Origin, Secret};
use crate::core::progress::Progress;

struct Lab {
    emu: Emulator,
    _dir: tempfile::TempDir,
    client: Client,
}

async fn lab(task_ms: u64) -> Lab {
    let dir = tempfile::tempdir().expect("dir");
    let emu = start(EmulatorOptions {
        task_duration: Duration::from_millis(task_ms),
        dir: Some(dir.path().to_path_buf()),
        ..EmulatorOptions::default()
    })
    .await
    .expect("emulator");
    let mut cfg = CloudronConfig::new(url::Url::parse(&emu.url).expect("url"));
    cfg.ca_file = emu.ca_file.clone();
    cfg.token = Some(Secret {
        value: SecretString::from(emu.token.clone()),
        origin: Origin::Env {
            var: "MATELOT_CLOUDRON_TOKEN".into(),
        },
    });
    cfg.task_timeout = Duration::from_secs(20);
    let client = Client::new(&cfg).expect("client");
    Lab {
        emu,
        _dir: dir,
        client,
    }
}

/// Progress that remembers what it was told.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Progress for Recorder {
    fn set_length(&self, len: u64) {
        self.push(format!("len {len}"));
    }
    fn set_position(&self, pos: u64) {
        self.push(format!("pos {pos}"));
    }
    fn set_message(&self, msg: &str) {
        self.push(format!("msg {msg}"));
    }
    fn finish(&self, msg: &str) {
        self.push(format!("finish {msg}"));
    }
}

impl Recorder {
    fn push(&self, s: String) {
        if let Ok(mut v) = self.0.lock() {
            v.push(s);
        }
    }
    fn seen(&self) -> Vec<String> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

#[tokio::test]
async fn users_and_groups_round_trip() {
    let lab = lab(50).await;
    let c = &lab.client.clone().with_page_size(2);
    let before = c.list_users().await.expect("users");
    assert!(
        before.len() > 2,
        "paging must collect more than one page: {before:?}"
    );
    let group = c.create_group("physics").await.expect("group");
    let id = c
        .create_user(&NewUser {
            email: "marie@example.org".into(),
            username: Some("marie".into()),
            display_name: Some("Marie Curie".into()),
            role: Some(Role::User),
            ..NewUser::default()
        })
        .await
        .expect("create");
    assert_eq!(c.list_users().await.expect("users").len(), before.len() + 1);
    c.set_profile(
        &id,
        &ProfileUpdate {
            display_name: Some("Marie Skłodowska-Curie".into()),
            ..ProfileUpdate::default()
        },
    )
    .await
    .expect("profile");
    c.set_role(&id, &Role::UserManager).await.expect("role");
    c.set_active(&id, false).await.expect("inactive");
    c.set_user_groups(&id, std::slice::from_ref(&group))
        .await
        .expect("groups");
    let u = c.get_user(&id).await.expect("user");
    assert_eq!(u.display_name, "Marie Skłodowska-Curie");
    assert_eq!(u.role, Role::UserManager);
    assert!(!u.active);
    assert_eq!(u.group_ids, vec![group.clone()]);
    let link = c.invite_link(&id).await.expect("invite link");
    assert!(link.starts_with("https://"), "{link}");
    c.send_invite(&id, "marie@example.org")
        .await
        .expect("invite");
    c.set_group_members(&group, &[]).await.expect("members");
    assert!(
        c.get_group(&group)
            .await
            .expect("group")
            .user_ids
            .is_empty()
    );
    c.delete_user(&id).await.expect("delete user");
    c.delete_group(&group).await.expect("delete group");
    let gone = c.get_user(&id).await.expect_err("deleted");
    assert!(matches!(gone, CloudronError::NotFound { .. }), "{gone}");
    assert!(
        c.list_groups()
            .await
            .expect("groups")
            .iter()
            .all(|g| g.id != group)
    );
}

#[tokio::test]
async fn platform_facts_are_read() {
    let lab = lab(50).await;
    let c = &lab.client;
    assert!(!c.status().await.expect("status").version.is_empty());
    assert_eq!(
        c.dashboard_config().await.expect("config").admin_fqdn,
        "my.example.org"
    );
    assert!(c.system_info().await.expect("info").uptime_secs > 0);
    assert!(c.memory().await.expect("memory").memory > 0);
    let disk = c.disk_usage().await.expect("disk").expect("measured");
    assert!(disk.filesystems.values().all(|f| f.size > 0));
    let services = c.list_services().await.expect("services");
    assert!(services.iter().any(|s| s == "mysql"), "{services:?}");
    assert!(c.get_service("mysql").await.expect("mysql").is_active());
    assert_eq!(
        c.platform_status().await.expect("platform").message,
        "Ready"
    );
}

#[tokio::test]
async fn a_task_wait_drives_progress_to_the_end() {
    let lab = lab(300).await;
    let c = &lab.client;
    let apps = c.list_apps().await.expect("apps");
    let wiki = apps.iter().find(|a| a.subdomain == "wiki").expect("wiki");
    let rec = Recorder::default();
    let b = ops::backup_app(
        c,
        &wiki.id,
        &ops::KeepOptions::default(),
        &rec,
        c.task_timeout(),
        &|_| {},
    )
    .await
    .expect("backup");
    assert_eq!(b.backup.identifier, wiki.id);
    let seen = rec.seen();
    assert_eq!(seen.first().map(String::as_str), Some("len 100"));
    assert!(seen.iter().any(|s| s.starts_with("msg ")), "{seen:?}");
    assert!(seen.contains(&"pos 100".to_string()), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("finish done"));
    let task = c.get_task(&b.task_id).await.expect("task");
    assert!(task.succeeded());

    // A second lifecycle call while a task runs is refused with 409.
    let t = c
        .app_lifecycle(&wiki.id, Lifecycle::Restart)
        .await
        .expect("restart");
    let busy = c
        .app_lifecycle(&wiki.id, Lifecycle::Backup)
        .await
        .expect_err("busy");
    assert!(matches!(busy, CloudronError::Busy { .. }), "{busy}");
    assert!(busy.is_transient() && !busy.is_retryable());
    // Stopping the running task ends it with an error.
    c.stop_task(&t).await.expect("stop task");
    let err = c
        .wait_task(&t, &Recorder::default(), Duration::from_secs(5))
        .await
        .expect_err("stopped");
    assert!(
        matches!(err, CloudronError::TaskFailed { ref code, .. } if code.as_deref() == Some("stopped")),
        "{err}"
    );
    let missing = c
        .get_task(&TaskId::from("999999"))
        .await
        .expect_err("no task");
    assert!(
        matches!(missing, CloudronError::NotFound { .. }),
        "{missing}"
    );
}

#[tokio::test]
async fn install_clone_restore_and_uninstall() {
    let lab = lab(50).await;
    let c = &lab.client;
    let t = c.task_timeout();
    let quiet = crate::core::progress::NoProgress;
    let (id, task) = c
        .install_app(&InstallRequest {
            app_store_id: Some("io.hedgedoc.cloudronapp".into()),
            subdomain: "notes".into(),
            domain: "example.org".into(),
            ..InstallRequest::default()
        })
        .await
        .expect("install");
    c.wait_task(&task, &quiet, t).await.expect("installed");
    let app = c.get_app(&id).await.expect("app");
    assert_eq!(app.fqdn, "notes.example.org");
    let backup = ops::backup_app(c, &id, &ops::KeepOptions::default(), &quiet, t, &|_| {})
        .await
        .expect("backup");
    let (clone_id, task) = c
        .clone_app(
            &id,
            &super::CloneRequest {
                backup_id: backup.backup.id.clone(),
                subdomain: "notes2".into(),
                domain: "example.org".into(),
            },
        )
        .await
        .expect("clone");
    c.wait_task(&task, &quiet, t).await.expect("cloned");
    assert_eq!(
        c.get_app(&clone_id).await.expect("clone").fqdn,
        "notes2.example.org"
    );
    let task = c
        .restore_app(&id, &backup.backup.id)
        .await
        .expect("restore");
    c.wait_task(&task, &quiet, t).await.expect("restored");
    for app in [&id, &clone_id] {
        let task = c
            .app_lifecycle(app, Lifecycle::Uninstall)
            .await
            .expect("uninstall");
        c.wait_task(&task, &quiet, t).await.expect("uninstalled");
        let gone = c.get_app(app).await.expect_err("gone");
        assert!(matches!(gone, CloudronError::NotFound { .. }), "{gone}");
    }
    lab.emu.shutdown().await;
}

#[tokio::test]
async fn a_refused_token_stops_every_further_request_of_the_run() {
    let lab = lab(100).await;
    let mut cfg = CloudronConfig::new(url::Url::parse(&lab.emu.url).expect("url"));
    cfg.ca_file = lab.emu.ca_file.clone();
    cfg.token = Some(Secret {
        value: SecretString::from("not-a-token".to_string()),
        origin: Origin::Env {
            var: "MATELOT_CLOUDRON_TOKEN".into(),
        },
    });
    let bad = Client::new(&cfg).expect("client");
    let clone = bad.clone();
    let before = lab.emu.control().requests().len();
    match bad.list_apps().await {
        Err(CloudronError::Auth { status: 401, .. }) => {}
        other => panic!("expected a 401, got {other:?}"),
    }
    // Every later call, by any clone of the client, is refused here without a request.
    for _ in 0..3 {
        match clone.list_users().await {
            Err(CloudronError::AuthStopped { first, .. }) => {
                assert!(first.contains("401"), "{first}")
            }
            other => panic!("expected AuthStopped, got {other:?}"),
        }
    }
    assert_eq!(lab.emu.control().requests().len(), before + 1);
    // A client of its own (another run) starts afresh.
    assert!(lab.client.list_apps().await.is_ok());
}

#[tokio::test]
async fn one_server_error_on_a_read_or_a_task_poll_is_retried() {
    let lab = lab(300).await;
    let c = lab.client.clone().with_retry(super::retry::RetryPolicy {
        attempts: 3,
        base: Duration::from_millis(10),
        max: Duration::from_millis(50),
    });
    lab.emu
        .control()
        .add_fault("GET /api/v1/apps", "http_500", Some(1))
        .expect("fault");
    assert!(!c.list_apps().await.expect("retried").is_empty());
    let apps = c.list_apps().await.expect("apps");
    let wiki = apps.iter().find(|a| a.subdomain == "wiki").expect("wiki");
    let task = c
        .app_lifecycle(&wiki.id, Lifecycle::Restart)
        .await
        .expect("restart");
    lab.emu
        .control()
        .add_fault(&format!("GET /api/v1/tasks/{task}"), "http_500", Some(1))
        .expect("fault");
    let quiet = crate::core::progress::NoProgress;
    c.wait_task(&task, &quiet, Duration::from_secs(20))
        .await
        .expect("the poll that failed once was retried");
}
