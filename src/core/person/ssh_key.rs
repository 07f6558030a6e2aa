//! SSH public keys as a roster gives them: one `authorized_keys`-style line, parsed as a real
//! OpenSSH public key (so a truncated paste is caught here, not when the person fails to log
//! in). Refused with a specific message: an options prefix (`command="..."`, `from=`), a
//! private key pasted by mistake (its text is never echoed), an RFC 4716 block, a certificate,
//! DSA, RSA below 2048 bits, control characters. The comment is kept. No I/O here.

use std::fmt;

use russh::keys::ssh_key::{HashAlg, PublicKey};
use serde::{Serialize, Serializer};

use super::unicode;

/// Key types matelot writes into `authorized_keys`.
pub const ACCEPTED_ALGORITHMS: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// The smallest RSA modulus accepted.
pub const MIN_RSA_BITS: u32 = 2048;

/// A checked OpenSSH public key, kept as its canonical one-line form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshKey {
    algorithm: String,
    data: String,
    comment: String,
    fingerprint: String,
}

/// Why a key was refused. Messages never contain private key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the SSH key is empty")]
    Empty,
    #[error(
        "this is a PRIVATE key ({kind}), not a public key: give the public key (the .pub file) \
         instead, and treat this private key as compromised (it was shared)"
    )]
    PrivateKey { kind: String },
    #[error(
        "this key is in RFC 4716 (SSH2) format; convert it to OpenSSH format with \
         `ssh-keygen -i -f FILE` and give that line"
    )]
    Rfc4716,
    #[error(
        "the key has an options prefix ({options}); matelot writes plain keys only: remove \
         everything before '{algorithm}'"
    )]
    Options { options: String, algorithm: String },
    #[error("SSH certificates ({algorithm}) are not supported; give the plain public key")]
    Certificate { algorithm: String },
    #[error("DSA keys (ssh-dss) are refused by OpenSSH since 7.0; use an ed25519 key")]
    Dsa,
    #[error("RSA key of {bits} bits is too weak (at least {MIN_RSA_BITS}); use an ed25519 key")]
    WeakRsa { bits: u32 },
    #[error("the key contains {}; keys are printable text on one line", unicode::describe(*.found))]
    BadChar { found: char },
    #[error(
        "{} is not an OpenSSH public key (it should start with a key type such as 'ssh-ed25519')",
        shown_prefix(.start)
    )]
    NotAKey { start: String },
    #[error(
        "the {algorithm} key is damaged ({detail}): copy the whole line from the .pub file again"
    )]
    Malformed { algorithm: String, detail: String },
}

/// At most 24 characters of untrusted text, quoted, control characters escaped.
fn shown_prefix(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(24)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > 24 {
        out.push('…');
    }
    format!("'{out}'")
}

/// True when `text` is meant as key material (as opposed to a key file path): it names a key
/// type somewhere, or is a private key or an RFC 4716 block.
pub fn looks_like_key(text: &str) -> bool {
    let t = text.trim();
    t.contains("-----BEGIN")
        || t.starts_with("---- BEGIN")
        || t.starts_with("PuTTY-User-Key-File")
        || t.split_whitespace()
            .any(|w| is_key_type(w) || w == "ssh-dss" || w.ends_with("-cert-v01@openssh.com"))
}

fn is_key_type(word: &str) -> bool {
    ACCEPTED_ALGORITHMS.contains(&word)
}

fn private_kind(t: &str) -> Option<String> {
    if t.starts_with("PuTTY-User-Key-File") {
        return Some("PuTTY .ppk".into());
    }
    let start = t.find("-----BEGIN ")?;
    let rest = &t[start + "-----BEGIN ".len()..];
    let label = &rest[..rest.find("-----")?];
    label
        .contains("PRIVATE KEY")
        .then(|| format!("-----BEGIN {label}-----"))
}

