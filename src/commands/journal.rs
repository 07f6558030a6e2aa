//! `matelot journal list|show|settle`: read the operations journal and render it as a table,
//! as key-value text, or as JSON; and settle (judge against the world) every operation whose
//! end was not seen. Reading never creates the journal: with no journal yet, `list` prints
//! nothing (`[]` with `--json`) and `show` reports that the operation does not exist.

use chrono::{DateTime, Utc};

use crate::Ctx;
use crate::cli::journal::{JournalCmd, ListArgs};
use crate::error::{Error, Result};
use crate::journal::redact::redact_for_display;
use crate::journal::{
    Event, Filter, Journal, JournalError, OpId, Operation, RunId, Status, TargetMatch, format_time,
    parse_since,
};

pub async fn run(ctx: &Ctx, cmd: JournalCmd) -> Result<()> {
    match cmd {
        JournalCmd::List(args) => list(ctx, args),
        JournalCmd::Show { op } => show(ctx, &op),
        JournalCmd::Settle => settle(ctx).await,
    }
}

/// `journal settle`: the run's start does the settling; report what it concluded.
async fn settle(ctx: &Ctx) -> Result<()> {
    if ctx.check() {
        return Err(Error::usage(
            "journal settle only judges and records; there is nothing to check first",
        ));
    }
    let run = ctx.begin_run().await?;
    let settled = run.settled();
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({ "settled": settled }))?;
        return Ok(());
    }
    if settled.is_empty() {
        ctx.out.info("no operation is waiting to be settled");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = settled
        .iter()
        .map(|s| {
            vec![
                s.op.to_string(),
                s.kind.clone(),
                s.target.clone(),
                s.status.label().to_string(),
                s.note.clone(),
            ]
        })
        .collect();
    ctx.out
        .table(&["ID", "KIND", "TARGET", "NOW", "WHY"], &rows)?;
    Ok(())
}

/// The journal if it exists; reads do not create one.
fn existing_journal(ctx: &Ctx) -> Result<Option<Journal>> {
    let path = ctx.config()?.journal_path();
    if !path.exists() {
        ctx.out
            .debug(format!("no journal at {} yet", path.display()));
        return Ok(None);
    }
    Ok(Some(Journal::open(&path)?))
}

fn list(ctx: &Ctx, args: ListArgs) -> Result<()> {
    let filter = Filter {
        since: args
            .since
            .map(|s| parse_since(&s, Utc::now()))
            .transpose()
            .map_err(Error::Usage)?,
        target: args.target.map(TargetMatch::Contains),
        kind: args.kind,
        status: args
            .status
            .map(|s| s.parse::<Status>())
            .transpose()
            .map_err(Error::Usage)?,
        run: args
            .run
            .map(|r| r.parse::<RunId>())
            .transpose()
            .map_err(Error::Usage)?,
        limit: args.limit,
        ..Filter::default()
    };
    let mut ops = Vec::new();
    if let Some(j) = existing_journal(ctx)? {
        for op in j.list(&filter)? {
            let undone_by = match op.undo_hint {
                Some(_) => j
                    .undos_of(op.id)?
                    .into_iter()
                    .find(|u| matches!(u.status, Status::Done | Status::Partial))
                    .map(|u| u.id),
                None => None,
            };
            ops.push((op, undone_by));
        }
    }
    if ctx.out.json {
        let docs: Vec<serde_json::Value> = ops
            .iter()
            .map(|(op, by)| {
                let mut v = op.for_display();
                if let Some(m) = v.as_object_mut() {
                    m.insert("undone_by".into(), serde_json::json!(by));
                }
                v
            })
            .collect();
        return Ok(ctx.out.json(&docs)?);
    }
    if ops.is_empty() {
        ctx.out.info("no operations recorded that match");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = ops.iter().map(|(op, by)| list_row(op, *by)).collect();
    Ok(ctx.out.table(
        &[
            "ID", "WHEN", "STATUS", "KIND", "TARGET", "ACTOR", "RUN", "UNDO",
        ],
        &rows,
    )?)
}

fn list_row(op: &Operation, undone_by: Option<OpId>) -> Vec<String> {
    vec![
        op.id.to_string(),
        short_time(&op.created_at),
        op.status.to_string(),
        op.kind.to_string(),
        op.target.clone(),
        op.actor.to_string(),
        op.run.to_string(),
        match undone_by {
            Some(by) => format!("undone by {by}"),
            None => op.undo_hint.clone().unwrap_or_else(|| "-".into()),
        },
    ]
}

/// `2025-06-01 14:03Z`: minutes are enough in a table; `show` and `--json` have milliseconds.
fn short_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%MZ").to_string()
}

fn show(ctx: &Ctx, op: &str) -> Result<()> {
    let id: OpId = op.parse().map_err(Error::Usage)?;
    let path = ctx.config()?.journal_path();
    let not_found = || JournalError::NotFound {
        path: path.clone(),
        id,
    };
    let journal = existing_journal(ctx)?.ok_or_else(not_found)?;
    let operation = journal.get(id)?.ok_or_else(not_found)?;
    let events = journal.events(id)?;
    if ctx.out.json {
        let mut v = operation.for_display();
        if let Some(m) = v.as_object_mut() {
            m.insert(
                "events".into(),
                serde_json::to_value(&events).unwrap_or_default(),
            );
        }
        return Ok(ctx.out.json(&v)?);
    }
    Ok(ctx.out.line(render_show(&operation, &events))?)
}

