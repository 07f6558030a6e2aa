//! The HTTP core of the Cloudron client: one verified TLS connection pool, bearer auth,
//! timeouts, and the retry rule.
//!
//! The retry rule is decided here and nowhere else: a GET (reading, and task polling) is
//! retried with backoff on transient failures (transport errors, timeouts, 429, 500, 502, 503,
//! 504); any other method is sent exactly once, whatever happens, because a POST that starts a
//! backup, a restore or an uninstall must never run twice behind the operator's back. The
//! first 401 or 403 of a run stops every further request to this Cloudron (shared by every
//! clone of the client): a run that lost its credentials does not go on sending.
//! The token is a [`SecretString`]: it is exposed only to build the `Authorization` header and
//! never appears in `Debug`, in traces or in error messages. Route methods live in the sibling
//! files (`apps.rs`, `backups.rs`, `users.rs`, `system.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderValue, LOCATION, RETRY_AFTER};
use secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::CloudronError;
use super::retry::{PollPolicy, RetryPolicy};
use super::wire::{self, Context};
use crate::config::CloudronConfig;

/// One request/attempt as seen by a trace hook (for `-v`): never includes the token.
#[derive(Debug, Clone)]
pub struct Trace {
    pub action: String,
    pub attempt: u32,
    /// The HTTP status, or `None` when no answer came.
    pub status: Option<u16>,
    pub elapsed: Duration,
    /// Set when the request will be tried again after this delay.
    pub retry_in: Option<Duration>,
}

impl std::fmt::Display for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self
            .status
            .map_or_else(|| "no answer".to_string(), |s| s.to_string());
        write!(
            f,
            "{} -> {status} in {} ms",
            self.action,
            self.elapsed.as_millis()
        )?;
        if self.attempt > 1 {
            write!(f, " (attempt {})", self.attempt)?;
        }
        if let Some(d) = self.retry_in {
            write!(f, "; retrying in {} ms", d.as_millis())?;
        }
        Ok(())
    }
}

type TraceHook = Arc<dyn Fn(&Trace) + Send + Sync>;

/// A connection to one Cloudron. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<SecretString>,
    token_origin: String,
    request_timeout: Duration,
    pub(crate) task_timeout: Duration,
    retry: RetryPolicy,
    pub(crate) poll: PollPolicy,
    pub(crate) page_size: u32,
    trace: Option<TraceHook>,
    /// Set by the first 401/403 of a run (shared by every clone): from then on nothing is
    /// sent to this Cloudron, so a run that lost its credentials stops at once.
    auth_refused: Arc<std::sync::Mutex<Option<String>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.base.as_str())
            .field(
                "token",
                &self
                    .token
                    .as_ref()
                    .map(|_| "<redacted>")
                    .unwrap_or("<none>"),
            )
            .field("token_origin", &self.token_origin)
            .field("retry", &self.retry)
            .finish()
    }
}

/// A request before it is sent.
pub(crate) struct Request<'a> {
    pub method: Method,
    pub path: &'a [&'a str],
    pub query: &'a [(&'a str, String)],
    pub body: Option<serde_json::Value>,
    /// What a 404 on this route means (`app ID`).
    pub what: &'a str,
    /// Public routes (`/cloudron/status`) need no token.
    pub auth: bool,
}

impl<'a> Request<'a> {
    pub fn get(path: &'a [&'a str], what: &'a str) -> Self {
        Request {
            method: Method::GET,
            path,
            query: &[],
            body: None,
            what,
            auth: true,
        }
    }

    pub fn with_body(
        method: Method,
        path: &'a [&'a str],
        what: &'a str,
        body: impl Serialize,
    ) -> Self {
        Request {
            method,
            path,
            query: &[],
            // Serializing plain request structs into a Value cannot fail; fall back to `{}`.
            body: Some(serde_json::to_value(body).unwrap_or_else(|_| serde_json::json!({}))),
            what,
            auth: true,
        }
    }
}

