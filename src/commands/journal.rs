//! `matelot journal list|show`: read the operations journal and render it as a table, as
//! key-value text, or as JSON. Reading never creates the journal: with no journal yet, `list`
//! prints nothing (`[]` with `--json`) and `show` reports that the operation does not exist.

use chrono::{DateTime, Utc};

use crate::Ctx;
use crate::cli::journal::{JournalCmd, ListArgs};
use crate::error::{Error, Result};
use crate::journal::{
    Event, Filter, Journal, JournalError, OpId, Operation, TargetMatch, format_time, parse_since,
};

pub fn run(ctx: &Ctx, cmd: JournalCmd) -> Result<()> {
    match cmd {
        JournalCmd::List(args) => list(ctx, args),
        JournalCmd::Show { op } => show(ctx, &op),
    }
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
        status: args.status,
        limit: args.limit,
    };
    let ops = match existing_journal(ctx)? {
        Some(j) => j
            .list(&filter)?
            .iter()
            .map(Operation::for_display)
            .collect(),
        None => Vec::new(),
    };
    if ctx.out.json {
        return Ok(ctx.out.json(&ops)?);
    }
    if ops.is_empty() {
        ctx.out.info("no operations recorded that match");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = ops.iter().map(list_row).collect();
    Ok(ctx.out.table(
        &["ID", "WHEN", "STATUS", "KIND", "TARGET", "ACTOR", "UNDO"],
        &rows,
    )?)
}

fn list_row(op: &Operation) -> Vec<String> {
    vec![
        op.id.to_string(),
        short_time(&op.created_at),
        op.status.to_string(),
        op.kind.clone(),
        op.target.clone(),
        op.actor.to_string(),
        op.undo_hint.clone().unwrap_or_else(|| "-".into()),
    ]
}

/// `2025-06-01 14:03Z`: minutes are enough in a table; `show` and `--json` have milliseconds.
fn short_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%MZ").to_string()
}

/// What `journal show --json` prints: the operation and its history.
#[derive(serde::Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    op: &'a Operation,
    events: &'a [Event],
}

fn show(ctx: &Ctx, op: &str) -> Result<()> {
    let id: OpId = op.parse().map_err(Error::Usage)?;
    let path = ctx.config()?.journal_path();
    let not_found = || JournalError::NotFound {
        path: path.clone(),
        id,
    };
    let journal = existing_journal(ctx)?.ok_or_else(not_found)?;
    let operation = journal.get(id)?.ok_or_else(not_found)?.for_display();
    let events = journal.events(id)?;
    if ctx.out.json {
        return Ok(ctx.out.json(&Shown {
            op: &operation,
            events: &events,
        })?);
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
        ("Kind", op.kind.clone()),
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
    match &op.restore_point {
        Some(rp) => fields.push(("Restore point", format!("{} {}", rp.kind, rp.id))),
        None => fields.push(("Restore point", "-".into())),
    }
    fields.push(("Undo", op.undo_hint.clone().unwrap_or_else(|| "-".into())));
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 3;
    let mut out = String::new();
    for (key, value) in fields {
        out.push_str(&format!("{:width$}{value}\n", format!("{key}:")));
    }
    if let Some(rp) = op.restore_point.as_ref().filter(|rp| !rp.details.is_null()) {
        out.push_str("\nRestore point details:\n");
        out.push_str(&indent(&pretty(&rp.details)));
    }
    out.push_str("\nPlanned changes:\n");
    out.push_str(&indent(&if op.planned.is_null() {
        "(none recorded)".to_string()
    } else {
        pretty(&op.planned)
    }));
    out.push_str("\nHistory:\n");
    for e in events {
        let status = e.status.map_or(String::new(), |s| s.to_string());
        out.push_str(&format!(
            "  {}  {status:11}  {}\n",
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
    use crate::journal::{Actor, ProcessId, RestorePoint, Status};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn sample() -> Operation {
        Operation {
            id: OpId(12),
            kind: "app.uninstall".into(),
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
            planned: serde_json::json!([{"change": "app.uninstall", "app": "matomo.example.org"}]),
            restore_point: Some(RestorePoint {
                kind: "cloudron.app_backup".into(),
                id: "backup-20250601".into(),
                details: serde_json::json!({"app_id": "a1b2"}),
            }),
            message: None,
            undo_hint: Some("matelot undo 12".into()),
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
        insta::assert_snapshot!(render_show(&sample(), &events), @r#"
        Operation:      12
        Kind:           app.uninstall
        Target:         matomo.example.org
        Status:         done
        Created:        2025-06-01T14:03:07.123Z
        Started:        2025-06-01T14:05:00.000Z
        Finished:       2025-06-01T14:05:09.500Z
        Actor:          alice(root)@calcul
        Process:        pid 4242 on calcul
        Command:        matelot app uninstall matomo --confirm matomo.example.org
        Message:        -
        Restore point:  cloudron.app_backup backup-20250601
        Undo:           matelot undo 12

        Restore point details:
          {
            "app_id": "a1b2"
          }

        Planned changes:
          [
            {
              "app": "matomo.example.org",
              "change": "app.uninstall"
            }
          ]

        History:
          2025-06-01T14:03:07.123Z  planned      begun as planned
          2025-06-01T14:04:59.000Z               restore point cloudron.app_backup backup-20250601
        "#);
    }

    #[test]
    fn list_rows_are_short_and_say_how_to_undo() {
        let op = sample();
        assert_eq!(
            list_row(&op),
            [
                "12",
                "2025-06-01 14:03Z",
                "done",
                "app.uninstall",
                "matomo.example.org",
                "alice(root)@calcul",
                "matelot undo 12"
            ]
        );
        let bare = Operation {
            undo_hint: None,
            ..op
        };
        assert_eq!(list_row(&bare)[6], "-");
    }
}
