//! `matelot user list|add|lock|unlock|sync`: people's accounts on the compute hosts and the
//! Cloudron. Each handler turns its arguments into checked people (with the roster's rules)
//! and a planner call, then hands over to [`run::execute`], the one path every mutating
//! account command follows. `user remove` is not here: it is a guarded command of its own,
//! built on `exec::accounts::remove_on_host`.

use std::path::PathBuf;

use crate::Ctx;
use crate::cli::user::{AddArgs, ListArgs, PruneArg, StateArgs, SyncArgs, UserCmd};
use crate::core::accounts::{
    Change, CloudronChange, ComputeChange, Facts, PlanOptions, Prune, plan_people, plan_state,
};
use crate::core::person::{PersonState, Username};
use crate::core::roster::{self, FsKeyFiles, PersonArgs, person_from_args};
use crate::error::{Error, Result};
use crate::exec::accounts::Targets;

pub mod list;
pub mod report;
pub mod run;

use run::{Request, execute};

pub fn run(ctx: &Ctx, cmd: UserCmd) -> Result<()> {
    match cmd {
        UserCmd::List(a) => list(ctx, a),
        UserCmd::Add(a) => add(ctx, a),
        UserCmd::Lock(a) => set_state(ctx, a, PersonState::Locked),
        UserCmd::Unlock(a) => set_state(ctx, a, PersonState::Active),
        UserCmd::Sync(a) => sync(ctx, a),
        UserCmd::Remove(a) => super::user_remove::run(ctx, a),
    }
}

fn list(ctx: &Ctx, a: ListArgs) -> Result<()> {
    let cfg = ctx.config()?;
    let targets = Targets::select(cfg, &a.on.on).map_err(Error::Usage)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::failed(format!("cannot start the async runtime: {e}")))?;
    let (estate, facts) = run::connect_and_gather(ctx, &rt, &targets, None)?;
    rt.block_on(estate.close());
    let accounts = list::accounts(&facts);
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({ "accounts": accounts }))?;
        return Ok(());
    }
    if accounts.is_empty() {
        ctx.out.info(format!(
            "no accounts of people on {}",
            targets.names().join(", ")
        ));
    }
    ctx.out.table(&list::HEADERS, &list::rows(&accounts))?;
    Ok(())
}

/// Undo hint for a row that created accounts: the guarded removal.
fn undo_add(name: &str) -> impl Fn(&str, &[Change]) -> Option<String> + Sync + '_ {
    move |system, changes| {
        let created = changes.iter().any(|c| {
            matches!(
                c,
                Change::Compute {
                    change: ComputeChange::CreateUser { .. },
                    ..
                } | Change::Cloudron {
                    change: CloudronChange::CreateUser { .. }
                }
            )
        });
        created.then(|| format!("matelot user remove {name} --on {system}"))
    }
}

fn add(ctx: &Ctx, a: AddArgs) -> Result<()> {
    let args = PersonArgs {
        username: a.name.clone(),
        email: a.email.clone(),
        name: a.full_name.clone(),
        groups: a.groups.clone(),
        keys: a.keys.clone(),
    };
    let files = FsKeyFiles {
        base: PathBuf::from("."),
    };
    let person = person_from_args(&args, &files).map_err(|problems| {
        Error::Usage(match problems.as_slice() {
            [one] => format!("{one}; nothing was changed"),
            many => format!(
                "{} problems; nothing was changed:\n  {}",
                many.len(),
                many.join("\n  ")
            ),
        })
    })?;
    let name = person.username.to_string();
    let opts = PlanOptions {
        invite: a.invite,
        ..PlanOptions::default()
    };
    let people = [person];
    let plan = |f: &Facts| plan_people(&people, f, &opts, false);
    let undo = undo_add(&name);
    execute(
        ctx,
        Request {
            kind: "user.add",
            subject: format!("user:{name}"),
            people: vec![name.clone()],
            on: &a.on.on,
            yes: a.yes,
            always_confirm: false,
            question: format!("Apply these changes to {name}'s accounts?"),
            needs_yes: format!("a change that takes something away from {name}"),
            plan: &plan,
            show_problem: &|p| p.to_string(),
            undo: Some(&undo),
        },
    )
}

fn set_state(ctx: &Ctx, a: StateArgs, state: PersonState) -> Result<()> {
    let username =
        Username::parse(&a.name).map_err(|e| Error::Usage(format!("{e}; nothing was changed")))?;
    let name = username.to_string();
    let opts = PlanOptions::default();
    let plan = |f: &Facts| plan_state(&username, state, f, &opts);
    let (kind, question, verb, inverse) = match state {
        PersonState::Locked => (
            "user.lock",
            format!("Lock {name} out (password locked, SSH refused, Cloudron deactivated)?"),
            "locking",
            "unlock",
        ),
        _ => (
            "user.unlock",
            format!("Unlock {name}?"),
            "unlocking",
            "lock",
        ),
    };
    let undo =
        |system: &str, _: &[Change]| Some(format!("matelot user {inverse} {name} --on {system}"));
    execute(
        ctx,
        Request {
            kind,
            subject: format!("user:{name}"),
            people: vec![name.clone()],
            on: &a.on.on,
            yes: a.yes,
            always_confirm: true,
            question,
            needs_yes: format!("{verb} {name}"),
            plan: &plan,
            show_problem: &|p| p.to_string(),
            undo: Some(&undo),
        },
    )
}

fn sync(ctx: &Ctx, a: SyncArgs) -> Result<()> {
    let prune = match a.prune {
        PruneArg::Keep => Prune::Keep,
        PruneArg::Lock => Prune::Lock,
        PruneArg::Remove => {
            return Err(Error::refused(
                "--prune remove is refused: removing accounts is a guarded command of its own \
                 that archives each home first (`matelot user remove NAME`); use --prune lock \
                 to shut them out and keep their data. Nothing was changed",
            ));
        }
    };
    let roster = roster::load(&a.roster)?;
    for w in &roster.warnings {
        ctx.out.warn(w.to_string());
    }
    let people = roster.people();
    let names: Vec<String> = people.iter().map(|p| p.username.to_string()).collect();
    let opts = PlanOptions {
        prune,
        invite: a.invite,
        ..PlanOptions::default()
    };
    let plan = |f: &Facts| plan_people(&people, f, &opts, true);
    let show = |p: &crate::core::accounts::PlanProblem| match p
        .user
        .as_deref()
        .and_then(|u| roster.line_of(u))
    {
        Some(line) => format!("{}:{line}: {p}", roster.file),
        None => p.to_string(),
    };
    let file = a
        .roster
        .file_name()
        .map_or_else(|| roster.file.clone(), |f| f.to_string_lossy().into_owned());
    execute(
        ctx,
        Request {
            kind: "user.sync",
            subject: format!("roster:{file}"),
            people: names,
            on: &a.on.on,
            yes: a.yes,
            always_confirm: false,
            question: format!(
                "Apply this plan from {}? Some changes lock accounts or take something away",
                roster.file
            ),
            needs_yes: "a plan that locks accounts or takes something away".into(),
            plan: &plan,
            show_problem: &show,
            undo: None,
        },
    )
}
