//! `matelot undo OP`: put back what a journaled operation changed, from its restore point.
//!
//! An uninstall is undone by installing the app again at the same place (subdomain, domain,
//! access restriction, package) from the preserved backup; it overwrites nothing, so it is a
//! moderate change (y/N, or `--yes`). A restore is undone by restoring the backup taken just
//! before it; that overwrites live data, so it is severe and takes its own restore point first.
//! Undo goes through the same guard, is journaled itself, and refuses an operation that is not
//! `done` or was undone already. It never guesses: what it re-creates comes from the journal.

use serde_json::{Value, json};

use super::app::Session;
use super::app_guarded::{self, APP_BACKUP, follow, prepare, restore_to, take_app_point};
use crate::Ctx;
use crate::cli::undo::UndoArgs;
use crate::cloudron::InstallRequest;
use crate::cloudron::models::{AccessRestriction, App};
use crate::core::guard::Tier;
use crate::error::{Error, Result};
use crate::exec::guard::{self, Applied, Destructive, Guarded};
use crate::journal::{Filter, Journal, OpId, Operation, RestorePoint, Status};

/// `12` or `#12`.
pub fn parse_op(s: &str) -> Result<OpId> {
    s.trim()
        .trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(OpId)
        .ok_or_else(|| {
            Error::usage(format!(
                "{s:?} is not an operation number; `matelot journal list` shows them"
            ))
        })
}

pub fn run(ctx: &Ctx, args: UndoArgs) -> Result<()> {
    let id = parse_op(&args.op)?;
    let session = match ctx.config()?.cloudron {
        Some(_) => Some(Session::open(ctx)?),
        None => None,
    };
    let (_lock, journal) = match &session {
        Some(s) => prepare(ctx, s)?,
        None => {
            let lock = (!ctx.global.check).then(|| ctx.run_lock()).transpose()?;
            let journal = ctx.journal()?;
            journal.reconcile_interrupted()?;
            (lock, journal)
        }
    };
    let cloudron = || {
        session.as_ref().ok_or_else(|| {
            Error::Config(vec![format!(
                "operation {id} is on the Cloudron, and no [cloudron] is configured"
            )])
        })
    };
    let op = journal.get(id)?.ok_or_else(|| {
        Error::usage(format!(
            "no operation {id} in the journal; `matelot journal list` shows the operations"
        ))
    })?;
    if !matches!(
        op.kind.as_str(),
        "app.uninstall" | "app.restore" | "user.remove"
    ) {
        return Err(Error::usage(match op.undo_hint.as_deref() {
            Some(hint) if !hint.starts_with("matelot undo") => format!(
                "operation {id} is a {}, which `matelot undo` does not replay; its undo hint \
                 says: {hint}",
                op.kind
            ),
            _ => format!(
                "operation {id} is a {}; matelot cannot undo that kind of operation",
                op.kind
            ),
        }));
    }
    check_undoable(&journal, &op)?;
    match (op.kind.as_str(), op.planned["side"].as_str()) {
        ("app.uninstall", _) => undo_uninstall(ctx, cloudron()?, &journal, &op, &args),
        ("app.restore", _) => undo_restore(ctx, cloudron()?, &journal, &op, &args),
        ("user.remove", Some("compute")) => {
            let o = super::user_remove_undo::undo(
                ctx,
                &journal,
                &op,
                args.yes,
                args.confirm.as_deref(),
            )?;
            person_done(ctx, &journal, &op, o)
        }
        ("user.remove", Some("cloudron")) => {
            let o = super::user_remove_cloudron::undo(
                ctx,
                &journal,
                &op,
                args.yes,
                args.confirm.as_deref(),
            )?;
            person_done(ctx, &journal, &op, o)
        }
        (other, side) => Err(Error::failed(format!(
            "operation {id} ({other}, side {side:?}) has planned changes this undo cannot read"
        ))),
    }
}

fn person_done(
    ctx: &Ctx,
    journal: &Journal,
    op: &Operation,
    o: Option<guard::Outcome>,
) -> Result<()> {
    let Some(o) = o else { return Ok(()) };
    journal.note(op.id, &format!("undone by operation {}", o.op))?;
    if ctx.out.json {
        ctx.out.json(&json!({ "operation": o }))?;
    } else {
        ctx.out.line(format!("operation {}: {}", o.op, o.summary))?;
    }
    Ok(())
}

