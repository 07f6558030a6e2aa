//! `matelot lab tour`: a newcomer's walk through the job on a fresh lab. The tour is a list of
//! [`Step`]s (data: what to say, the arguments a newcomer would type, the exit code to expect);
//! each runs the REAL `matelot` binary against the lab's `matelot.toml`, after printing the
//! exact command line to copy, and streams its output (stdout and stderr, in order). A step
//! that ends with another exit code stops the tour, which then tears the lab down (unless
//! asked to keep it).
//!
//! It must not fake a step (every command really runs), must not tear down a lab it did not
//! start, and must not let the caller's environment (`MATELOT_STATE_DIR`, Cloudron variables)
//! point a step at anything but the lab.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One step of the tour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// What the step shows, for a newcomer (`{dir}` is the lab directory).
    pub say: &'static str,
    /// The arguments after `matelot` (`{dir}` is the lab directory).
    pub args: &'static [&'static str],
    /// Run against the lab: `--config DIR/matelot.toml` goes first.
    pub on_lab: bool,
    /// The exit code that means the step went as it should.
    pub expect_exit: i32,
}

/// A step run against the lab's configuration, expected to succeed.
const fn lab(say: &'static str, args: &'static [&'static str]) -> Step {
    Step {
        say,
        args,
        on_lab: true,
        expect_exit: 0,
    }
}

/// A `matelot lab ...` step (no configuration), expected to succeed.
const fn plain(say: &'static str, args: &'static [&'static str]) -> Step {
    Step {
        say,
        args,
        on_lab: false,
        expect_exit: 0,
    }
}

/// The tour, in order. Adding a step is one line.
pub const STEPS: &[Step] = &[
    plain(
        "Start a fresh lab: a Cloudron emulator with a demo estate (Matomo, Nextcloud, \
         Rocket.Chat...) and one sandboxed compute host, calcul, a real sshd on 127.0.0.2. \
         It writes {dir}/matelot.toml, which every following command reads.",
        &["lab", "up", "--dir", "{dir}", "--fresh", "--hosts", "1"],
    ),
    plain(
        "See what runs: the emulator's URL, the host's address and port, their process ids.",
        &["lab", "status", "--dir", "{dir}"],
    ),
    lab(
        "Check the configuration the lab wrote. In production the same kind of file is \
         /etc/matelot/config.toml; `config show` lists every value and where it came from.",
        &["config", "check"],
    ),
    lab(
        "List the compute hosts and the host keys matelot trusts for them. The lab pinned them \
         in {dir}/known_hosts, as `matelot host trust calcul` does once you have compared the \
         fingerprint with the host's own.",
        &["host", "list"],
    ),
    lab(
        "Log in to calcul over SSH (pinned host key, root's key) and see who we are there.",
        &["host", "check", "calcul"],
    ),
    lab(
        "List the Cloudron's apps, through the real client over HTTPS (the lab's own CA).",
        &["app", "list"],
    ),
    lab(
        "Look at one app. Matomo is the app whose deletion by mistake started matelot.",
        &["app", "show", "matomo"],
    ),
    lab(
        "Back it up now, with a label: matelot waits for the Cloudron's task and checks the \
         backup is listed before it says so.",
        &["app", "backup", "matomo", "--label", "before the tour"],
    ),
    lab(
        "See Matomo's backups, newest first: the labelled one is at the top.",
        &["backup", "list", "--app", "matomo"],
    ),
    lab(
        "Onboard people from a roster (a CSV or TOML file; {dir}/people.csv is a demo). First \
         the plan: accounts on calcul and on the Cloudron, groups created as needed.",
        &["user", "sync", "{dir}/people.csv", "--check"],
    ),
    lab(
        "Apply it: one batched script on calcul (useradd, keys, groups), Cloudron calls \
         alongside, one journal row per system. Run it again and nothing changes.",
        &["user", "sync", "{dir}/people.csv"],
    ),
    lab("Everyone's accounts, on both systems.", &["user", "list"]),
    lab(
        "Lock bob out: password locked and SSH refused on calcul, deactivated on the Cloudron. \
         A moderate change: y/N on a terminal, --yes in a script.",
        &["user", "lock", "bob", "--yes"],
    ),
    lab(
        "Create calcul's restic repository. `lab up` leaves it to you, as a new server would: \
         `backup run` never creates a repository behind your back, it says how to.",
        &["backup", "init", "--compute"],
    ),
    lab(
        "The nightly backup, as cron runs it: the Cloudron and every compute host at once, \
         each verified, one result, one journal row. Exit 4 if only some targets fail.",
        &["backup", "run"],
    ),
    lab(
        "See the snapshot restic took of calcul's /home.",
        &["backup", "list", "--compute"],
    ),
    lab(
        "The Matomo rule. First, what uninstalling Matomo would do: the impact (version, last \
         backup, who has access) and the plan, restore point first. --check changes nothing.",
        &["app", "uninstall", "analytics.example.org", "--check"],
    ),
    Step {
        say: "Without a terminal to type the name on and without --confirm, matelot refuses \
              (exit 3) and touches nothing. On a terminal it would ask you to type the FQDN.",
        args: &["app", "uninstall", "analytics.example.org"],
        on_lab: true,
        expect_exit: 3,
    },
    lab(
        "Now for real, as a script would: --confirm with the exact FQDN. matelot takes a fresh \
         backup, checks it is listed, labels and preserves it, journals it, and only then \
         uninstalls.",
        &[
            "app",
            "uninstall",
            "analytics.example.org",
            "--confirm",
            "analytics.example.org",
        ],
    ),
    lab(
        "Read the journal: every change matelot makes is recorded there, with its restore point \
         and how to undo it.",
        &["journal", "list"],
    ),
    lab(
        "Undo the uninstall: Matomo is installed again at the same address from the preserved \
         backup, with its data. (The tour fills in the operation's number from the journal.)",
        &["undo", "{last:app.uninstall}", "--yes"],
    ),
    lab("Matomo is back.", &["app", "show", "analytics.example.org"]),
];

/// The last step, unless the lab is kept.
pub const TEARDOWN: Step = plain(
    "Stop the lab: the emulator and the host go, with every process and mount they had.",
    &["lab", "down", "--dir", "{dir}"],
);

/// Environment variables that would point a step elsewhere than the lab.
pub const SCRUBBED_ENV: &[&str] = &[
    "MATELOT_CONFIG",
    "MATELOT_STATE_DIR",
    "MATELOT_CLOUDRON_URL",
    "MATELOT_CLOUDRON_TOKEN",
    "MATELOT_CLOUDRON_TOKEN_FILE",
    "MATELOT_CLOUDRON_CA_FILE",
    "MATELOT_LAB_TOKEN",
];

/// `text` with `{dir}` replaced.
pub fn fill(text: &str, dir: &Path) -> String {
    text.replace("{dir}", &dir.display().to_string())
}

/// The arguments after `matelot` for this step.
pub fn argv(step: &Step, dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    if step.on_lab {
        v.push("--config".to_string());
        v.push(dir.join(super::up::CONFIG_FILE).display().to_string());
    }
    v.extend(step.args.iter().map(|a| fill(a, dir)));
    v
}

/// Replace `{last:KIND}` with the id of the newest operation of that kind in the lab's journal
/// (left as it is when there is none, so the step fails visibly).
fn resolve_last_ops(argv: Vec<String>, dir: &Path) -> Vec<String> {
    argv.into_iter()
        .map(|a| {
            let Some(kind) = a.strip_prefix("{last:").and_then(|k| k.strip_suffix('}')) else {
                return a;
            };
            let journal = dir.join(super::up::LAB_STATE_DIR).join("journal.sqlite");
            let filter = crate::journal::Filter {
                kind: Some(kind.to_string()),
                limit: Some(1),
                ..Default::default()
            };
            crate::journal::Journal::open(&journal)
                .ok()
                .and_then(|j| j.list(&filter).ok())
                .and_then(|ops| ops.first().map(|op| op.id.to_string()))
                .unwrap_or(a)
        })
        .collect()
}

/// The command line a newcomer types (shell-quoted).
pub fn command_line(argv: &[String]) -> String {
    let words = std::iter::once("matelot").chain(argv.iter().map(String::as_str));
    shlex::try_join(words).unwrap_or_else(|_| {
        // Only a NUL byte defeats quoting; show the words as they are.
        format!("matelot {}", argv.join(" "))
    })
}

/// The steps the tour would run (for `--check`): number, what it shows, the command line.
pub fn plan(dir: &Path, keep: bool) -> Vec<String> {
    let mut steps: Vec<Step> = STEPS.to_vec();
    if !keep {
        steps.push(TEARDOWN);
    }
    let total = steps.len();
    let mut lines = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        lines.push(format!("Step {}/{total}. {}", i + 1, fill(step.say, dir)));
        lines.push(format!("  $ {}", command_line(&argv(step, dir))));
    }
    lines
}

/// Why the tour could not run a step at all (a step that runs and fails is a [`StepRun`]).
#[derive(Debug, thiserror::Error)]
pub enum TourError {
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("writing the tour's output: {0}")]
    Output(#[source] std::io::Error),
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRun {
    pub command: String,
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    pub expected: i32,
    pub elapsed: Duration,
}

impl StepRun {
    pub fn ok(&self) -> bool {
        self.code == Some(self.expected)
    }

    /// `ok`, `ok (exit 3, as expected)`, `FAILED (exit 1, expected 0)`.
    pub fn verdict(&self) -> String {
        let code = self
            .code
            .map_or_else(|| "killed by a signal".to_string(), |c| format!("exit {c}"));
        match (self.ok(), self.expected) {
            (true, 0) => "ok".to_string(),
            (true, _) => format!("ok ({code}, as expected)"),
            (false, e) => format!("FAILED ({code}, expected {e})"),
        }
    }
}

/// Run `exe ARGV` with stdout and stderr merged in order, handing each line to `out`.
/// Standard input is closed: a step never waits for an answer.
pub fn run(
    exe: &Path,
    argv: &[String],
    expected: i32,
    out: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<StepRun, TourError> {
    let command = command_line(argv);
    let spawn_err = |source| TourError::Spawn {
        command: command.clone(),
        source,
    };
    let t0 = Instant::now();
    let (reader, writer) = std::io::pipe().map_err(spawn_err)?;
    let mut cmd = Command::new(exe);
    cmd.args(argv)
        .stdin(Stdio::null())
        .stdout(writer.try_clone().map_err(spawn_err)?)
        .stderr(writer);
    for v in SCRUBBED_ENV {
        cmd.env_remove(v);
    }
    let mut child = cmd.spawn().map_err(spawn_err)?;
    // Our copies of the write end must go, or the reader never sees the end.
    drop(cmd);
    let mut lines = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match lines.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf);
                if let Err(e) = out(line.trim_end_matches(['\n', '\r'])) {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(TourError::Output(e));
                }
            }
            Err(_) => break,
        }
    }
    let status = child.wait().map_err(spawn_err)?;
    Ok(StepRun {
        command,
        code: status.code(),
        expected,
        elapsed: t0.elapsed(),
    })
}