impl SshKey {
    /// Parse one key line: `type base64 [comment]`.
    pub fn parse(text: &str) -> Result<SshKey, KeyError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(KeyError::Empty);
        }
        if let Some(kind) = private_kind(t) {
            return Err(KeyError::PrivateKey { kind });
        }
        if t.starts_with("---- BEGIN SSH2") {
            return Err(KeyError::Rfc4716);
        }
        if let Some(found) = t
            .chars()
            .find(|c| *c != '\t' && unicode::is_forbidden_anywhere(*c))
        {
            return Err(KeyError::BadChar { found });
        }
        let words: Vec<&str> = t.split_whitespace().collect();
        let first = words.first().copied().unwrap_or_default();
        if first.ends_with("-cert-v01@openssh.com") {
            return Err(KeyError::Certificate {
                algorithm: first.into(),
            });
        }
        if first == "ssh-dss" {
            return Err(KeyError::Dsa);
        }
        if !is_key_type(first) {
            if let Some(pos) = words.iter().position(|w| is_key_type(w)) {
                let options = shown_prefix(&words[..pos].join(" "));
                return Err(KeyError::Options {
                    options,
                    algorithm: words[pos].into(),
                });
            }
            return Err(KeyError::NotAKey { start: t.into() });
        }
        let data = words.get(1).copied().unwrap_or_default();
        let comment = words.get(2..).map(|c| c.join(" ")).unwrap_or_default();
        let malformed = |detail: String| KeyError::Malformed {
            algorithm: first.into(),
            detail,
        };
        if data.is_empty() {
            return Err(malformed("the base64 part is missing".into()));
        }
        let key = PublicKey::from_openssh(&format!("{first} {data}"))
            .map_err(|e| malformed(e.to_string()))?;
        if let Some(rsa) = key.key_data().rsa()
            && rsa.key_size() < MIN_RSA_BITS
        {
            return Err(KeyError::WeakRsa {
                bits: rsa.key_size(),
            });
        }
        Ok(SshKey {
            algorithm: first.into(),
            data: data.into(),
            comment,
            fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
        })
    }

    /// The key type, e.g. `ssh-ed25519`.
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    /// The comment (often `user@machine`), possibly empty.
    pub fn comment(&self) -> &str {
        &self.comment
    }

    /// `SHA256:...`, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The `authorized_keys` line: `type base64 comment`.
    pub fn line(&self) -> String {
        if self.comment.is_empty() {
            format!("{} {}", self.algorithm, self.data)
        } else {
            format!("{} {} {}", self.algorithm, self.data, self.comment)
        }
    }

    /// True when both are the same key, whatever their comments.
    pub fn same_key(&self, other: &SshKey) -> bool {
        self.algorithm == other.algorithm && self.data == other.data
    }
}

impl fmt::Display for SshKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line())
    }
}

