//! How an interrupted operation is judged, as pure functions: what the world shows now
//! (gathered by `settle`) in, a [`Verdict`] out. One function per way of looking, each a
//! table in the tests below.
//!
//! The rules that hold everywhere: a row that never reached `running` never sent its change
//! (so it is "not applied", whatever the world shows now: something else may have changed
//! it); a task that was recorded is the best witness; a busy app means "look again later".

use crate::cloudron::models::{App, RunState, Task};
use crate::core::accounts::Facts;
use crate::core::accounts::effect::count;
use crate::journal::{AccountsPlan, AppUninstallPlan, OpResult, RestorePoint};

/// What a judge concludes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The change happened.
    Done(String),
    /// It did not happen.
    NotApplied(String),
    /// Some of it happened (the message says what).
    Partial(String),
    /// It failed after it had started changing things (the message says the state and the way
    /// back).
    FailedChanged(String),
    /// The world cannot tell; the message says what to check.
    Unknown(String),
    /// Not yet: the target is busy; the next run looks again (the row stays interrupted).
    Later(String),
}

impl Verdict {
    pub fn note(&self) -> &str {
        match self {
            Verdict::Done(n)
            | Verdict::NotApplied(n)
            | Verdict::Partial(n)
            | Verdict::FailedChanged(n)
            | Verdict::Unknown(n)
            | Verdict::Later(n) => n,
        }
    }
}

/// What the Cloudron shows of an app and of the task an operation recorded.
#[derive(Debug, Clone, Default)]
pub struct AppSeen {
    /// The app, or `None` when the server says there is no such app.
    pub app: Option<App>,
    /// The recorded task as the server shows it now.
    pub task: Option<Task>,
}

const NEVER_SENT: &str = "it stopped before the change was sent";

fn task_state(t: &Task) -> Option<Result<(), String>> {
    if !t.is_finished() {
        return None;
    }
    Some(if t.success {
        Ok(())
    } else {
        Err(t.failure_message())
    })
}

/// `app start|stop|restart`: `want` is the run state asked for (`None` for a restart).
pub fn run_state(fqdn: &str, want: Option<RunState>, reached: bool, seen: &AppSeen) -> Verdict {
    if !reached {
        return Verdict::NotApplied(NEVER_SENT.into());
    }
    let Some(app) = &seen.app else {
        return Verdict::Unknown(format!("{fqdn} is no longer installed"));
    };
    if let Some(t) = &seen.task {
        match task_state(t) {
            None => return Verdict::Later(format!("its task {} is still running", t.id)),
            Some(Err(m)) if app.error.is_some() => {
                return Verdict::FailedChanged(format!(
                    "its task {} failed ({m}) and {fqdn} is now {}; the way back: `matelot app \
                     restart {fqdn}`",
                    t.id,
                    app.state_label()
                ));
            }
            Some(Err(m)) => {
                return Verdict::NotApplied(format!(
                    "its task {} failed ({m}); {fqdn} is {}",
                    t.id,
                    app.state_label()
                ));
            }
            Some(Ok(())) => {
                return Verdict::Done(format!("its task {} succeeded", t.id));
            }
        }
    }
    if app.is_busy() {
        return Verdict::Later(format!("{fqdn} is busy ({})", app.state_label()));
    }
    match want {
        Some(w) if app.run_state == w => {
            Verdict::Done(format!("{fqdn} is {} as asked", app.state_label()))
        }
        Some(_) => Verdict::NotApplied(format!(
            "no task was recorded and {fqdn} is {}",
            app.state_label()
        )),
        None => Verdict::Unknown(format!(
            "no task was recorded, so whether {fqdn} was restarted cannot be told; it is {} now \
             (a restart changes no data)",
            app.state_label()
        )),
    }
}

/// `app backup`: `new_backup` is a backup of the app made since the operation began.
pub fn app_backup(fqdn: &str, reached: bool, seen: &AppSeen, new_backup: Option<&str>) -> Verdict {
    if !reached {
        return Verdict::NotApplied(NEVER_SENT.into());
    }
    if let Some(t) = &seen.task {
        match task_state(t) {
            None => return Verdict::Later(format!("its backup task {} is still running", t.id)),
            Some(Err(m)) => {
                return Verdict::NotApplied(format!("its backup task {} failed: {m}", t.id));
            }
            Some(Ok(())) => {}
        }
    }
    match (new_backup, &seen.app) {
        (Some(id), _) => Verdict::Done(format!("backup {id} of {fqdn} is listed")),
        (None, Some(a)) if a.is_busy() => {
            Verdict::Later(format!("{fqdn} is busy ({})", a.state_label()))
        }
        (None, _) => Verdict::NotApplied(format!("no new backup of {fqdn} is listed")),
    }
}

