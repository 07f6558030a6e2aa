//! HTTP conventions of a Cloudron box, shared by every route: the error body
//! `{"status": "<reason phrase>", "message": "..."}`, JSON bodies that fail to parse (400
//! "Failed to parse body"), `page`/`per_page` validation, query parsing and timestamps.
//!
//! It knows nothing of apps or users; routes build on it.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// Largest request body the emulator reads (apps may post icons).
const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// An error as Cloudron's last-mile middleware sends it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
    pub fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
    pub fn no_such_route() -> Self {
        Self::not_found("No such route")
    }
    pub fn app_not_found() -> Self {
        Self::not_found("App not found")
    }
}

/// The error body for a status and message.
pub fn error_body(status: StatusCode, message: &str) -> Value {
    serde_json::json!({
        "status": status.canonical_reason().unwrap_or("Error"),
        "message": message,
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(error_body(self.status, &self.message))).into_response()
    }
}

/// What every handler returns.
pub type ApiResult = Result<Response, ApiError>;

pub fn ok(body: Value) -> ApiResult {
    Ok((StatusCode::OK, Json(body)).into_response())
}
pub fn created(body: Value) -> ApiResult {
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
pub fn accepted(body: Value) -> ApiResult {
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}
pub fn no_content() -> ApiResult {
    Ok(StatusCode::NO_CONTENT.into_response())
}
/// 200 with `{}`: what box sends for a successful update that has nothing to say.
pub fn ok_empty() -> ApiResult {
    ok(Value::Object(Map::new()))
}

/// A JSON request body; an empty body is `{}`, as with Express's body parser.
pub struct Body(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
            .await
            .map_err(|_| ApiError::bad("Failed to parse body"))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body(Map::new()));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => Ok(Body(m)),
            _ => Err(ApiError::bad("Failed to parse body")),
        }
    }
}

impl Body {
    /// A string field, `None` when absent; 400 `"<name> must be a string"` when of another type.
    pub fn opt_str(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::bad(format!("{name} must be a string"))),
        }
    }
    /// A required string field: 400 `"<name> is required"` when absent or not a string.
    pub fn req_str(&self, name: &str) -> Result<&str, ApiError> {
        match self.0.get(name) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(ApiError::bad(format!("{name} is required"))),
        }
    }
    /// A boolean field, `None` when absent.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::bad(format!("{name} must be a boolean"))),
        }
    }
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// The query string as a map (last value wins).
pub fn query(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// `page` (1-based) and `per_page` (default 25), validated as box does.
pub fn paging(q: &HashMap<String, String>) -> Result<(usize, usize), ApiError> {
    let page = positive(q, "page", 1)?;
    let per_page = positive(q, "per_page", 25)?;
    Ok((page, per_page))
}

fn positive(q: &HashMap<String, String>, name: &str, default: usize) -> Result<usize, ApiError> {
    match q.get(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n > 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
            // (sic) the box's own spelling
            _ => Err(ApiError::bad(format!(
                "{name} query param has to be a postive number"
            ))),
        },
    }
}

/// The items of one page.
pub fn page_of<T: Clone>(items: &[T], page: usize, per_page: usize) -> Vec<T> {
    items
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .cloned()
        .collect()
}

/// Now, as the API writes timestamps: ISO-8601 UTC with milliseconds.
pub fn now_iso() -> String {
    iso(chrono::Utc::now())
}

pub fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Parse an API timestamp (`None` if it is not one).
pub fn parse_iso(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Eight random hex digits, as in backup ids.
pub fn hex8() -> String {
    format!("{:08x}", rand::random::<u32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn paging_defaults_and_validation() {
        assert_eq!(paging(&q(&[])).map_err(|e| e.message).ok(), Some((1, 25)));
        assert_eq!(
            paging(&q(&[("page", "2"), ("per_page", "5")]))
                .map_err(|e| e.message)
                .ok(),
            Some((2, 5))
        );
        for bad in ["0", "-1", "x", ""] {
            let e = paging(&q(&[("page", bad)])).err().map(|e| e.message);
            assert_eq!(
                e.as_deref(),
                Some("page query param has to be a postive number")
            );
        }
        let e = paging(&q(&[("per_page", "0")])).err().map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some("per_page query param has to be a postive number")
        );
    }

    #[test]
    fn page_of_slices() {
        let v: Vec<u32> = (1..=7).collect();
        assert_eq!(page_of(&v, 1, 3), vec![1, 2, 3]);
        assert_eq!(page_of(&v, 3, 3), vec![7]);
        assert!(page_of(&v, 4, 3).is_empty());
    }

    #[test]
    fn error_body_uses_reason_phrase() {
        assert_eq!(
            error_body(StatusCode::NOT_FOUND, "App not found"),
            serde_json::json!({"status": "Not Found", "message": "App not found"})
        );
    }

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let t = chrono::DateTime::parse_from_rfc3339("2025-12-26T21:06:32Z")
            .map(|t| t.with_timezone(&chrono::Utc));
        assert_eq!(t.map(iso).ok().as_deref(), Some("2025-12-26T21:06:32.000Z"));
    }
}
