//! Middleware: token authentication (header `Authorization: Bearer` or `?access_token=`), the
//! fault injector and the request log that wrap every request, and the [`Caller`] extractor
//! that hands a handler the client's address and any task fault.
//!
//! Control requests (`/__lab/...`) are neither faulted nor logged, so a test can always
//! clean up and read the log without disturbing it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::faults::{Effect, TaskFault};
use super::http::{ApiError, query};
use super::server::{ConnKill, PeerAddr};
use super::state::Shared;

/// The token a request carries: the header wins over the query parameter, as in box.
fn token_of(req: &Request) -> Option<String> {
    let from_header = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, cred) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| cred.trim().to_string())
        });
    from_header.or_else(|| query(req.uri()).remove("access_token"))
}

/// Reject requests without the right token.
pub async fn require_token(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    match token_of(&req) {
        None => ApiError::unauthorized("Token required").into_response(),
        Some(t) if t.is_empty() => ApiError::unauthorized("Token required").into_response(),
        Some(t) if !same(&t, &shared.read().token.0) => {
            ApiError::unauthorized("No such token").into_response()
        }
        Some(_) => next.run(req).await,
    }
}

/// Compare without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Faults and the request log, around everything.
pub async fn lab_layer(
    State(shared): State<Arc<Shared>>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    if path == "/__lab" || path.starts_with("/__lab/") {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    let start = Instant::now();
    let effect = shared.faults().hit(&method, &path);
    let response = match effect {
        Some(Effect::Http500) => injected(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
        Some(Effect::Http503) => injected(axum::http::StatusCode::SERVICE_UNAVAILABLE),
        Some(Effect::DropConnection) => {
            shared.record(&method, &path, None, start.elapsed());
            log_line(&shared, &method, &path, None, start.elapsed());
            if let Some(kill) = req.extensions().get::<ConnKill>() {
                kill.0.notify_one();
            }
            // The connection task drops this request together with the connection.
            return std::future::pending::<Response>().await;
        }
        Some(Effect::DelayMs(ms)) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Some(Effect::TaskError) => {
            req.extensions_mut().insert(TaskFault::Error);
            next.run(req).await
        }
        Some(Effect::TaskStall) => {
            req.extensions_mut().insert(TaskFault::Stall);
            next.run(req).await
        }
        Some(Effect::BackupUnlisted) => {
            req.extensions_mut().insert(TaskFault::Unlisted);
            next.run(req).await
        }
        None => next.run(req).await,
    };
    let status = Some(response.status().as_u16());
    shared.record(&method, &path, status, start.elapsed());
    log_line(&shared, &method, &path, status, start.elapsed());
    response
}

fn injected(status: axum::http::StatusCode) -> Response {
    ApiError::new(
        status,
        format!("Injected by the lab (fault http_{})", status.as_u16()),
    )
    .into_response()
}

fn log_line(shared: &Shared, method: &str, path: &str, status: Option<u16>, took: Duration) {
    if shared.log_requests {
        let status = status.map_or_else(|| "dropped".to_string(), |s| s.to_string());
        eprintln!(
            "{} {method} {path} {status} {}ms",
            super::http::now_iso(),
            took.as_millis()
        );
    }
}

/// Who is calling and whether the task they start must misbehave.
pub struct Caller {
    pub ip: String,
    pub fault: Option<TaskFault>,
}

impl Caller {
    /// The eventlog `source` of an action by the owner from this caller.
    pub fn source(&self, owner_id: &str) -> Value {
        json!({"username": "admin", "userId": owner_id, "ip": self.ip})
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Caller {
            ip: parts
                .extensions
                .get::<PeerAddr>()
                .map(|p| p.0.ip().to_string())
                .unwrap_or_default(),
            fault: parts.extensions.get::<TaskFault>().copied(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str, auth: Option<&str>) -> Request {
        let mut b = axum::http::Request::builder().uri(uri);
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        match b.body(axum::body::Body::empty()) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn token_from_header_or_query_header_first() {
        assert_eq!(
            token_of(&req("/a", Some("Bearer abc"))).as_deref(),
            Some("abc")
        );
        assert_eq!(
            token_of(&req("/a", Some("bearer  abc "))).as_deref(),
            Some("abc")
        );
        assert_eq!(
            token_of(&req("/a?access_token=q", None)).as_deref(),
            Some("q")
        );
        assert_eq!(
            token_of(&req("/a?access_token=q", Some("Bearer h"))).as_deref(),
            Some("h")
        );
        assert_eq!(token_of(&req("/a", Some("Basic x"))), None);
        assert_eq!(token_of(&req("/a", None)), None);
    }

    #[test]
    fn same_compares_whole_strings() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
