//! Typed async client for the Cloudron REST API (reqwest over a verified rustls connection).
//!
//! Written against the real API as documented in the project's Cloudron reference (the
//! shapes live servers send, not what a test double happens to return). The pieces:
//! [`Client`] (transport, auth, retries; route methods in `apps`, `backups`, `users`,
//! `system`), [`models`] (tolerant serde types), [`CloudronError`] (typed, with
//! `is_transient`), `wait_task` (task polling with progress), [`resolve`] (which app an APP
//! argument designates, pure) and [`ops`] (operations verified after the fact: backups that
//! are listed, run states that changed).
//!
//! This module never prints, prompts or reads the configuration file: it takes a
//! [`CloudronConfig`](crate::config::CloudronConfig) and returns data or typed errors. It never
//! retries a request that starts work, and never turns TLS verification off.

pub mod apps;
pub mod backups;
pub mod base_url;
pub mod client;
pub mod error;
pub mod models;
pub mod ops;
mod paging;
pub mod resolve;
pub mod retry;
pub mod system;
pub mod tasks;
pub mod tls;
pub mod users;
mod wire;

#[cfg(test)]
mod lab_tests;

pub use apps::{BackupUpdate, CloneRequest, InstallRequest, Lifecycle};
pub use client::{Client, Trace};
pub use error::{CloudronError, TransportKind};
pub use ops::{KeepOptions, VerifiedBackup};
pub use resolve::{MatchedBy, ResolveError, Resolved, resolve};
pub use retry::{PollPolicy, RetryPolicy};
pub use users::ProfileUpdate;
