//! Checks of single values of the configuration that need more than a type: the Cloudron
//! URL, compute host names and addresses, Unix user names. Each returns the message to print
//! after `KEY: `.
//!
//! Pure functions with table tests. They never echo a value that could hold a secret (a URL
//! with a password in it is refused without being repeated).

use std::net::IpAddr;

/// The Cloudron's address: https (http only for a loopback host), no credentials, no path
/// (a trailing `/api/v1` is tolerated and removed); a bare host name means https.
pub fn parse_cloudron_url(raw: &str) -> Result<url::Url, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    let full = if s.contains("://") {
        s.to_string()
    } else {
        format!("https://{s}")
    };
    let mut url = url::Url::parse(&full).map_err(|e| format!("not a valid URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not contain a user name or password; the token goes in token_file or \
                    MATELOT_CLOUDRON_TOKEN"
                .into(),
        );
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        None => return Err("has no host name".into()),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(
                "http:// is only allowed for a loopback host (127.0.0.1, ::1, \
                        localhost); use https://"
                    .into(),
            );
        }
        other => return Err(format!("unsupported scheme {other}://; use https://")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query (?...) or fragment (#...)".into());
    }
    let path = url.path().trim_end_matches('/');
    let path = path.strip_suffix("/api/v1").unwrap_or(path);
    if !path.is_empty() {
        return Err(format!(
            "must be the Cloudron's address without a path (found {path}), \
             e.g. https://my.example.org"
        ));
    }
    url.set_path("/");
    Ok(url)
}

/// A compute host's name in the configuration (`[compute.NAME]`), used on the command line.
pub fn check_host_name(name: &str) -> Result<(), String> {
    let ok_start = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok_start && ok_chars {
        Ok(())
    } else {
        Err(
            "a host name in [compute.NAME] uses letters, digits, '-', '_' and '.', \
             starting with a letter or digit"
                .into(),
        )
    }
}

/// A host name or IP address to connect to (never starting with '-': it reaches ssh's argv).
pub fn check_host(host: &str) -> Result<(), String> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if bare.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let labels_ok = bare.split('.').all(|l| {
        !l.is_empty()
            && !l.starts_with('-')
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    if labels_ok && bare.len() <= 253 {
        Ok(())
    } else {
        Err("not a host name or IP address".into())
    }
}

/// A Unix account name to log in as.
pub fn check_user(user: &str) -> Result<(), String> {
    let mut chars = user.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = user
        .trim_end_matches('$')
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'));
    if first_ok && rest_ok && user.len() <= 32 {
        Ok(())
    } else {
        Err("not a valid Unix user name (lowercase letters, digits, '_', '-', '.')".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudron_urls_are_normalised() {
        let ok = [
            ("https://my.example.org", "https://my.example.org/"),
            ("my.example.org", "https://my.example.org/"),
            ("https://my.example.org/api/v1", "https://my.example.org/"),
            ("http://127.0.0.1:8443/", "http://127.0.0.1:8443/"),
            ("http://[::1]:80", "http://[::1]/"),
            ("http://localhost:3000", "http://localhost:3000/"),
        ];
        for (raw, want) in ok {
            assert_eq!(
                parse_cloudron_url(raw).map(|u| u.to_string()),
                Ok(want.into())
            );
        }
        for bad in [
            "http://10.0.0.1",
            "https://a/b",
            "https://a/#x",
            "mailto:x@y",
        ] {
            assert!(parse_cloudron_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hosts_and_users_are_checked() {
        for ok in [
            "calcul",
            "calcul.example.org",
            "10.0.0.1",
            "::1",
            "[::1]",
            "a-b_c",
        ] {
            assert_eq!(check_host(ok), Ok(()), "{ok}");
        }
        for bad in ["", "-oProxyCommand", "a b", "a..b", "a;b", "x/y"] {
            assert!(check_host(bad).is_err(), "{bad:?}");
        }
        for ok in ["root", "admin", "_svc", "ada.l", "web-1", "machine$"] {
            assert_eq!(check_user(ok), Ok(()), "{ok}");
        }
        for bad in ["", "Root", "1ada", "a b", "-x", &"a".repeat(33)] {
            assert!(check_user(bad).is_err(), "{bad:?}");
        }
    }
}
