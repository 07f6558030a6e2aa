//! The one place that asks the operator anything. Every confirmation of every command goes
//! through a [`Prompter`]: the terminal one for people, a scripted one for tests.
//!
//! Answers are whole lines: `y` or `yes` (any case) is yes, anything else is no. Ctrl-D
//! (end of input) and Ctrl-C (SIGINT) are declines, told apart so the caller can say which.
//! The severe prompt wants the exact name typed; a wrong name is asked again (three tries),
//! an empty line cancels. Prompts go to stderr; answers are read from stdin, which must be a
//! terminal (the caller decides whether prompting is allowed at all). The one secret ever asked
//! for (an SSH key's passphrase) is read here too, without echo.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Mutex;

use crate::interrupt::Interrupt;

/// What the operator answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Yes, or the exact name was typed.
    Yes,
    /// Anything else (including an empty answer, or a wrong name three times).
    No,
    /// End of input (Ctrl-D).
    Eof,
    /// A signal came while waiting (Ctrl-C).
    Interrupted,
}

impl Reply {
    /// Why a non-yes answer declined, for messages and the journal.
    pub fn why(&self) -> &'static str {
        match self {
            Reply::Yes => "confirmed",
            Reply::No => "declined",
            Reply::Eof => "declined (end of input, Ctrl-D)",
            Reply::Interrupted => "declined (interrupted, Ctrl-C)",
        }
    }
}

/// Asks questions. Implementations must be usable from any thread.
pub trait Prompter: Send + Sync {
    /// A y/N question (the default is no).
    fn yes_no(&self, question: &str) -> Result<Reply, String>;
    /// Ask the operator to type `name` exactly.
    fn exact_name(&self, name: &str) -> Result<Reply, String>;
}

/// Read a secret from the terminal without echoing it (an SSH key's passphrase). Only the
/// identity loader asks for one, and only when prompting is allowed.
pub fn passphrase(prompt: &str) -> Result<secrecy::SecretString, String> {
    dialoguer::Password::new()
        .with_prompt(prompt)
        .allow_empty_password(true)
        .interact()
        .map(secrecy::SecretString::from)
        .map_err(|e| e.to_string())
}

/// How many times a wrong name is asked again before it counts as a decline.
const NAME_TRIES: usize = 3;

/// `y`/`yes` in any case, surrounding blanks ignored.
pub fn is_yes(line: &str) -> bool {
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// The prompter for people: questions on stderr, whole-line answers from stdin.
pub struct TerminalPrompter {
    interrupt: Interrupt,
}

impl TerminalPrompter {
    pub fn new(interrupt: Interrupt) -> Self {
        TerminalPrompter { interrupt }
    }

    fn ask(&self, text: &str) -> Result<Line, String> {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{text}");
        let _ = err.flush();
        drop(err);
        let line = read_line(0, &self.interrupt).map_err(|e| format!("reading the answer: {e}"))?;
        if !matches!(line, Line::Text(_)) {
            // Leave the cursor on a fresh line after ^D / ^C.
            crate::output::stderr_line(format_args!(""));
        }
        Ok(line)
    }
}

impl Prompter for TerminalPrompter {
    fn yes_no(&self, question: &str) -> Result<Reply, String> {
        Ok(match self.ask(&format!("{question} [y/N] "))? {
            Line::Text(t) if is_yes(&t) => Reply::Yes,
            Line::Text(_) => Reply::No,
            Line::Eof => Reply::Eof,
            Line::Interrupted => Reply::Interrupted,
        })
    }

    fn exact_name(&self, name: &str) -> Result<Reply, String> {
        let mut text = format!(
            "This cannot be taken back without `matelot undo`. Type {name} to go ahead (empty to cancel): "
        );
        for _ in 0..NAME_TRIES {
            match self.ask(&text)? {
                Line::Text(t) if t == name => return Ok(Reply::Yes),
                Line::Text(t) if t.is_empty() => return Ok(Reply::No),
                Line::Text(_) => {
                    text = format!("That is not {name}; type it exactly, or nothing to cancel: ");
                }
                Line::Eof => return Ok(Reply::Eof),
                Line::Interrupted => return Ok(Reply::Interrupted),
            }
        }
        Ok(Reply::No)
    }
}

/// One line read from the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    /// The line without its newline (and without a trailing `\r`).
    Text(String),
    Eof,
    Interrupted,
}