/// The human form of `journal show`: aligned fields, then the planned changes and the
/// history. Pure, so its shape is tested exactly.
pub fn render_show(op: &Operation, events: &[Event]) -> String {
    let opt_time = |t: &Option<DateTime<Utc>>| t.as_ref().map_or("-".into(), format_time);
    let command = shlex::try_join(op.command.iter().map(String::as_str))
        .unwrap_or_else(|_| op.command.join(" "));
    let mut fields: Vec<(&str, String)> = vec![
        ("Operation", op.id.to_string()),
        ("Run", op.run.to_string()),
        ("Kind", op.kind.to_string()),
        ("Target", op.target.clone()),
        ("Status", op.status.to_string()),
        ("Created", format_time(&op.created_at)),
        ("Started", opt_time(&op.started_at)),
        ("Finished", opt_time(&op.finished_at)),
        ("Actor", op.actor.to_string()),
        (
            "Process",
            format!("pid {} on {}", op.process.pid, op.process.host),
        ),
        ("Command", command),
        ("Message", op.message.clone().unwrap_or_else(|| "-".into())),
    ];
    match (&op.restore_point, &op.restore_point_problem) {
        (Some(rp), _) => fields.push(("Restore point", rp.describe())),
        (None, Some(p)) => fields.push(("Restore point", format!("unreadable: {p}"))),
        (None, None) => fields.push(("Restore point", "-".into())),
    }
    if let Some(u) = op.undoes {
        fields.push(("Undoes", format!("operation {u}")));
    }
    fields.push(("Undo", op.undo_hint.clone().unwrap_or_else(|| "-".into())));
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 3;
    let mut out = String::new();
    for (key, value) in fields {
        out.push_str(&format!("{:width$}{value}\n", format!("{key}:")));
    }
    if let Some(rp) = &op.restore_point {
        out.push_str("\nRestore point details:\n");
        out.push_str(&indent(&pretty(&redact_for_display(&rp.details()))));
    }
    out.push_str("\nPlan:\n");
    let plan = op.plan.body();
    out.push_str(&indent(&if plan.is_null() {
        "(none recorded)".to_string()
    } else {
        pretty(&redact_for_display(&plan))
    }));
    if let Some(r) = &op.result {
        out.push_str("\nResult:\n");
        out.push_str(&indent(&pretty(
            &serde_json::to_value(r).unwrap_or_default(),
        )));
    }
    out.push_str("\nHistory:\n");
    for e in events {
        let status = e.status.map_or(String::new(), |s| s.label().to_string());
        out.push_str(&format!(
            "  {}  {status:16}  {}\n",
            format_time(&e.at),
            e.message
        ));
    }
    out.trim_end().to_string()
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{
        Actor, AppBackupPoint, AppUninstallPlan, OpKind, OpPlan, ProcessId, RestorePoint,
    };

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn sample() -> Operation {
        Operation {
            id: OpId(12),
            run: RunId("k3v9x2qa".into()),
            kind: OpKind::AppUninstall,
            target: "matomo.example.org".into(),
            status: Status::Done,
            created_at: at("2025-06-01T14:03:07.123Z"),
            started_at: Some(at("2025-06-01T14:05:00Z")),
            finished_at: Some(at("2025-06-01T14:05:09.5Z")),
            actor: Actor {
                user: "root".into(),
                host: "calcul".into(),
                sudo_user: Some("alice".into()),
            },
            process: ProcessId {
                pid: 4242,
                start_ticks: 777,
                boot_id: "b".into(),
                host: "calcul".into(),
            },
            command: vec![
                "matelot".into(),
                "app".into(),
                "uninstall".into(),
                "matomo".into(),
                "--confirm".into(),
                "matomo.example.org".into(),
            ],
            plan: OpPlan::AppUninstall(AppUninstallPlan {
                app_id: "a1b2".into(),
                fqdn: "matomo.example.org".into(),
                subdomain: "matomo".into(),
                domain: "example.org".into(),
                app_store_id: "org.matomo.cloudronapp@1.58.2".into(),
                manifest_id: "org.matomo.cloudronapp".into(),
                version: "1.58.2".into(),
                label: None,
                access_restriction: None,
            }),
            restore_point: Some(RestorePoint::AppBackup(AppBackupPoint {
                backup_id: "backup-20250601".into(),
                app_id: "a1b2".into(),
                fqdn: "matomo.example.org".into(),
                task_id: None,
                label: None,
                preserve_secs: None,
                creation_time: None,
            })),
            restore_point_problem: None,
            result: None,
            message: None,
            undo_hint: Some("matelot undo 12".into()),
            undoes: None,
        }
    }

    #[test]
    fn show_renders_every_field_and_the_history() {
        let events = vec![
            Event {
                at: at("2025-06-01T14:03:07.123Z"),
                status: Some(Status::Planned),
                message: "begun as planned".into(),
            },
            Event {
                at: at("2025-06-01T14:04:59Z"),
                status: None,
                message: "restore point cloudron.app_backup backup-20250601".into(),
            },
        ];
        insta::assert_snapshot!(render_show(&sample(), &events));
    }

    #[test]
    fn list_rows_are_short_and_say_how_to_undo() {
        let op = sample();
        assert_eq!(
            list_row(&op, None),
            [
                "12",
                "2025-06-01 14:03Z",
                "done",
                "app.uninstall",
                "matomo.example.org",
                "alice(root)@calcul",
                "k3v9x2qa",
                "matelot undo 12"
            ]
        );
        assert_eq!(list_row(&op, Some(OpId(14)))[7], "undone by 14");
        let bare = Operation {
            undo_hint: None,
            ..op
        };
        assert_eq!(list_row(&bare, None)[7], "-");
    }
}
