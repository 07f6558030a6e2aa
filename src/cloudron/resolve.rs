//! Which app did the operator mean? An APP argument is an app id, an FQDN, a URL, a subdomain
//! or, when nothing else claims it, the app's label or package title; case does not matter.
//!
//! Safety over convenience: only exact matches count (no prefixes, no fuzzy guesses); an id or
//! FQDN (or URL) names one app outright; a subdomain or a name must be claimed by exactly one
//! app, counting subdomain and name matches together, so `wiki` is ambiguous when one app
//! lives at `wiki.` and another is titled "Wiki". Ambiguity is an error that lists the
//! candidates; no match lists the close ones. Both are usage errors (exit 2): nothing was
//! attempted and the fix is on the command line. Pure: apps in, decision out.

use serde::Serialize;

use super::models::App;

/// How the argument matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchedBy {
    Id,
    Fqdn,
    Subdomain,
    /// The label or package title: convenient, not an identifier. Guards may refuse it.
    Name,
}

/// The app an argument designates.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    pub app: &'a App,
    pub by: MatchedBy,
}

/// Why an argument designates no single app.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("an empty APP names no app: give an app id, FQDN, URL or subdomain")]
    Empty,
    #[error("{}", not_found_text(query, close))]
    NotFound { query: String, close: Vec<String> },
    #[error(
        "{query:?} matches {} apps: {}; name one by its FQDN or id",
        candidates.len(),
        candidates.join(", ")
    )]
    Ambiguous {
        query: String,
        candidates: Vec<String>,
    },
}

fn not_found_text(query: &str, close: &[String]) -> String {
    if close.is_empty() {
        format!("no app matches {query:?}: `matelot app list` shows the apps")
    } else {
        format!(
            "no app matches {query:?}; did you mean: {}? (`matelot app list` shows them all)",
            close.join(", ")
        )
    }
}

impl From<ResolveError> for crate::error::Error {
    fn from(e: ResolveError) -> Self {
        crate::error::Error::Usage(e.to_string())
    }
}

/// How an app is shown in candidate lists: `analytics.example.org (Matomo, id 9f9f...)`.
pub fn describe(app: &App) -> String {
    format!("{} ({}, id {})", app.fqdn, app.name(), app.id)
}

/// Find the one app `query` designates.
pub fn resolve<'a>(apps: &'a [App], query: &str) -> Result<Resolved<'a>, ResolveError> {
    let (key, is_url) = normalise(query);
    if key.is_empty() {
        return Err(ResolveError::Empty);
    }
    let eq = |s: &str| s.trim().trim_end_matches('.').eq_ignore_ascii_case(&key);

    if !is_url && let Some(r) = unique(apps, query, |a| eq(&a.id), MatchedBy::Id)? {
        return Ok(r);
    }
    if let Some(r) = unique(
        apps,
        query,
        |a| !a.fqdn.is_empty() && eq(&a.fqdn),
        MatchedBy::Fqdn,
    )? {
        return Ok(r);
    }
    if !is_url {
        let by_sub = |a: &App| !a.subdomain.is_empty() && eq(&a.subdomain);
        let by_name = |a: &App| {
            a.label
                .as_deref()
                .is_some_and(|l| !l.trim().is_empty() && eq(l))
                || (!a.manifest.title.is_empty() && eq(&a.manifest.title))
        };
        let hits: Vec<&App> = apps.iter().filter(|a| by_sub(a) || by_name(a)).collect();
        match hits[..] {
            [one] => {
                let by = if by_sub(one) {
                    MatchedBy::Subdomain
                } else {
                    MatchedBy::Name
                };
                return Ok(Resolved { app: one, by });
            }
            [] => {}
            _ => return Err(ambiguous(query, &hits)),
        }
    }
    Err(ResolveError::NotFound {
        query: query.trim().to_string(),
        close: close_matches(apps, &key),
    })
}