/// Read one line from `fd`, waking every 100 ms to notice a signal (std's reads retry on
/// EINTR, so they would not). A line ended by end of input (Ctrl-D after some text) is end of
/// input: only a line ended by Enter is an answer.
fn read_line(fd: i32, interrupt: &Interrupt) -> std::io::Result<Line> {
    let mut bytes = Vec::new();
    loop {
        if interrupt.is_set() {
            return Ok(Line::Interrupted);
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, count 1.
        let ready = unsafe { libc::poll(&mut pfd, 1, 100) };
        if ready < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if ready == 0 {
            continue;
        }
        let mut buf = [0u8; 256];
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Ok(Line::Eof);
        }
        let n = usize::try_from(n).unwrap_or(0);
        bytes.extend_from_slice(&buf[..n]);
        if let Some(pos) = bytes.iter().position(|b| *b == b'\n') {
            bytes.truncate(pos);
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
            return Ok(Line::Text(String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
}

/// A prompter that answers from a script, for tests: each question takes the next answer
/// (a line as typed, or `None` for end of input). Records every question it was asked.
pub struct ScriptedPrompter {
    answers: Mutex<VecDeque<Option<String>>>,
    asked: Mutex<Vec<String>>,
}

impl ScriptedPrompter {
    pub fn new<I, S>(answers: I) -> Self
    where
        I: IntoIterator<Item = Option<S>>,
        S: Into<String>,
    {
        ScriptedPrompter {
            answers: Mutex::new(answers.into_iter().map(|a| a.map(Into::into)).collect()),
            asked: Mutex::new(Vec::new()),
        }
    }

    /// The questions asked so far, in order.
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().map(|a| a.clone()).unwrap_or_default()
    }

    fn next(&self, question: String) -> Result<Option<String>, String> {
        if let Ok(mut a) = self.asked.lock() {
            a.push(question.clone());
        }
        let mut answers = self.answers.lock().map_err(|e| e.to_string())?;
        answers
            .pop_front()
            .ok_or_else(|| format!("the script has no answer for {question:?}"))
    }
}

impl Prompter for ScriptedPrompter {
    fn yes_no(&self, question: &str) -> Result<Reply, String> {
        Ok(match self.next(format!("{question} [y/N]"))? {
            Some(a) if is_yes(&a) => Reply::Yes,
            Some(_) => Reply::No,
            None => Reply::Eof,
        })
    }

    fn exact_name(&self, name: &str) -> Result<Reply, String> {
        for _ in 0..NAME_TRIES {
            match self.next(format!("type {name}"))? {
                Some(a) if a == name => return Ok(Reply::Yes),
                Some(a) if a.is_empty() => return Ok(Reply::No),
                Some(_) => continue,
                None => return Ok(Reply::Eof),
            }
        }
        Ok(Reply::No)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_whole_yes_is_yes() {
        for yes in ["y", "Y", "yes", " YES ", "Yes\r"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "n", "no", "yess", "ye", "y es", "oui", "yes please"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }

    #[test]
    fn the_scripted_prompter_answers_in_order_and_records_questions() {
        let p = ScriptedPrompter::new([Some("yes"), None, Some("bob"), Some("alice")]);
        assert_eq!(p.yes_no("Go?"), Ok(Reply::Yes));
        assert_eq!(p.yes_no("Again?"), Ok(Reply::Eof));
        // A wrong name is asked again; the right one is a yes.
        assert_eq!(p.exact_name("alice"), Ok(Reply::Yes));
        assert_eq!(
            p.asked(),
            ["Go? [y/N]", "Again? [y/N]", "type alice", "type alice"]
        );
        assert!(p.yes_no("More?").is_err(), "no answer left is an error");
    }

    #[test]
    fn three_wrong_names_decline() {
        let p = ScriptedPrompter::new([Some("a"), Some("b"), Some("c")]);
        assert_eq!(p.exact_name("alice"), Ok(Reply::No));
    }

    #[test]
    fn a_line_is_read_whole_and_end_of_input_is_eof() {
        let (r, w) = pipe();
        let i = Interrupt::manual();
        write_all(w, b"yes\r\n");
        assert_eq!(read_line(r, &i).unwrap(), Line::Text("yes".into()));
        write_all(w, b"half");
        close(w);
        assert_eq!(read_line(r, &i).unwrap(), Line::Eof);
        close(r);
    }

    #[test]
    fn a_signal_while_waiting_is_interrupted() {
        let (r, w) = pipe();
        let i = Interrupt::manual();
        let j = i.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(150));
            j.trigger(2);
        });
        assert_eq!(read_line(r, &i).unwrap(), Line::Interrupted);
        t.join().unwrap();
        close(r);
        close(w);
    }

    fn pipe() -> (i32, i32) {
        let mut fds = [0i32; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        (fds[0], fds[1])
    }

    fn write_all(fd: i32, b: &[u8]) {
        let n = unsafe { libc::write(fd, b.as_ptr().cast(), b.len()) };
        assert_eq!(n as usize, b.len());
    }

    fn close(fd: i32) {
        unsafe { libc::close(fd) };
    }
}