impl Client {
    /// A client for the configured Cloudron. Fails on an unusable URL or CA file; never
    /// contacts the server.
    pub fn new(cfg: &CloudronConfig) -> Result<Client, CloudronError> {
        let base = super::base_url::normalise_base(&cfg.url)?;
        let tls = super::tls::client_config(cfg.ca_file.as_deref())?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .https_only(base.scheme() == "https")
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("matelot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                CloudronError::Config(format!(
                    "cannot set up the HTTP client: {}",
                    wire::deepest_cause(&e)
                ))
            })?;
        let (token, token_origin) = match &cfg.token {
            Some(s) => (Some(s.value.clone()), s.origin.to_string()),
            None => (None, "nowhere (no token is configured)".to_string()),
        };
        Ok(Client {
            http,
            base,
            token,
            token_origin,
            request_timeout: cfg.request_timeout,
            task_timeout: cfg.task_timeout,
            retry: RetryPolicy::default(),
            poll: PollPolicy::default(),
            page_size: 500,
            trace: None,
            auth_refused: Arc::new(std::sync::Mutex::new(None)),
        })
    }

    /// Replace the retry policy (tests and benchmarks shorten it).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replace the task polling cadence.
    pub fn with_poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// Items asked per page on paged lists (users, backups). At least 1.
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// Call `hook` after every attempt (for `-v` output).
    pub fn with_trace(mut self, hook: impl Fn(&Trace) + Send + Sync + 'static) -> Self {
        self.trace = Some(Arc::new(hook));
        self
    }

    /// The Cloudron's base URL (without `/api/v1`).
    pub fn url(&self) -> &Url {
        &self.base
    }

    /// How long task waits last by default (`[cloudron] task_timeout`).
    pub fn task_timeout(&self) -> Duration {
        self.task_timeout
    }

    fn endpoint(&self, path: &[&str], query: &[(&str, String)]) -> Result<Url, CloudronError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| CloudronError::Config(format!("{} cannot be a base URL", self.base)))?
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(path);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    /// Send a request (retrying GETs on transient failures) and return the 2xx body.
    pub(crate) async fn send(
        &self,
        req: &Request<'_>,
    ) -> Result<hyper::body::Bytes, CloudronError> {
        let url = self.endpoint(req.path, req.query)?;
        let action = format!("{} {}", req.method, url.path());
        let base = self.base.as_str().trim_end_matches('/');
        let ctx = Context {
            url: base,
            action: &action,
            what: req.what,
            token_origin: &self.token_origin,
        };
        if let Some(first) = self.refused_before() {
            return Err(CloudronError::AuthStopped {
                url: base.to_string(),
                first,
            });
        }
        let auth = match (&self.token, req.auth) {
            (_, false) => None,
            (Some(t), true) => Some(super::base_url::bearer(t)?),
            (None, true) => {
                return Err(CloudronError::NoToken {
                    url: base.to_string(),
                });
            }
        };
        let attempts = if req.method == Method::GET {
            self.retry.attempts.max(1)
        } else {
            1
        };
        let mut attempt = 1;
        loop {
            let started = Instant::now();
            let (result, status, retry_after) = self.attempt(&ctx, req, &url, auth.clone()).await;
            let retry_in = match &result {
                Err(e) if attempt < attempts && e.is_retryable() => Some(self.retry.delay(
                    attempt,
                    rand::random::<f64>(),
                    retry_after,
                )),
                _ => None,
            };
            if let Some(hook) = &self.trace {
                hook(&Trace {
                    action: action.clone(),
                    attempt,
                    status,
                    elapsed: started.elapsed(),
                    retry_in,
                });
            }
            if let Err(e @ (CloudronError::Auth { .. } | CloudronError::Forbidden { .. })) = &result
                && let Ok(mut refused) = self.auth_refused.lock()
                && refused.is_none()
            {
                *refused = Some(e.to_string());
            }
            match retry_in {
                Some(d) => {
                    tokio::time::sleep(d).await;
                    attempt += 1;
                }
                None => return result,
            }
        }
    }

    /// The first credential refusal of this run, if there was one.
    fn refused_before(&self) -> Option<String> {
        self.auth_refused.lock().ok().and_then(|r| r.clone())
    }

    /// One attempt: the body of a 2xx, or the typed error; plus the status and `Retry-After`.
    async fn attempt(
        &self,
        ctx: &Context<'_>,
        req: &Request<'_>,
        url: &Url,
        auth: Option<HeaderValue>,
    ) -> (
        Result<hyper::body::Bytes, CloudronError>,
        Option<u16>,
        Option<Duration>,
    ) {
        let mut builder = self.http.request(req.method.clone(), url.clone());
        if let Some(h) = auth {
            builder = builder.header(AUTHORIZATION, h);
        }
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        let resp = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                return (
                    Err(wire::transport_error(ctx, &e, self.request_timeout)),
                    None,
                    None,
                );
            }
        };
        let status = resp.status().as_u16();
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let location = header(LOCATION);
        let retry_after = header(RETRY_AFTER)
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                let err = wire::transport_error(ctx, &e, self.request_timeout);
                return (Err(err), Some(status), retry_after);
            }
        };
        let result = if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(wire::status_error(ctx, status, &body, location.as_deref()))
        };
        (result, Some(status), retry_after)
    }

    /// Send and decode a JSON answer.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        req: &Request<'_>,
    ) -> Result<T, CloudronError> {
        let body = self.send(req).await?;
        decode(req, &body)
    }

    /// Send a request with a JSON body (sent once unless it is a GET) and decode the answer.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &[&str],
        what: &str,
        body: impl Serialize,
    ) -> Result<T, CloudronError> {
        self.json(&Request::with_body(method, path, what, body))
            .await
    }

    /// Send a request with a JSON body and ignore the answer's body.
    pub(crate) async fn call_no_content(
        &self,
        method: Method,
        path: &[&str],
        what: &str,
        body: impl Serialize,
    ) -> Result<(), CloudronError> {
        self.no_content(&Request::with_body(method, path, what, body))
            .await
    }

    /// Send and ignore the answer's body (204, `{}`, or anything else on 2xx).
    pub(crate) async fn no_content(&self, req: &Request<'_>) -> Result<(), CloudronError> {
        self.send(req).await.map(|_| ())
    }
}

