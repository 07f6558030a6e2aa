//! Removing a person's accounts, one guarded operation per host and one for the Cloudron,
//! each with its own restore point; and putting them back from it (undo). Nothing here
//! removes an account without a verified restore point recorded first (the executor sees to
//! the order), and nothing builds a remote command string by hand.

mod cloudron;
mod compute;

pub use cloudron::{RecreateCloudronUser, RemoveCloudronUser, capture};
pub use compute::{RecreateHostAccount, RemoveHostAccount, userdel};
