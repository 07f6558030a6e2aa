//! Unit tests of the journal against real SQLite files in temporary directories.

use std::os::unix::fs::PermissionsExt;

use chrono::Utc;
use serde_json::json;

use super::*;

fn run() -> RunId {
    RunId("testrun1".into())
}

fn app(fqdn: &str) -> AppRef {
    AppRef {
        app_id: format!("id-{fqdn}"),
        fqdn: fqdn.into(),
    }
}

fn new(plan: OpPlan, target: &str) -> NewOp {
    NewOp::new(plan, target, &run())
}

fn fresh() -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(&dir.path().join("state/journal.sqlite")).unwrap();
    (dir, j)
}

/// A process identity that is certainly gone: a child that has exited and been reaped.
fn dead_process() -> ProcessId {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    ProcessId {
        pid,
        start_ticks: 1,
        ..ProcessId::current()
    }
}

#[test]
fn journal_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Journal>();
}

#[test]
fn open_creates_a_private_directory_and_file_in_wal_mode() {
    let (dir, j) = fresh();
    let state = dir.path().join("state");
    assert_eq!(
        std::fs::metadata(&state).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let file = std::fs::metadata(j.path()).unwrap();
    assert_eq!(file.permissions().mode() & 0o777, 0o600);
    let mode: String = j
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(j.schema_version().unwrap(), schema::latest());
    drop(j);
    // Reopening an existing journal is fine and keeps the version.
    let j = Journal::open(&state.join("journal.sqlite")).unwrap();
    assert_eq!(j.schema_version().unwrap(), schema::latest());
}

#[test]
fn a_group_shared_state_directory_gets_a_group_writable_journal() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o2770)).unwrap();
    let j = Journal::open(&shared.join("journal.sqlite")).unwrap();
    let mode = std::fs::metadata(j.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o660);
}

