//! The pure core: observed facts, desired state, plans, roster and playbook models, guard policy.
//! No tokio, no I/O, no printing: facts in, plan out. Everything here is unit-testable with data.

pub mod accounts;
pub mod guard;
pub mod person;
pub mod progress;
pub mod roster;
