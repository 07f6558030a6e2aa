//! Where rosters and key files touch the file system: read the roster file and the key files
//! it names (relative to the roster's directory), then hand the text to the pure parser in
//! `core::roster`. Files are size-capped and must be regular files (a key path pointing at
//! `/dev/zero` must not hang the run).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::config::expand_tilde;
use crate::core::roster::{Format, KeyFiles, LoadError, Roster, parse};

/// Largest roster file read.
pub const MAX_ROSTER_BYTES: u64 = 8 * 1024 * 1024;
/// Largest key file read.
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// Key files read from disk, relative paths taken from `base` (the roster's directory).
#[derive(Debug, Clone)]
pub struct FsKeyFiles {
    pub base: PathBuf,
}

impl KeyFiles for FsKeyFiles {
    fn read(&self, path: &str) -> Result<String, String> {
        let p = expand_tilde(Path::new(path));
        let full = if p.is_absolute() {
            p
        } else {
            self.base.join(p)
        };
        read_capped(&full, MAX_KEY_FILE_BYTES)
    }
}

/// Read a regular UTF-8 file of at most `max` bytes; the error is a short reason.
fn read_capped(path: &Path, max: u64) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| io_reason(&e))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > max {
        return Err(format!(
            "{} bytes, more than the {max} accepted",
            meta.len()
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| io_reason(&e))?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".into())
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Read and parse the roster at `path`: format from the extension, else sniffed; key files
/// relative to the roster's directory.
pub fn load(path: &Path) -> Result<Roster, LoadError> {
    let shown = path.display().to_string();
    let text = read_capped(path, MAX_ROSTER_BYTES).map_err(|reason| LoadError::Read {
        path: shown.clone(),
        reason,
    })?;
    let base = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let files = FsKeyFiles { base };
    parse(&shown, &text, Format::from_path(path), &files).map_err(LoadError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_roster_says_so() {
        let err = load(Path::new("tests/fixtures/rosters/nope.csv")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read roster tests/fixtures/rosters/nope.csv: no such file"
        );
    }

    #[test]
    fn a_roster_from_disk_reads_its_key_files_beside_it() {
        let roster = load(Path::new("tests/fixtures/rosters/good-semicolon.csv")).unwrap();
        assert!(!roster.people().is_empty());
    }
}
