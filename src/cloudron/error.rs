//! What can go wrong when talking to a Cloudron, as one typed enum.
//!
//! Each variant says what failed, where, and what the operator should do next, and knows
//! whether it is transient ([`CloudronError::is_transient`]), which is what the retry policy and
//! health checks ask. Messages carry the server's own `message` text. They must never contain
//! the API token: nothing here is built from request headers.
//!
//! Exit codes (command contract): every variant maps to 1 (failed), except the configuration
//! problems ([`CloudronError::Config`], [`CloudronError::NoToken`]), which map to 2.
//! An APP argument that matches no app, or several, is a usage error (2): that decision lives
//! in `resolve.rs`, because a 404 from the server for an id it listed a moment ago is a
//! failure (1), not a typo.

use std::time::Duration;

/// The outcome of one Cloudron operation that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CloudronError {
    /// The `[cloudron]` configuration cannot be used (bad URL, unreadable CA file...).
    #[error("{0}")]
    Config(String),

    /// An authenticated route was called but no token is configured.
    #[error(
        "no Cloudron API token is configured for {url}: put one in the file named by \
         [cloudron] token_file, or in the environment variable MATELOT_CLOUDRON_TOKEN \
         (create it in the Cloudron dashboard: Profile > API Tokens, Read and Write)"
    )]
    NoToken { url: String },

    /// 401: the token is missing, wrong or expired.
    #[error(
        "the Cloudron at {url} rejected the API token ({status}: {message}); the token came \
         from {origin}: create a new one in the dashboard (Profile > API Tokens, Read and \
         Write) and put it there"
    )]
    Auth {
        url: String,
        status: u16,
        message: String,
        origin: String,
    },

    /// 403: the token is valid but its owner (or the token kind) may not do this.
    #[error(
        "the Cloudron refused {action} (403: {message}): the token needs an admin (or user \
         manager) owner and must be a Read and Write token"
    )]
    Forbidden { action: String, message: String },

    /// 404 on a route that names a thing (app, task, backup, user, group).
    #[error("{what} not found on the Cloudron (404: {message})")]
    NotFound { what: String, message: String },

    /// 409: the target is busy with another task, or the operation conflicts with its state.
    #[error(
        "the Cloudron refused {action} because of a conflict (409: {message}); if another \
         task is running (an app in a pending_* state, a backup in progress), wait for it \
         and try again"
    )]
    Busy { action: String, message: String },

    /// 400, 405, 412, 422 and other 4xx: the request was not acceptable.
    #[error("the Cloudron rejected {action} ({status}: {message})")]
    BadRequest {
        action: String,
        status: u16,
        message: String,
    },

    /// 429 or 5xx (and 424, an external failure such as backup storage).
    #[error("the Cloudron failed {action} ({status}: {message}){}", server_hint(*.status))]
    Server {
        action: String,
        status: u16,
        message: String,
    },

    /// The server answered with a redirect; API routes never do, so the URL is wrong.
    #[error(
        "the Cloudron at {url} answered {action} with a redirect ({status}) to {location}: set \
         [cloudron] url to the dashboard address (https://my.DOMAIN), not an app or a proxy"
    )]
    Redirect {
        url: String,
        action: String,
        status: u16,
        location: String,
    },

    /// The request never got a complete HTTP answer: DNS, connection, TLS, reset.
    #[error("cannot reach the Cloudron at {url} ({action}): {detail}{}", transport_hint(.kind))]
    Transport {
        url: String,
        action: String,
        kind: TransportKind,
        detail: String,
    },

    /// The HTTP exchange did not finish within the request timeout.
    #[error(
        "the Cloudron at {url} did not answer {action} within {}: it may be overloaded or \
         unreachable; raise [cloudron] request_timeout or try again later",
        humantime::format_duration(*.after)
    )]
    Timeout {
        url: String,
        action: String,
        after: Duration,
    },

    /// A 2xx answer whose body is not what the API documents.
    #[error("unexpected answer from the Cloudron to {action}: {detail}")]
    Protocol { action: String, detail: String },

    /// A task ended without success.
    #[error("Cloudron task {task_id} ({what}) failed: {message}")]
    TaskFailed {
        task_id: String,
        what: String,
        message: String,
        /// `stopped`, `crashed`, `timeout`... when the server says.
        code: Option<String>,
    },

    /// A task did not finish within the configured task timeout.
    #[error(
        "Cloudron task {task_id} ({what}) did not finish within {} (last report: {last}); it \
         may still be running on the server: check the dashboard, or raise [cloudron] \
         task_timeout",
        humantime::format_duration(*.after)
    )]
    TaskTimeout {
        task_id: String,
        what: String,
        after: Duration,
        last: String,
    },

    /// The operation reported success but its result could not be confirmed.
    #[error("{0}")]
    Unverified(String),

    /// An earlier request of this run was refused for its credentials (401 or 403): nothing
    /// more is sent to this Cloudron in this run.
    #[error(
        "no request sent to the Cloudron at {url}: it refused this run's token earlier ({first}); \
         nothing more is asked of it in this run"
    )]
    AuthStopped { url: String, first: String },
}

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Name resolution or TCP connection failed.
    Connect,
    /// The TLS handshake failed (certificate not trusted, wrong name...).
    Tls,
    /// The connection was closed or reset while the request was in flight.
    Interrupted,
}

