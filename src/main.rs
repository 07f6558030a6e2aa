//! The `matelot` binary: parse, run, map the outcome to an exit code. Nothing else lives here.

use std::process::ExitCode;

fn main() -> ExitCode {
    matelot::main_entry()
}
