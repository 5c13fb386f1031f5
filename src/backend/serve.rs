//! The accept loop: serves the [`super::server`] router over HTTP/1.1 (hyper), with what
//! `axum::serve` does not offer: a bound on open connections and a read timeout.
//!
//! - **`--max-connections`.** A connection is accepted only with a free slot; at the limit the
//!   loop stops accepting, so further connections wait in the kernel's listen backlog (or
//!   time out on the client's side) and are taken, in order, as soon as one closes. Idle
//!   sockets can so never exhaust the process's file descriptors, and a waiting `/health`
//!   check is answered as soon as a slot frees.
//! - **`--read-timeout`.** hyper's header read timeout: a connection that does not deliver a
//!   request's headers within it is closed, which covers a connection that sends nothing at
//!   all and an idle kept-alive connection between requests. A body gets the same time again
//!   in the `/register` handler (408 and the connection closed).
//!
//! Graceful shutdown (the stop signal): stop accepting, ask every connection to close after
//! its request in flight, and wait for them (the caller bounds that wait).

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch, Semaphore};

/// How long to pause after an accept error that is not about one connection (e.g. no file
/// descriptors left), before trying again.
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `stop` fires, then shuts down gracefully.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    read_timeout: Duration,
    max_connections: usize,
    mut stop: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(max_connections.max(1)));
    // Every connection task holds a receiver; the sender's `closed` says when all are gone.
    let (closed_tx, closed_rx) = watch::channel(());
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    if !per_connection(&e) {
                        tokio::time::sleep(ACCEPT_PAUSE).await;
                    }
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let mut shutdown = shutdown_rx.clone();
        let closed = closed_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let _closed = closed;
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(read_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = shutdown.changed() => connection.as_mut().graceful_shutdown(),
            }
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = shutdown_tx.send(true);
    drop(closed_rx);
    closed_tx.closed().await;
}

/// Accept errors that concern only the connection being accepted (the client went away).
fn per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted | WouldBlock
    )
}
