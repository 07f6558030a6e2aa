//! Secret redaction for everything the journal stores: command lines, messages, planned
//! changes. A journal outlives the run and is read by other people, so it must never hold a
//! token or a password, even one the operator typed by mistake on the command line.
//!
//! These functions are pure and err on the side of hiding too much. They do not know which
//! flags matelot has: they recognise secret-looking names (`--token`, `--cloudron-token`,
//! `password=`, `access_token=` in a URL, `https://user:pass@host`, `Bearer ...`).

use serde_json::Value;

/// What a hidden value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Names whose values are secrets, matched at the end of a flag or key name, case-insensitively.
const SECRET_SUFFIXES: [&str; 4] = ["token", "password", "passwd", "secret"];

/// Redact a command line: the value after a secret flag (`--token X`, `--password X`,
/// `--something-token X`), the value of `--flag=X` forms, and secrets inside any argument
/// (`token=`, `access_token=`, `password=` in URLs or `--var` values, URL user info).
pub fn redact_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for arg in args {
        if hide_next {
            out.push(REDACTED.to_string());
            hide_next = false;
            continue;
        }
        if arg.starts_with("--") && !arg.contains('=') && is_secret_name(arg) {
            hide_next = true;
            out.push(arg.clone());
            continue;
        }
        out.push(redact_text(arg));
    }
    out
}

/// Redact secrets inside free text: `name=value` where the name ends in token, password,
/// passwd or secret (the value runs to `&`, `#`, a quote or whitespace), the password in
/// `scheme://user:password@host`, and the credential after `Bearer `.
pub fn redact_text(text: &str) -> String {
    let text = redact_key_values(text);
    let text = redact_userinfo(&text);
    redact_bearer(&text)
}

