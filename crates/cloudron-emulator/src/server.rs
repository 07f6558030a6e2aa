//! Accepting connections: TCP, then TLS (unless `--http`), then HTTP/1.1 or HTTP/2 served by
//! the router. Each connection runs in its own task with a kill signal a handler can fire, so
//! the `drop_connection` fault really closes the TCP connection without an answer.
//!
//! The accept loop ends on the shutdown signal and takes open connections down with it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// Fired by a handler to close its connection at once (request extension).
#[derive(Clone)]
pub struct ConnKill(pub Arc<Notify>);

/// The client's address (request extension).
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub SocketAddr);

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serve until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => break,
        };
        // Reap finished connection tasks so the set does not grow without bound.
        while conns.try_join_next().is_some() {}
        let Ok((tcp, peer)) = accepted else {
            // Out of file descriptors and the like: wait a little rather than spin.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let tls = tls.clone();
        let sd = shutdown.clone();
        conns.spawn(async move {
            match tls {
                Some(acceptor) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
                    else {
                        return;
                    };
                    serve_conn(stream, peer, router, sd).await;
                }
                None => serve_conn(tcp, peer, router, sd).await,
            }
        });
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

async fn serve_conn<I>(io: I, peer: SocketAddr, router: Router, mut shutdown: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let kill = Arc::new(Notify::new());
    let conn_kill = ConnKill(Arc::clone(&kill));
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(conn_kill.clone());
        req.extensions_mut().insert(PeerAddr(peer));
        strip_trailing_slash(&mut req);
        router.clone().oneshot(req.map(axum::body::Body::new))
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(io), svc);
    tokio::select! {
        _ = conn => {}
        _ = kill.notified() => {}
        _ = shutdown.changed() => {}
    }
    // Dropping the connection here closes the socket without a TLS close_notify or an answer.
}

/// `/api/v1/apps/` routes as `/api/v1/apps`, as Express (non-strict routing) does.
fn strip_trailing_slash<B>(req: &mut hyper::Request<B>) {
    let path = req.uri().path();
    if path.len() <= 1 || !path.ends_with('/') {
        return;
    }
    let trimmed = path.trim_end_matches('/');
    let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
    let pq = match req.uri().query() {
        Some(q) => format!("{trimmed}?{q}"),
        None => trimmed.to_string(),
    };
    let mut parts = req.uri().clone().into_parts();
    if let Ok(p) = pq.parse() {
        parts.path_and_query = Some(p);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slashes_are_dropped_but_not_the_root() {
        for (from, to) in [
            ("/api/v1/apps/", "/api/v1/apps"),
            ("/api/v1/apps/?page=1", "/api/v1/apps?page=1"),
            ("/api/v1/apps", "/api/v1/apps"),
            ("/", "/"),
        ] {
            let mut req = hyper::Request::builder()
                .uri(from)
                .body(())
                .map_err(|e| e.to_string());
            let Ok(req) = req.as_mut() else {
                panic!("request")
            };
            strip_trailing_slash(req);
            assert_eq!(req.uri().to_string(), to);
        }
    }
}
