//! People's accounts on the compute hosts and on Cloudron: the facts gathered before planning,
//! the changes a plan is made of, the pure planner (desired people + facts -> plan) and an
//! in-memory simulator of the changes. Nothing here talks to a system: the facts come in as
//! data, and the plan goes out as data to the compute scripts and the Cloudron client.

pub mod change;
pub mod effect;
pub mod facts;
pub mod plan;
pub mod render;
pub mod simulate;

#[cfg(test)]
mod tests;

pub use change::{Change, CloudronChange, ComputeChange, FromTo, Tier};
pub use facts::{
    AuthorizedKeys, CloudronFacts, CloudronGroup, CloudronUser, ComputeFacts, Facts, HostGroup,
    HostUser, PasswordState, PreviousLock, UidRange, is_nologin_shell,
};
pub use plan::{Plan, PlanOptions, PlanProblem, Prune, plan_people, plan_state};
pub use simulate::{SimError, apply, apply_all};
