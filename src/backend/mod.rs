//! The load backend (`def backend`): receives timeframes of events over HTTP and emits them at
//! an exact pace into Kafka, a file or stdout.
//!
//! The generator (`loadTest` simulation with the `http` sink) prepares frames ahead of time and
//! posts them; the backend queues them ([`queue`], bounded by events, frames and duration) and,
//! once started, one emitter thread ([`emitter`]) spreads each frame's events evenly over its
//! duration with the [`crate::pacing::Pacer`], frame after frame, into the [`output`]. The
//! HTTP side ([`server`], served by [`serve`]) is axum on a one-thread tokio runtime of its
//! own; it only parses and queues, so it never slows the emitter down beyond the lock of a
//! push. [`json`] makes events compact, [`topics`] maps each event to its Kafka topic,
//! [`metrics`] holds the counters `/metrics` shows.
//!
//! The module is behind the `backend` feature (tokio, axum, hyper); its Kafka output also needs
//! the `kafka` feature, without which it emits into files and stdout only.
//!
//! [`Backend::start`] opens the output (for Kafka: checks the broker within the connect
//! timeout), binds the address and starts both threads; [`Backend::shutdown`] stops accepting
//! connections, drains or drops the queue, flushes the output and reports.
//!
//! The queue lives in memory only: a backend that is killed (SIGKILL, out of memory) loses
//! every queued event, although each frame was acknowledged with 200. Delivery is at most once
//! after acceptance; [`BackendReport::queued_at_shutdown`] and the `queued_*` gauges say how
//! much is at stake.
//!
//! Bounds keep one client from holding the backend: a frame may last at most
//! `--max-frame-duration` (longer ones get 400); the queue holds at most so many events, frames
//! and seconds of frames; a request must arrive within `--read-timeout`, a blocked one waits at
//! most `--block-timeout`; at most `--max-connections` are open; and a draining shutdown lasts
//! at most `--drain-timeout`, after which the rest is dropped and counted
//! ([`BackendReport::drain_expired`]).

pub mod emitter;
pub mod json;
pub mod metrics;
pub mod output;
pub mod queue;
pub mod serve;
pub mod server;
pub mod topics;

use crate::config::Diagnostic;
use emitter::{EmitReport, Emitter};
use output::{Output, OutputSpec};
use queue::FrameQueue;
pub use queue::{
    Limits, Shutdown, DEFAULT_MAX_QUEUED_DURATION, DEFAULT_MAX_QUEUED_EVENTS,
    DEFAULT_MAX_QUEUED_FRAMES,
};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use topics::Topics;

/// The backend's settings. [`BackendConfig::new`] gives the defaults of `def backend`.
#[derive(Clone, Debug)]
pub struct BackendConfig {
    /// Where to listen (port 0: any free port; [`Backend::address`] says which).
    pub listen: SocketAddr,
    /// The path before `/register`, `/start`, `/stop`: `/loadgenerator` by default.
    pub base_path: String,
    pub output: OutputSpec,
    /// Bounds on the queue (events, frames, duration); a frame past one is "full".
    pub limits: Limits,
    /// What `/register` does when the queue is full: wait for room, or answer 429 at once.
    pub when_full: WhenFull,
    /// With [`WhenFull::Block`], how long a `/register` waits for room before it gets 429.
    pub block_timeout: Duration,
    /// Request bodies over this many bytes get 413.
    pub max_body_bytes: usize,
    /// Frames longer than this get 400.
    pub max_frame_duration: Duration,
    /// If set, every request but `GET /health` needs `Authorization: Bearer <token>` (else
    /// 401). The library does not refuse a non-loopback address without one: `def backend`
    /// does (unless `--insecure`).
    pub token: Option<String>,
    /// A request's headers, and then its body, must each arrive within this long (an idle
    /// connection is closed after it too); else the connection is closed (408 for a body).
    pub read_timeout: Duration,
    /// At most this many connections are open at once; more wait (in the kernel's backlog)
    /// until one closes.
    pub max_connections: usize,
}

