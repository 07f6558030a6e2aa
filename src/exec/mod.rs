//! Applying plans: the guard (confirmation, restore points), progress and journal bookkeeping.

pub mod accounts;
