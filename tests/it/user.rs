//! `matelot user ...` end to end: the real binary against a real sshd sandbox (real useradd,
//! usermod, OpenSSH logins) and the Cloudron emulator over HTTPS. Every test checks the
//! systems themselves, not matelot's word for it.

mod add;
pub mod estate;
mod lock;
mod remove;
mod sync;

use crate::support::Test;

#[test]
fn every_user_command_has_examples_in_its_help() {
    for sub in [
        &["user"][..],
        &["user", "list"],
        &["user", "add"],
        &["user", "lock"],
        &["user", "unlock"],
        &["user", "sync"],
    ] {
        let mut args = sub.to_vec();
        args.push("--help");
        Test::new()
            .args(args)
            .run()
            .success()
            .stdout_has("Examples:");
    }
}