fn transport_hint(kind: &TransportKind) -> &'static str {
    match kind {
        TransportKind::Connect => "; check [cloudron] url and that the server is up",
        TransportKind::Tls => {
            "; the certificate is not trusted: if the Cloudron uses a private CA, set \
             [cloudron] ca_file to its PEM file (verification is never turned off)"
        }
        TransportKind::Interrupted => {
            "; the connection was cut before an answer arrived: for an operation that \
             changes something, check its effect (matelot app show, backup list) before \
             running it again"
        }
    }
}

fn server_hint(status: u16) -> &'static str {
    match status {
        429 => "; the server asks to slow down: try again in a minute",
        503 => "; the Cloudron may be updating or restarting: try again in a few minutes",
        502 | 504 => "; a proxy in front of the Cloudron could not reach it: try again later",
        424 => {
            "; an external service failed (backup storage?): check the Cloudron's backup settings"
        }
        _ => "; see the Cloudron's logs (System > Logs) for the cause",
    }
}

impl CloudronError {
    /// True when trying again later may succeed without anyone changing anything:
    /// transport failures (but not TLS verification), timeouts, 429, 502/503/504 and 409
    /// (busy).
    pub fn is_transient(&self) -> bool {
        match self {
            // An untrusted certificate stays untrusted: only a configuration change helps.
            CloudronError::Transport { kind, .. } => *kind != TransportKind::Tls,
            CloudronError::Timeout { .. } => true,
            CloudronError::Busy { .. } => true,
            // 500 too: a live Cloudron answers 500 to a read now and then (a database
            // hiccup, a restarting service); a GET asked again is harmless.
            CloudronError::Server { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// True when the retry policy may repeat an idempotent request (GET, task polling) after
    /// this error. Busy (409) is transient but is never retried automatically: it means a task
    /// is running, which is for the operator to wait for.
    pub fn is_retryable(&self) -> bool {
        self.is_transient() && !matches!(self, CloudronError::Busy { .. })
    }

    /// The process exit code this error maps to (command contract).
    pub fn exit_code(&self) -> u8 {
        match self {
            CloudronError::Config(_) | CloudronError::NoToken { .. } => crate::error::exit::USAGE,
            _ => crate::error::exit::FAILED,
        }
    }
}

impl From<CloudronError> for crate::error::Error {
    fn from(e: CloudronError) -> Self {
        match e.exit_code() {
            crate::error::exit::USAGE => crate::error::Error::Config(vec![e.to_string()]),
            _ => crate::error::Error::Other(anyhow::Error::new(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(status: u16) -> CloudronError {
        CloudronError::Server {
            action: "GET /api/v1/apps".into(),
            status,
            message: "x".into(),
        }
    }

    #[test]
    fn transient_and_retryable_follow_the_policy() {
        let transport = CloudronError::Transport {
            url: "https://my.example.org".into(),
            action: "GET /api/v1/apps".into(),
            kind: TransportKind::Interrupted,
            detail: "connection reset".into(),
        };
        let busy = CloudronError::Busy {
            action: "POST /api/v1/apps/x/backup".into(),
            message: "app busy".into(),
        };
        let cases: Vec<(CloudronError, bool, bool)> = vec![
            (server(500), true, true),
            (server(501), false, false),
            (server(424), false, false),
            (server(429), true, true),
            (server(502), true, true),
            (server(503), true, true),
            (server(504), true, true),
            (transport, true, true),
            (
                CloudronError::Transport {
                    url: "https://my.example.org".into(),
                    action: "GET /api/v1/apps".into(),
                    kind: TransportKind::Tls,
                    detail: "invalid peer certificate: UnknownIssuer".into(),
                },
                false,
                false,
            ),
            (busy, true, false),
            (CloudronError::Unverified("x".into()), false, false),
        ];
        for (e, transient, retryable) in cases {
            assert_eq!(e.is_transient(), transient, "{e}");
            assert_eq!(e.is_retryable(), retryable, "{e}");
        }
    }

    #[test]
    fn exit_codes_separate_configuration_from_failure() {
        let cfg: crate::error::Error = CloudronError::Config("bad url".into()).into();
        assert_eq!(cfg.exit_code(), 2);
        let no_token: crate::error::Error = CloudronError::NoToken {
            url: "https://my.example.org".into(),
        }
        .into();
        assert_eq!(no_token.exit_code(), 2);
        let failed: crate::error::Error = server(500).into();
        assert_eq!(failed.exit_code(), 1);
    }

    #[test]
    fn auth_error_names_the_origin_and_what_to_do() {
        let e = CloudronError::Auth {
            url: "https://my.example.org".into(),
            status: 401,
            message: "No such token".into(),
            origin: "env MATELOT_CLOUDRON_TOKEN".into(),
        };
        assert_eq!(
            e.to_string(),
            "the Cloudron at https://my.example.org rejected the API token (401: No such \
             token); the token came from env MATELOT_CLOUDRON_TOKEN: create a new one in the \
             dashboard (Profile > API Tokens, Read and Write) and put it there"
        );
    }

    #[test]
    fn server_error_carries_the_message_and_a_hint() {
        assert_eq!(
            server(503).to_string(),
            "the Cloudron failed GET /api/v1/apps (503: x); the Cloudron may be updating or \
             restarting: try again in a few minutes"
        );
    }
}