/// Redact a JSON value: string values under secret-looking keys are hidden, and every other
/// string goes through [`redact_text`].
pub fn redact_json(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(redact_text(s)),
        Value::Array(items) => Value::Array(items.iter().map(redact_json).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_name(k) && !v.is_null() {
                        Value::String(REDACTED.to_string())
                    } else {
                        redact_json(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Keys whose values hold a shadow(5) line: the journal keeps them whole (undoing a removal
/// needs the password hash), but nothing that shows an operation may print the hash.
const SHADOW_KEYS: [&str; 1] = ["shadow_line"];

/// Prepare stored details for display: the password hash field of every shadow line is
/// replaced by `<redacted>` (a leading `!` of a locked account is kept); everything else is left
/// as stored (it was already redacted on the way in).
pub fn redact_for_display(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(redact_for_display).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(line) if SHADOW_KEYS.contains(&k.as_str()) => {
                            Value::String(hide_shadow_hash(line))
                        }
                        other => redact_for_display(other),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn hide_shadow_hash(line: &str) -> String {
    let mut fields: Vec<String> = line.split(':').map(str::to_string).collect();
    if let Some(hash) = fields.get_mut(1) {
        let locked = if hash.starts_with('!') { "!" } else { "" };
        *hash = format!("{locked}{REDACTED}");
    }
    fields.join(":")
}

fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

fn ends_value(c: char) -> bool {
    c.is_whitespace() || matches!(c, '&' | '#' | '"' | '\'' | ';')
}

/// Where an unquoted value ends: at whitespace, `&`, `#`, a quote or `;`, or at a closing
/// bracket that ends a word (`(url?token=abc): timeout`), so a password with a `)` inside
/// is still hidden whole.
fn value_len(value: &str) -> usize {
    let mut chars = value.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if ends_value(c) {
            return i;
        }
        if matches!(c, ')' | ']' | '>' | ',')
            && chars.peek().is_none_or(|(_, n)| !n.is_alphanumeric())
        {
            return i;
        }
    }
    value.len()
}

fn redact_key_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let (before, after) = (&rest[..eq], &rest[eq + 1..]);
        let key_start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_key_char(*c))
            .last()
            .map_or(before.len(), |(i, _)| i);
        out.push_str(before);
        out.push('=');
        let secret = is_secret_name(&before[key_start..]);
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
        match quote {
            // A quoted value runs to its closing quote: `password='x y'`.
            Some(q) if secret => {
                let inner = &after[1..];
                let len = inner.find(q).unwrap_or(inner.len());
                out.push(q);
                out.push_str(REDACTED);
                rest = &inner[len..];
            }
            _ => {
                let value_len = value_len(after);
                if secret && value_len > 0 {
                    out.push_str(REDACTED);
                    rest = &after[value_len..];
                } else {
                    rest = after;
                }
            }
        }
    }
    out.push_str(rest);
    out
}

fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(sep) = rest.find("://") {
        let authority_start = sep + 3;
        out.push_str(&rest[..authority_start]);
        let after = &rest[authority_start..];
        let end = after
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) if authority[..at].contains(':') => {
                let colon = authority[..at].find(':').unwrap_or(at);
                out.push_str(&authority[..=colon]);
                out.push_str(REDACTED);
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn redact_bearer(text: &str) -> String {
    const WORD: &str = "bearer ";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    while let Some(found) = lower[pos..].find(WORD) {
        let value_start = pos + found + WORD.len();
        out.push_str(&text[pos..value_start]);
        let spaces = text[value_start..].len() - text[value_start..].trim_start().len();
        out.push_str(&text[value_start..value_start + spaces]);
        let value_start = value_start + spaces;
        let value = &text[value_start..];
        let len = value_len(value);
        if len > 0 && !value.starts_with(REDACTED) {
            out.push_str(REDACTED);
        } else {
            out.push_str(&value[..len]);
        }
        pos = value_start + len;
    }
    out.push_str(&text[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn command_lines_lose_their_secrets() {
        let cases: &[(&[&str], &[&str])] = &[
            (
                &["matelot", "--token", "abc123", "app", "list"],
                &["matelot", "--token", "<redacted>", "app", "list"],
            ),
            (
                &["matelot", "--token=abc123", "app", "list"],
                &["matelot", "--token=<redacted>", "app", "list"],
            ),
            (
                &["matelot", "user", "add", "bob", "--password", "hunter2"],
                &["matelot", "user", "add", "bob", "--password", "<redacted>"],
            ),
            (
                &["matelot", "--cloudron-token", "s3cr3t", "health"],
                &["matelot", "--cloudron-token", "<redacted>", "health"],
            ),
            (
                &["matelot", "--ping-token=zzz"],
                &["matelot", "--ping-token=<redacted>"],
            ),
            (
                &[
                    "matelot",
                    "backup",
                    "run",
                    "--ping",
                    "https://hc.example.org/ping?token=abc&x=1",
                ],
                &[
                    "matelot",
                    "backup",
                    "run",
                    "--ping",
                    "https://hc.example.org/ping?token=<redacted>&x=1",
                ],
            ),
            (
                &[
                    "matelot",
                    "x",
                    "https://my.example.org/api/v1/apps?access_token=T0K#frag",
                ],
                &[
                    "matelot",
                    "x",
                    "https://my.example.org/api/v1/apps?access_token=<redacted>#frag",
                ],
            ),
            (
                &[
                    "matelot",
                    "play",
                    "p.toml",
                    "--var",
                    "db_password=pw",
                    "--var",
                    "name=x",
                ],
                &[
                    "matelot",
                    "play",
                    "p.toml",
                    "--var",
                    "db_password=<redacted>",
                    "--var",
                    "name=x",
                ],
            ),
            (
                &["matelot", "--ping", "https://bob:pa55@hc.example.org/x"],
                &[
                    "matelot",
                    "--ping",
                    "https://bob:<redacted>@hc.example.org/x",
                ],
            ),
            // Paths to secret files are not secrets; ordinary values stay.
            (
                &[
                    "matelot",
                    "--token-file",
                    "/etc/t",
                    "--password-file=/p",
                    "--name",
                    "Token Holder",
                ],
                &[
                    "matelot",
                    "--token-file",
                    "/etc/t",
                    "--password-file=/p",
                    "--name",
                    "Token Holder",
                ],
            ),
            // A secret flag at the very end hides nothing more and does not panic.
            (&["matelot", "--token"], &["matelot", "--token"]),
            (
                &["PASSWORD=x", "Token=y"],
                &["PASSWORD=<redacted>", "Token=<redacted>"],
            ),
            (&["token="], &["token="]),
        ];
        for (input, want) in cases {
            assert_eq!(redact_args(&args(input)), args(want), "{input:?}");
        }
    }

    #[test]
    fn free_text_loses_its_secrets() {
        let cases = [
            (
                "error sending request for url (https://c.example.org/api/v1/apps?access_token=abc): timeout",
                "error sending request for url (https://c.example.org/api/v1/apps?access_token=<redacted>): timeout",
            ),
            (
                "Authorization: Bearer abc.def",
                "Authorization: Bearer <redacted>",
            ),
            ("bearer  x", "bearer  <redacted>"),
            ("Bearer", "Bearer"),
            ("no secrets = here", "no secrets = here"),
            ("[password=a)b,c]", "[password=<redacted>]"),
            ("<token=abc>, then", "<token=<redacted>>, then"),
            ("http://host:8080/path", "http://host:8080/path"),
            ("a=1 password='x y' b=2", "a=1 password='<redacted>' b=2"),
            ("secret=\"unterminated", "secret=\"<redacted>"),
            (
                "ünïcode token=é€ and more",
                "ünïcode token=<redacted> and more",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact_text(input), want, "{input}");
        }
    }

    #[test]
    fn json_values_under_secret_keys_are_hidden() {
        let v = serde_json::json!({
            "user": "alice",
            "password": "hunter2",
            "nested": [{"api_token": "t", "url": "https://x/?token=abc"}],
            "token": null,
            "count": 3
        });
        assert_eq!(
            redact_json(&v),
            serde_json::json!({
                "user": "alice",
                "password": "<redacted>",
                "nested": [{"api_token": "<redacted>", "url": "https://x/?token=<redacted>"}],
                "token": null,
                "count": 3
            })
        );
    }
}

#[cfg(test)]
mod display_tests {
    use super::*;

    #[test]
    fn shadow_hashes_are_hidden_for_display_only() {
        let stored = serde_json::json!({
            "username": "alice",
            "shadow_line": "alice:$y$j9T$abc$def:19000:0:99999:7:::",
            "nested": [{"shadow_line": "bob:!$6$salt$hash:19000:0:99999:7:::"}]
        });
        let shown = redact_for_display(&stored).to_string();
        assert!(!shown.contains("$y$j9T"), "{shown}");
        assert!(!shown.contains("$6$salt"), "{shown}");
        assert!(
            shown.contains("alice:<redacted>:19000:0:99999:7:::"),
            "{shown}"
        );
        assert!(shown.contains("bob:!<redacted>:19000"), "{shown}");
        assert!(shown.contains("\"username\":\"alice\""), "{shown}");
    }
}