/// `app uninstall`.
pub fn uninstall(
    plan: &AppUninstallPlan,
    reached: bool,
    rp: Option<&RestorePoint>,
    seen: &AppSeen,
) -> Verdict {
    let fqdn = &plan.fqdn;
    if !reached {
        let now = match &seen.app {
            None => format!(
                "; {fqdn} is gone now, but not by this operation: it never sent the uninstall \
                 (and took no restore point to undo it from{})",
                rp.map(|r| format!(" other than {}", r.id()))
                    .unwrap_or_default()
            ),
            Some(a) => format!("; {fqdn} is {}", a.state_label()),
        };
        return Verdict::NotApplied(format!("{NEVER_SENT}{now}"));
    }
    if let Some(t) = &seen.task
        && task_state(t).is_none()
    {
        return Verdict::Later(format!("its uninstall task {} is still running", t.id));
    }
    match &seen.app {
        None => Verdict::Done(format!(
            "app {} is gone: the uninstall happened",
            plan.app_id
        )),
        Some(a) if a.is_busy() => Verdict::Later(format!("{fqdn} is busy ({})", a.state_label())),
        Some(a) if a.error.is_some() => Verdict::FailedChanged(format!(
            "the uninstall failed half way: {fqdn} is {}{}",
            a.state_label(),
            way_back_restore(fqdn, rp)
        )),
        Some(a) => Verdict::NotApplied(format!("{fqdn} is still installed ({})", a.state_label())),
    }
}

fn way_back_restore(fqdn: &str, rp: Option<&RestorePoint>) -> String {
    match rp {
        Some(r) => format!(
            "; the way back: `matelot app restore {fqdn} --backup {}`",
            r.id()
        ),
        None => String::new(),
    }
}

/// `app restore` (and an undo that restores).
pub fn restore(fqdn: &str, reached: bool, rp: Option<&RestorePoint>, seen: &AppSeen) -> Verdict {
    if !reached {
        return Verdict::NotApplied(NEVER_SENT.into());
    }
    let Some(app) = &seen.app else {
        return Verdict::Unknown(format!("{fqdn} is no longer installed"));
    };
    match seen.task.as_ref().map(|t| (t, task_state(t))) {
        Some((t, None)) => Verdict::Later(format!("its restore task {} is still running", t.id)),
        Some((t, Some(Ok(())))) => Verdict::Done(format!(
            "its restore task {} succeeded; {fqdn} is {}",
            t.id,
            app.state_label()
        )),
        Some((t, Some(Err(m)))) => Verdict::FailedChanged(format!(
            "its restore task {} failed ({m}); {fqdn} is {}{}",
            t.id,
            app.state_label(),
            way_back_restore(fqdn, rp)
        )),
        None if app.is_busy() => Verdict::Later(format!("{fqdn} is busy ({})", app.state_label())),
        None => Verdict::Unknown(format!(
            "no restore task was recorded or found, so whether {fqdn}'s data was overwritten \
             cannot be told; it is {}{}",
            app.state_label(),
            match rp {
                Some(r) => format!(
                    "; its data from before is in the restore point {}: `matelot app restore \
                     {fqdn} --backup {}` puts it back",
                    r.id(),
                    r.id()
                ),
                None => String::new(),
            }
        )),
    }
}

/// An undo that installs an app again: `at_fqdn` is the app now at the plan's FQDN.
pub fn reinstall(plan: &AppUninstallPlan, reached: bool, at_fqdn: Option<&App>) -> Verdict {
    let fqdn = &plan.fqdn;
    if !reached {
        return Verdict::NotApplied(NEVER_SENT.into());
    }
    match at_fqdn {
        None => Verdict::NotApplied(format!("nothing is installed at {fqdn}")),
        Some(a) if a.is_busy() => Verdict::Later(format!("{fqdn} is busy ({})", a.state_label())),
        Some(a) if a.error.is_some() => Verdict::FailedChanged(format!(
            "an app is at {fqdn} (id {}) but it is {}; the way back: `matelot app uninstall \
             {fqdn}`, then `matelot undo` again",
            a.id,
            a.state_label()
        )),
        Some(a) => Verdict::Done(format!(
            "{} is installed at {fqdn} again (app id {})",
            a.name(),
            a.id
        )),
    }
}

