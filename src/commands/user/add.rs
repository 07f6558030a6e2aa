//! `matelot user add NAME ...`: one person, checked like a roster row, planned against the
//! facts of every targeted system and applied through the account path.

use std::path::PathBuf;

use super::apply::{Request, execute};
use super::files::FsKeyFiles;
use crate::Ctx;
use crate::cli::user::AddArgs;
use crate::core::accounts::{Facts, PlanOptions, plan_people};
use crate::core::roster::{PersonArgs, person_from_args};
use crate::error::{Error, Result};
use crate::journal::OpKind;

pub async fn add(ctx: &Ctx, a: AddArgs) -> Result<()> {
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
    execute(
        ctx,
        Request {
            kind: OpKind::UserAdd,
            subject: format!("user:{name}"),
            people: vec![name.clone()],
            on: &a.on.on,
            yes: a.yes,
            always_confirm: false,
            question: format!("Apply these changes to {name}'s accounts?"),
            plan: &plan,
            show_problem: &|p| p.to_string(),
        },
    )
    .await
}