fn unique<'a>(
    apps: &'a [App],
    query: &str,
    pred: impl Fn(&App) -> bool,
    by: MatchedBy,
) -> Result<Option<Resolved<'a>>, ResolveError> {
    let hits: Vec<&App> = apps.iter().filter(|a| pred(a)).collect();
    match hits[..] {
        [] => Ok(None),
        [app] => Ok(Some(Resolved { app, by })),
        _ => Err(ambiguous(query, &hits)),
    }
}

fn ambiguous(query: &str, hits: &[&App]) -> ResolveError {
    let mut candidates: Vec<String> = hits.iter().map(|a| describe(a)).collect();
    candidates.sort();
    ResolveError::Ambiguous {
        query: query.trim().to_string(),
        candidates,
    }
}

/// Lower-cased key, and whether it came from a URL (then only an FQDN may match). A URL's
/// host is kept; a trailing dot, slash, path or `:port` after a host is dropped.
pub fn normalise(query: &str) -> (String, bool) {
    let q = query.trim();
    if let Some((_, rest)) = q.split_once("://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        return (strip_port(host).trim_end_matches('.').to_lowercase(), true);
    }
    let q = q.split('/').next().unwrap_or_default();
    (strip_port(q).trim_end_matches('.').to_lowercase(), false)
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// Apps whose subdomain, FQDN, label or title is close to `key` (small edit distance, or
/// containing it), best first, at most five.
fn close_matches(apps: &[App], key: &str) -> Vec<String> {
    let limit = (key.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, String)> = apps
        .iter()
        .filter_map(|a| {
            let names = [
                a.subdomain.to_lowercase(),
                a.fqdn.to_lowercase(),
                a.manifest.title.to_lowercase(),
                a.label.clone().unwrap_or_default().to_lowercase(),
            ];
            names
                .iter()
                .filter(|n| !n.is_empty())
                .map(|n| {
                    if key.chars().count() >= 3 && n.contains(key) {
                        0
                    } else {
                        levenshtein(key, n)
                    }
                })
                .min()
                .filter(|d| *d <= limit)
                .map(|d| (d, describe(a)))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(5).map(|(_, s)| s).collect()
}

/// Edit distance (insertions, deletions, substitutions) between two strings, by characters.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(id: &str, sub: &str, title: &str) -> App {
        let mut a = App {
            id: id.into(),
            subdomain: sub.into(),
            domain: "example.org".into(),
            fqdn: if sub.is_empty() {
                "example.org".into()
            } else {
                format!("{sub}.example.org")
            },
            ..App::default()
        };
        a.manifest.title = title.into();
        a
    }

    fn estate() -> Vec<App> {
        let mut other_domain = app("5", "wiki", "Wiki.js");
        other_domain.domain = "example.net".into();
        other_domain.fqdn = "wiki.example.net".into();
        let mut labelled = app("6", "docs", "BookStack");
        labelled.label = Some("Handbook".into());
        vec![
            app(
                "9f9f78b2-6c5b-41df-9a21-5fa20dee3d6a",
                "analytics",
                "Matomo",
            ),
            app("2", "cloud", "Nextcloud"),
            app("3", "", "WordPress"),
            app("4", "wiki", "Wiki.js"),
            other_domain,
            labelled,
            app("7", "chat", "Rocket.Chat"),
            app("8", "chat2", "Rocket.Chat"),
        ]
    }

    #[test]
    fn exact_identifiers_resolve() {
        let apps = estate();
        // (query, expected id, matched by)
        let cases = [
            (
                "9F9F78B2-6C5B-41DF-9A21-5FA20DEE3D6A",
                "9f9f78b2-6c5b-41df-9a21-5fa20dee3d6a",
                MatchedBy::Id,
            ),
            (
                "analytics",
                "9f9f78b2-6c5b-41df-9a21-5fa20dee3d6a",
                MatchedBy::Subdomain,
            ),
            (
                "  Analytics.Example.Org. ",
                "9f9f78b2-6c5b-41df-9a21-5fa20dee3d6a",
                MatchedBy::Fqdn,
            ),
            (
                "https://analytics.example.org/index.php?x=1",
                "9f9f78b2-6c5b-41df-9a21-5fa20dee3d6a",
                MatchedBy::Fqdn,
            ),
            (
                "https://analytics.example.org:443/",
                "9f9f78b2-6c5b-41df-9a21-5fa20dee3d6a",
                MatchedBy::Fqdn,
            ),
            (
                "analytics.example.org/",
                "9f9f78b2-6c5b-41df-9a21-5fa20dee3d6a",
                MatchedBy::Fqdn,
            ),
            (
                "matomo",
                "9f9f78b2-6c5b-41df-9a21-5fa20dee3d6a",
                MatchedBy::Name,
            ),
            ("example.org", "3", MatchedBy::Fqdn),
            ("https://example.org", "3", MatchedBy::Fqdn),
            ("wordpress", "3", MatchedBy::Name),
            ("wiki.example.net", "5", MatchedBy::Fqdn),
            ("handbook", "6", MatchedBy::Name),
            ("docs", "6", MatchedBy::Subdomain),
            ("chat", "7", MatchedBy::Subdomain),
        ];
        for (q, id, by) in cases {
            let r = resolve(&apps, q).unwrap_or_else(|e| panic!("{q}: {e}"));
            assert_eq!((r.app.id.as_str(), r.by), (id, by), "{q}");
        }
    }

    #[test]
    fn ambiguity_lists_every_candidate() {
        let apps = estate();
        let e = resolve(&apps, "wiki").expect_err("two wikis");
        assert_eq!(
            e.to_string(),
            "\"wiki\" matches 2 apps: wiki.example.net (Wiki.js, id 5), wiki.example.org \
             (Wiki.js, id 4); name one by its FQDN or id"
        );
        let e = resolve(&apps, "rocket.chat").expect_err("two chats by title");
        assert!(
            matches!(e, ResolveError::Ambiguous { ref candidates, .. } if candidates.len() == 2)
        );
        // A subdomain and another app's title count together.
        let mut apps = estate();
        apps.push(app("10", "kb", "Analytics"));
        let e = resolve(&apps, "analytics").expect_err("subdomain vs title");
        assert!(e.to_string().contains("matches 2 apps"), "{e}");
    }

    #[test]
    fn no_match_suggests_close_ones_and_urls_match_only_fqdns() {
        let apps = estate();
        let e = resolve(&apps, "matomoo").expect_err("typo");
        assert_eq!(
            e.to_string(),
            "no app matches \"matomoo\"; did you mean: analytics.example.org (Matomo, id \
             9f9f78b2-6c5b-41df-9a21-5fa20dee3d6a)? (`matelot app list` shows them all)"
        );
        let e = resolve(&apps, "https://matomo/").expect_err("a URL is not a title");
        assert!(matches!(e, ResolveError::NotFound { .. }), "{e}");
        let e = resolve(&apps, "zzzzzzzz").expect_err("nothing close");
        assert_eq!(
            e.to_string(),
            "no app matches \"zzzzzzzz\": `matelot app list` shows the apps"
        );
        assert_eq!(
            resolve(&apps, " / ").expect_err("empty"),
            ResolveError::Empty
        );
        let usage: crate::error::Error = e.into();
        assert_eq!(usage.exit_code(), 2);
        // No prefix matching, ever.
        assert!(resolve(&apps, "anal").is_err());
        assert!(resolve(&apps, "9f9f78b2").is_err());
    }

    #[test]
    fn edit_distance() {
        let cases = [
            ("", "", 0),
            ("abc", "", 3),
            ("kitten", "sitting", 3),
            ("wiki", "wikj", 1),
        ];
        for (a, b, d) in cases {
            assert_eq!(levenshtein(a, b), d, "{a} {b}");
        }
    }
}
