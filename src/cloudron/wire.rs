//! Turning what came back over the wire into typed errors: an HTTP status and body into a
//! [`CloudronError`] carrying the server's `message`, and a reqwest failure into a transport
//! error that says what happened without repeating reqwest's wording.
//!
//! Pure functions over status codes, bytes and error chains, so every mapping is unit-tested.
//! Nothing here sees request headers, so the token cannot leak into a message.

use std::error::Error as StdError;
use std::time::Duration;

use super::error::{CloudronError, TransportKind};

/// What a request was about, for error messages.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The Cloudron's base URL as configured.
    pub url: &'a str,
    /// `GET /api/v1/apps/ID`.
    pub action: &'a str,
    /// What a 404 means: `app 9f9f...`, `task 12`, ...
    pub what: &'a str,
    /// Where the token came from, for 401 messages.
    pub token_origin: &'a str,
}

/// The error for a non-2xx answer.
pub fn status_error(
    ctx: &Context<'_>,
    status: u16,
    body: &[u8],
    location: Option<&str>,
) -> CloudronError {
    let message = server_message(status, body);
    let action = ctx.action.to_string();
    match status {
        300..=399 => CloudronError::Redirect {
            url: ctx.url.to_string(),
            action,
            status,
            location: location.unwrap_or("(no Location header)").to_string(),
        },
        401 => CloudronError::Auth {
            url: ctx.url.to_string(),
            status,
            message,
            origin: ctx.token_origin.to_string(),
        },
        403 => CloudronError::Forbidden { action, message },
        404 if is_missing_route(body) => CloudronError::BadRequest {
            action,
            status,
            message: format!(
                "{message}; this Cloudron does not offer this route: check that [cloudron] url \
                 is the dashboard address and that the Cloudron runs version 8.2 or later"
            ),
        },
        404 => CloudronError::NotFound {
            what: ctx.what.to_string(),
            message,
        },
        409 => CloudronError::Busy { action, message },
        424 | 429 | 500..=599 => CloudronError::Server {
            action,
            status,
            message,
        },
        _ => CloudronError::BadRequest {
            action,
            status,
            message,
        },
    }
}

/// The server's `message` from a `{status, message}` body, or a short, single-line excerpt of
/// whatever else came back, or the reason phrase when the body is empty.
pub fn server_message(status: u16, body: &[u8]) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(m) = map.get("message").and_then(|m| m.as_str())
            && !m.trim().is_empty()
        {
            return m.trim().to_string();
        }
        return excerpt(&serde_json::Value::Object(map).to_string());
    }
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        return reason(status).to_string();
    }
    if text.trim_start().starts_with('<') {
        return format!(
            "{} (an HTML page, not the Cloudron API: is a proxy or another site answering?)",
            reason(status)
        );
    }
    excerpt(&text)
}

/// A 404 from the router rather than from a handler: no JSON error, or "No such route".
fn is_missing_route(body: &[u8]) -> bool {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => v
            .get("message")
            .and_then(|m| m.as_str())
            .is_some_and(|m| m.eq_ignore_ascii_case("no such route")),
        Err(_) => true,
    }
}

fn excerpt(text: &str) -> String {
    const MAX: usize = 200;
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX {
        one_line
    } else {
        let cut: String = one_line.chars().take(MAX).collect();
        format!("{cut}...")
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        412 => "Precondition Failed",
        422 => "Unprocessable Entity",
        424 => "Failed Dependency",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "no message",
    }
}

/// The error for a request that got no (complete) HTTP answer.
pub fn transport_error(
    ctx: &Context<'_>,
    err: &reqwest::Error,
    request_timeout: Duration,
) -> CloudronError {
    let tls = chain_has_tls_error(err);
    if err.is_timeout() && !err.is_connect() {
        return CloudronError::Timeout {
            url: ctx.url.to_string(),
            action: ctx.action.to_string(),
            after: request_timeout,
        };
    }
    let kind = if tls {
        TransportKind::Tls
    } else if err.is_connect() {
        TransportKind::Connect
    } else {
        TransportKind::Interrupted
    };
    CloudronError::Transport {
        url: ctx.url.to_string(),
        action: ctx.action.to_string(),
        kind,
        detail: deepest_cause(err),
    }
}

