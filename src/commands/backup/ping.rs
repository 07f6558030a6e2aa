//! `backup run --ping URL`: tell a dead man's switch (healthchecks.io, a self-hosted
//! Healthchecks, Uptime Kuma's push monitor...) how the run went, the way cron users expect:
//! `GET URL` on success, `GET URL/fail` on failure, and with `--ping-start` `GET URL/start`
//! before the run.
//!
//! A ping is a courtesy, never part of the backup: a ping that fails is a warning and never
//! changes the exit code. The URL usually carries a secret token in its path or query, so it
//! is never printed whole: messages show [`redacted`] (scheme, host and port).

use std::time::Duration;

use serde::Serialize;
use url::Url;

use crate::output::Output;

/// How long one ping may take (connect and answer).
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts per ping (a GET is idempotent; a second try rides out a blip).
const ATTEMPTS: u32 = 2;
const PAUSE: Duration = Duration::from_millis(500);

/// Which ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    Start,
    Success,
    Fail,
}

/// A parsed `--ping` URL (http or https). `Debug` shows only the redacted form.
#[derive(Clone)]
pub struct PingUrl(Url);

impl std::fmt::Debug for PingUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PingUrl({})", redacted(&self.0))
    }
}

/// A `--ping` value as typed, before it is checked. Checked by the command rather than by clap,
/// because clap repeats an invalid value in its message and the value may hold a token.
/// `Debug` never shows it.
#[derive(Clone)]
pub struct RawPing(pub String);

impl std::fmt::Debug for RawPing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawPing(…)")
    }
}

impl RawPing {
    /// For clap: take any string (never fails, so nothing is echoed).
    pub fn new(s: &str) -> Result<RawPing, std::convert::Infallible> {
        Ok(RawPing(s.to_string()))
    }

    /// The checked URL, or a usage error (exit 2) that does not repeat the value.
    pub fn check(&self) -> crate::error::Result<PingUrl> {
        parse(&self.0).map_err(|e| crate::error::Error::usage(format!("--ping: {e}")))
    }
}

/// An absolute http(s) URL. The message never repeats the URL (it may hold a token).
pub fn parse(s: &str) -> Result<PingUrl, String> {
    let u = Url::parse(s.trim())
        .map_err(|e| format!("not a URL ({e}); expected e.g. https://hc-ping.com/UUID"))?;
    match u.scheme() {
        "http" | "https" if u.host_str().is_some() => Ok(PingUrl(u)),
        _ => Err("expected an http:// or https:// URL, e.g. https://hc-ping.com/UUID".into()),
    }
}

impl PingUrl {
    /// The URL for `signal`: the URL itself for success, `/start` or `/fail` appended to its
    /// path (the query, if any, is kept).
    pub fn for_signal(&self, signal: Signal) -> Url {
        let mut u = self.0.clone();
        let suffix = match signal {
            Signal::Success => return u,
            Signal::Start => "start",
            Signal::Fail => "fail",
        };
        let path = format!("{}/{suffix}", u.path().trim_end_matches('/'));
        u.set_path(&path);
        u
    }

    /// `https://hc-ping.com/…`: safe to print.
    pub fn redacted(&self) -> String {
        redacted(&self.0)
    }
}

/// Scheme, host and port; the path and query (where tokens live) and any user info elided.
pub fn redacted(u: &Url) -> String {
    let host = u.host_str().unwrap_or("?");
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    let rest = if u.path() == "/" && u.query().is_none() {
        "/"
    } else {
        "/…"
    };
    format!("{}://{host}{port}{rest}", u.scheme())
}

/// What a ping did, for the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct PingReport {
    pub signal: Signal,
    /// The URL, redacted.
    pub url: String,
    pub ok: bool,
    pub error: Option<String>,
}

/// Send one ping; on failure warn on stderr (naming only the redacted URL) and report it.
pub async fn send(out: &Output, url: &PingUrl, signal: Signal) -> PingReport {
    let target = url.for_signal(signal);
    let shown = url.redacted();
    let result = get(&target).await;
    match &result {
        Ok(()) => out.debug(format!("ping {signal:?} sent to {shown}")),
        Err(e) => out.warn(format!(
            "the {} ping to {shown} failed: {e}; the backup result is unaffected",
            name(signal)
        )),
    }
    PingReport {
        signal,
        url: shown,
        ok: result.is_ok(),
        error: result.err(),
    }
}

fn name(signal: Signal) -> &'static str {
    match signal {
        Signal::Start => "start",
        Signal::Success => "success",
        Signal::Fail => "failure",
    }
}

/// GET `url` with a timeout; the error never contains the URL.
async fn get(url: &Url) -> Result<(), String> {
    {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("matelot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("building an HTTP client: {}", e.without_url()))?;
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(PAUSE).await;
            }
            match client.get(url.clone()).send().await {
                Ok(resp) if resp.status().is_success() => return Ok(()),
                // The server answered: trying again will not change its mind.
                Ok(resp) => return Err(format!("the server answered {}", resp.status())),
                Err(e) => last = describe(e),
            }
        }
        Err(last)
    }
}

/// The error and its causes (`error sending request: tcp connect error: Connection refused`),
/// without the URL: reqwest names it only at the top, which `without_url` strips.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !text.contains(&c_text) {
            text.push_str(": ");
            text.push_str(&c_text);
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_append_to_the_path_and_keep_the_query() {
        let cases = [
            (
                "https://hc-ping.com/abc-123",
                Signal::Success,
                "https://hc-ping.com/abc-123",
            ),
            (
                "https://hc-ping.com/abc-123",
                Signal::Fail,
                "https://hc-ping.com/abc-123/fail",
            ),
            (
                "https://hc-ping.com/abc-123/",
                Signal::Start,
                "https://hc-ping.com/abc-123/start",
            ),
            (
                "http://127.0.0.1:8080/ping/k?rid=7",
                Signal::Fail,
                "http://127.0.0.1:8080/ping/k/fail?rid=7",
            ),
        ];
        for (url, signal, want) in cases {
            let p = parse(url).expect(url);
            assert_eq!(p.for_signal(signal).as_str(), want, "{url} {signal:?}");
        }
    }

    #[test]
    fn the_token_is_never_shown() {
        let p = parse("https://user:pw@hc-ping.com:8443/secret-uuid?k=v").expect("url");
        assert_eq!(p.redacted(), "https://hc-ping.com:8443/…");
        assert_eq!(format!("{p:?}"), "PingUrl(https://hc-ping.com:8443/…)");
        assert_eq!(
            parse("https://kuma.example.org/").expect("url").redacted(),
            "https://kuma.example.org/"
        );
    }

    #[test]
    fn only_http_urls_are_accepted_and_errors_do_not_echo_them() {
        for bad in ["hc-ping.com/secret", "ftp://x/secret", "file:///secret"] {
            let e = parse(bad).expect_err(bad);
            assert!(!e.contains("secret"), "{bad}: {e}");
        }
    }
}
