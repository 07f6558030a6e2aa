//! What every command handler gets: the invocation's settings, its output, the configuration
//! (loaded on first use, so `completions`, `man` and the lab need none), the run id every
//! operation of this invocation shares, the signal state, the one prompter, and the world
//! (connected on first use). A mutating command asks it for a [`Run`]: the run lock, the
//! journal, and every interrupted operation settled before anything else is done.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use crate::config::{Config, Overrides};
use crate::error::{Error, Result};
use crate::exec::settle::settle_all;
use crate::exec::{Run, RunParts, World};
use crate::interrupt::Interrupt;
use crate::journal::{Journal, RunId};
use crate::lock::RunLock;
use crate::output::prompt::{Prompter, TerminalPrompter};
use crate::output::{ColorChoice, Output};

/// The global flags, as plain values (the clap types stay in `cli/`).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub config: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub json: bool,
    pub quiet: bool,
    pub verbose: u8,
    pub color: ColorChoice,
    pub no_input: bool,
    pub check: bool,
}

pub struct Ctx {
    pub settings: Settings,
    pub out: Output,
    pub run_id: RunId,
    pub interrupt: Interrupt,
    config: OnceLock<Config>,
    world: OnceLock<World>,
    prompter: Arc<dyn Prompter>,
}

impl Ctx {
    pub fn new(settings: Settings, interrupt: Interrupt) -> Self {
        let out = Output::new(
            settings.json,
            settings.quiet,
            settings.verbose,
            settings.color,
            settings.no_input,
        );
        let prompter = Arc::new(TerminalPrompter::new(interrupt.clone()));
        Ctx {
            settings,
            out,
            run_id: RunId::new(),
            interrupt,
            config: OnceLock::new(),
            world: OnceLock::new(),
            prompter,
        }
    }

    /// Answer prompts from `prompter` instead of the terminal (tests).
    pub fn with_prompter(mut self, prompter: Arc<dyn Prompter>) -> Self {
        self.prompter = prompter;
        self
    }

    /// `--check`: gather, plan, print the plan, change nothing.
    pub fn check(&self) -> bool {
        self.settings.check
    }

    /// The validated configuration (loaded once; its warnings are printed on stderr then).
    pub fn config(&self) -> Result<&Config> {
        if let Some(c) = self.config.get() {
            return Ok(c);
        }
        let cfg = Config::load(&self.overrides())?;
        for w in &cfg.warnings {
            self.out.warn(w);
        }
        Ok(self.config.get_or_init(|| cfg))
    }

    /// Command-line values that override the configuration.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config_file: self.settings.config.clone(),
            state_dir: self.settings.state_dir.clone(),
        }
    }

    /// The systems of the configuration, connected on first use.
    pub fn world(&self) -> Result<&World> {
        if let Some(w) = self.world.get() {
            return Ok(w);
        }
        let w = World::new(self.config()?, &self.out, self.out.can_prompt());
        Ok(self.world.get_or_init(|| w))
    }

    /// Close what the world opened (SSH sessions).
    pub async fn close(&self) {
        if let Some(w) = self.world.get() {
            w.close().await;
        }
    }

    /// The journal of this configuration's state directory, opened (and created) on demand.
    pub fn journal(&self) -> Result<Journal> {
        Ok(Journal::open(&self.config()?.journal_path())?)
    }

    /// The journal if it exists (reading commands and check mode never create it).
    pub fn existing_journal(&self) -> Result<Option<Journal>> {
        let path = self.config()?.journal_path();
        if !path.exists() {
            return Ok(None);
        }
        Ok(Some(Journal::open(&path)?))
    }

    /// Take the run lock of this configuration's state directory (exit 75 if another run
    /// holds it).
    pub fn run_lock(&self) -> Result<RunLock> {
        RunLock::acquire(&self.config()?.lock_path())
    }

    /// Begin a mutating run: under `--check`, only the journal if it exists; otherwise the run
    /// lock, the journal, and every operation whose end was not seen judged against the world
    /// first (a system that cannot be reached leaves its rows for a later run).
    pub async fn begin_run(&self) -> Result<Run> {
        let (lock, journal, settled) = if self.check() {
            (None, self.existing_journal()?, Vec::new())
        } else {
            let lock = self.run_lock()?;
            let journal = self.journal()?;
            self.interrupt.handled_by_run();
            let settled = settle_all(&journal, self.world()?, &self.out).await?;
            (Some(lock), Some(journal), settled)
        };
        Ok(Run::new(RunParts {
            id: self.run_id.clone(),
            journal,
            out: self.out.clone(),
            prompter: Arc::clone(&self.prompter),
            can_prompt: self.out.can_prompt(),
            no_input: self.settings.no_input,
            interrupt: self.interrupt.clone(),
            check: self.check(),
            lock,
            settled,
        }))
    }

    /// A usage error for a command that needs something the configuration lacks.
    pub fn needs(&self, what: &str) -> Error {
        Error::Config(vec![what.to_string()])
    }
}
