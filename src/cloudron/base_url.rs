//! The configured Cloudron address, checked and normalised, and the `Authorization` header.
//!
//! Refuses what would leak the token: plain `http://` to anything but loopback (the lab), and
//! credentials in the URL. Tolerates what people write: a trailing slash or `/api/v1`, a
//! query or fragment. Pure functions with table tests.

use std::net::IpAddr;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::error::CloudronError;

/// Validate and normalise the configured URL: `https://` (plain `http://` only on loopback,
/// for the lab), no credentials, no query, and no trailing `/api/v1` (tolerated, removed).
pub fn normalise_base(url: &Url) -> Result<Url, CloudronError> {
    let host = url.host_str().unwrap_or_default().to_string();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url) => {}
        "http" => {
            return Err(CloudronError::Config(format!(
                "[cloudron] url {url} uses plain http: the API token would cross the network \
                 unencrypted; use https:// (plain http is accepted only on a loopback address, \
                 for the lab)"
            )));
        }
        other => {
            return Err(CloudronError::Config(format!(
                "[cloudron] url {url}: unsupported scheme {other:?}; use https://my.DOMAIN"
            )));
        }
    }
    if host.is_empty() {
        return Err(CloudronError::Config(format!(
            "[cloudron] url {url} has no host; use https://my.DOMAIN"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(CloudronError::Config(
            "[cloudron] url must not contain credentials: put the token in token_file or \
             MATELOT_CLOUDRON_TOKEN"
                .to_string(),
        ));
    }
    let mut base = url.clone();
    base.set_query(None);
    base.set_fragment(None);
    let path = base.path().trim_end_matches('/');
    let path = path.strip_suffix("/api/v1").unwrap_or(path).to_string();
    base.set_path(if path.is_empty() { "/" } else { &path });
    Ok(base)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `Bearer <token>`, marked sensitive so it is never shown by HTTP debugging.
pub(crate) fn bearer(token: &SecretString) -> Result<HeaderValue, CloudronError> {
    let mut h = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret().trim()))
        .map_err(|_| {
            CloudronError::Config(
                "the Cloudron API token contains characters that cannot be sent in an HTTP \
                 header (a line break or a control character?): check the token file"
                    .to_string(),
            )
        })?;
    h.set_sensitive(true);
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised_and_unsafe_ones_refused() {
        let ok = [
            ("https://my.example.org", "https://my.example.org/"),
            ("https://my.example.org/", "https://my.example.org/"),
            ("https://my.example.org/api/v1/", "https://my.example.org/"),
            (
                "https://my.example.org:8443/?x=1#f",
                "https://my.example.org:8443/",
            ),
            (
                "https://example.org/cloudron/",
                "https://example.org/cloudron",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
            ("http://[::1]:8080", "http://[::1]:8080/"),
            ("http://localhost:8080", "http://localhost:8080/"),
        ];
        for (input, want) in ok {
            let url = Url::parse(input).expect(input);
            assert_eq!(normalise_base(&url).expect(input).as_str(), want, "{input}");
        }
        let refused = [
            ("http://my.example.org", "plain http"),
            ("ftp://my.example.org", "unsupported scheme"),
            ("https://user:pw@my.example.org", "credentials"),
        ];
        for (input, why) in refused {
            let url = Url::parse(input).expect(input);
            let err = normalise_base(&url).expect_err(input);
            assert!(err.to_string().contains(why), "{input}: {err}");
            assert_eq!(err.exit_code(), 2);
        }
    }
}
