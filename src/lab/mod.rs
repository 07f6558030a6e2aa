//! The lab: a Cloudron emulator and sandboxed compute hosts, for tests and rehearsal.
pub mod sandbox;
