//! The load backend (`def backend`): receives timeframes of events over HTTP and emits them at
//! an exact pace into Kafka, a file or stdout.
//!
//! The generator (`loadTest` simulation with the `http` sink) prepares frames ahead of time and
//! posts them; the backend queues them ([`queue`], bounded by a number of events) and, once
//! started, one emitter thread ([`emitter`]) spreads each frame's events evenly over its
//! duration with the [`crate::pacing::Pacer`], frame after frame, into the [`output`]. The
//! HTTP side ([`server`]) is axum on a one-thread tokio runtime of its own; it only parses and
//! queues, so it never slows the emitter down beyond the lock of a push. [`metrics`] holds the
//! counters `/metrics` shows.
//!
//! [`Backend::start`] opens the output (for Kafka: checks the broker within the connect
//! timeout), binds the address and starts both threads; [`Backend::shutdown`] stops accepting
//! connections, drains or drops the queue, flushes the output and reports.

pub mod emitter;
pub mod metrics;
pub mod output;
pub mod queue;
pub mod server;

use crate::config::Diagnostic;
use emitter::{EmitReport, Emitter};
use output::{Output, OutputSpec, Topics};
use queue::{Shared, Shutdown};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

/// The backend's settings.
#[derive(Clone, Debug)]
pub struct BackendConfig {
    /// Where to listen (port 0: any free port; [`Backend::address`] says which).
    pub listen: SocketAddr,
    /// The path before `/register`, `/start`, `/stop`: `/loadgenerator` by default.
    pub base_path: String,
    pub output: OutputSpec,
    /// At most this many events wait in the queue; more get 429.
    pub max_queued_events: u64,
    /// Request bodies over this many bytes get 413.
    pub max_body_bytes: usize,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_BASE_PATH: &str = "/loadgenerator";
pub const DEFAULT_MAX_QUEUED_EVENTS: u64 = 1_000_000;
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 << 20;

/// What a backend did, from start to shutdown.
#[derive(Clone, Debug, Default)]
pub struct BackendReport {
    pub received_events: u64,
    pub received_frames: u64,
    pub emitted: EmitReport,
    /// Events dropped by `/stop` or by a shutdown that drops.
    pub dropped_events: u64,
}

impl BackendReport {
    /// Events accepted but not delivered (failed, or never emitted because the output failed).
    pub fn undelivered(&self) -> u64 {
        self.emitted.output.failed
            + self
                .received_events
                .saturating_sub(self.emitted.emitted + self.dropped_events)
    }
}

/// The HTTP thread, which ends with the server's error if it failed.
type ServerThread = JoinHandle<Result<(), String>>;

/// A running backend.
pub struct Backend {
    address: SocketAddr,
    base_path: String,
    shared: Arc<Shared>,
    server: Option<(tokio::sync::oneshot::Sender<()>, ServerThread)>,
    emitter: Option<JoinHandle<EmitReport>>,
}

/// Normalises a base path: a leading `/`, no trailing one; `/` alone becomes empty.
pub fn normalize_base_path(path: &str) -> String {
    let trimmed = path.trim().trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

impl Backend {
    /// Opens the output, binds the address, and starts serving and emitting.
    pub fn start(config: BackendConfig) -> Result<Backend, Diagnostic> {
        let topics = Arc::new(Topics::new(&config.output).map_err(|e| {
            Diagnostic::error(e).help("change --topic, e.g. `events` or `factory.{node}`")
        })?);
        let output = Output::open(&config.output, topics.clone())?;
        let listener = std::net::TcpListener::bind(config.listen).map_err(|e| {
            Diagnostic::error(format!("cannot listen on {}: {e}", config.listen))
                .help("choose another address with --listen, e.g. 127.0.0.1:8081")
        })?;
        let address = listener
            .local_addr()
            .map_err(|e| Diagnostic::error(format!("cannot read the listening address: {e}")))?;
        listener.set_nonblocking(true).map_err(|e| {
            Diagnostic::error(format!("cannot make the listener non-blocking: {e}"))
        })?;
        let shared = Arc::new(Shared::new(config.max_queued_events));
        let base_path = normalize_base_path(&config.base_path);
        let state = server::AppState {
            shared: shared.clone(),
            topics,
            base: base_path.clone().into(),
        };
        let app = server::router(state, config.max_body_bytes);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = std::thread::Builder::new()
            .name("def-backend-http".into())
            .spawn(move || -> Result<(), String> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the HTTP runtime: {e}"))?;
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .map_err(|e| format!("cannot serve on the listener: {e}"))?;
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = stop_rx.await;
                        })
                        .await
                        .map_err(|e| format!("the HTTP server failed: {e}"))
                })
            })
            .map_err(|e| Diagnostic::error(format!("cannot start the HTTP thread: {e}")))?;
        let emitter_shared = shared.clone();
        let emitter = std::thread::Builder::new()
            .name("def-backend-emit".into())
            .spawn(move || Emitter::new(emitter_shared, output).run())
            .map_err(|e| Diagnostic::error(format!("cannot start the emitter thread: {e}")))?;
        Ok(Backend {
            address,
            base_path,
            shared,
            server: Some((stop_tx, server)),
            emitter: Some(emitter),
        })
    }

    /// The address the backend listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://ADDRESS/BASE`: what the generator's `http` sink `url` should be.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.address, self.base_path)
    }

    /// The shared counters, e.g. to watch progress.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.shared.metrics
    }

    /// The output's failure, if emission stopped because of one.
    pub fn failure(&self) -> Option<String> {
        self.shared.lock().fatal.clone()
    }

    /// True when nothing is queued or being emitted.
    pub fn idle(&self) -> bool {
        self.shared.metrics.queued_frames.load(Ordering::Relaxed) == 0
    }

    /// Stops accepting requests, then drains (or drops) the queue, flushes the output, and
    /// reports.
    pub fn shutdown(mut self, how: Shutdown) -> BackendReport {
        // Refuse new frames first, so nothing is accepted that the drain would miss.
        self.shared.shutdown(how);
        if let Some((stop, server)) = self.server.take() {
            let _ = stop.send(());
            if let Ok(Err(e)) = server.join() {
                eprintln!("def backend: {e}");
            }
        }
        let emitted = match self.emitter.take().map(|e| e.join()) {
            Some(Ok(report)) => report,
            _ => EmitReport {
                fatal: Some("the emitter thread panicked".into()),
                ..EmitReport::default()
            },
        };
        let m = &self.shared.metrics;
        BackendReport {
            received_events: m.received_events.load(Ordering::Relaxed),
            received_frames: m.received_frames.load(Ordering::Relaxed),
            dropped_events: m.dropped_events.load(Ordering::Relaxed),
            emitted,
        }
    }
}

pub use queue::Shutdown as ShutdownMode;