/// What `/register` does when a frame does not fit in the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenFull {
    /// Hold the request until the frame fits (for at most the block timeout, then 429): a
    /// client that ignores status codes (the original's http sink) loses nothing. Before
    /// `/start` the queue does not drain, so a full queue answers 429 at once then.
    Block,
    /// Answer 429 with `Retry-After` at once.
    Reject,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_BASE_PATH: &str = "/loadgenerator";
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 << 20;
/// Frames longer than this get 400 (one hour: far above any sensible timeframe).
pub const DEFAULT_MAX_FRAME_DURATION: Duration = Duration::from_secs(3600);
/// A draining shutdown emits for at most this long, then drops the rest.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a blocked `/register` waits for room: below def's own http sink's 30 s request
/// timeout, so its request never times out on a backend that would still take the frame.
pub const DEFAULT_BLOCK_TIMEOUT: Duration = Duration::from_secs(20);
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

impl BackendConfig {
    /// The defaults of `def backend`, listening on `listen` and emitting into `output`.
    pub fn new(listen: SocketAddr, output: OutputSpec) -> BackendConfig {
        BackendConfig {
            listen,
            base_path: DEFAULT_BASE_PATH.into(),
            output,
            limits: Limits::default(),
            when_full: WhenFull::Block,
            block_timeout: DEFAULT_BLOCK_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_frame_duration: DEFAULT_MAX_FRAME_DURATION,
            token: None,
            read_timeout: DEFAULT_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// How long shutdown waits for requests in flight before leaving the HTTP thread behind (a
/// client trickling a body must not hold the shutdown; frames are refused by then anyway).
const SERVER_STOP_GRACE: Duration = Duration::from_secs(5);
/// How often shutdown looks whether a thread it waits for has ended.
const JOIN_POLL: Duration = Duration::from_millis(10);

/// What the queue holds: events and frames accepted and not yet emitted (the frame being
/// emitted included), and how long they take to emit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Queued {
    pub events: u64,
    pub frames: u64,
    pub duration: Duration,
}

/// What a backend did, from start to shutdown.
#[derive(Clone, Debug, Default)]
pub struct BackendReport {
    pub received_events: u64,
    pub received_frames: u64,
    /// What was queued (accepted, not yet emitted) when shutdown began: the events a kill
    /// at that moment would have lost.
    pub queued_at_shutdown: Queued,
    pub emitted: EmitReport,
    /// Events dropped by `/stop`, by a shutdown that drops, or by a drain that timed out.
    pub dropped_events: u64,
    /// `Some(n)` if the drain did not finish within its timeout: `n` of the dropped events
    /// were still queued (or in the frame being emitted) when it expired.
    pub drain_expired: Option<u64>,
    /// Why the HTTP server failed, if it did (the frames it took are counted all the same).
    pub server_error: Option<String>,
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
    queue: Arc<FrameQueue>,
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

/// Waits for `thread` to end until `deadline`; true if it ended.
fn wait_until<T>(thread: &JoinHandle<T>, deadline: Option<Instant>) -> bool {
    while !thread.is_finished() {
        let now = Instant::now();
        match deadline {
            Some(d) if now >= d => return false,
            Some(d) => std::thread::sleep((d - now).min(JOIN_POLL)),
            None => std::thread::sleep(JOIN_POLL),
        }
    }
    true
}

impl Backend {
    /// Opens the output, binds the address, and starts serving and emitting.
    ///
    /// # Errors
    ///
    /// A topic that is not a legal Kafka topic name, an output that cannot be opened (see
    /// [`Output::open`]), an address that cannot be bound, or a thread that cannot start.
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
        let queue = Arc::new(FrameQueue::new(config.limits));
        let base_path = normalize_base_path(&config.base_path);
        let state = server::AppState {
            queue: queue.clone(),
            topics,
            base: base_path.clone().into(),
            max_body_bytes: config.max_body_bytes,
            max_frame_duration: config.max_frame_duration,
            when_full: config.when_full,
            block_timeout: config.block_timeout,
            read_timeout: config.read_timeout,
            token: config.token.as_ref().map(|t| Arc::from(t.as_bytes())),
        };
        let app = server::router(state);
        let (read_timeout, max_connections) = (config.read_timeout, config.max_connections);
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
                    serve::serve(listener, app, read_timeout, max_connections, stop_rx).await;
                    Ok(())
                })
            })
            .map_err(|e| Diagnostic::error(format!("cannot start the HTTP thread: {e}")))?;
        let emitter_queue = queue.clone();
        let emitter = std::thread::Builder::new()
            .name("def-backend-emit".into())
            .spawn(move || Emitter::new(emitter_queue, output).run())
            .map_err(|e| Diagnostic::error(format!("cannot start the emitter thread: {e}")))?;
        Ok(Backend {
            address,
            base_path,
            queue,
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
        &self.queue.metrics
    }

    /// The output's failure, if emission stopped because of one.
    pub fn failure(&self) -> Option<String> {
        self.queue.lock().fatal.clone()
    }

    /// What the queue holds now.
    pub fn queued(&self) -> Queued {
        let m = &self.queue.metrics;
        Queued {
            events: m.queued_events.load(Ordering::Relaxed),
            frames: m.queued_frames.load(Ordering::Relaxed),
            duration: Duration::from_micros(m.queued_duration_us.load(Ordering::Relaxed)),
        }
    }

    /// True when nothing is queued or being emitted.
    pub fn idle(&self) -> bool {
        self.queue.metrics.queued_frames.load(Ordering::Relaxed) == 0
    }

    /// Stops accepting requests, then drains (for at most [`DEFAULT_DRAIN_TIMEOUT`]) or drops
    /// the queue, flushes the output, and reports.
    pub fn shutdown(self, how: Shutdown) -> BackendReport {
        self.shutdown_within(how, DEFAULT_DRAIN_TIMEOUT)
    }

    /// Stops accepting requests, then drains or drops the queue, flushes the output, and
    /// reports. A drain that has not finished after `drain_timeout` (which must cover as long
    /// as the queued frames last) turns into a drop: the rest is counted as dropped and
    /// reported in [`BackendReport::drain_expired`].
    pub fn shutdown_within(mut self, how: Shutdown, drain_timeout: Duration) -> BackendReport {
        // Refuse new frames first, so nothing is accepted that the drain would miss.
        let queued_at_shutdown = {
            let _state = self.queue.lock();
            self.queued()
        };
        self.queue.shutdown(how);
        let began = Instant::now();
        let mut server_error = None;
        if let Some((stop, server)) = self.server.take() {
            let _ = stop.send(());
            // Graceful shutdown waits for requests in flight; a client that never finishes
            // its body must not hold the backend, so the thread is left behind after a grace.
            if wait_until(&server, began.checked_add(SERVER_STOP_GRACE)) {
                if let Ok(Err(e)) = server.join() {
                    server_error = Some(e);
                }
            }
        }
        let mut drain_expired = None;
        let emitted = match self.emitter.take() {
            Some(emitter) => {
                if how == Shutdown::Drain && !wait_until(&emitter, began.checked_add(drain_timeout))
                {
                    // The emitter drops the rest (queue and current frame) and counts it.
                    let before = self.queue.metrics.dropped_events.load(Ordering::Relaxed);
                    self.queue.shutdown(Shutdown::Drop);
                    drain_expired = Some(before);
                }
                match emitter.join() {
                    Ok(report) => report,
                    Err(_) => EmitReport {
                        fatal: Some("the emitter thread panicked".into()),
                        ..EmitReport::default()
                    },
                }
            }
            None => EmitReport::default(),
        };
        let m = &self.queue.metrics;
        let dropped_events = m.dropped_events.load(Ordering::Relaxed);
        BackendReport {
            received_events: m.received_events.load(Ordering::Relaxed),
            received_frames: m.received_frames.load(Ordering::Relaxed),
            queued_at_shutdown,
            dropped_events,
            drain_expired: drain_expired.map(|before| dropped_events.saturating_sub(before)),
            emitted,
            server_error,
        }
    }
}