/// Only a `done` operation with a restore point, not undone already.
fn check_undoable(journal: &Journal, op: &Operation) -> Result<()> {
    if op.status != Status::Done {
        return Err(Error::refused(format!(
            "operation {} is {}, not done: there is nothing to undo (`matelot journal show {}`)",
            op.id, op.status, op.id
        )));
    }
    if op.kind == "undo" {
        return Err(Error::refused(format!(
            "operation {} is itself an undo; undo the original operation's effect with a new \
             command instead",
            op.id
        )));
    }
    let undos = journal.list(&Filter {
        kind: Some("undo".into()),
        ..Filter::default()
    })?;
    if let Some(u) = undos.iter().find(|u| {
        u.planned["undoes"].as_i64() == Some(op.id.0)
            && matches!(
                u.status,
                Status::Done | Status::Planned | Status::Running | Status::Interrupted
            )
    }) {
        return Err(Error::refused(format!(
            "operation {} was already undone by operation {} ({}); nothing was changed",
            op.id, u.id, u.status
        )));
    }
    let usable = [
        APP_BACKUP,
        super::user_remove::COMPUTE_ACCOUNT,
        super::user_remove_cloudron::CLOUDRON_USER,
    ];
    match &op.restore_point {
        Some(rp) if usable.contains(&rp.kind.as_str()) => Ok(()),
        Some(rp) => Err(Error::usage(format!(
            "operation {} has a restore point of kind {}, which this undo cannot use",
            op.id, rp.kind
        ))),
        None => Err(Error::failed(format!(
            "operation {} has no restore point in the journal; it cannot be undone",
            op.id
        ))),
    }
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

struct Reinstall<'a> {
    ctx: &'a Ctx,
    s: &'a Session,
    request: InstallRequest,
    fqdn: String,
}

impl Destructive for Reinstall<'_> {
    fn restore_point(&mut self, _op: OpId) -> Result<Option<RestorePoint>> {
        Ok(None)
    }

    fn apply(
        &mut self,
        _op: OpId,
        _rp: Option<&RestorePoint>,
    ) -> std::result::Result<String, Applied> {
        let s = self.s;
        let (new_id, task) =
            s.block_on(s.client.install_app(&self.request))
                .map_err(|e| match e {
                    crate::cloudron::CloudronError::Transport { .. } => Applied::Unknown(e.into()),
                    other => Applied::NotApplied(other.into()),
                })?;
        follow(self.ctx, s, &format!("reinstall {}", self.fqdn), &task)?;
        match s.block_on(s.client.get_app(&new_id)) {
            Ok(a) if !a.is_busy() && a.error.is_none() => Ok(format!(
                "{} installed again from backup {} (new app id {new_id}, {})",
                a.fqdn,
                self.request.backup_id.clone().unwrap_or_default(),
                a.state_label()
            )),
            Ok(a) => Err(Applied::Unknown(Error::failed(format!(
                "after the install task {task}, {} is {}",
                a.fqdn,
                a.state_label()
            )))),
            Err(e) => Err(Applied::Unknown(e.into())),
        }
    }
}

fn undo_uninstall(
    ctx: &Ctx,
    s: &Session,
    journal: &Journal,
    op: &Operation,
    args: &UndoArgs,
) -> Result<()> {
    let p = &op.planned;
    let rp = op
        .restore_point
        .clone()
        .ok_or_else(|| Error::failed("no restore point"))?;
    let fqdn = text(p, "fqdn");
    let apps = s.block_on(s.client.list_apps())?;
    if let Some(a) = apps.iter().find(|a| a.fqdn.eq_ignore_ascii_case(&fqdn)) {
        return Err(Error::refused(format!(
            "{fqdn} is in use by app {} ({}): undoing operation {} would install over it; \
             nothing was changed",
            a.id,
            a.name(),
            op.id
        )));
    }
    let access: Option<AccessRestriction> =
        serde_json::from_value(p["access_restriction"].clone()).unwrap_or(None);
    let request = InstallRequest {
        app_store_id: Some(text(p, "app_store_id")),
        manifest: None,
        subdomain: text(p, "subdomain"),
        domain: text(p, "domain"),
        access_restriction: access,
        backup_id: Some(rp.id.clone()),
        label: p["label"].as_str().map(str::to_string),
    };
    let g = Guarded {
        kind: "undo".into(),
        target: fqdn.clone(),
        confirm_name: fqdn.clone(),
        tier: Tier::Moderate,
        impact: vec![
            (
                "Undoes".into(),
                format!("operation {} ({} {})", op.id, op.kind, op.target),
            ),
            ("Reinstall at".into(), fqdn.clone()),
            ("Package".into(), text(p, "app_store_id")),
            ("From backup".into(), rp.id.clone()),
        ],
        steps: vec![
            format!(
                "install: POST /api/v1/apps {{appStoreId, subdomain {:?}, domain {:?}, the same \
                 accessRestriction, backupId {:?}}}, wait for the task, check the app runs",
                request.subdomain, request.domain, rp.id
            ),
            format!("journal: the undo, and a note on operation {}", op.id),
        ],
        planned: json!({"change": "undo", "undoes": op.id.0, "kind": op.kind, "fqdn": fqdn, "backup_id": rp.id}),
        protected: None,
    };
    let yes = args.yes || args.confirm.as_deref() == Some(fqdn.as_str());
    let mut action = Reinstall {
        ctx,
        s,
        request,
        fqdn: fqdn.clone(),
    };
    let outcome = guard::run(ctx, journal, &g, yes, args.confirm.as_deref(), &mut action)?;
    if let Some(o) = &outcome {
        journal.note(op.id, &format!("undone by operation {}", o.op))?;
    }
    let app = s
        .block_on(s.client.list_apps())?
        .into_iter()
        .find(|a| a.fqdn.eq_ignore_ascii_case(&fqdn))
        .unwrap_or_default();
    app_guarded::finish(ctx, &app, outcome)
}

