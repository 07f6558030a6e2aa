//! SIGINT and SIGTERM during a run. The first one asks the run to stop: no new remote step
//! starts, the one in flight is given a short grace to end, the journal records what is known,
//! and the process exits 130. A second one ends the process at once (exit 130). At a prompt,
//! the first one is read as a decline (exit 3, nothing changed).
//!
//! The handlers only set atomics (nothing else is safe in a signal handler); the rest of the
//! program asks [`Interrupt`] whether a signal came. Installing is done once, by the binary's
//! entry point: library code and tests get an [`Interrupt`] that only fires when triggered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// The exit status of a run stopped by a signal.
pub const EXIT_INTERRUPTED: i32 = 130;

/// How long the step in flight may still run after the first signal.
pub const GRACE: Duration = Duration::from_secs(5);

/// Whether (and by which signal) this run was asked to stop. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
    signal: Arc<AtomicUsize>,
    /// A journalled run has begun: it stops gracefully by itself. Until then (reading,
    /// gathering, `--check`), the first signal ends the command at once.
    handled: Arc<AtomicBool>,
}

impl Interrupt {
    /// An interrupt that fires only when [`Interrupt::trigger`] is called (tests, library use).
    pub fn manual() -> Interrupt {
        Interrupt::default()
    }

    /// Install the process's SIGINT and SIGTERM handlers: the first signal sets the flag, a
    /// second one (flag already set) exits the process with status 130 at once.
    pub fn install() -> std::io::Result<Interrupt> {
        let i = Interrupt::default();
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Order matters: the conditional exit must see the flag as it was before this
            // signal set it, so it is registered first.
            signal_hook::flag::register_conditional_shutdown(
                sig,
                EXIT_INTERRUPTED,
                Arc::clone(&i.flag),
            )?;
            signal_hook::flag::register_usize(sig, Arc::clone(&i.signal), sig as usize)?;
            signal_hook::flag::register(sig, Arc::clone(&i.flag))?;
        }
        Ok(i)
    }

    /// True once a signal has come.
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// `SIGINT`, `SIGTERM`, or `signal` when it was triggered by hand.
    pub fn signal_name(&self) -> &'static str {
        match i32::try_from(self.signal.load(Ordering::SeqCst)) {
            Ok(signal_hook::consts::SIGINT) => "SIGINT",
            Ok(signal_hook::consts::SIGTERM) => "SIGTERM",
            _ => "a signal",
        }
    }

    /// Fire as if `signal` had come (tests).
    pub fn trigger(&self, signal: i32) {
        self.signal
            .store(usize::try_from(signal).unwrap_or(0), Ordering::SeqCst);
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Resolves once a signal has come (polls every 50 ms; a signal handler cannot wake a
    /// future directly).
    pub async fn wait(&self) {
        while !self.is_set() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A run that journals has begun: from now on a signal is handled by the run (it stops
    /// starting steps and journals what it knows) rather than ending the command at once.
    pub fn handled_by_run(&self) {
        self.handled.store(true, Ordering::SeqCst);
    }

    /// Resolves once a signal has come while no run handles it: the command is to stop now.
    pub async fn unhandled(&self) {
        while !self.is_set() || self.handled.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Resolves [`GRACE`] after a signal has come: the deadline of the step in flight.
    pub async fn grace_over(&self) {
        self.wait().await;
        tokio::time::sleep(GRACE).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_interrupt_fires_only_when_triggered() {
        let i = Interrupt::manual();
        assert!(!i.is_set());
        let clone = i.clone();
        clone.trigger(signal_hook::consts::SIGTERM);
        assert!(i.is_set());
        assert_eq!(i.signal_name(), "SIGTERM");
    }

    #[tokio::test]
    async fn wait_resolves_after_the_trigger() {
        let i = Interrupt::manual();
        let j = i.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            j.trigger(signal_hook::consts::SIGINT);
        });
        tokio::time::timeout(Duration::from_secs(2), i.wait())
            .await
            .expect("wait resolves once triggered");
        assert_eq!(i.signal_name(), "SIGINT");
    }
}