fn decode<T: DeserializeOwned>(req: &Request<'_>, body: &[u8]) -> Result<T, CloudronError> {
    serde_json::from_slice(body).map_err(|e| CloudronError::Protocol {
        action: format!("{} {}", req.method, req.path.join("/")),
        detail: format!(
            "the answer is not the documented JSON ({e}): {}",
            wire::server_message(200, body)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudron::base_url::bearer;

    #[test]
    fn endpoints_escape_ids() {
        let cfg = CloudronConfig {
            url: Url::parse("https://my.example.org/api/v1").expect("url"),
            token: None,
            ca_file: None,
            protect: vec![],
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
            task_timeout: Duration::from_secs(1),
        };
        let c = Client::new(&cfg).expect("client");
        let u = c
            .endpoint(&["apps", "../x y", "backups"], &[("page", "2".into())])
            .expect("url");
        assert_eq!(
            u.as_str(),
            "https://my.example.org/api/v1/apps/..%2Fx%20y/backups?page=2"
        );
        let dbg = format!("{c:?}");
        assert!(dbg.contains("<none>"), "{dbg}");
    }

    #[test]
    fn the_token_is_redacted_from_debug() {
        let cfg = CloudronConfig {
            url: Url::parse("https://my.example.org").expect("url"),
            token: Some(crate::config::Secret {
                value: SecretString::from("s3cr3t-token"),
                origin: crate::config::Origin::Env {
                    var: "MATELOT_CLOUDRON_TOKEN".into(),
                },
            }),
            ca_file: None,
            protect: vec![],
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
            task_timeout: Duration::from_secs(1),
        };
        let c = Client::new(&cfg).expect("client");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cr3t"), "{dbg}");
        assert!(dbg.contains("<redacted>"), "{dbg}");
        let h = bearer(&SecretString::from("abc\n")).expect("header");
        assert!(h.is_sensitive());
        assert!(bearer(&SecretString::from("a\nb")).is_err());
    }
}
