//! Our own known_hosts reader and the host-key decision: Trusted, Unknown, Changed or Revoked.
//!
//! Why not russh's helper: it treats tab-separated lines as unknown, ignores `@revoked` and
//! `@cert-authority`, and reads an RSA-only entry against an ed25519 server as "unknown" where
//! it must be "changed". This module reads plain and hashed host fields, markers, any
//! whitespace, and decides. It only ever appends to matelot's own file (after the operator
//! trusted a key); it never edits or rewrites a line, and never writes the user's
//! `~/.ssh/known_hosts`. A Changed or Revoked decision is final: nothing here can override it.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::Digest;

use super::host_pattern::{HostField, lookup_name, lookup_names};

/// A server's public host key: its algorithm name and wire-format blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    /// e.g. `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`.
    pub algorithm: String,
    /// The SSH wire encoding of the key (what the base64 in a known_hosts line decodes to).
    pub blob: Vec<u8>,
}

impl HostKey {
    /// Parse `TYPE BASE64 [comment]` (an OpenSSH `.pub` line).
    pub fn from_openssh(line: &str) -> Option<HostKey> {
        let mut it = line.split_whitespace();
        let algorithm = it.next()?.to_string();
        let blob = STANDARD.decode(it.next()?).ok()?;
        Some(HostKey { algorithm, blob })
    }

    /// `SHA256:base64` without padding, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        let digest = sha2::Sha256::digest(&self.blob);
        format!("SHA256:{}", STANDARD_NO_PAD.encode(digest))
    }

    /// `TYPE BASE64`.
    pub fn to_openssh(&self) -> String {
        format!("{} {}", self.algorithm, STANDARD.encode(&self.blob))
    }
}

/// Where a known_hosts line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// The marker at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    None,
    Revoked,
    CertAuthority,
}

/// One usable known_hosts line.
#[derive(Debug, Clone)]
pub struct Entry {
    pub at: Location,
    pub marker: Marker,
    pub hosts: HostField,
    pub key: HostKey,
}

/// The verdict on a server's host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A line for this host holds exactly this key.
    Trusted { at: Location },
    /// No line for this host. `cert_authority` is set when only an `@cert-authority` line
    /// matched, which matelot does not support.
    Unknown { cert_authority: Option<Location> },
    /// A line for this host holds another key (of the same or another type). Hard stop.
    Changed { at: Location, known: HostKey },
    /// The key is listed as `@revoked` for this host. Hard stop.
    Revoked { at: Location },
}

/// The lines of one or more known_hosts files, in order, and the lines that were skipped.
#[derive(Debug, Clone, Default)]
pub struct KnownHosts {
    pub entries: Vec<Entry>,
    /// `file:line: why`, for lines that could not be used (shown with `-v`).
    pub skipped: Vec<String>,
}

impl KnownHosts {
    /// Parse one file's text. Blank lines and `#` comments are ignored; fields may be separated
    /// by any run of spaces and tabs; malformed lines are skipped and recorded.
    pub fn parse(&mut self, file: &Path, text: &str) {
        for (i, raw) in text.lines().enumerate() {
            let at = Location {
                file: file.to_path_buf(),
                line: i + 1,
            };
            match parse_line(raw) {
                Ok(None) => {}
                Ok(Some((marker, hosts, key))) => self.entries.push(Entry {
                    at,
                    marker,
                    hosts,
                    key,
                }),
                Err(why) => self.skipped.push(format!("{at}: {why}")),
            }
        }
    }

    /// Read files in order; a missing file is empty, an unreadable one is an error.
    pub fn load(files: &[PathBuf]) -> std::io::Result<KnownHosts> {
        let mut kh = KnownHosts::default();
        for f in files {
            match std::fs::read(f) {
                Ok(bytes) => kh.parse(f, &String::from_utf8_lossy(&bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(std::io::Error::new(
                        e.kind(),
                        format!("reading known hosts {}: {e}", f.display()),
                    ));
                }
            }
        }
        Ok(kh)
    }

    fn for_host<'a>(&'a self, host: &str, port: u16) -> impl Iterator<Item = &'a Entry> + 'a {
        let names = lookup_names(host, port);
        self.entries.iter().filter(move |e| e.hosts.matches(&names))
    }