/// The innermost message of an error chain: the concrete cause ("Connection refused (os error
/// 111)", "invalid peer certificate: UnknownIssuer") without the wrappers' wording.
pub fn deepest_cause(err: &(dyn StdError + 'static)) -> String {
    let mut last = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !s.trim().is_empty() {
            last = s;
        }
        cur = e.source();
    }
    last
}

fn chain_has_tls_error(err: &(dyn StdError + 'static)) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        // tokio-rustls wraps the rustls error in an io::Error, which hyper wraps in another:
        // io::Error::source() skips the payload, so look inside each layer.
        let mut io = e.downcast_ref::<std::io::Error>();
        while let Some(inner) = io.and_then(|i| i.get_ref()) {
            if inner.downcast_ref::<rustls::Error>().is_some() {
                return true;
            }
            io = inner.downcast_ref::<std::io::Error>();
        }
        cur = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context<'static> {
        Context {
            url: "https://my.example.org",
            action: "POST /api/v1/apps/9f9f/backup",
            what: "app 9f9f",
            token_origin: "/etc/matelot/cloudron.token",
        }
    }

    #[test]
    fn statuses_map_to_typed_errors_with_the_server_message() {
        let cases: Vec<(u16, &str, &str)> = vec![
            (
                401,
                r#"{"status":"Unauthorized","message":"No such token"}"#,
                "the Cloudron at https://my.example.org rejected the API token (401: No such \
                 token); the token came from /etc/matelot/cloudron.token: create a new one in \
                 the dashboard (Profile > API Tokens, Read and Write) and put it there",
            ),
            (
                404,
                r#"{"status":"Not Found","message":"App not found"}"#,
                "app 9f9f not found on the Cloudron (404: App not found)",
            ),
            (
                409,
                r#"{"status":"Conflict","message":"App is busy"}"#,
                "the Cloudron refused POST /api/v1/apps/9f9f/backup because of a conflict \
                 (409: App is busy); if another task is running (an app in a pending_* state, \
                 a backup in progress), wait for it and try again",
            ),
            (
                500,
                r#"{"status":"Internal Server Error","message":"disk full","details":1}"#,
                "the Cloudron failed POST /api/v1/apps/9f9f/backup (500: disk full); see the \
                 Cloudron's logs (System > Logs) for the cause",
            ),
            (
                400,
                r#"{"status":"Bad Request","message":"domain is required"}"#,
                "the Cloudron rejected POST /api/v1/apps/9f9f/backup (400: domain is required)",
            ),
        ];
        for (status, body, want) in cases {
            let e = status_error(&ctx(), status, body.as_bytes(), None);
            assert_eq!(e.to_string(), want, "{status}");
        }
    }

    #[test]
    fn odd_bodies_still_give_a_useful_message() {
        let cases: Vec<(u16, &[u8], &str)> = vec![
            (503, b"", "Service Unavailable"),
            (502, b"upstream\n  connect error", "upstream connect error"),
            (
                404,
                b"<html><body>nginx</body></html>",
                "Not Found (an HTML page, not the Cloudron API: is a proxy or another site answering?)",
            ),
            (500, br#"{"error":"x"}"#, r#"{"error":"x"}"#),
        ];
        for (status, body, want) in cases {
            assert_eq!(server_message(status, body), want);
        }
        let long = "x".repeat(500);
        assert_eq!(server_message(500, long.as_bytes()).chars().count(), 203);
    }

    #[test]
    fn a_missing_route_is_not_a_missing_app() {
        let e = status_error(
            &ctx(),
            404,
            br#"{"status":"Not Found","message":"No such route"}"#,
            None,
        );
        assert!(
            matches!(e, CloudronError::BadRequest { status: 404, .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("dashboard address"), "{e}");
        let redirect = status_error(&ctx(), 301, b"", Some("https://elsewhere.example.org/"));
        assert!(
            redirect
                .to_string()
                .contains("to https://elsewhere.example.org/"),
            "{redirect}"
        );
    }
}