/// `user add|lock|unlock|sync` on one system, from fresh facts of that system.
pub fn accounts(plan: &AccountsPlan, reached: bool, facts: &Facts) -> Verdict {
    if !reached {
        return Verdict::NotApplied(NEVER_SENT.into());
    }
    let c = count(facts, &plan.changes);
    let total = plan.changes.len();
    let told = c.in_effect + c.not_in_effect;
    let text = format!(
        "{} of {total} change(s) on {} are in effect{}",
        c.in_effect,
        plan.system,
        if c.cannot_tell > 0 {
            format!(" ({} cannot be seen, such as invitations)", c.cannot_tell)
        } else {
            String::new()
        }
    );
    if told == 0 {
        Verdict::Unknown(text)
    } else if c.not_in_effect == 0 {
        Verdict::Done(text)
    } else if c.in_effect == 0 {
        Verdict::NotApplied(text)
    } else {
        Verdict::Partial(format!(
            "{text}; run the same command again to finish (it plans only what is left)"
        ))
    }
}

/// An account that the operation removes (`removing`) or re-creates: is it there now?
pub fn account(who: &str, reached: bool, present: bool, removing: bool) -> Verdict {
    if !reached {
        return Verdict::NotApplied(NEVER_SENT.into());
    }
    match (removing, present) {
        (true, false) => Verdict::Done(format!("{who} is gone: the removal happened")),
        (true, true) => Verdict::NotApplied(format!("{who} is still there")),
        (false, true) => Verdict::Done(format!("{who} exists again")),
        (false, false) => Verdict::NotApplied(format!("{who} does not exist")),
    }
}

