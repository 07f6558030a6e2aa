//! `matelot user ...` end to end: the real binary against a real sshd sandbox (real useradd,
//! usermod, OpenSSH logins) and the Cloudron emulator over HTTPS. Every test checks the
//! systems themselves, not matelot's word for it.

mod add;
pub mod estate;
mod lock;
mod sync;
