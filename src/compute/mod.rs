//! The compute server over SSH (russh): connect, verify the host key, run commands built by
//! pure functions. Probes and restic driving live here too.
pub mod scripts;
