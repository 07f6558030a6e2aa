//! Remote command lines, built by pure functions so that every string sent to a remote shell
//! can be checked by an exact-string test.
//!
//! A [`RemoteCommand`] is either an argv quoted with `shlex::try_join` (user input goes here, and
//! only here) or a fixed script written by matelot itself. `sudo` wrapping is one more pure
//! function over the finished line. Nothing in this file performs I/O or talks to a host, and
//! nothing here may format user input into a shell string by hand.

use std::fmt;
use std::time::Duration;

/// Why a command line could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The argv was empty.
    #[error("cannot build a remote command from an empty argument list")]
    Empty,
    /// An argument contained a NUL byte, which no shell can carry.
    #[error(
        "argument {index} of the remote command contains a NUL byte, which a shell cannot carry"
    )]
    Nul { index: usize },
}

/// A complete shell command line for the remote `sh`, safe to send as it is.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteCommand {
    line: String,
}

impl RemoteCommand {
    /// Quote an argv into one command line (`shlex::try_join`). Rejects an empty argv and NUL
    /// bytes. This is the only way user-supplied strings may reach a remote shell.
    pub fn argv<I, S>(argv: I) -> Result<RemoteCommand, CommandError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let words: Vec<S> = argv.into_iter().collect();
        if words.is_empty() {
            return Err(CommandError::Empty);
        }
        if let Some(index) = words.iter().position(|w| w.as_ref().contains('\0')) {
            return Err(CommandError::Nul { index });
        }
        let line = shlex::try_join(words.iter().map(AsRef::as_ref))
            .map_err(|_| CommandError::Nul { index: 0 })?;
        Ok(RemoteCommand { line })
    }

    /// A fixed script written by matelot (`uname -a`, `set -e; ...`). Never format user input
    /// into it: compose quoted pieces with [`RemoteCommand::argv`] and [`RemoteCommand::and`].
    pub fn script(text: impl Into<String>) -> RemoteCommand {
        RemoteCommand { line: text.into() }
    }

    /// `self && next`: run `next` only if `self` succeeded.
    pub fn and(&self, next: &RemoteCommand) -> RemoteCommand {
        RemoteCommand {
            line: format!("{} && {}", self.line, next.line),
        }
    }

    /// The line as it will be sent.
    pub fn as_str(&self) -> &str {
        &self.line
    }

    /// The line wrapped for `sudo` (see [`sudo_wrap`]).
    pub fn with_sudo(&self) -> Result<RemoteCommand, CommandError> {
        Ok(RemoteCommand {
            line: sudo_wrap(&self.line)?,
        })
    }
}

impl From<&str> for RemoteCommand {
    /// A fixed script (see [`RemoteCommand::script`]).
    fn from(s: &str) -> Self {
        RemoteCommand::script(s)
    }
}

impl From<&RemoteCommand> for RemoteCommand {
    fn from(c: &RemoteCommand) -> Self {
        c.clone()
    }
}

impl fmt::Display for RemoteCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line)
    }
}

impl fmt::Debug for RemoteCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemoteCommand({:?})", self.line)
    }
}

/// `sudo -n -- sh -c 'LINE'`: run a whole command line as root without ever prompting
/// (`-n` makes sudo fail with "a password is required" instead of hanging on a prompt).
/// `LINE` is already a safe line; quoting it once more makes it a single argument to `sh -c`.
pub fn sudo_wrap(line: &str) -> Result<String, CommandError> {
    let quoted = shlex::try_quote(line).map_err(|_| CommandError::Nul { index: 0 })?;
    Ok(format!("sudo -n -- sh -c {quoted}"))
}

/// Grace between timeout(1)'s TERM and its KILL, in seconds.
pub const KILL_GRACE_SECS: u32 = 5;

/// `0.3s`, `300s`: a duration as timeout(1) reads it (millisecond precision).
pub fn timeout_arg(limit: Duration) -> String {
    let ms = limit.as_millis().max(1);
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    }
}

/// The exact line sent for a command. With a limit it runs under `timeout(1)` so that the
/// host itself ends a command that outlives it (sshd cannot deliver signals to a root login's
/// commands, and a command left running may hold a lock); with `sudo` it runs as root through
/// `sudo -n`, the limit inside sudo so that timeout(1) can signal the command.
pub fn wire_line(
    cmd: &RemoteCommand,
    sudo: bool,
    limit: Option<Duration>,
) -> Result<String, CommandError> {
    let quoted = || shlex::try_quote(cmd.as_str()).map_err(|_| CommandError::Nul { index: 0 });
    let guard = limit.map(|l| format!("timeout -k {KILL_GRACE_SECS} {}", timeout_arg(l)));
    Ok(match (sudo, guard) {
        (false, None) => cmd.as_str().to_string(),
        (false, Some(g)) => format!("{g} sh -c {}", quoted()?),
        (true, None) => sudo_wrap(cmd.as_str())?,
        (true, Some(g)) => format!("sudo -n -- {g} sh -c {}", quoted()?),
    })
}

/// Exit statuses of timeout(1) when it had to end the command (TERM, then KILL).
pub const TIMEOUT_STATUSES: [u32; 2] = [124, 137];

