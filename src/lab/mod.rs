//! The lab: a Cloudron emulator and sandboxed compute hosts, for tests and rehearsal.
//!
//! [`cloudron`] is the emulator (`matelot lab serve-cloudron`); [`up`] starts and stops the
//! lab's background processes (`matelot lab up|down|status`) and records them in a
//! [`labstate::LabState`] file. Nothing here touches a real Cloudron or a real host.

pub mod cloudron;
pub mod labstate;
pub mod up;
