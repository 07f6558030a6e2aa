//! The one path that changes the world (DESIGN.md): [`run::Run::execute`] carries out every
//! change, mild to severe, in the same order; the changes themselves are [`action::Action`]s
//! (apps, accounts, removals, backups, host keys); [`settle`] judges operations whose end was
//! not seen; [`undo`] says how each kind is taken back. Commands gather facts, plan and render;
//! they change things only through here.

pub mod accounts;
pub mod action;
pub mod app;
pub mod deferred;
pub mod run;
pub mod settle;
pub mod undo;
pub mod user_remove;
pub mod world;

pub use action::{Action, Applied, Failure, OpCtx};
pub use run::{Batch, Consent, Executed, Run, RunParts, outcome};
pub use world::World;
