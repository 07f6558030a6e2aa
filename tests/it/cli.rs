//! The command line as a whole: help, version, completions, man page.

use crate::support::Test;

#[test]
fn help_lists_commands_with_examples() {
    Test::new()
        .arg("--help")
        .run()
        .success()
        .stdout_has("Examples:")
        .stdout_has("config")
        .stdout_has("Exit codes:");
}

#[test]
fn unknown_command_is_a_usage_error() {
    Test::new().arg("frobnicate").run().status(2);
}

#[test]
fn completions_generate_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = Test::new().args(["completions", shell]).run().success();
        assert!(run.stdout.contains("matelot"), "{shell}: {}", run.stdout);
        assert!(
            run.stdout.len() > 500,
            "{shell} completion is suspiciously short"
        );
    }
}

#[test]
fn man_page_documents_subcommands() {
    Test::new()
        .arg("man")
        .run()
        .success()
        .stdout_has(".TH matelot")
        .stdout_has("MATELOT CONFIG CHECK");
}
