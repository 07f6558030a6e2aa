//! `matelot lock status`: say whether the run lock is free or which run holds it. Looking
//! never takes the lock for more than a probe and never creates the lock file.

use serde::Serialize;

use crate::Ctx;
use crate::cli::lock::LockCmd;
use crate::error::Result;
use crate::lock::{self, LockStatus};

/// The `--json` shape: `{"path": ..., "state": "free"}` or `{"path": ..., "state": "held",
/// "holder": {...}}`.
#[derive(Serialize)]
struct Shown<'a> {
    path: &'a std::path::Path,
    #[serde(flatten)]
    status: &'a LockStatus,
}

pub fn run(ctx: &Ctx, cmd: LockCmd) -> Result<()> {
    match cmd {
        LockCmd::Status => {
            let path = ctx.config()?.lock_path();
            let status = lock::status(&path)?;
            if ctx.out.json {
                return Ok(ctx.out.json(&Shown {
                    path: &path,
                    status: &status,
                })?);
            }
            Ok(ctx.out.line(render(&status))?)
        }
    }
}

/// One line for people.
fn render(status: &LockStatus) -> String {
    match status {
        LockStatus::Free => "free".to_string(),
        LockStatus::Held { holder: Some(h) } => {
            format!("held by {} since {}", h.describe(), h.acquired_at)
        }
        LockStatus::Held { holder: None } => "held (who holds it could not be read)".to_string(),
    }
}
