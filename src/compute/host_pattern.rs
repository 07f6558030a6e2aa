//! Host name matching for known_hosts lines, as OpenSSH does it: comma-separated patterns with
//! `*` and `?` wildcards and `!` negation, `[host]:port` for non-default ports, and hashed
//! entries (`|1|base64(salt)|base64(HMAC-SHA1(salt, name))`).
//!
//! Pure functions only: no file access, no network. Matching is case-insensitive, like OpenSSH.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};

/// The name OpenSSH looks up for a host: `host` on port 22, `[host]:port` otherwise.
pub fn lookup_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 22 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// Every name a line may use for this host. On port 22 the bracketed `[host]:22` is accepted
/// too (tolerant reading); OpenSSH itself writes the bare name.
pub fn lookup_names(host: &str, port: u16) -> Vec<String> {
    let mut names = vec![lookup_name(host, port)];
    if port == 22 {
        names.push(format!("[{}]:22", host.to_ascii_lowercase()));
    }
    names
}

/// The host field of a known_hosts line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostField {
    /// Comma-separated patterns, e.g. `calcul,10.0.0.5,!bad.example.org,*.example.org`.
    Patterns(Vec<String>),
    /// `|1|salt|hash`.
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

impl HostField {
    /// Parse a host field. `Err` says why a line cannot be used.
    pub fn parse(field: &str) -> Result<HostField, String> {
        if let Some(rest) = field.strip_prefix('|') {
            let mut parts = rest.split('|');
            let (Some(magic), Some(salt), Some(hash), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err("malformed hashed host name".into());
            };
            if magic != "1" {
                return Err(format!("unsupported hashed host name type |{magic}|"));
            }
            let salt = STANDARD
                .decode(salt)
                .map_err(|_| "hashed host name: salt is not base64".to_string())?;
            let hash = STANDARD
                .decode(hash)
                .map_err(|_| "hashed host name: hash is not base64".to_string())?;
            if hash.len() != 20 {
                return Err("hashed host name: hash is not 20 bytes (HMAC-SHA1)".into());
            }
            return Ok(HostField::Hashed { salt, hash });
        }
        let patterns: Vec<String> = field
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        if patterns.is_empty() {
            return Err("empty host field".into());
        }
        Ok(HostField::Patterns(patterns))
    }

    /// Does this field match any of the lookup names?
    pub fn matches(&self, names: &[String]) -> bool {
        names.iter().any(|n| self.matches_one(n))
    }

    fn matches_one(&self, name: &str) -> bool {
        match self {
            HostField::Hashed { salt, hash } => hashed_matches(salt, hash, name),
            HostField::Patterns(patterns) => pattern_list_matches(patterns, name),
        }
    }
}

/// OpenSSH `match_hostname`: a negated pattern that matches vetoes the line; otherwise any
/// positive match wins.
fn pattern_list_matches(patterns: &[String], name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let mut matched = false;
    for p in patterns {
        if let Some(neg) = p.strip_prefix('!') {
            if wildcard_match(neg.as_bytes(), name.as_bytes()) {
                return false;
            }
        } else if wildcard_match(p.as_bytes(), name.as_bytes()) {
            matched = true;
        }
    }
    matched
}

/// `*` matches any run of characters (also empty), `?` exactly one.
pub fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// HMAC-SHA1(key = salt, message = name) == hash.
fn hashed_matches(salt: &[u8], hash: &[u8], name: &str) -> bool {
    let Ok(mut mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(hash).is_ok()
}

/// The hashed form of a name with a given salt, as `ssh-keygen -H` writes it.
pub fn hash_name(salt: &[u8], name: &str) -> String {
    let digest = match hmac::Hmac::<sha1::Sha1>::new_from_slice(salt) {
        Ok(mut mac) => {
            mac.update(name.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        // HMAC accepts keys of any length; this branch cannot be taken.
        Err(_) => Vec::new(),
    };
    format!("|1|{}|{}", STANDARD.encode(salt), STANDARD.encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(host: &str, port: u16) -> Vec<String> {
        lookup_names(host, port)
    }

    #[test]
    fn lookup_name_brackets_non_default_ports() {
        assert_eq!(lookup_name("Calcul.Example.org", 22), "calcul.example.org");
        assert_eq!(lookup_name("127.0.0.2", 2222), "[127.0.0.2]:2222");
        assert_eq!(names("h", 22), vec!["h".to_string(), "[h]:22".to_string()]);
    }

    #[test]
    fn patterns_follow_openssh() {
        let cases: &[(&str, &str, u16, bool)] = &[
            ("calcul", "calcul", 22, true),
            ("CALCUL", "calcul", 22, true),
            ("calcul", "calcul", 2222, false),
            ("[calcul]:2222", "calcul", 2222, true),
            ("[calcul]:2222", "calcul", 22, false),
            ("other,calcul", "calcul", 22, true),
            ("*.example.org", "calcul.example.org", 22, true),
            ("*.example.org", "example.org", 22, false),
            ("calc?l", "calcul", 22, true),
            ("calc?l", "calcl", 22, false),
            (
                "*.example.org,!bad.example.org",
                "bad.example.org",
                22,
                false,
            ),
            (
                "!bad.example.org,*.example.org",
                "bad.example.org",
                22,
                false,
            ),
            ("!bad.example.org", "good.example.org", 22, false),
            ("[*.example.org]:*", "x.example.org", 2200, true),
            ("*", "anything", 22, true),
            ("[calcul]:22", "calcul", 22, true),
        ];
        for (field, host, port, want) in cases {
            let f = HostField::parse(field).expect("parses");
            assert_eq!(
                f.matches(&names(host, *port)),
                *want,
                "{field} vs {host}:{port}"
            );
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match(b"a*b*c", b"aXXbYYc"));
        assert!(wildcard_match(b"**", b""));
        assert!(!wildcard_match(b"a*d", b"abc"));
        assert!(wildcard_match(b"*c", b"abcbc"));
    }

    #[test]
    fn hashed_names_match_only_their_host() {
        // Produced by `ssh-keygen -H` for "[127.0.0.2]:2222" with this salt.
        let salt = [7u8; 20];
        let field = hash_name(&salt, "[127.0.0.2]:2222");
        let parsed = HostField::parse(&field).expect("parses");
        assert!(parsed.matches(&names("127.0.0.2", 2222)));
        assert!(!parsed.matches(&names("127.0.0.2", 22)));
        assert!(!parsed.matches(&names("127.0.0.3", 2222)));
    }

    #[test]
    fn hashed_known_vector() {
        // RFC 2202 test case 2: HMAC-SHA1(key "Jefe", "what do ya want for nothing?").
        let f = hash_name(b"Jefe", "what do ya want for nothing?");
        let hash = f.rsplit('|').next().expect("hash part");
        assert_eq!(
            hex::encode(STANDARD.decode(hash).expect("base64")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }

    #[test]
    fn malformed_fields_are_reported() {
        assert!(HostField::parse("|1|bad").is_err());
        assert!(HostField::parse("|2|AAAA|AAAA").is_err());
        assert!(HostField::parse("|1|!!!|AAAA").is_err());
        assert!(HostField::parse(",").is_err());
    }
}
