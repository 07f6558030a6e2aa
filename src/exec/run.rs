//! The one path every change takes, mild to severe (DESIGN.md): the command has gathered
//! facts, planned and shown the plan; [`Run::execute`] then decides the tier, confirms (one
//! [`Prompter`]), journals each operation as `planned`, takes and verifies its restore point,
//! marks it `running`, applies it, and journals the outcome. `--check` stops before any of it.
//!
//! A [`Run`] is one mutating invocation: it holds the run lock, the journal and the run id
//! every operation of the invocation shares. A signal stops new steps from starting, gives the
//! step in flight [`GRACE`] to end, journals what is known and ends the run with exit 130.
//! Nothing here knows about apps or people; nothing here retries a change.

use std::sync::Arc;

use futures::StreamExt;
use serde::Serialize;

use super::action::{Action, Applied, Failure, OpCtx};
use super::settle::Settled;
use crate::core::guard::{Consent as GuardConsent, Decision, Tier, decide};
use crate::error::{Error, Result};
use crate::interrupt::{GRACE, Interrupt};
use crate::journal::{Journal, NewOp, OpId, OpKind, OpResult, RestorePoint, RunId, Status};
use crate::lock::RunLock;
use crate::output::Output;
use crate::output::prompt::{Prompter, Reply};

/// What the operator said on the command line.
#[derive(Debug, Clone, Default)]
pub struct Consent {
    /// `--yes`: enough for moderate changes, never for severe ones.
    pub yes: bool,
    /// `--confirm NAME`, once per severe target.
    pub confirm: Vec<String>,
}

/// The changes of one command, carried out together.
pub struct Batch<'a> {
    pub actions: Vec<Box<dyn Action + 'a>>,
    pub consent: Consent,
    /// The y/N question for moderate changes (`Lock bob out?`).
    pub question: String,
    /// How many actions are applied at once (1: one after another, in order).
    pub concurrency: usize,
    /// What to say instead of "pass --yes" when a moderate change cannot be confirmed
    /// (e.g. `host trust` wants `--fingerprint`).
    pub no_prompt_refusal: Option<String>,
}

impl<'a> Batch<'a> {
    /// One action.
    pub fn one(action: impl Action + 'a, consent: Consent, question: impl Into<String>) -> Self {
        Batch {
            actions: vec![Box::new(action)],
            consent,
            question: question.into(),
            concurrency: 1,
            no_prompt_refusal: None,
        }
    }
}

/// What happened to one operation of a batch.
#[derive(Debug, Clone, Serialize)]
pub struct Executed {
    pub op: OpId,
    pub kind: OpKind,
    pub target: String,
    pub status: Status,
    pub restore_point: Option<RestorePoint>,
    /// One line for people.
    pub summary: String,
    /// The last result recorded.
    pub result: Option<OpResult>,
    /// How to undo it, when it can be.
    pub undo: Option<String>,
    /// A signal stopped it (before it started, or while it ran).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub signalled: bool,
}

/// One mutating invocation: run lock, journal, run id, the prompter and the signal state.
pub struct Run {
    pub id: RunId,
    journal: Option<Journal>,
    out: Output,
    prompter: Arc<dyn Prompter>,
    can_prompt: bool,
    no_input: bool,
    interrupt: Interrupt,
    check: bool,
    settled: Vec<Settled>,
    _lock: Option<RunLock>,
}

/// Everything a [`Run`] is built from.
pub struct RunParts {
    pub id: RunId,
    pub journal: Option<Journal>,
    pub out: Output,
    pub prompter: Arc<dyn Prompter>,
    /// Prompting is allowed (terminal on stdin and stderr, no `--no-input`).
    pub can_prompt: bool,
    pub no_input: bool,
    pub interrupt: Interrupt,
    pub check: bool,
    pub lock: Option<RunLock>,
    /// What settling the journal concluded when the run began.
    pub settled: Vec<Settled>,
}