/// The message sudo prints when `-n` meets a password prompt.
pub const SUDO_PASSWORD_REQUIRED: &str = "sudo: a password is required";

/// What one remote command produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The exit status, when the remote side reported one.
    pub status: Option<u32>,
    /// The signal that ended the command (e.g. `KILL`), when it was killed.
    pub signal: Option<String>,
}

impl CommandOutput {
    /// Exit status 0.
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// How the command ended, for messages: `exit status 2`, `killed by signal KILL`, ...
    pub fn describe_end(&self) -> String {
        match (&self.status, &self.signal) {
            (Some(s), _) => format!("exit status {s}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            (None, None) => "no exit status (the connection closed)".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_is_quoted_exactly() {
        let cases: &[(&[&str], &str)] = &[
            (&["uname", "-a"], "uname -a"),
            (&["id", "-u", "alice"], "id -u alice"),
            (&["echo", "hello world"], "echo 'hello world'"),
            (&["echo", "it's"], "echo \"it's\""),
            (&["echo", ""], "echo ''"),
            (&["echo", "$(reboot)"], "echo '$(reboot)'"),
            (&["echo", "a;b", "c|d"], "echo 'a;b' 'c|d'"),
            (&["useradd", "-c", "Zoé Dupont"], "useradd -c 'Zoé Dupont'"),
            (&["echo", "*"], "echo '*'"),
            (&["getent", "passwd", "x=1"], "getent passwd 'x=1'"),
        ];
        for (argv, want) in cases {
            let got = RemoteCommand::argv(argv.iter()).expect("quotable");
            assert_eq!(got.as_str(), *want, "argv {argv:?}");
        }
    }

    #[test]
    fn argv_rejects_empty_and_nul() {
        let empty: [&str; 0] = [];
        assert_eq!(RemoteCommand::argv(empty), Err(CommandError::Empty));
        assert_eq!(
            RemoteCommand::argv(["echo", "a\0b"]),
            Err(CommandError::Nul { index: 1 })
        );
        assert_eq!(
            CommandError::Nul { index: 1 }.to_string(),
            "argument 1 of the remote command contains a NUL byte, which a shell cannot carry"
        );
    }

    #[test]
    fn sudo_wraps_the_whole_line_as_one_argument() {
        assert_eq!(
            sudo_wrap("id -u").as_deref(),
            Ok("sudo -n -- sh -c 'id -u'")
        );
        assert_eq!(
            sudo_wrap("echo 'hello world'").as_deref(),
            Ok("sudo -n -- sh -c \"echo 'hello world'\"")
        );
        assert_eq!(sudo_wrap("a\0b"), Err(CommandError::Nul { index: 0 }));
        let cmd = RemoteCommand::argv(["useradd", "-m", "bob"]).expect("quotable");
        assert_eq!(
            cmd.with_sudo().expect("no NUL").as_str(),
            "sudo -n -- sh -c 'useradd -m bob'"
        );
        assert_eq!(
            RemoteCommand::script("true")
                .with_sudo()
                .expect("no NUL")
                .as_str(),
            "sudo -n -- sh -c true"
        );
    }

    #[test]
    fn wire_lines_are_exact() {
        let cmd = RemoteCommand::argv(["useradd", "-c", "Zoé D", "zoe"]).expect("quotable");
        let s300 = Some(Duration::from_secs(300));
        let cases: Vec<(bool, Option<Duration>, &str)> = vec![
            (false, None, "useradd -c 'Zoé D' zoe"),
            (
                false,
                s300,
                "timeout -k 5 300s sh -c \"useradd -c 'Zoé D' zoe\"",
            ),
            (true, None, "sudo -n -- sh -c \"useradd -c 'Zoé D' zoe\""),
            (
                true,
                Some(Duration::from_millis(1500)),
                "sudo -n -- timeout -k 5 1.500s sh -c \"useradd -c 'Zoé D' zoe\"",
            ),
        ];
        for (sudo, limit, want) in cases {
            assert_eq!(wire_line(&cmd, sudo, limit).as_deref(), Ok(want));
        }
        assert_eq!(
            wire_line(&RemoteCommand::script("id -u"), false, s300).as_deref(),
            Ok("timeout -k 5 300s sh -c 'id -u'")
        );
    }

    #[test]
    fn timeout_args() {
        assert_eq!(timeout_arg(Duration::from_secs(60)), "60s");
        assert_eq!(timeout_arg(Duration::from_millis(300)), "0.300s");
        assert_eq!(timeout_arg(Duration::ZERO), "0.001s");
    }

    #[test]
    fn and_chains_two_lines() {
        let a = RemoteCommand::argv(["id", "-u", "carol"]).expect("quotable");
        let b = RemoteCommand::script("echo ok");
        assert_eq!(a.and(&b).as_str(), "id -u carol && echo ok");
    }

    #[test]
    fn output_describes_how_it_ended() {
        let mut o = CommandOutput {
            status: Some(2),
            ..Default::default()
        };
        assert_eq!(o.describe_end(), "exit status 2");
        assert!(!o.success());
        o.status = None;
        o.signal = Some("KILL".into());
        assert_eq!(o.describe_end(), "killed by signal KILL");
        o.signal = None;
        assert_eq!(o.describe_end(), "no exit status (the connection closed)");
    }
}
