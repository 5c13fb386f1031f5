//! The backend's counters and gauges, and their Prometheus text rendering for `GET /metrics`.
//!
//! Counters are plain atomics that the server and the emitter bump; `/metrics` reads them and
//! renders them through [`crate::metrics`], with the same conventions (and encoder) as
//! `def run --metrics-listen`.

use crate::metrics::Writer;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::registry::Unit;
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

    /// The Prometheus text exposition (format 0.0.4, [`crate::metrics::CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        crate::metrics::render(Snapshot {
            received_events: get(&self.received_events),
            received_frames: get(&self.received_frames),
            compacted_events: get(&self.compacted_events),
            emitted_events: get(&self.emitted_events),
            emitted_frames: get(&self.emitted_frames),
            queued_events: get(&self.queued_events),
            queued_frames: get(&self.queued_frames),
            queued_duration_us: get(&self.queued_duration_us),
            waiting_requests: get(&self.waiting_requests),
            dropped_events: get(&self.dropped_events),
            delivered_events: get(&self.delivered_events),
            failed_events: get(&self.failed_events),
            rejected: [
                ("400", get(&self.rejected_400)),
                ("401", get(&self.rejected_401)),
                ("404", get(&self.rejected_404)),
                ("408", get(&self.rejected_408)),
                ("413", get(&self.rejected_413)),
                ("429", get(&self.rejected_429)),
                ("503", get(&self.rejected_503)),
            ],
            emit_rate: get_f64(&self.emit_rate),
            requested_rate: get_f64(&self.requested_rate),
            lag_seconds: get_f64(&self.lag_seconds),
            started: get(&self.started),
        })
    }
}

/// The metrics' values at one scrape.
#[derive(Debug)]
struct Snapshot {
    received_events: u64,
    received_frames: u64,
    compacted_events: u64,
    emitted_events: u64,
    emitted_frames: u64,
    queued_events: u64,
    queued_frames: u64,
    queued_duration_us: u64,
    waiting_requests: u64,
    dropped_events: u64,
    delivered_events: u64,
    failed_events: u64,
    rejected: [(&'static str, u64); 7],
    emit_rate: f64,
    requested_rate: f64,
    lag_seconds: f64,
    started: u64,
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut out = Writer::new(&mut encoder);
        out.counter(
            "def_backend_received_events",
            "Events accepted by /register.",
            None,
            self.received_events,
        )?;
        out.counter(
            "def_backend_received_frames",
            "Frames accepted by /register.",
            None,
            self.received_frames,
        )?;
        out.counter(
            "def_backend_compacted_events",
            "Accepted events that arrived with whitespace (e.g. pretty-printed) and were made compact.",
            None,
            self.compacted_events,
        )?;
        out.counter(
            "def_backend_emitted_events",
            "Events handed to the output.",
            None,
            self.emitted_events,
        )?;
        out.counter(
            "def_backend_emitted_frames",
            "Frames emitted to their end.",
            None,
            self.emitted_frames,
        )?;
        out.gauge(
            "def_backend_queued_events",
            "Events accepted and not yet emitted.",
            None,
            self.queued_events,
        )?;
        out.gauge(
            "def_backend_queued_frames",
            "Frames accepted and not yet emitted to their end.",
            None,
            self.queued_frames,
        )?;
        out.gauge(
            "def_backend_queued_duration",
            "The queued frames' durations added up: how long emitting the queue takes.",
            Some(Unit::Seconds),
            self.queued_duration_us as f64 / 1e6,
        )?;
        out.gauge(
            "def_backend_waiting_requests",
            "/register requests waiting for room in a full queue (--when-full block).",
            None,
            self.waiting_requests,
        )?;
        out.counter(
            "def_backend_dropped_events",
            "Events dropped by /stop, a shutdown with --drop-on-stop, or a drain that timed out.",
            None,
            self.dropped_events,
        )?;
        out.counter(
            "def_backend_delivered_events",
            "Events the output confirmed (Kafka acknowledgements, lines written).",
            None,
            self.delivered_events,
        )?;
        out.counter(
            "def_backend_failed_events",
            "Events the output could not deliver.",
            None,
            self.failed_events,
        )?;
        out.gauge(
            "def_backend_emitted_events_per_second",
            "Events per second emitted over the last second.",
            None,
            self.emit_rate,
        )?;
        out.gauge(
            "def_backend_requested_events_per_second",
            "Events per second the frame being emitted asks for.",
            None,
            self.requested_rate,
        )?;
        out.gauge(
            "def_backend_lag",
            "How far emission is behind its deadlines.",
            Some(Unit::Seconds),
            self.lag_seconds,
        )?;
        out.gauge(
            "def_backend_started",
            "1 once /start was called (until /stop).",
            None,
            self.started,
        )?;
        out.labelled_counter(
            "def_backend_rejected_requests",
            "Requests refused, by status code.",
            "code",
            self.rejected.iter().copied(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_metric_as_prometheus_parses_it() {
        let m = Metrics::default();
        m.received_events.store(1000, Ordering::Relaxed);
        m.rejected_413.store(2, Ordering::Relaxed);
        m.set_queued_duration(std::time::Duration::from_millis(1500));
        set_f64(&m.emit_rate, 250.5);
        let text = m.render();
        for line in [
            "# HELP def_backend_received_events_total Events accepted by /register.",
            "# TYPE def_backend_received_events_total counter",
            "def_backend_received_events_total 1000",
            "# TYPE def_backend_queued_events gauge",
            "def_backend_queued_duration_seconds 1.5",
            "def_backend_emitted_events_per_second 250.5",
            "def_backend_rejected_requests_total{code=\"413\"} 2",
            "def_backend_started 0",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        }
        let lines = text.lines().map(|l| Ok(l.to_string()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text");
        let received = scrape
            .samples
            .iter()
            .find(|s| s.metric == "def_backend_received_events_total")
            .expect("a sample");
        assert_eq!(received.value, prometheus_parse::Value::Counter(1000.0));
        assert_eq!(
            scrape.docs["def_backend_lag_seconds"],
            "How far emission is behind its deadlines."
        );
    }
}