impl Run {
    pub fn new(p: RunParts) -> Run {
        Run {
            id: p.id,
            journal: p.journal,
            out: p.out,
            prompter: p.prompter,
            can_prompt: p.can_prompt,
            no_input: p.no_input,
            interrupt: p.interrupt,
            check: p.check,
            settled: p.settled,
            _lock: p.lock,
        }
    }

    /// What settling the journal concluded when the run began.
    pub fn settled(&self) -> &[Settled] {
        &self.settled
    }

    /// The journal (absent only under `--check` when none exists yet).
    pub fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
    }

    pub fn is_check(&self) -> bool {
        self.check
    }

    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    pub fn out(&self) -> &Output {
        &self.out
    }

    fn journal_or_fail(&self) -> Result<&Journal> {
        self.journal
            .as_ref()
            .ok_or_else(|| Error::failed("the journal is not open"))
    }

    /// Carry out a batch. `Ok(None)` under `--check` (nothing is touched). Every operation is
    /// journalled, refused ones included; the error (if any) carries the exit code.
    pub async fn execute(&self, batch: Batch<'_>) -> Result<Option<Vec<Executed>>> {
        if self.check {
            return Ok(None);
        }
        if batch.actions.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let journal = self.journal_or_fail()?;
        if self.interrupt.is_set() {
            return Err(Error::Interrupted(format!(
                "{} came before anything was changed; nothing was journalled",
                self.interrupt.signal_name()
            )));
        }
        if let Err(why) = self.confirm(&batch).await {
            for a in &batch.actions {
                journal.refuse(self.new_op(a.as_ref()), &why)?;
            }
            return Err(Error::refused(why));
        }
        // Every row first, in order: a crash from here on leaves evidence of every change.
        let mut ids = Vec::with_capacity(batch.actions.len());
        for a in &batch.actions {
            let id = journal.begin(self.new_op(a.as_ref()))?;
            self.out.debug(format!(
                "journal: operation {id} ({} {})",
                a.plan().kind(),
                a.target()
            ));
            ids.push(id);
        }
        let work = batch
            .actions
            .iter()
            .zip(&ids)
            .enumerate()
            .map(|(i, (a, id))| async move { (i, self.carry_out(journal, *id, a.as_ref()).await) });
        let mut done: Vec<(usize, Result<Executed>)> = futures::stream::iter(work)
            .buffer_unordered(batch.concurrency.max(1))
            .collect()
            .await;
        done.sort_by_key(|(i, _)| *i);
        let mut out = Vec::with_capacity(done.len());
        for (_, r) in done {
            out.push(r?);
        }
        Ok(Some(out))
    }

    fn new_op(&self, a: &dyn Action) -> NewOp {
        NewOp::new(a.plan(), a.target(), &self.id)
    }

    /// The guard: protections, tiers, `--yes`/`--confirm`, the prompts. `Err` is the refusal.
    async fn confirm(&self, batch: &Batch<'_>) -> std::result::Result<(), String> {
        let max = batch
            .actions
            .iter()
            .map(|a| a.tier())
            .max()
            .unwrap_or(Tier::Mild);
        for a in &batch.actions {
            if a.tier() >= Tier::Moderate
                && let Some(p) = a.protected()
            {
                return Err(format!("{p}; nothing was changed"));
            }
        }
        let no_prompt = if self.no_input {
            "--no-input forbids asking"
        } else {
            "there is no terminal to ask on"
        };
        let mut asks: Vec<Decision> = Vec::new();
        match max {
            Tier::Mild => return Ok(()),
            Tier::Moderate => {
                let consent = GuardConsent {
                    yes: batch.consent.yes,
                    confirm: None,
                    can_prompt: self.can_prompt,
                };
                match decide(Tier::Moderate, "", false, &consent) {
                    Decision::Refuse(_) => {
                        return Err(match &batch.no_prompt_refusal {
                            Some(why) => why.clone(),
                            None => format!(
                                "{} needs confirmation and {no_prompt}: pass --yes. Nothing was \
                                 changed",
                                batch.question.trim_end_matches('?')
                            ),
                        });
                    }
                    d => asks.push(d),
                }
            }
            Tier::Severe => {
                let mut names: Vec<String> = Vec::new();
                for a in batch.actions.iter().filter(|a| a.tier() == Tier::Severe) {
                    let n = a.confirm_name();
                    if !names.contains(&n) {
                        names.push(n);
                    }
                }
                for name in names {
                    let given = batch.consent.confirm.iter().find(|c| **c == name);
                    let confirm = match (given, batch.consent.confirm.first()) {
                        (Some(g), _) => Some(g.as_str()),
                        (None, Some(other)) => Some(other.as_str()),
                        (None, None) => None,
                    };
                    let consent = GuardConsent {
                        yes: batch.consent.yes,
                        confirm,
                        can_prompt: self.can_prompt,
                    };
                    match decide(Tier::Severe, &name, false, &consent) {
                        Decision::Refuse(_) if confirm.is_none() => {
                            return Err(format!(
                                "this is destructive and {no_prompt}: pass --confirm {name} \
                                 (--yes alone is never enough); nothing was changed"
                            ));
                        }
                        Decision::Refuse(why) => return Err(why),
                        d => asks.push(d),
                    }
                }
            }
        }
        for ask in asks {
            let reply = match &ask {
                Decision::Proceed => Reply::Yes,
                Decision::AskYesNo => self.ask(|p| p.yes_no(&batch.question)).await?,
                Decision::AskExactName(name) => self.ask(|p| p.exact_name(name)).await?,
                Decision::Refuse(why) => return Err(why.clone()),
            };
            if reply != Reply::Yes {
                return Err(format!("{}; nothing was changed", reply.why()));
            }
        }
        Ok(())
    }

    /// Ask on the terminal without stalling the runtime's other work.
    async fn ask(
        &self,
        f: impl FnOnce(&dyn Prompter) -> std::result::Result<Reply, String>,
    ) -> std::result::Result<Reply, String> {
        let p = self.prompter.as_ref();
        let multi = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi {
            tokio::task::block_in_place(|| f(p))
        } else {
            f(p)
        }
        .map_err(|e| format!("could not ask for confirmation: {e}; nothing was changed"))
    }

    /// One operation, from its `planned` row to its outcome.
    async fn carry_out(&self, journal: &Journal, id: OpId, a: &dyn Action) -> Result<Executed> {
        let op = OpCtx::new(id, journal, &self.out);
        let plan = a.plan();
        let mut ex = Executed {
            op: id,
            kind: plan.kind(),
            target: a.target(),
            status: Status::Planned,
            restore_point: None,
            summary: String::new(),
            result: None,
            undo: None,
            signalled: false,
        };
        let sig = || self.interrupt.signal_name();
        let finish = |ex: &mut Executed, status: Status, msg: String| -> Result<()> {
            journal.finish(id, status, Some(&msg))?;
            ex.status = status;
            ex.summary = msg;
            Ok(())
        };
        if self.interrupt.is_set() {
            ex.signalled = true;
            finish(
                &mut ex,
                Status::NotApplied,
                format!("{} came before it started; nothing was changed", sig()),
            )?;
            return Ok(ex);
        }
        let rp = tokio::select! {
            rp = a.restore_point(&op) => Some(rp),
            () = self.interrupt.grace_over() => None,
        };
        // A signal while the restore point was taken: whatever the step did, nothing was
        // changed, and no change is sent now.
        let rp = if self.interrupt.is_set() { None } else { rp };
        let rp = match rp {
            None => {
                ex.signalled = true;
                finish(
                    &mut ex,
                    Status::NotApplied,
                    format!(
                        "{} came while the restore point was being taken; nothing was changed \
                         (a backup may still complete on the server)",
                        sig()
                    ),
                )?;
                return Ok(ex);
            }
            Some(Err(e)) => {
                finish(
                    &mut ex,
                    Status::Failed,
                    format!("restore point failed: {e}; nothing was changed"),
                )?;
                return Ok(ex);
            }
            Some(Ok(rp)) => rp,
        };
        if let Some(rp) = &rp {
            journal.set_restore_point(id, rp)?;
            self.out
                .info(format!("restore point {} verified", rp.describe()));
        } else if a.tier() == Tier::Severe {
            finish(
                &mut ex,
                Status::Failed,
                "restore point failed: none was taken for a severe change; nothing was changed"
                    .into(),
            )?;
            return Ok(ex);
        }
        ex.restore_point = rp.clone();
        if self.interrupt.is_set() {
            ex.signalled = true;
            finish(
                &mut ex,
                Status::NotApplied,
                format!(
                    "{} came before the change was sent; nothing was changed{}",
                    sig(),
                    kept(&rp)
                ),
            )?;
            return Ok(ex);
        }
        journal.set_running(id)?;
        let applied = tokio::select! {
            r = a.apply(&op, rp.as_ref()) => Some(r),
            () = self.interrupt.grace_over() => None,
        };
        ex.result = op.last();
        // A signal that came while the step ran, which ended by itself within the grace: its
        // outcome is journalled as it is, and the run still ends as interrupted (130).
        if applied.is_some() && self.interrupt.is_set() {
            ex.signalled = true;
        }
        match applied {
            None => {
                let msg = format!(
                    "{} came while it was running and it did not end within {} s; its end was \
                     not seen: the next run (or `matelot journal settle`) checks what happened",
                    sig(),
                    GRACE.as_secs()
                );
                journal.finish(id, Status::Interrupted, Some(&msg))?;
                ex.status = Status::Interrupted;
                ex.summary = msg;
                ex.signalled = true;
            }
            Some(Ok(Applied { status, summary })) => {
                let status = if status == Status::Partial {
                    Status::Partial
                } else {
                    Status::Done
                };
                let message = (status != Status::Done).then_some(summary.as_str());
                journal.finish(id, status, message)?;
                ex.status = status;
                ex.summary = summary;
                if let Some(hint) = super::undo::hint(id, &plan, rp.is_some()) {
                    journal.set_undo_hint(id, &hint)?;
                    ex.undo = Some(hint);
                }
            }
            Some(Err(Failure::NotApplied(e))) => {
                finish(
                    &mut ex,
                    Status::Failed,
                    format!("failed, nothing was changed: {e}{}", kept(&rp)),
                )?;
            }
            Some(Err(Failure::Changed {
                error,
                state,
                way_back,
            })) => {
                let back = way_back
                    .map(|w| format!("; the way back: `{w}`"))
                    .unwrap_or_default();
                finish(
                    &mut ex,
                    Status::FailedChanged,
                    format!("failed after changing things: {error}; {state}{back}"),
                )?;
            }
            Some(Err(Failure::Unknown(e))) => {
                finish(
                    &mut ex,
                    Status::Interrupted,
                    format!(
                        "the change was sent but its end could not be seen: {e}; the next run \
                         (or `matelot journal settle`) checks what happened"
                    ),
                )?;
            }
        }
        Ok(ex)
    }
}