impl Serialize for SshKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.line())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIByg7BrvaKkC+VDadI4IhoMXUHfkC4uf/V+GaPQBPnV+ ed25519@example";
    pub const BOB: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBZfrAR6M46UoYRFo99hrYGNd3v0XX6RW8hMaRosxi0K bob@laptop";
    pub const CAROL: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBIFWoQ1ex+PYuDRZpMKIxWNXNIfrbIlaKjMRumgMAjI carol@work";
    pub const ECDSA: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHS0ma80P2U6HDIb1aPap+icftK3qo/JIKglTUukml63hYCloTqnjssxWol1CHEOu6YZdweurCM+xxVg34AkpW8= ecdsa@example";
    pub const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDGQeeKbQt13fBGRpjYK5eVfhtvIuN+m0oECvk2yXg7LTmBon8CC2gK4Nm+/ChEtGTR18GVookrOYt/2l8aKhHrv0LTwlJbGZd9v6vHHoLfCqqCFwJz2aqg/9nWv2aURBknNWNFqLzw+ZD9jWpLHceEXm+SS9H1K9ltZLwJMUtHfE5udxlJGEt8hsa7ifV6kkTSPDF+LXkxa3mqh4FYiSR3lZlcc90xOyrrZY7ukDLfEeK4VWf2XS9Z21xjrdvlaMcBnToOfnNeig2iDPp7En341X0Evyxh8+eVZg2qMsm1CkoukAM026TzsonxyT3ysTyZZtSKvppT5cbejMsfLSFR rsa@example";
    const WEAK_RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDoxBdzGu6D5dVWYvUFbogfWQ0eB3PnmrWwhTYsXyjgechhCZVO0s11Z7X/TtZqmLVue4FKf+Hy8lVn/9f+Kt7vfsnCHxeY8ZplT17wVBhuHRTrJmFepPP6cICzbOMbY0BR7agkIh6aLgKPim6wMezoFamPEDip5qkaDI/v6Ra3Fw== weak@example";
    const DSA: &str = "ssh-dss AAAAB3NzaC1kc3MAAACBALNkpgwEn5Jf dsa@example";

    #[test]
    fn good_keys_parse_and_keep_their_comment() {
        for (line, alg, comment) in [
            (ED25519, "ssh-ed25519", "ed25519@example"),
            (ECDSA, "ecdsa-sha2-nistp256", "ecdsa@example"),
            (RSA, "ssh-rsa", "rsa@example"),
        ] {
            let k = SshKey::parse(line).unwrap();
            assert_eq!(k.algorithm(), alg);
            assert_eq!(k.comment(), comment);
            assert_eq!(k.line(), line);
            assert!(
                k.fingerprint().starts_with("SHA256:"),
                "{}",
                k.fingerprint()
            );
        }
    }

    #[test]
    fn whitespace_is_normalised_and_comments_may_have_spaces() {
        let messy = "  ssh-ed25519\tAAAAC3NzaC1lZDI1NTE5AAAAIByg7BrvaKkC+VDadI4IhoMXUHfkC4uf/V+GaPQBPnV+   Alice  Martin (laptop) \r\n";
        let k = SshKey::parse(messy).unwrap();
        assert_eq!(k.comment(), "Alice Martin (laptop)");
        let bare = SshKey::parse(&ED25519[..ED25519.rfind(' ').unwrap()]).unwrap();
        assert_eq!(bare.comment(), "");
        assert!(bare.same_key(&SshKey::parse(ED25519).unwrap()));
        assert!(!bare.same_key(&SshKey::parse(BOB).unwrap()));
    }

    #[test]
    fn fingerprint_matches_ssh_keygen() {
        // `ssh-keygen -lf` on the same key.
        let k = SshKey::parse(BOB).unwrap();
        assert_eq!(
            k.fingerprint(),
            "SHA256:qZ/XDvMkTFIH/HtLYshN4lGT0O5Tyw90L8OoOe2iKEI"
        );
    }

    #[test]
    fn refusals_table() {
        let private = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----";
        let truncated = &ED25519[..60];
        let cases: Vec<(String, &str)> = vec![
            ("".into(), "the SSH key is empty"),
            (
                private.into(),
                "this is a PRIVATE key (-----BEGIN OPENSSH PRIVATE KEY-----), not a public key: give the public key (the .pub file) instead, and treat this private key as compromised (it was shared)",
            ),
            (
                "-----BEGIN RSA PRIVATE KEY-----".into(),
                "this is a PRIVATE key (-----BEGIN RSA PRIVATE KEY-----), not a public key: give the public key (the .pub file) instead, and treat this private key as compromised (it was shared)",
            ),
            (
                "PuTTY-User-Key-File-3: ssh-ed25519".into(),
                "this is a PRIVATE key (PuTTY .ppk), not a public key: give the public key (the .pub file) instead, and treat this private key as compromised (it was shared)",
            ),
            (
                "---- BEGIN SSH2 PUBLIC KEY ----".into(),
                "this key is in RFC 4716 (SSH2) format; convert it to OpenSSH format with `ssh-keygen -i -f FILE` and give that line",
            ),
            (
                format!("command=\"/bin/sh -c 'curl x|sh'\" {ED25519}"),
                "the key has an options prefix ('command=\"/bin/sh -c 'cur…'); matelot writes plain keys only: remove everything before 'ssh-ed25519'",
            ),
            (
                format!("from=\"10.0.0.0/8\",no-pty {BOB}"),
                "the key has an options prefix ('from=\"10.0.0.0/8\",no-pty'); matelot writes plain keys only: remove everything before 'ssh-ed25519'",
            ),
            (
                "ssh-ed25519-cert-v01@openssh.com AAAA".into(),
                "SSH certificates (ssh-ed25519-cert-v01@openssh.com) are not supported; give the plain public key",
            ),
            (
                DSA.into(),
                "DSA keys (ssh-dss) are refused by OpenSSH since 7.0; use an ed25519 key",
            ),
            (
                "hello world".into(),
                "'hello world' is not an OpenSSH public key (it should start with a key type such as 'ssh-ed25519')",
            ),
            (
                "ssh-ed25519".into(),
                "the ssh-ed25519 key is damaged (the base64 part is missing): copy the whole line from the .pub file again",
            ),
            (
                truncated.into(),
                "the ssh-ed25519 key is damaged (length invalid): copy the whole line from the .pub file again",
            ),
            (
                format!("{ED25519}\u{7}"),
                "the key contains a control character (U+0007); keys are printable text on one line",
            ),
            (
                format!("{BOB} \u{202E}kcatta"),
                "the key contains (U+202E RIGHT-TO-LEFT OVERRIDE, reorders displayed text); keys are printable text on one line",
            ),
            (
                WEAK_RSA.into(),
                "RSA key of 1024 bits is too weak (at least 2048); use an ed25519 key",
            ),
            (
                // An ed25519 key body under an RSA label.
                format!("ssh-rsa {}", ED25519.split(' ').nth(1).unwrap()),
                "the ssh-rsa key is damaged (unknown algorithm): copy the whole line from the .pub file again",
            ),
        ];
        let wrong: Vec<String> = cases
            .into_iter()
            .filter_map(|(input, want)| {
                let got = SshKey::parse(&input)
                    .map(|k| k.line())
                    .map_err(|e| e.to_string());
                (got != Err(want.to_string()))
                    .then(|| format!("{input:?}\n  got  {got:?}\n  want {want:?}"))
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn what_looks_like_a_key_and_what_looks_like_a_path() {
        for t in [
            ED25519,
            "command=\"x\" ssh-rsa AAA",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "ssh-dss AAA",
        ] {
            assert!(looks_like_key(t), "{t}");
        }
        for t in [
            "keys/alice.pub",
            "~/.ssh/id_ed25519.pub",
            "alice.pub",
            "hello",
        ] {
            assert!(!looks_like_key(t), "{t}");
        }
    }
}
