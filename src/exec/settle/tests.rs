//! Settling, kind by kind, against a Cloudron emulator in-process and a real journal: every
//! kind of plan whose judge needs no SSH host is judged here from what the world shows (the
//! compute-host kinds are judged over real sshd in the integration tests).

use std::time::Duration;

use chrono::Utc;
use cloudron_emulator::{Emulator, EmulatorOptions, start};
use secrecy::SecretString;

use super::*;
use crate::config::{CloudronConfig, Config, Origin, Secret};
use crate::core::accounts::{Change, CloudronChange};
use crate::journal::{
    AccountsPlan, Actor, AppBackupPlan, AppRef, AppRestorePlan, AppUninstallPlan, BackupInitPlan,
    BackupPrunePlan, BackupRunPlan, HostTrustPlan, KeepPolicy, OpId, OpKind, ProcessId, RunId,
    TargetResult, UndoPlan, UnreadablePlan,
};

struct Lab {
    emu: Emulator,
    _dir: tempfile::TempDir,
    world: World,
    journal: Journal,
}

async fn lab() -> Lab {
    let dir = tempfile::tempdir().expect("dir");
    let emu = start(EmulatorOptions {
        task_duration: Duration::from_millis(100),
        dir: Some(dir.path().to_path_buf()),
        ..EmulatorOptions::default()
    })
    .await
    .expect("emulator");
    let mut cc = CloudronConfig::new(url::Url::parse(&emu.url).expect("url"));
    cc.ca_file = emu.ca_file.clone();
    cc.token = Some(Secret {
        value: SecretString::from(emu.token.clone()),
        origin: Origin::Env {
            var: "MATELOT_CLOUDRON_TOKEN".into(),
        },
    });
    let cfg = Config {
        cloudron: Some(cc),
        ..Config::default()
    };
    let world = World::new(&cfg, &Output::plain(false), false);
    let journal = Journal::open(&dir.path().join("journal.sqlite")).expect("journal");
    Lab {
        emu,
        _dir: dir,
        world,
        journal,
    }
}

fn op(plan: OpPlan, reached: bool) -> Operation {
    Operation {
        id: OpId(1),
        run: RunId("r".into()),
        kind: plan.kind(),
        target: "t".into(),
        status: Status::Interrupted,
        created_at: Utc::now() - chrono::Duration::minutes(1),
        started_at: reached.then(Utc::now),
        finished_at: None,
        actor: Actor::current(),
        process: ProcessId::current(),
        command: Vec::new(),
        plan,
        restore_point: None,
        restore_point_problem: None,
        result: None,
        message: None,
        undo_hint: None,
        undoes: None,
    }
}

fn kind(v: &Verdict) -> &'static str {
    match v {
        Verdict::Done(_) => "done",
        Verdict::NotApplied(_) => "not applied",
        Verdict::Partial(_) => "partial",
        Verdict::FailedChanged(_) => "failed (changed)",
        Verdict::Unknown(_) => "unknown",
        Verdict::Later(_) => "later",
    }
}