/// `backup run`: judged from what it recorded (a backup changes nothing live).
pub fn backup_run(reached: bool, result: Option<&OpResult>) -> Verdict {
    let again = "; `matelot backup run` again takes a new one";
    if !reached {
        return Verdict::NotApplied(format!("{NEVER_SENT}{again}"));
    }
    let targets = match result {
        Some(OpResult::Targets { targets }) => targets.as_slice(),
        _ => &[],
    };
    let ok: Vec<&str> = targets
        .iter()
        .filter(|t| t.ok)
        .map(|t| t.target.as_str())
        .collect();
    if ok.is_empty() {
        Verdict::NotApplied(format!("no backup was verified before it stopped{again}"))
    } else {
        Verdict::Partial(format!(
            "verified before it stopped: {}; the others were not{again}",
            ok.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudron::models::{AppError, InstallationState, TaskId};
    use crate::journal::{AppBackupPoint, TargetResult};

    fn app(state: InstallationState, run: RunState, error: bool) -> App {
        App {
            id: "a1".into(),
            fqdn: "analytics.example.org".into(),
            installation_state: state,
            run_state: run,
            error: error.then(AppError::default),
            ..App::default()
        }
    }

    fn task(active: bool, success: bool) -> Task {
        Task {
            id: TaskId("9".into()),
            active,
            success,
            ..Task::default()
        }
    }

    fn plan() -> AppUninstallPlan {
        AppUninstallPlan {
            app_id: "a1".into(),
            fqdn: "analytics.example.org".into(),
            subdomain: "analytics".into(),
            domain: "example.org".into(),
            app_store_id: "org.matomo.cloudronapp@1.58.2".into(),
            manifest_id: "org.matomo.cloudronapp".into(),
            version: "1.58.2".into(),
            label: None,
            access_restriction: None,
        }
    }

    fn rp() -> RestorePoint {
        RestorePoint::AppBackup(AppBackupPoint {
            backup_id: "b1".into(),
            app_id: "a1".into(),
            fqdn: "analytics.example.org".into(),
            task_id: None,
            label: None,
            preserve_secs: None,
            creation_time: None,
        })
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

    #[test]
    fn uninstalls_are_judged_by_whether_they_were_sent_and_what_the_server_shows() {
        use InstallationState as I;
        let installed = app(I::Installed, RunState::Running, false);
        let busy = app(I::PendingUninstall, RunState::Running, false);
        let broken = app(I::Error, RunState::Stopped, true);
        let seen = |a: Option<&App>, t: Option<Task>| AppSeen {
            app: a.cloned(),
            task: t,
        };
        let rows: Vec<(bool, bool, AppSeen, &str)> = vec![
            (true, true, seen(None, None), "done"),
            (true, true, seen(Some(&installed), None), "not applied"),
            (true, true, seen(Some(&busy), None), "later"),
            (
                true,
                true,
                seen(Some(&broken), Some(task(false, false))),
                "failed (changed)",
            ),
            (
                true,
                true,
                seen(Some(&installed), Some(task(true, false))),
                "later",
            ),
            // Killed before the uninstall was sent, then removed by hand: not this operation's.
            (false, false, seen(None, None), "not applied"),
            (false, true, seen(Some(&installed), None), "not applied"),
        ];
        for (reached, with_rp, s, want) in rows {
            let r = rp();
            let v = uninstall(&plan(), reached, with_rp.then_some(&r), &s);
            assert_eq!(kind(&v), want, "reached={reached} rp={with_rp}: {v:?}");
        }
        let v = uninstall(&plan(), false, None, &seen(None, None));
        assert!(v.note().contains("not by this operation"), "{v:?}");
        let v = uninstall(&plan(), true, Some(&rp()), &seen(Some(&broken), None));
        assert!(v.note().contains("--backup b1"), "{v:?}");
    }

    #[test]
    fn restores_are_judged_by_their_task() {
        use InstallationState as I;
        let fine = app(I::Installed, RunState::Running, false);
        let broken = app(I::Error, RunState::Stopped, true);
        let busy = app(I::PendingRestore, RunState::Running, false);
        let r = rp();
        let rows: Vec<(bool, AppSeen, &str)> = vec![
            (
                false,
                AppSeen {
                    app: Some(fine.clone()),
                    task: None,
                },
                "not applied",
            ),
            (
                true,
                AppSeen {
                    app: Some(fine.clone()),
                    task: Some(task(false, true)),
                },
                "done",
            ),
            (
                true,
                AppSeen {
                    app: Some(broken),
                    task: Some(task(false, false)),
                },
                "failed (changed)",
            ),
            (
                true,
                AppSeen {
                    app: Some(busy),
                    task: None,
                },
                "later",
            ),
            (
                true,
                AppSeen {
                    app: Some(fine.clone()),
                    task: Some(task(true, false)),
                },
                "later",
            ),
            (
                true,
                AppSeen {
                    app: Some(fine),
                    task: None,
                },
                "unknown",
            ),
            (
                true,
                AppSeen {
                    app: None,
                    task: None,
                },
                "unknown",
            ),
        ];
        for (reached, seen, want) in rows {
            let v = restore("analytics.example.org", reached, Some(&r), &seen);
            assert_eq!(kind(&v), want, "reached={reached}: {v:?}");
        }
    }

    #[test]
    fn run_state_changes_and_backups_and_accounts() {
        use InstallationState as I;
        let stopped = AppSeen {
            app: Some(app(I::Installed, RunState::Stopped, false)),
            task: None,
        };
        let f = "chat.example.org";
        assert_eq!(
            kind(&run_state(f, Some(RunState::Stopped), true, &stopped)),
            "done"
        );
        assert_eq!(
            kind(&run_state(f, Some(RunState::Running), true, &stopped)),
            "not applied"
        );
        assert_eq!(kind(&run_state(f, None, true, &stopped)), "unknown");
        assert_eq!(kind(&run_state(f, None, false, &stopped)), "not applied");
        assert_eq!(kind(&app_backup(f, true, &stopped, Some("b2"))), "done");
        assert_eq!(kind(&app_backup(f, true, &stopped, None)), "not applied");
        assert_eq!(kind(&account("zoe on calcul", true, false, true)), "done");
        assert_eq!(
            kind(&account("zoe on calcul", true, true, true)),
            "not applied"
        );
        assert_eq!(kind(&account("zoe on calcul", true, true, false)), "done");
        assert_eq!(
            kind(&account("zoe on calcul", false, false, true)),
            "not applied"
        );
        let ok = OpResult::Targets {
            targets: vec![TargetResult {
                target: "cloudron".into(),
                ok: true,
                id: Some("b".into()),
                detail: String::new(),
            }],
        };
        assert_eq!(kind(&backup_run(true, Some(&ok))), "partial");
        assert_eq!(kind(&backup_run(true, None)), "not applied");
    }

    #[test]
    fn a_reinstall_is_done_when_the_app_is_back_and_fine() {
        use InstallationState as I;
        let back = app(I::Installed, RunState::Running, false);
        assert_eq!(kind(&reinstall(&plan(), true, Some(&back))), "done");
        assert_eq!(kind(&reinstall(&plan(), true, None)), "not applied");
        let pending = app(I::PendingInstall, RunState::Running, false);
        assert_eq!(kind(&reinstall(&plan(), true, Some(&pending))), "later");
        assert_eq!(kind(&reinstall(&plan(), false, Some(&back))), "not applied");
    }
}
