//! Progress reporting as seen by the core and the executor: a small trait, so long work can
//! report progress without knowing whether it is shown as a bar, as log lines or not at all.
//! Implementations live in `output.rs`.

/// A unit of long-running work that reports how far it has come.
pub trait Progress: Send + Sync {
    /// Total amount of work, when known (e.g. 100 for a percentage).
    fn set_length(&self, len: u64);
    /// Absolute position within the length.
    fn set_position(&self, pos: u64);
    /// What is happening now.
    fn set_message(&self, msg: &str);
    /// Position and message changed together (a task poll): implementations that print a
    /// line per change print ONE line for both. `msg: None` keeps the current message.
    fn update(&self, pos: u64, msg: Option<&str>) {
        self.set_position(pos);
        if let Some(m) = msg {
            self.set_message(m);
        }
    }
    /// The work ended; `msg` says how.
    fn finish(&self, msg: &str);
}

/// Progress that goes nowhere (quiet mode, JSON mode without a TTY, tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn set_length(&self, _len: u64) {}
    fn set_position(&self, _pos: u64) {}
    fn set_message(&self, _msg: &str) {}
    fn finish(&self, _msg: &str) {}
}
