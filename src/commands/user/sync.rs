//! `matelot user sync ROSTER [--prune keep|lock]`: the whole roster checked first (every
//! problem with file:line, nothing changed), then planned against every targeted system and
//! applied through the account path. Removal is never part of a sync.

use super::apply::{Request, execute};
use crate::Ctx;
use crate::cli::user::{PruneArg, SyncArgs};
use crate::core::accounts::{Facts, PlanOptions, Prune, plan_people};
use crate::error::{Error, Result};
use crate::journal::OpKind;

pub async fn sync(ctx: &Ctx, a: SyncArgs) -> Result<()> {
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
    let roster = super::files::load(&a.roster)?;
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
            kind: OpKind::UserSync,
            subject: format!("roster:{file}"),
            people: names,
            on: &a.on.on,
            yes: a.yes,
            always_confirm: false,
            question: format!(
                "Apply this plan from {}? Some changes lock accounts or take something away",
                roster.file
            ),
            plan: &plan,
            show_problem: &show,
        },
    )
    .await
}
