//! Applying plans: the guard (confirmation, restore points), progress and journal bookkeeping.

pub mod accounts;
pub mod guard;
pub mod reconcile;