/// ` (the restore point X is kept)`.
fn kept(rp: &Option<RestorePoint>) -> String {
    rp.as_ref()
        .map(|r| format!(" (the restore point {} is kept)", r.id()))
        .unwrap_or_default()
}

/// The exit policy of a batch: all done is success; a signal is 130; a single operation
/// keeps its own failure (an end not seen is a failure: 1); several: nothing changed is a
/// failure (1), some is partial (4).
pub fn outcome(done: &[Executed]) -> Result<()> {
    let line = |e: &Executed| {
        format!(
            "operation {} ({} {}): {}",
            e.op, e.kind, e.target, e.summary
        )
    };
    if let Some(e) = done.iter().find(|e| e.signalled) {
        return Err(Error::Interrupted(format!(
            "{}; `matelot journal show {}`",
            line(e),
            e.op
        )));
    }
    let bad: Vec<&Executed> = done.iter().filter(|e| e.status != Status::Done).collect();
    if bad.is_empty() {
        return Ok(());
    }
    let text = bad.iter().map(|e| line(e)).collect::<Vec<_>>().join("; ");
    let any_changed = done
        .iter()
        .any(|e| e.status.changed_something() || e.status == Status::Unknown);
    match (done.len(), bad[0].status) {
        (1, Status::Partial) => Err(Error::Partial(format!(
            "{text}; the journal says what (`matelot journal show {}`)",
            bad[0].op
        ))),
        (1, _) => Err(Error::failed(text)),
        _ if any_changed => Err(Error::Partial(format!(
            "partly applied: {text}; the journal says what (`matelot journal show {}`)",
            bad[0].op
        ))),
        _ => Err(Error::failed(format!("nothing was applied: {text}"))),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use async_trait::async_trait;

    use super::*;
    use crate::journal::{AppBackupPoint, AppRef, OpPlan};
    use crate::output::prompt::ScriptedPrompter;

    /// A change that records what the executor asked of it.
    struct Fake {
        tier: Tier,
        rp: Option<std::result::Result<(), &'static str>>,
        apply: fn() -> std::result::Result<Applied, Failure>,
        apply_takes: Duration,
        protected: Option<String>,
        calls: Arc<Mutex<Vec<&'static str>>>,
    }

    fn fake(tier: Tier, calls: &Arc<Mutex<Vec<&'static str>>>) -> Fake {
        Fake {
            tier,
            rp: (tier == Tier::Severe).then_some(Ok(())),
            apply: || Ok(Applied::done("changed")),
            apply_takes: Duration::ZERO,
            protected: None,
            calls: Arc::clone(calls),
        }
    }

    #[async_trait]
    impl Action for Fake {
        fn plan(&self) -> OpPlan {
            OpPlan::AppStop(AppRef {
                app_id: "a1".into(),
                fqdn: "chat.example.org".into(),
            })
        }
        fn target(&self) -> String {
            "chat.example.org".into()
        }
        fn tier(&self) -> Tier {
            self.tier
        }
        fn protected(&self) -> Option<String> {
            self.protected.clone()
        }
        async fn restore_point(
            &self,
            _op: &OpCtx<'_>,
        ) -> std::result::Result<Option<RestorePoint>, Error> {
            self.calls.lock().unwrap().push("restore point");
            match self.rp {
                None => Ok(None),
                Some(Ok(())) => Ok(Some(RestorePoint::AppBackup(AppBackupPoint {
                    backup_id: "b1".into(),
                    app_id: "a1".into(),
                    fqdn: "chat.example.org".into(),
                    task_id: None,
                    label: None,
                    preserve_secs: None,
                    creation_time: None,
                }))),
                Some(Err(e)) => Err(Error::failed(e)),
            }
        }
        async fn apply(
            &self,
            _op: &OpCtx<'_>,
            _rp: Option<&RestorePoint>,
        ) -> std::result::Result<Applied, Failure> {
            self.calls.lock().unwrap().push("apply");
            tokio::time::sleep(self.apply_takes).await;
            (self.apply)()
        }
    }

    struct Harness {
        _dir: tempfile::TempDir,
        run: Run,
        prompter: Arc<ScriptedPrompter>,
        interrupt: Interrupt,
    }

    fn harness(answers: &[Option<&str>], can_prompt: bool) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("journal.sqlite")).unwrap();
        let prompter = Arc::new(ScriptedPrompter::new(answers.iter().copied()));
        let interrupt = Interrupt::manual();
        let run = Run::new(RunParts {
            id: RunId("testrun1".into()),
            journal: Some(journal),
            out: Output::plain(false),
            prompter: Arc::clone(&prompter) as Arc<dyn Prompter>,
            can_prompt,
            no_input: false,
            interrupt: interrupt.clone(),
            check: false,
            lock: None,
            settled: Vec::new(),
        });
        Harness {
            _dir: dir,
            run,
            prompter,
            interrupt,
        }
    }

    fn consent(yes: bool, confirm: &[&str]) -> Consent {
        Consent {
            yes,
            confirm: confirm.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn story(h: &Harness, op: OpId) -> Vec<String> {
        h.run
            .journal()
            .unwrap()
            .events(op)
            .unwrap()
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    fn calls() -> Arc<Mutex<Vec<&'static str>>> {
        Arc::new(Mutex::new(Vec::new()))
    }

    #[tokio::test]
    async fn a_severe_change_is_confirmed_then_journalled_then_restore_point_then_applied() {
        let h = harness(&[Some("chat.example.org")], true);
        let c = calls();
        let done = h
            .run
            .execute(Batch::one(
                fake(Tier::Severe, &c),
                consent(false, &[]),
                "Go?",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(h.prompter.asked(), ["type chat.example.org"]);
        assert_eq!(*c.lock().unwrap(), ["restore point", "apply"]);
        let e = &done[0];
        assert_eq!(e.status, Status::Done);
        assert_eq!(e.undo.as_deref(), Some("matelot undo 1"));
        assert_eq!(
            story(&h, e.op),
            [
                "begun as planned",
                "restore point cloudron.app_backup b1",
                "planned -> running",
                "running -> done",
                "undo: matelot undo 1",
            ]
        );
        let op = h.run.journal().unwrap().get(e.op).unwrap().unwrap();
        assert_eq!(op.run, RunId("testrun1".into()));
        assert!(outcome(&done).is_ok());
    }

    #[tokio::test]
    async fn declines_refusals_and_protections_are_journalled_and_nothing_is_applied() {
        type Case = (
            Tier,
            bool,
            &'static [Option<&'static str>],
            Consent,
            bool,
            &'static str,
        );
        let cases: Vec<Case> = vec![
            // moderate: n, Ctrl-D, no terminal without --yes
            (
                Tier::Moderate,
                true,
                &[Some("n")],
                consent(false, &[]),
                false,
                "declined",
            ),
            (
                Tier::Moderate,
                true,
                &[Some("yes please")],
                consent(false, &[]),
                false,
                "declined",
            ),
            (
                Tier::Moderate,
                true,
                &[None],
                consent(false, &[]),
                false,
                "Ctrl-D",
            ),
            (
                Tier::Moderate,
                false,
                &[],
                consent(false, &[]),
                false,
                "pass --yes",
            ),
            // severe: --yes is never enough; a wrong --confirm; an empty answer
            (
                Tier::Severe,
                false,
                &[],
                consent(true, &[]),
                false,
                "--confirm chat.example.org",
            ),
            (
                Tier::Severe,
                false,
                &[],
                consent(false, &["chat"]),
                false,
                "does not match",
            ),
            (
                Tier::Severe,
                true,
                &[Some("")],
                consent(false, &[]),
                false,
                "declined",
            ),
            // protected: refused before anything is asked
            (
                Tier::Severe,
                true,
                &[],
                consent(false, &["chat.example.org"]),
                true,
                "protected",
            ),
        ];
        for (tier, can_prompt, answers, consent, protected, says) in cases {
            let h = harness(answers, can_prompt);
            let c = calls();
            let mut action = fake(tier, &c);
            if protected {
                action.protected = Some("chat.example.org is protected".into());
            }
            let err = h
                .run
                .execute(Batch::one(action, consent, "Stop chat?"))
                .await
                .expect_err("refused");
            assert_eq!(err.exit_code(), 3, "{err}");
            assert!(err.to_string().contains(says), "{says}: {err}");
            assert!(c.lock().unwrap().is_empty(), "{says}: nothing was touched");
            let ops = h.run.journal().unwrap().list(&Default::default()).unwrap();
            assert_eq!(ops.len(), 1, "{says}: the refusal is journalled");
            assert_eq!(ops[0].status, Status::Refused);
            if protected {
                assert!(h.prompter.asked().is_empty());
            }
        }
    }

    #[tokio::test]
    async fn a_restore_point_that_fails_stops_the_change_before_it_is_sent() {
        let h = harness(&[], false);
        let c = calls();
        let mut action = fake(Tier::Severe, &c);
        action.rp = Some(Err("backup task failed"));
        let done = h
            .run
            .execute(Batch::one(
                action,
                consent(false, &["chat.example.org"]),
                "",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(*c.lock().unwrap(), ["restore point"]);
        assert_eq!(done[0].status, Status::Failed);
        assert!(done[0].summary.contains("nothing was changed"));
        // A severe change that offers no restore point at all is not applied either.
        let c = calls();
        let mut action = fake(Tier::Severe, &c);
        action.rp = None;
        let done = h
            .run
            .execute(Batch::one(
                action,
                consent(false, &["chat.example.org"]),
                "",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(*c.lock().unwrap(), ["restore point"]);
        assert_eq!(done[0].status, Status::Failed);
        let e = outcome(&done).unwrap_err();
        assert_eq!(e.exit_code(), 1);
    }

    #[tokio::test]
    async fn failures_are_journalled_for_what_they_are() {
        type Apply = fn() -> std::result::Result<Applied, Failure>;
        let rows: Vec<(Apply, Status, &str, u8)> = vec![
            (
                || Err(Failure::NotApplied(Error::failed("refused by the server"))),
                Status::Failed,
                "nothing was changed",
                1,
            ),
            (
                || {
                    Err(Failure::Changed {
                        error: Error::failed("task error"),
                        state: "chat.example.org is now in state error".into(),
                        way_back: Some("matelot app restore chat.example.org --backup b1".into()),
                    })
                },
                Status::FailedChanged,
                "the way back: `matelot app restore chat.example.org --backup b1`",
                1,
            ),
            (
                || Err(Failure::Unknown(Error::failed("connection lost"))),
                Status::Interrupted,
                "its end could not be seen",
                1,
            ),
            (
                || Ok(Applied::partial("2 of 3")),
                Status::Partial,
                "2 of 3",
                4,
            ),
        ];
        for (apply, status, says, code) in rows {
            let h = harness(&[], false);
            let c = calls();
            let mut action = fake(Tier::Mild, &c);
            action.apply = apply;
            let done = h
                .run
                .execute(Batch::one(action, consent(false, &[]), ""))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(done[0].status, status, "{says}");
            let op = h.run.journal().unwrap().get(done[0].op).unwrap().unwrap();
            assert_eq!(op.status, status);
            assert!(op.message.unwrap_or_default().contains(says), "{says}");
            assert_eq!(outcome(&done).unwrap_err().exit_code(), code, "{says}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_signal_stops_new_steps_and_cuts_the_one_in_flight_after_the_grace() {
        // Before anything: nothing is journalled, exit 130.
        let h = harness(&[], false);
        h.interrupt.trigger(2);
        let err = h
            .run
            .execute(Batch::one(
                fake(Tier::Mild, &calls()),
                consent(false, &[]),
                "",
            ))
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), 130);
        assert!(
            h.run
                .journal()
                .unwrap()
                .list(&Default::default())
                .unwrap()
                .is_empty()
        );

        // During a long step: the step gets the grace, then its row is interrupted; the next
        // step is not started (not applied).
        let h = harness(&[], false);
        let c = calls();
        let mut slow = fake(Tier::Mild, &c);
        slow.apply_takes = Duration::from_secs(60);
        let next = fake(Tier::Mild, &c);
        let i = h.interrupt.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            i.trigger(15);
        });
        let batch = Batch {
            actions: vec![Box::new(slow), Box::new(next)],
            consent: consent(false, &[]),
            question: String::new(),
            concurrency: 1,
            no_prompt_refusal: None,
        };
        let done = h.run.execute(batch).await.unwrap().unwrap();
        assert_eq!(done[0].status, Status::Interrupted);
        assert!(
            done[0]
                .summary
                .contains("SIGTERM came while it was running")
        );
        assert_eq!(done[1].status, Status::NotApplied);
        // Only the first step ran (its restore point and its apply); the second never began.
        assert_eq!(*c.lock().unwrap(), ["restore point", "apply"]);
        assert_eq!(outcome(&done).unwrap_err().exit_code(), 130);
    }
}