#[tokio::test]
async fn every_kind_without_a_compute_host_is_judged_from_what_the_world_shows() {
    let lab = lab().await;
    let c = lab.world.cloudron().expect("client");
    let apps = c.list_apps().await.expect("apps");
    let wiki = apps.iter().find(|a| a.subdomain == "wiki").expect("wiki");
    let wiki_ref = AppRef {
        app_id: wiki.id.clone(),
        fqdn: wiki.fqdn.clone(),
    };
    let gone = AppRef {
        app_id: "no-such-app".into(),
        fqdn: "gone.example.org".into(),
    };
    let uninstall = |a: &AppRef| AppUninstallPlan {
        app_id: a.app_id.clone(),
        fqdn: a.fqdn.clone(),
        subdomain: "x".into(),
        domain: "example.org".into(),
        app_store_id: "x".into(),
        manifest_id: "x".into(),
        version: "1".into(),
        label: None,
        access_restriction: None,
    };
    // A backup of wiki made after the operation began (so app.backup is judged done).
    let task = c
        .app_lifecycle(&wiki.id, crate::cloudron::Lifecycle::Backup)
        .await
        .expect("backup");
    c.wait_task(
        &task,
        &crate::core::progress::NoProgress,
        Duration::from_secs(20),
    )
    .await
    .expect("backup task");
    lab.journal.protect(&wiki.fqdn, None).expect("protect");
    let users = c.list_users().await.expect("users");
    let someone = users
        .iter()
        .find_map(|u| u.username.clone())
        .expect("a user with a username");
    let known_hosts = lab._dir.path().join("known_hosts");
    std::fs::write(&known_hosts, "[127.0.0.2]:22 ssh-ed25519 AAAA\n").expect("kh");
    let undo = |action: UndoAction| {
        OpPlan::Undo(UndoPlan {
            undoes: OpId(1),
            of_kind: OpKind::AppUninstall,
            action,
        })
    };
    let rows: Vec<(OpPlan, bool, Option<OpResult>, &str)> = vec![
        (OpPlan::AppStart(wiki_ref.clone()), true, None, "done"),
        (OpPlan::AppStop(wiki_ref.clone()), true, None, "not applied"),
        (OpPlan::AppRestart(wiki_ref.clone()), true, None, "unknown"),
        (
            OpPlan::AppStop(wiki_ref.clone()),
            false,
            None,
            "not applied",
        ),
        (
            OpPlan::AppBackup(AppBackupPlan {
                app_id: wiki.id.clone(),
                fqdn: wiki.fqdn.clone(),
                label: None,
                keep_days: None,
            }),
            true,
            None,
            "done",
        ),
        (OpPlan::AppUninstall(uninstall(&gone)), true, None, "done"),
        (
            OpPlan::AppUninstall(uninstall(&wiki_ref)),
            true,
            None,
            "not applied",
        ),
        (
            OpPlan::AppUninstall(uninstall(&gone)),
            false,
            None,
            "not applied",
        ),
        (
            OpPlan::AppRestore(AppRestorePlan {
                app_id: wiki.id.clone(),
                fqdn: wiki.fqdn.clone(),
                backup_id: "b".into(),
            }),
            true,
            Some(OpResult::Task(crate::journal::TaskRecord {
                task_id: task.to_string(),
                ..Default::default()
            })),
            "done",
        ),
        (OpPlan::AppProtect(wiki_ref.clone()), true, None, "done"),
        (
            OpPlan::AppUnprotect(wiki_ref.clone()),
            true,
            None,
            "not applied",
        ),
        (
            OpPlan::UserSync(AccountsPlan {
                system: "cloudron".into(),
                subject: "roster:x".into(),
                changes: vec![Change::cloudron(CloudronChange::CreateUser {
                    username: someone.clone(),
                    email: "x@example.org".into(),
                    display_name: "X".into(),
                    groups: vec![],
                })],
            }),
            true,
            None,
            "done",
        ),
        (
            OpPlan::UserAdd(AccountsPlan {
                system: "cloudron".into(),
                subject: "user:nobody".into(),
                changes: vec![Change::cloudron(CloudronChange::CreateUser {
                    username: "nobody-here".into(),
                    email: "n@example.org".into(),
                    display_name: "N".into(),
                    groups: vec![],
                })],
            }),
            true,
            None,
            "not applied",
        ),
        (
            OpPlan::UserRemove(UserRemovePlan::Cloudron {
                username: "nobody-here".into(),
                user_id: "uid-x".into(),
            }),
            true,
            None,
            "done",
        ),
        (
            OpPlan::UserRemove(UserRemovePlan::Cloudron {
                username: someone.clone(),
                user_id: "uid-x".into(),
            }),
            true,
            None,
            "not applied",
        ),
        (
            OpPlan::BackupRun(BackupRunPlan {
                cloudron: true,
                hosts: vec!["calcul".into()],
            }),
            true,
            Some(OpResult::Targets {
                targets: vec![TargetResult {
                    target: "cloudron".into(),
                    ok: true,
                    id: Some("b".into()),
                    detail: String::new(),
                }],
            }),
            "partial",
        ),
        (
            OpPlan::BackupInit(BackupInitPlan {
                hosts: vec!["calcul".into()],
            }),
            true,
            None,
            "unknown",
        ),
        (
            OpPlan::BackupPrune(BackupPrunePlan {
                hosts: vec!["calcul".into()],
                keep: KeepPolicy::default(),
            }),
            false,
            None,
            "not applied",
        ),
        (
            OpPlan::HostTrust(HostTrustPlan {
                host: "calcul".into(),
                address: "127.0.0.2".into(),
                fingerprint: "SHA256:x".into(),
                known_hosts: known_hosts.display().to_string(),
            }),
            true,
            None,
            "done",
        ),
        (
            undo(UndoAction::ReinstallApp {
                app: uninstall(&wiki_ref),
                backup_id: "b".into(),
            }),
            true,
            None,
            "done",
        ),
        (
            undo(UndoAction::RecreateCloudronUser {
                username: someone.clone(),
            }),
            true,
            None,
            "done",
        ),
        (
            undo(UndoAction::SetRunState {
                app: wiki_ref.clone(),
                running: true,
            }),
            true,
            None,
            "done",
        ),
        (
            undo(UndoAction::SetProtection {
                app: wiki_ref.clone(),
                protected: false,
            }),
            true,
            None,
            "not applied",
        ),
        (
            OpPlan::Unreadable(UnreadablePlan {
                kind: OpKind::AppUninstall,
                planned: serde_json::json!({}),
                why: "x".into(),
            }),
            true,
            None,
            "unknown",
        ),
    ];
    for (plan, reached, result, want) in rows {
        let mut o = op(plan.clone(), reached);
        o.result = result;
        let v = judge_op(&o, &lab.journal, &lab.world)
            .await
            .unwrap_or_else(|e| panic!("{plan:?}: {e}"));
        assert_eq!(kind(&v), want, "{:?} reached={reached}: {v:?}", plan.kind());
    }
    drop(lab.emu);
}

