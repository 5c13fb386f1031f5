//! The backend's counters and gauges, and their Prometheus text rendering for `GET /metrics`.
//!
//! Counters are plain atomics that the server and the emitter bump; `/metrics` reads them. The
//! exposition format is a dozen `# TYPE` and value lines, written out here rather than through
//! a metrics crate, which would bring a registry and a global recorder for no more than that.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Everything `/metrics` shows. Rates and lag are `f64` bits in an `AtomicU64`.
#[derive(Default)]
pub struct Metrics {
    pub received_events: AtomicU64,
    pub received_frames: AtomicU64,
    /// Events that arrived with whitespace (pretty-printed) and were made compact.
    pub compacted_events: AtomicU64,
    pub emitted_events: AtomicU64,
    pub emitted_frames: AtomicU64,
    pub queued_events: AtomicU64,
    pub queued_frames: AtomicU64,
    /// The queued frames' durations added up, in µs.
    pub queued_duration_us: AtomicU64,
    /// `/register` requests waiting for room (`--when-full block`).
    pub waiting_requests: AtomicU64,
    pub dropped_events: AtomicU64,
    pub delivered_events: AtomicU64,
    pub failed_events: AtomicU64,
    pub rejected_400: AtomicU64,
    pub rejected_401: AtomicU64,
    pub rejected_404: AtomicU64,
    pub rejected_408: AtomicU64,
    pub rejected_413: AtomicU64,
    pub rejected_429: AtomicU64,
    pub rejected_503: AtomicU64,
    /// Events per second emitted over the last second.
    pub emit_rate: AtomicU64,
    /// Events per second the current frame asks for.
    pub requested_rate: AtomicU64,
    /// How far the emitter is behind its deadlines, in seconds.
    pub lag_seconds: AtomicU64,
    pub started: AtomicU64,
}

pub fn set_f64(cell: &AtomicU64, value: f64) {
    cell.store(value.to_bits(), Ordering::Relaxed);
}

pub fn get_f64(cell: &AtomicU64) -> f64 {
    f64::from_bits(cell.load(Ordering::Relaxed))
}

impl Metrics {
    pub fn set_queued_duration(&self, d: std::time::Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.queued_duration_us.store(us, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::with_capacity(2048);
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP def_backend_{name} {help}");
            let _ = writeln!(out, "# TYPE def_backend_{name} {kind}");
            let _ = writeln!(out, "def_backend_{name} {value}");
        };
        metric(
            "received_events_total",
            "counter",
            "Events accepted by /register.",
            get(&self.received_events).to_string(),
        );
        metric(
            "received_frames_total",
            "counter",
            "Frames accepted by /register.",
            get(&self.received_frames).to_string(),
        );
        metric(
            "compacted_events_total",
            "counter",
            "Accepted events that arrived with whitespace (e.g. pretty-printed) and were made compact.",
            get(&self.compacted_events).to_string(),
        );
        metric(
            "emitted_events_total",
            "counter",
            "Events handed to the output.",
            get(&self.emitted_events).to_string(),
        );
        metric(
            "emitted_frames_total",
            "counter",
            "Frames emitted to their end.",
            get(&self.emitted_frames).to_string(),
        );
        metric(
            "queued_events",
            "gauge",
            "Events accepted and not yet emitted.",
            get(&self.queued_events).to_string(),
        );
        metric(
            "queued_frames",
            "gauge",
            "Frames accepted and not yet emitted to their end.",
            get(&self.queued_frames).to_string(),
        );
        metric(
            "queued_duration_seconds",
            "gauge",
            "The queued frames' durations added up: how long emitting the queue takes.",
            (get(&self.queued_duration_us) as f64 / 1e6).to_string(),
        );
        metric(
            "waiting_requests",
            "gauge",
            "/register requests waiting for room in a full queue (--when-full block).",
            get(&self.waiting_requests).to_string(),
        );
        metric(
            "dropped_events_total",
            "counter",
            "Events dropped by /stop, a shutdown with --drop-on-stop, or a drain that timed out.",
            get(&self.dropped_events).to_string(),
        );
        metric(
            "delivered_events_total",
            "counter",
            "Events the output confirmed (Kafka acknowledgements, lines written).",
            get(&self.delivered_events).to_string(),
        );
        metric(
            "failed_events_total",
            "counter",
            "Events the output could not deliver.",
            get(&self.failed_events).to_string(),
        );
        metric(
            "emit_rate",
            "gauge",
            "Events per second emitted over the last second.",
            get_f64(&self.emit_rate).to_string(),
        );
        metric(
            "requested_rate",
            "gauge",
            "Events per second the frame being emitted asks for.",
            get_f64(&self.requested_rate).to_string(),
        );
        metric(
            "lag_seconds",
            "gauge",
            "How far emission is behind its deadlines.",
            get_f64(&self.lag_seconds).to_string(),
        );
        metric(
            "started",
            "gauge",
            "1 once /start was called (until /stop).",
            get(&self.started).to_string(),
        );
        let _ = writeln!(
            out,
            "# HELP def_backend_rejected_requests_total Requests refused, by status code."
        );
        let _ = writeln!(out, "# TYPE def_backend_rejected_requests_total counter");
        for (code, cell) in [
            (400, &self.rejected_400),
            (401, &self.rejected_401),
            (404, &self.rejected_404),
            (408, &self.rejected_408),
            (413, &self.rejected_413),
            (429, &self.rejected_429),
            (503, &self.rejected_503),
        ] {
            let _ = writeln!(
                out,
                "def_backend_rejected_requests_total{{code=\"{code}\"}} {}",
                get(cell)
            );
        }
        out
    }
}
