//! `matelot user lock|unlock NAME`: moderate commands (y/N, or `--yes`), through the account
//! path. Lock is `usermod -L -e 1` on hosts (keys refused too) and deactivation on the
//! Cloudron; unlock restores the expiry the lock replaced, read back from the journal.

use super::apply::{Request, execute};
use crate::Ctx;
use crate::cli::user::StateArgs;
use crate::core::accounts::{Facts, PlanOptions, plan_state};
use crate::core::person::{PersonState, Username};
use crate::error::{Error, Result};
use crate::journal::OpKind;

pub async fn set_state(ctx: &Ctx, a: StateArgs, state: PersonState) -> Result<()> {
    let username =
        Username::parse(&a.name).map_err(|e| Error::Usage(format!("{e}; nothing was changed")))?;
    let name = username.to_string();
    let opts = PlanOptions::default();
    let plan = |f: &Facts| plan_state(&username, state, f, &opts);
    let (kind, question) = match state {
        PersonState::Locked => (
            OpKind::UserLock,
            format!("Lock {name} out (password locked, SSH refused, Cloudron deactivated)?"),
        ),
        _ => (OpKind::UserUnlock, format!("Unlock {name}?")),
    };
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
            plan: &plan,
            show_problem: &|p| p.to_string(),
        },
    )
    .await
}
