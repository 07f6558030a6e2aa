//! `matelot user list|add|lock|unlock|sync|remove`: people's accounts on the compute hosts
//! and the Cloudron. Each mutating handler turns its arguments into checked people (with the
//! roster's rules) and a planner call, then hands over to [`apply::execute`], the path every
//! account command follows. `remove` is guarded: one severe change per side, each with its
//! own restore point (`remove.rs`).

use crate::Ctx;
use crate::cli::user::UserCmd;
use crate::core::person::PersonState;
use crate::error::Result;

mod add;
pub mod apply;
pub mod files;
pub mod list;
mod remove;
pub mod report;
mod state;
mod sync;

pub async fn run(ctx: &Ctx, cmd: UserCmd) -> Result<()> {
    match cmd {
        UserCmd::List(a) => list::list(ctx, a).await,
        UserCmd::Add(a) => add::add(ctx, a).await,
        UserCmd::Lock(a) => state::set_state(ctx, a, PersonState::Locked).await,
        UserCmd::Unlock(a) => state::set_state(ctx, a, PersonState::Active).await,
        UserCmd::Sync(a) => sync::sync(ctx, a).await,
        UserCmd::Remove(a) => remove::remove(ctx, a).await,
    }
}