struct RestoreBack<'a> {
    ctx: &'a Ctx,
    s: &'a Session,
    app: &'a App,
    backup_id: String,
    of: OpId,
}

impl Destructive for RestoreBack<'_> {
    fn restore_point(&mut self, op: OpId) -> Result<Option<RestorePoint>> {
        take_app_point(
            self.ctx,
            self.s,
            self.app,
            op,
            &format!("undo of op {}", self.of),
        )
        .map(Some)
    }

    fn apply(
        &mut self,
        _op: OpId,
        _rp: Option<&RestorePoint>,
    ) -> std::result::Result<String, Applied> {
        restore_to(self.ctx, self.s, self.app, &self.backup_id)
    }
}

fn undo_restore(
    ctx: &Ctx,
    s: &Session,
    journal: &Journal,
    op: &Operation,
    args: &UndoArgs,
) -> Result<()> {
    let rp = op
        .restore_point
        .clone()
        .ok_or_else(|| Error::failed("no restore point"))?;
    let app_id = text(&op.planned, "app_id");
    let app = s.block_on(s.client.get_app(&app_id)).map_err(|e| {
        Error::failed(format!(
            "the app of operation {} ({}) cannot be read: {e}; nothing was changed",
            op.id, op.target
        ))
    })?;
    let backups = s.block_on(s.client.list_app_backups(&app.id))?;
    let mut impact = app_guarded::impact(s, &app, &backups);
    impact.insert(
        0,
        (
            "Undoes".into(),
            format!("operation {} ({} {})", op.id, op.kind, op.target),
        ),
    );
    impact.push((
        "Restore from".into(),
        format!("{} (taken before operation {})", rp.id, op.id),
    ));
    let g = Guarded {
        kind: "undo".into(),
        target: app.fqdn.clone(),
        confirm_name: app.fqdn.clone(),
        tier: Tier::Severe,
        impact,
        steps: vec![
            format!(
                "restore point: POST /api/v1/apps/{}/backup, wait, check it is listed, label it \
                 \"matelot op N: before undo of op {}\" and preserve it (checked)",
                app.id, op.id
            ),
            format!(
                "restore: POST /api/v1/apps/{}/restore {{\"backupId\": \"{}\"}} (the data there now is overwritten), wait, check the app",
                app.id, rp.id
            ),
            format!("journal: the undo, and a note on operation {}", op.id),
        ],
        planned: json!({"change": "undo", "undoes": op.id.0, "kind": op.kind, "app_id": app.id, "fqdn": app.fqdn, "backup_id": rp.id}),
        protected: app_guarded::protection(ctx, journal, &app)?,
    };
    let mut action = RestoreBack {
        ctx,
        s,
        app: &app,
        backup_id: rp.id.clone(),
        of: op.id,
    };
    let outcome = guard::run(
        ctx,
        journal,
        &g,
        args.yes,
        args.confirm.as_deref(),
        &mut action,
    )?;
    if let Some(o) = &outcome {
        journal.note(op.id, &format!("undone by operation {}", o.op))?;
    }
    app_guarded::finish(ctx, &app, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_numbers_are_read_tolerantly_and_checked() {
        assert_eq!(parse_op("12").ok(), Some(OpId(12)));
        assert_eq!(parse_op(" #7 ").ok(), Some(OpId(7)));
        for bad in ["", "x", "0", "-3", "#"] {
            assert!(parse_op(bad).is_err(), "{bad}");
        }
    }
}
