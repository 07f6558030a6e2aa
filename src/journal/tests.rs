//! Unit tests of the journal against real SQLite files in temporary directories.

use std::os::unix::fs::PermissionsExt;

use chrono::Utc;
use serde_json::json;

use super::*;

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
fn an_operation_records_its_writer_and_hides_secrets() {
    let (_dir, j) = fresh();
    let id = j
        .begin(
            NewOp::new("app.uninstall", "matomo.example.org")
                .planned(json!({"uninstall": "matomo.example.org", "token": "abc"}))
                .command(vec![
                    "matelot".into(),
                    "--token".into(),
                    "abc".into(),
                    "app".into(),
                    "uninstall".into(),
                ]),
        )
        .unwrap();
    let op = j.get(id).unwrap().unwrap();
    assert_eq!(op.id, id);
    assert_eq!(op.kind, "app.uninstall");
    assert_eq!(op.target, "matomo.example.org");
    assert_eq!(op.status, Status::Planned);
    assert_eq!(op.process, ProcessId::current());
    assert_eq!(op.actor, Actor::current());
    assert_eq!(
        op.command,
        ["matelot", "--token", "<redacted>", "app", "uninstall"]
    );
    assert_eq!(
        op.planned,
        json!({"uninstall": "matomo.example.org", "token": "<redacted>"})
    );
    assert!(op.started_at.is_none() && op.finished_at.is_none());
    assert!(op.restore_point.is_none() && op.undo_hint.is_none());
    // The JSON shape is stable: ids are numbers, times are RFC 3339 UTC with milliseconds.
    let v = serde_json::to_value(&op).unwrap();
    assert_eq!(v["id"], json!(id.0));
    assert_eq!(v["status"], "planned");
    let created = v["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 24, "{created}");
    assert!(!v.to_string().contains("abc"), "{v}");
}

#[test]
fn an_operation_goes_through_its_lifecycle_and_tells_its_story() {
    let (_dir, j) = fresh();
    let id = j
        .begin(NewOp::new("user.remove", "user:alice@calcul"))
        .unwrap();
    let rp = RestorePoint {
        kind: "restic.snapshot".into(),
        id: "1a2b3c4d".into(),
        details: json!({"paths": ["/home/alice"], "password": "x"}),
    };
    j.set_restore_point(id, &rp).unwrap();
    j.note(id, "snapshot 1a2b3c4d verified").unwrap();
    j.set_status(id, Status::Running).unwrap();
    j.finish(id, Status::Done, None).unwrap();
    j.set_undo_hint(id, &format!("matelot undo {id}")).unwrap();

    let op = j.get(id).unwrap().unwrap();
    assert_eq!(op.status, Status::Done);
    assert!(op.started_at.is_some() && op.finished_at.is_some());
    assert!(op.created_at <= op.started_at.unwrap());
    assert!(op.started_at.unwrap() <= op.finished_at.unwrap());
    let stored = op.restore_point.unwrap();
    assert_eq!(
        (stored.kind.as_str(), stored.id.as_str()),
        ("restic.snapshot", "1a2b3c4d")
    );
    assert_eq!(stored.details["password"], "<redacted>");
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
            "restore point restic.snapshot 1a2b3c4d",
            "snapshot 1a2b3c4d verified",
            "planned -> running",
            "running -> done",
            &format!("undo: matelot undo {id}"),
        ]
    );
}

#[test]
fn finished_operations_stay_finished_and_bad_requests_are_refused() {
    let (_dir, j) = fresh();
    let id = j
        .begin(NewOp::new("app.stop", "wiki.example.org").running())
        .unwrap();
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
    match j.set_status(id, Status::Running) {
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
        j.begin(NewOp::new(" ", "x")),
        Err(JournalError::Invalid(_))
    ));
    let missing = OpId(id.0 + 100);
    let err = j.set_status(missing, Status::Running).unwrap_err();
    assert!(matches!(err, JournalError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("matelot journal list"), "{err}");
    assert_eq!(crate::error::Error::from(err).exit_code(), 2);
    assert!(j.get(missing).unwrap().is_none());
    assert!(j.note(missing, "x").is_err());
}