#[tokio::test]
async fn a_verdict_is_written_once_and_a_busy_target_is_left_for_later() {
    let lab = lab().await;
    let j = &lab.journal;
    let plan = OpPlan::AppProtect(AppRef {
        app_id: "a".into(),
        fqdn: "wiki.example.org".into(),
    });
    let id = j
        .begin(crate::journal::NewOp::new(
            plan,
            "wiki.example.org",
            &RunId("r".into()),
        ))
        .expect("begin");
    j.set_running(id).expect("running");
    j.finish(id, Status::Interrupted, Some("killed"))
        .expect("interrupted");
    let out = Output::plain(false);
    let settled = settle_all(j, &lab.world, &out).await.expect("settle");
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].status, Status::NotApplied);
    assert_eq!(j.get(id).unwrap().unwrap().status, Status::NotApplied);
    // Settled rows are not judged again.
    assert!(
        settle_all(j, &lab.world, &out)
            .await
            .expect("again")
            .is_empty()
    );
    // Later: the row stays interrupted, with one note however often it is looked at.
    let later = op(
        OpPlan::AppStop(AppRef {
            app_id: "x".into(),
            fqdn: "x".into(),
        }),
        true,
    );
    for _ in 0..2 {
        write(
            j,
            &out,
            &later_row(j, &later),
            Verdict::Later("busy".into()),
        )
        .expect("write");
    }
    let row = j.list(&Default::default()).unwrap()[0].clone();
    assert_eq!(row.status, Status::Interrupted);
    let notes = j
        .events(row.id)
        .unwrap()
        .iter()
        .filter(|e| e.message.contains("cannot tell yet"))
        .count();
    assert_eq!(notes, 1);
}

/// A journal row for `o`'s plan, interrupted, created once.
fn later_row(j: &Journal, o: &Operation) -> Operation {
    if let Some(existing) = j
        .list(&Default::default())
        .unwrap()
        .into_iter()
        .find(|r| r.plan == o.plan)
    {
        return existing;
    }
    let id = j
        .begin(crate::journal::NewOp::new(
            o.plan.clone(),
            "x",
            &RunId("r".into()),
        ))
        .expect("begin");
    j.set_running(id).expect("running");
    j.finish(id, Status::Interrupted, Some("killed"))
        .expect("interrupted");
    j.get(id).unwrap().unwrap()
}
