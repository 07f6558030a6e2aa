//! Checks of the local files the configuration names and matelot reads: the Cloudron token
//! file (one line, private), the CA file (PEM certificates), SSH identities (private).
//!
//! Messages name the file and say what to do; they never include a file's content.

use std::path::Path;

/// A token file's content: one non-blank line, surrounding whitespace ignored.
pub fn check_token_text(text: &str) -> Result<&str, &'static str> {
    let t = text.trim();
    if t.is_empty() {
        Err("is empty; write the API token in it")
    } else if t.chars().any(char::is_whitespace) {
        Err("must hold the token alone, on one line")
    } else {
        Ok(t)
    }
}

/// A warning when a secret file can be read or written by group or others.
pub fn loose_mode_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    loose_mode_message(path, mode)
}

/// The message for a secret file's mode, if it is too open (pure, for tests).
pub fn loose_mode_message(path: &Path, mode: u32) -> Option<String> {
    (mode & 0o077 != 0).then(|| {
        format!(
            "{p} is readable by group or others (mode {:04o}); run: chmod 600 {p}",
            mode & 0o7777,
            p = path.display()
        )
    })
}

/// A CA file must exist and hold at least one PEM certificate.
pub fn check_ca_file(path: &Path) -> Result<(), String> {
    let data =
        std::fs::read(path).map_err(|e| format!("cannot read CA file {}: {e}", path.display()))?;
    let certs = rustls_pemfile::certs(&mut data.as_slice())
        .filter(Result::is_ok)
        .count();
    if certs == 0 {
        return Err(format!(
            "CA file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_file_modes() {
        let p = Path::new("/etc/matelot/t");
        assert_eq!(loose_mode_message(p, 0o100600), None);
        assert_eq!(loose_mode_message(p, 0o100400), None);
        let w = loose_mode_message(p, 0o100604).unwrap();
        assert_eq!(
            w,
            "/etc/matelot/t is readable by group or others (mode 0604); run: chmod 600 /etc/matelot/t"
        );
        assert!(loose_mode_message(p, 0o100620).is_some());
        assert_eq!(check_token_text(" abc \n"), Ok("abc"));
    }
}