#[test]
fn an_unversioned_database_is_migrated_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE unrelated (x); PRAGMA user_version = 0;")
        .unwrap();
    let j = Journal::open(&path).unwrap();
    assert_eq!(j.schema_version().unwrap(), schema::latest());
    j.conn().pragma_update(None, "user_version", 99).unwrap();
    drop(j);
    let err = Journal::open(&path).unwrap_err();
    assert!(
        matches!(err, JournalError::TooNew { found: 99, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("schema version 99") && msg.contains("upgrade matelot"),
        "{msg}"
    );
    assert_eq!(crate::error::Error::from(err).exit_code(), 2);
}

#[test]
fn an_operation_records_its_writer_run_and_typed_plan_and_hides_secrets_in_text() {
    let (_dir, j) = fresh();
    let id = j
        .begin(
            new(
                OpPlan::AppStop(app("matomo.example.org")),
                "matomo.example.org",
            )
            .command(vec![
                "matelot".into(),
                "--token".into(),
                "abc".into(),
                "app".into(),
                "stop".into(),
            ]),
        )
        .unwrap();
    let op = j.get(id).unwrap().unwrap();
    assert_eq!(op.id, id);
    assert_eq!(op.run, run());
    assert_eq!(op.kind, OpKind::AppStop);
    assert_eq!(op.plan, OpPlan::AppStop(app("matomo.example.org")));
    assert_eq!(op.target, "matomo.example.org");
    assert_eq!(op.status, Status::Planned);
    assert_eq!(op.process, ProcessId::current());
    assert_eq!(op.actor, Actor::current());
    assert_eq!(
        op.command,
        ["matelot", "--token", "<redacted>", "app", "stop"]
    );
    assert!(op.started_at.is_none() && op.finished_at.is_none());
    assert!(op.restore_point.is_none() && op.undo_hint.is_none());
    // The JSON shape is stable: ids are numbers, times are RFC 3339 UTC with milliseconds,
    // the kind and its plan side by side.
    let v = serde_json::to_value(&op).unwrap();
    assert_eq!(v["id"], json!(id.0));
    assert_eq!(v["status"], "planned");
    assert_eq!(v["kind"], "app.stop");
    assert_eq!(v["plan"]["fqdn"], "matomo.example.org");
    assert_eq!(v["run"], "testrun1");
    let created = v["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 24, "{created}");
    assert!(!v.to_string().contains("abc"), "{v}");
}

#[test]
fn restore_points_and_plans_are_stored_exactly_never_rewritten_by_the_redactor() {
    let (_dir, j) = fresh();
    // A label and a name that look like secrets to a text redactor must come back intact:
    // a restore point that was rewritten cannot restore anything.
    let plan = OpPlan::AppBackup(AppBackupPlan {
        app_id: "a1".into(),
        fqdn: "wiki.example.org".into(),
        label: Some("deploy_token=42 Jo Bearer Smith".into()),
        keep_days: None,
    });
    let id = j.begin(new(plan.clone(), "wiki.example.org")).unwrap();
    let rp = RestorePoint::AppBackup(AppBackupPoint {
        backup_id: "b1".into(),
        app_id: "a1".into(),
        fqdn: "wiki.example.org".into(),
        task_id: Some("7".into()),
        label: Some("password=hunter2".into()),
        preserve_secs: Some(60),
        creation_time: None,
    });
    j.set_restore_point(id, &rp).unwrap();
    let op = j.get(id).unwrap().unwrap();
    assert_eq!(op.plan, plan);
    assert_eq!(op.restore_point, Some(rp));
}

#[test]
fn an_operation_goes_through_its_lifecycle_and_tells_its_story() {
    let (_dir, j) = fresh();
    let plan = OpPlan::UserRemove(UserRemovePlan::Compute {
        host: "calcul".into(),
        username: "alice".into(),
    });
    let id = j.begin(new(plan, "user:alice@calcul")).unwrap();
    let rp = RestorePoint::AppBackup(AppBackupPoint {
        backup_id: "1a2b3c4d".into(),
        app_id: "a".into(),
        fqdn: String::new(),
        task_id: None,
        label: None,
        preserve_secs: None,
        creation_time: None,
    });
    j.set_restore_point(id, &rp).unwrap();
    j.note(id, "snapshot 1a2b3c4d verified").unwrap();
    j.set_running(id).unwrap();
    j.record_result(
        id,
        &OpResult::Account {
            summary: "alice removed on calcul".into(),
        },
    )
    .unwrap();
    j.finish(id, Status::Done, None).unwrap();
    j.set_undo_hint(id, &format!("matelot undo {id}")).unwrap();

    let op = j.get(id).unwrap().unwrap();
    assert_eq!(op.status, Status::Done);
    assert!(op.reached_running());
    assert!(op.started_at.is_some() && op.finished_at.is_some());
    assert!(op.created_at <= op.started_at.unwrap());
    assert!(op.started_at.unwrap() <= op.finished_at.unwrap());
    assert_eq!(op.restore_point.unwrap().id(), "1a2b3c4d");
    assert_eq!(
        op.result,
        Some(OpResult::Account {
            summary: "alice removed on calcul".into()
        })
    );
    assert_eq!(
        op.undo_hint.as_deref(),
        Some(format!("matelot undo {id}").as_str())
    );
    let story: Vec<String> = j
        .events(id)
        .unwrap()
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(
        story,
        [
            "begun as planned",
            "restore point cloudron.app_backup 1a2b3c4d",
            "snapshot 1a2b3c4d verified",
            "planned -> running",
            "result: alice removed on calcul",
            "running -> done",
            &format!("undo: matelot undo {id}"),
        ]
    );
}

#[test]
fn finished_operations_stay_finished_and_bad_requests_are_refused() {
    let (_dir, j) = fresh();
    let id = j
        .begin(new(
            OpPlan::AppStop(app("wiki.example.org")),
            "wiki.example.org",
        ))
        .unwrap();
    j.set_running(id).unwrap();
    assert!(j.get(id).unwrap().unwrap().started_at.is_some());
    j.finish(
        id,
        Status::Failed,
        Some("HTTP 500 at https://x/?access_token=s3cr3t"),
    )
    .unwrap();
    let op = j.get(id).unwrap().unwrap();
    assert_eq!(
        op.message.as_deref(),
        Some("HTTP 500 at https://x/?access_token=<redacted>")
    );
    match j.set_running(id) {
        Err(JournalError::Finished {
            status: Status::Failed,
            ..
        }) => {}
        other => panic!("expected Finished, got {other:?}"),
    }
    assert!(matches!(
        j.finish(id, Status::Running, None),
        Err(JournalError::Invalid(_))
    ));
    assert!(matches!(
        j.settle(id, Status::Done, "x"),
        Err(JournalError::Invalid(_))
    ));
    let missing = OpId(id.0 + 100);
    let err = j.set_running(missing).unwrap_err();
    assert!(matches!(err, JournalError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("matelot journal list"), "{err}");
    assert_eq!(crate::error::Error::from(err).exit_code(), 2);
    assert!(j.get(missing).unwrap().is_none());
    assert!(j.note(missing, "x").is_err());
}

#[test]
fn list_filters_by_kind_target_status_run_and_undo_link() {
    let (_dir, j) = fresh();
    let a = j
        .begin(new(
            OpPlan::AppStop(app("matomo.example.org")),
            "matomo.example.org",
        ))
        .unwrap();
    let b = j
        .begin(new(
            OpPlan::AppBackup(AppBackupPlan {
                app_id: "w".into(),
                fqdn: "Wiki.example.org".into(),
                label: None,
                keep_days: None,
            }),
            "Wiki.example.org",
        ))
        .unwrap();
    let other_run = RunId("otherrun".into());
    let c = j
        .begin(NewOp::new(
            OpPlan::UserRemove(UserRemovePlan::Cloudron {
                username: "alice".into(),
                user_id: "u1".into(),
            }),
            "user:alice@cloudron",
            &other_run,
        ))
        .unwrap();
    let d = j
        .begin(new(
            OpPlan::Undo(UndoPlan {
                undoes: a,
                of_kind: OpKind::AppStop,
                action: UndoAction::SetRunState {
                    app: app("matomo.example.org"),
                    running: true,
                },
            }),
            "matomo.example.org",
        ))
        .unwrap();
    j.finish(a, Status::Done, None).unwrap();
    j.finish(c, Status::Failed, Some("no")).unwrap();

    let ids = |f: Filter| -> Vec<OpId> { j.list(&f).unwrap().into_iter().map(|o| o.id).collect() };
    assert_eq!(ids(Filter::default()), [d, c, b, a]);
    assert_eq!(
        ids(Filter {
            limit: Some(2),
            ..Filter::default()
        }),
        [d, c]
    );
    let kind = |k: &str| Filter {
        kind: Some(k.into()),
        ..Filter::default()
    };
    assert_eq!(ids(kind("app")), [b, a]);
    assert_eq!(ids(kind("app.backup")), [b]);
    assert_eq!(ids(kind("undo")), [d]);
    let contains = |t: &str| Filter {
        target: Some(TargetMatch::Contains(t.into())),
        ..Filter::default()
    };
    assert_eq!(ids(contains("WIKI")), [b]);
    assert_eq!(ids(contains("100%_")), []);
    let exact = Filter {
        target: Some(TargetMatch::Exact("matomo.example.org".into())),
        ..Filter::default()
    };
    assert_eq!(ids(exact), [d, a]);
    let status = |s| Filter {
        status: Some(s),
        ..Filter::default()
    };
    assert_eq!(ids(status(Status::Done)), [a]);
    assert_eq!(ids(status(Status::Planned)), [d, b]);
    let by_run = |r: &RunId| Filter {
        run: Some(r.clone()),
        ..Filter::default()
    };
    assert_eq!(ids(by_run(&other_run)), [c]);
    assert_eq!(ids(by_run(&run())), [d, b, a]);
    let undos: Vec<OpId> = j.undos_of(a).unwrap().iter().map(|o| o.id).collect();
    assert_eq!(undos, [d]);
    assert_eq!(j.get(d).unwrap().unwrap().undoes, Some(a));
    let future = Filter {
        since: Some(Utc::now() + chrono::Duration::hours(1)),
        ..Filter::default()
    };
    assert_eq!(ids(future), []);
    assert_eq!(
        j.latest_for_target("matomo.example.org")
            .unwrap()
            .unwrap()
            .id,
        d
    );
}

#[test]
fn rows_left_open_by_a_dead_process_read_as_interrupted_until_settled() {
    let (_dir, mut j) = fresh();
    let mine = j.begin(new(OpPlan::AppStart(app("mine")), "mine")).unwrap();
    let me = j.me.clone();
    j.me = dead_process();
    let dead = j.begin(new(OpPlan::AppStart(app("dead")), "dead")).unwrap();
    j.set_running(dead).unwrap_or_else(|_| {
        // The row already reads interrupted to this (dead) writer: move it by hand.
        j.conn()
            .execute(
                "UPDATE operations SET status = 'running', started_at = created_at WHERE id = ?1",
                [dead.0],
            )
            .map(|_| ())
            .unwrap()
    });
    j.me = ProcessId {
        host: format!("{}-other", me.host),
        ..dead_process()
    };
    let remote = j
        .begin(new(OpPlan::AppStart(app("remote")), "remote"))
        .unwrap();
    j.me = me;

    let status = |id| j.get(id).unwrap().unwrap().status;
    assert_eq!(status(mine), Status::Planned);
    assert_eq!(status(dead), Status::Interrupted);
    assert_eq!(
        status(remote),
        Status::Planned,
        "another host's process is not judged"
    );
    let unsettled: Vec<OpId> = j.unsettled().unwrap().iter().map(|o| o.id).collect();
    assert_eq!(unsettled, [dead]);

    assert_eq!(j.mark_interrupted().unwrap(), [dead]);
    assert!(j.mark_interrupted().unwrap().is_empty());
    let op = j.get(dead).unwrap().unwrap();
    assert!(op.message.unwrap().contains("ended before finishing it"));
    // An interrupted operation cannot be resumed by mistake, only settled.
    assert!(matches!(
        j.set_running(dead),
        Err(JournalError::Finished { .. })
    ));
    j.settle(dead, Status::NotApplied, "settled: the app is not running")
        .unwrap();
    let op = j.get(dead).unwrap().unwrap();
    assert_eq!(op.status, Status::NotApplied);
    assert!(op.finished_at.is_some());
    assert!(j.unsettled().unwrap().is_empty());
    assert!(matches!(
        j.settle(dead, Status::Done, "again"),
        Err(JournalError::Invalid(_))
    ));
}

#[test]
fn a_journal_written_by_schema_1_is_migrated_to_typed_operations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    std::fs::copy("tests/fixtures/journal/schema-v1.sqlite", &path).unwrap();
    let j = Journal::open(&path).unwrap();
    assert_eq!(j.schema_version().unwrap(), schema::latest());
    let ops = j.list(&Filter::default()).unwrap();
    assert_eq!(ops.len(), 26, "every old row is kept");
    let unreadable: Vec<String> = ops
        .iter()
        .filter_map(|o| match &o.plan {
            OpPlan::Unreadable(u) => Some(format!("{} {}: {}", o.id, o.kind, u.why)),
            _ => None,
        })
        .collect();
    assert!(unreadable.is_empty(), "{unreadable:?}");
    let problems: Vec<String> = ops
        .iter()
        .filter_map(|o| o.restore_point_problem.clone())
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
    let op = |n: i64| j.get(OpId(n)).unwrap().unwrap();
    // Kinds, as the old rows said.
    let kinds: Vec<&str> = ops.iter().rev().map(|o| o.kind.as_str()).collect();
    assert_eq!(
        &kinds[..4],
        ["user.sync", "user.sync", "user.add", "user.add"]
    );
    // An uninstall keeps its plan and its restore point, typed.
    let u = op(15);
    assert!(matches!(&u.plan, OpPlan::AppUninstall(p) if p.fqdn == "analytics.example.org"));
    assert!(
        matches!(&u.restore_point, Some(RestorePoint::AppBackup(b)) if b.backup_id.starts_with("app_"))
    );
    // Its undo is linked to it, with the reinstall it did.
    let undo = op(16);
    assert_eq!(undo.undoes, Some(OpId(15)));
    match &undo.plan {
        OpPlan::Undo(p) => assert!(
            matches!(&p.action, UndoAction::ReinstallApp { app, .. } if app.fqdn == "analytics.example.org")
        ),
        other => panic!("{other:?}"),
    }
    let undos: Vec<OpId> = j.undos_of(OpId(15)).unwrap().iter().map(|o| o.id).collect();
    assert_eq!(undos, [OpId(16)]);
    // An app backup's backup became its result, not a restore point.
    let b = op(12);
    assert!(b.restore_point.is_none());
    assert!(matches!(&b.result, Some(OpResult::Task(t)) if t.backup_id.is_some()));
    // A compute removal keeps the account's restore point whole.
    match &op(18).restore_point {
        Some(RestorePoint::ComputeAccount(a)) => {
            assert_eq!((a.username.as_str(), a.host.as_str()), ("zoe", "calcul"));
            assert!(a.passwd_line.starts_with("zoe:x:"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        &op(19).restore_point,
        Some(RestorePoint::CloudronUser(_))
    ));
    // Rows of one old invocation share a run id; different invocations do not.
    assert_eq!(op(1).run, op(2).run);
    assert_ne!(op(2).run, op(3).run);
    // Accounts plans keep their system and subject.
    match &op(5).plan {
        OpPlan::UserLock(p) => assert_eq!(
            (p.system.as_str(), p.subject.as_str()),
            ("calcul", "user:zoe")
        ),
        other => panic!("{other:?}"),
    }
    // New operations continue after the old ids.
    let id = j
        .begin(new(OpPlan::AppStart(app("x.example.org")), "x.example.org"))
        .unwrap();
    assert_eq!(id, OpId(27));
    // Protections survive.
    assert!(j.is_protected("www.example.org").unwrap());
    drop(j);
    // Opening again is a no-op.
    let j = Journal::open(&path).unwrap();
    assert_eq!(j.list(&Filter::default()).unwrap().len(), 27);
}

#[test]
fn protections_are_recorded_once_and_removed() {
    let (_dir, j) = fresh();
    assert!(!j.is_protected("matomo.example.org").unwrap());
    assert!(
        j.protect("matomo.example.org", Some("production analytics"))
            .unwrap()
    );
    assert!(
        !j.protect(" matomo.example.org ", None).unwrap(),
        "already protected"
    );
    assert!(j.protect("wiki.example.org", None).unwrap());
    assert!(j.is_protected("matomo.example.org").unwrap());
    let list = j.list_protected().unwrap();
    let names: Vec<&str> = list.iter().map(|p| p.target.as_str()).collect();
    assert_eq!(names, ["matomo.example.org", "wiki.example.org"]);
    assert_eq!(list[0].note.as_deref(), Some("production analytics"));
    assert_eq!(list[0].actor, Actor::current());
    assert!(j.unprotect("matomo.example.org").unwrap());
    assert!(!j.unprotect("matomo.example.org").unwrap());
    assert!(!j.is_protected("matomo.example.org").unwrap());
    assert!(j.protect("", None).is_err());
}