    /// Decide about the key a server offered. Revoked beats everything; an exact match anywhere
    /// trusts; any other key known for the host (any type) is a change.
    pub fn check(&self, host: &str, port: u16, offered: &HostKey) -> Decision {
        let mine: Vec<&Entry> = self.for_host(host, port).collect();
        if let Some(e) = mine
            .iter()
            .find(|e| e.marker == Marker::Revoked && e.key.blob == offered.blob)
        {
            return Decision::Revoked { at: e.at.clone() };
        }
        let plain = || mine.iter().filter(|e| e.marker == Marker::None);
        if let Some(e) = plain().find(|e| e.key.blob == offered.blob) {
            return Decision::Trusted { at: e.at.clone() };
        }
        if let Some(e) = plain().next() {
            return Decision::Changed {
                at: e.at.clone(),
                known: e.key.clone(),
            };
        }
        let cert_authority = mine
            .iter()
            .find(|e| e.marker == Marker::CertAuthority)
            .map(|e| e.at.clone());
        Decision::Unknown { cert_authority }
    }

    /// Key types already trusted for this host, in file order, without duplicates: the SSH
    /// client asks the server for these first, so a host with several keys shows a known one.
    pub fn known_types(&self, host: &str, port: u16) -> Vec<String> {
        let mut types: Vec<String> = Vec::new();
        for e in self.for_host(host, port) {
            if e.marker == Marker::None && !types.contains(&e.key.algorithm) {
                types.push(e.key.algorithm.clone());
            }
        }
        types
    }

    /// Plain lines for this host (for `host list`).
    pub fn entries_for(&self, host: &str, port: u16) -> Vec<&Entry> {
        self.for_host(host, port)
            .filter(|e| e.marker == Marker::None)
            .collect()
    }
}

type Parsed = (Marker, HostField, HostKey);

/// One line: `[@marker] hosts keytype base64 [comment]`. `Ok(None)` for blanks and comments.
fn parse_line(raw: &str) -> Result<Option<Parsed>, String> {
    let line = raw.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next().ok_or("empty line")?;
    let marker = match first {
        "@revoked" => Marker::Revoked,
        "@cert-authority" => Marker::CertAuthority,
        m if m.starts_with('@') => return Err(format!("unknown marker {m}")),
        _ => Marker::None,
    };
    if marker != Marker::None {
        first = fields.next().ok_or("marker without host names")?;
    }
    let hosts = HostField::parse(first)?;
    let algorithm = fields.next().ok_or("no key type")?;
    let b64 = fields.next().ok_or("no key")?;
    let blob = STANDARD
        .decode(b64)
        .map_err(|_| format!("{algorithm} key is not valid base64"))?;
    Ok(Some((
        marker,
        hosts,
        HostKey {
            algorithm: algorithm.to_string(),
            blob,
        },
    )))
}

/// An operator-given fingerprint in canonical form (`SHA256:` + unpadded base64). Accepts it
/// with or without the `SHA256:` prefix and with or without `=` padding; refuses MD5.
pub fn parse_fingerprint(given: &str) -> Result<String, String> {
    let g = given.trim();
    if g.to_ascii_uppercase().starts_with("MD5:") || g.matches(':').count() > 2 {
        return Err(format!(
            "{g} is an MD5 fingerprint: give the SHA256 one (ssh-keygen -lf FILE prints it)"
        ));
    }
    let b64 = g
        .strip_prefix("SHA256:")
        .or_else(|| g.strip_prefix("sha256:"))
        .unwrap_or(g)
        .trim_end_matches('=');
    match STANDARD_NO_PAD.decode(b64) {
        Ok(bytes) if bytes.len() == 32 => Ok(format!("SHA256:{b64}")),
        _ => Err(format!(
            "{g} is not a SHA256 fingerprint (expected SHA256: and 43 base64 characters, as ssh-keygen -lf prints)"
        )),
    }
}

/// The line matelot writes when the operator trusts a key: `NAME TYPE BASE64`.
pub fn entry_line(host: &str, port: u16, key: &HostKey) -> String {
    format!("{} {}", lookup_name(host, port), key.to_openssh())
}

/// Append a trusted key to matelot's known_hosts (creating it and its directory), and return
/// the location of the new line. Existing lines are never touched.
pub fn append_entry(
    file: &Path,
    host: &str,
    port: u16,
    key: &HostKey,
) -> std::io::Result<Location> {
    if let Some(dir) = file.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let existing = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    let mut text = String::new();
    if !existing.is_empty() && !existing.ends_with(b"\n") {
        text.push('\n');
    }
    text.push_str(&entry_line(host, port, key));
    text.push('\n');
    out.write_all(text.as_bytes())?;
    out.sync_all()?;
    let lines_before = String::from_utf8_lossy(&existing).lines().count();
    Ok(Location {
        file: file.to_path_buf(),
        line: lines_before + 1,
    })
}

#[cfg(test)]
#[path = "known_hosts_tests.rs"]
mod tests;
