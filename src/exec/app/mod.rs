//! Changes to the Cloudron's apps, as [`crate::exec::action::Action`]s: start, stop,
//! restart, back up, uninstall, restore, install again (undo), protect. Each follows the
//! task it starts and records its id the moment the server answers, so an interrupted one can
//! be judged; none of them asks, journals its own row, or decides the order of things.

mod backup;
mod lifecycle;
mod protect;
mod reinstall;
mod restore;
mod task;
mod uninstall;

pub use backup::{AppBackup, take_point};
pub use lifecycle::RunStateChange;
pub use protect::{Protection, protected_by};
pub use reinstall::Reinstall;
pub use restore::Restore;
pub use uninstall::Uninstall;