#[test]
fn list_filters_and_orders_newest_first() {
    let (_dir, j) = fresh();
    let a = j
        .begin(NewOp::new("app.uninstall", "matomo.example.org"))
        .unwrap();
    let b = j
        .begin(NewOp::new("app.backup", "Wiki.example.org"))
        .unwrap();
    let c = j
        .begin(NewOp::new("user.add", "user:alice@calcul"))
        .unwrap();
    let d = j
        .begin(NewOp::new("application.x", "matomo.example.org"))
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
    assert_eq!(
        ids(kind("app")),
        [b, a],
        "`app` is a prefix of app.*, not of application.*"
    );
    assert_eq!(ids(kind("app.backup")), [b]);
    let contains = |t: &str| Filter {
        target: Some(TargetMatch::Contains(t.into())),
        ..Filter::default()
    };
    assert_eq!(ids(contains("WIKI")), [b]);
    assert_eq!(ids(contains("example.org")), [d, b, a]);
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
    let newest_planned = Filter {
        status: Some(Status::Planned),
        limit: Some(1),
        ..Filter::default()
    };
    assert_eq!(ids(newest_planned), [d]);
    let none = Filter {
        status: Some(Status::Planned),
        limit: Some(0),
        ..Filter::default()
    };
    assert_eq!(ids(none), []);
    let future = Filter {
        since: Some(Utc::now() + chrono::Duration::hours(1)),
        ..Filter::default()
    };
    assert_eq!(ids(future), []);
    let past = Filter {
        since: Some(Utc::now() - chrono::Duration::hours(1)),
        ..Filter::default()
    };
    assert_eq!(ids(past).len(), 4);
    assert_eq!(
        j.latest_for_target("matomo.example.org")
            .unwrap()
            .unwrap()
            .id,
        d
    );
    assert!(j.latest_for_target("matomo").unwrap().is_none());
}

#[test]
fn rows_left_open_by_a_dead_process_read_as_interrupted_until_reconciled() {
    let (_dir, mut j) = fresh();
    let mine = j.begin(NewOp::new("app.backup", "mine")).unwrap();
    let me = j.me.clone();
    j.me = dead_process();
    let dead = j
        .begin(NewOp::new("app.uninstall", "dead").running())
        .unwrap();
    j.me = ProcessId {
        host: format!("{}-other", me.host),
        ..dead_process()
    };
    let remote = j
        .begin(NewOp::new("app.uninstall", "remote").running())
        .unwrap();
    j.me = me;

    let status = |id| j.get(id).unwrap().unwrap().status;
    assert_eq!(status(mine), Status::Planned);
    assert_eq!(status(dead), Status::Interrupted);
    assert_eq!(
        status(remote),
        Status::Running,
        "another host's process is not judged"
    );
    let interrupted = Filter {
        status: Some(Status::Interrupted),
        ..Filter::default()
    };
    let found: Vec<OpId> = j.list(&interrupted).unwrap().iter().map(|o| o.id).collect();
    assert_eq!(found, [dead]);
    let running = Filter {
        status: Some(Status::Running),
        ..Filter::default()
    };
    let found: Vec<OpId> = j.list(&running).unwrap().iter().map(|o| o.id).collect();
    assert_eq!(found, [remote]);

    // Reading did not write: the stored status is still running until reconciled.
    let stored = j.stored_status(&j.conn(), dead).unwrap();
    assert_eq!(stored, Status::Running);
    assert_eq!(j.reconcile_interrupted().unwrap(), [dead]);
    assert_eq!(
        j.stored_status(&j.conn(), dead).unwrap(),
        Status::Interrupted
    );
    assert!(j.reconcile_interrupted().unwrap().is_empty());
    let op = j.get(dead).unwrap().unwrap();
    assert!(op.message.unwrap().contains("ended before finishing it"));
    let last = j.events(dead).unwrap().pop().unwrap();
    assert_eq!(last.status, Some(Status::Interrupted));
    // An interrupted operation is finished: it cannot be resumed by mistake.
    assert!(matches!(
        j.set_status(dead, Status::Running),
        Err(JournalError::Finished { .. })
    ));
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