/// What the tour needs from its caller.
pub struct TourOptions {
    /// The lab directory as the newcomer gave it (relative paths stay relative).
    pub dir: PathBuf,
    /// The `matelot` binary to run.
    pub exe: PathBuf,
    /// Leave the lab running at the end (and after a failure).
    pub keep: bool,
}

/// How the tour went: every step run, in order, and whether it stopped early.
#[derive(Debug, Clone)]
pub struct TourReport {
    pub runs: Vec<StepRun>,
    /// The 1-based number of the step that failed.
    pub failed_at: Option<usize>,
    pub elapsed: Duration,
}

/// Walk the tour, writing every line for the newcomer to `out`. Runs every step of [`STEPS`],
/// then [`TEARDOWN`] (unless `keep`); a failed step jumps to the teardown. If the output
/// itself fails (a closed pipe), the lab is still torn down, silently, before the error.
pub fn walk(
    opts: &TourOptions,
    out: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<TourReport, TourError> {
    let r = walk_steps(opts, out);
    if r.is_err() && !opts.keep {
        let _ = run(
            &opts.exe,
            &argv(&TEARDOWN, &opts.dir),
            TEARDOWN.expect_exit,
            &mut |_| Ok(()),
        );
    }
    r
}

fn walk_steps(
    opts: &TourOptions,
    out: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<TourReport, TourError> {
    let t0 = Instant::now();
    let mut steps: Vec<Step> = STEPS.to_vec();
    if !opts.keep {
        steps.push(TEARDOWN);
    }
    let total = steps.len();
    let say = |out: &mut dyn FnMut(&str) -> std::io::Result<()>, s: &str| {
        out(s).map_err(TourError::Output)
    };
    let dir = opts.dir.display();
    say(
        out,
        &format!(
            "Welcome to matelot. This tour starts a lab in {dir} and runs {total} real matelot \
             commands against it, explaining each one{}. Copy any command to try it yourself. \
             If you interrupt it, stop the lab with `matelot lab down --dir {dir}`.",
            if opts.keep {
                "; the lab keeps running at the end"
            } else {
                "; the last one stops the lab"
            }
        ),
    )?;
    let mut runs = Vec::new();
    let mut failed_at = None;
    for (i, step) in steps.iter().enumerate() {
        if failed_at.is_some() && *step != TEARDOWN {
            continue;
        }
        say(out, "")?;
        say(
            out,
            &format!("Step {}/{total}. {}", i + 1, fill(step.say, &opts.dir)),
        )?;
        let argv = resolve_last_ops(argv(step, &opts.dir), &opts.dir);
        say(out, &format!("  $ {}", command_line(&argv)))?;
        let r = run(&opts.exe, &argv, step.expect_exit, &mut |l| {
            out(&format!("    {l}"))
        })?;
        say(
            out,
            &format!("  -> {} in {:.1} s", r.verdict(), r.elapsed.as_secs_f64()),
        )?;
        if !r.ok() && failed_at.is_none() {
            failed_at = Some(i + 1);
            if !opts.keep && *step != TEARDOWN {
                say(out, "  The tour stops here; the lab is stopped first.")?;
            }
        }
        runs.push(r);
    }
    Ok(TourReport {
        runs,
        failed_at,
        elapsed: t0.elapsed(),
    })
}

/// The closing summary: a table of the steps and what to do next.
pub fn summary(rep: &TourReport, opts: &TourOptions) -> Vec<String> {
    let rows: Vec<Vec<String>> = rep
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                (i + 1).to_string(),
                r.command.clone(),
                r.verdict(),
                format!("{:.1}s", r.elapsed.as_secs_f64()),
            ]
        })
        .collect();
    let mut lines = vec![String::new()];
    lines.push(match rep.failed_at {
        None => format!(
            "Tour complete: {} steps in {:.1} s.",
            rep.runs.len(),
            rep.elapsed.as_secs_f64()
        ),
        Some(n) => format!("The tour stopped at step {n}."),
    });
    let table = crate::output::render_table(&["STEP", "COMMAND", "RESULT", "TIME"], &rows, false);
    lines.extend(table.lines().map(str::to_string));
    let dir = opts.dir.display();
    let config = opts.dir.join(super::up::CONFIG_FILE);
    if opts.keep {
        lines.push(format!(
            "The lab is still running: try `matelot --config {} app list`, and stop it with \
             `matelot lab down --dir {dir}`.",
            config.display()
        ));
    } else {
        lines.push(format!(
            "Next: `matelot lab up --dir {dir}` starts the lab again (`--hosts 3` for three \
             hosts); run any command with `--config {}`. docs/lab.md explains the lab.",
            config.display()
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_become_exact_command_lines() {
        let dir = Path::new("lab");
        let up = argv(&STEPS[0], dir);
        assert_eq!(
            command_line(&up),
            "matelot lab up --dir lab --fresh --hosts 1"
        );
        let check = argv(&lab("x", &["host", "check", "calcul"]), dir);
        assert_eq!(
            command_line(&check),
            "matelot --config lab/matelot.toml host check calcul"
        );
        let label = argv(
            &lab(
                "x",
                &["app", "backup", "matomo", "--label", "before the tour"],
            ),
            Path::new("my lab"),
        );
        assert_eq!(
            command_line(&label),
            "matelot --config 'my lab/matelot.toml' app backup matomo --label 'before the tour'"
        );
        assert_eq!(
            command_line(&argv(&TEARDOWN, dir)),
            "matelot lab down --dir lab"
        );
    }

    #[test]
    fn the_tour_starts_the_lab_and_every_later_step_reads_its_config() {
        assert_eq!(STEPS[0].args[..2], ["lab", "up"]);
        assert!(STEPS[0].args.contains(&"--fresh"));
        assert!(
            STEPS
                .iter()
                .filter(|s| s.args[0] != "lab")
                .all(|s| s.on_lab)
        );
        assert!(STEPS.iter().all(|s| !s.say.is_empty()));
    }

    #[test]
    fn verdicts() {
        let r = |code, expected| StepRun {
            command: "c".into(),
            code,
            expected,
            elapsed: Duration::ZERO,
        };
        assert_eq!(r(Some(0), 0).verdict(), "ok");
        assert_eq!(r(Some(3), 3).verdict(), "ok (exit 3, as expected)");
        assert_eq!(r(Some(1), 0).verdict(), "FAILED (exit 1, expected 0)");
        assert_eq!(
            r(None, 0).verdict(),
            "FAILED (killed by a signal, expected 0)"
        );
    }

    #[test]
    fn run_merges_stdout_and_stderr_in_order_and_reports_the_code() {
        let mut lines = Vec::new();
        let argv: Vec<String> = ["-c", "echo one; echo two >&2; echo three; exit 3"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let r = run(Path::new("/bin/sh"), &argv, 3, &mut |l| {
            lines.push(l.to_string());
            Ok(())
        });
        let Ok(r) = r else { panic!("{r:?}") };
        assert_eq!(lines, ["one", "two", "three"]);
        assert_eq!(r.code, Some(3));
        assert!(r.ok());
    }
}
