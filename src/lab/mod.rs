//! The lab: a Cloudron emulator and sandboxed compute hosts, for tests and rehearsal.
//!
//! The emulator (`matelot lab serve-cloudron`) is its own crate, [`cloudron_emulator`] in
//! `crates/cloudron-emulator/`, so that the compiler keeps it from importing matelot;
//! [`sandbox`] runs real sshd hosts in private namespaces; [`up`] starts and stops the lab's
//! background processes (`matelot lab up|down|status`: the emulator through `up::background`, the
//! hosts through [`hosts`]) and records them in a [`labstate::LabState`] file; [`tour`] walks a
//! newcomer through the job on a fresh lab. Nothing here touches a real Cloudron or a real host.

pub mod hosts;
pub mod labstate;
pub mod sandbox;
pub mod tour;
pub mod up;
