//! Pacing: emitting events at an exact, shaped rate in real time.
//!
//! Two pieces, both independent of the engine and the sinks:
//! - [`load`]: a [`Load`] turns a `load` spec into a [`Schedule`], the number of events due by
//!   any time since the start (the floor of the integral of the rate, so totals are exact) and
//!   the deadline of each event.
//! - [`pacer`]: a [`Pacer`] follows a schedule in real time against absolute deadlines,
//!   sleeping precisely and handing out due events in batches.
//!
//! A [`Share`] is one shard's exact part of a schedule (see [`crate::shard`]).
//!
//! [`Lateness`] records how late each event went out against its deadline, for the summary
//! and the benchmarks.

pub mod load;
pub mod pacer;
pub mod share;

pub use load::{Load, Schedule};
pub use pacer::{Pacer, PacerConfig, Wait};
pub use share::Share;

use std::time::Duration;

/// Lateness of emission against deadlines, in microseconds, in an HDR histogram (3
/// significant digits, up to an hour; later values are recorded as an hour).
#[derive(Clone)]
pub struct Lateness {
    histogram: hdrhistogram::Histogram<u64>,
}

/// Percentiles of lateness.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LatenessSummary {
    pub count: u64,
    pub p50: Duration,
    pub p99: Duration,
    pub p999: Duration,
    pub max: Duration,
}

const MAX_MICROS: u64 = 3_600_000_000;

impl Lateness {
    /// An empty record.
    pub fn new() -> Lateness {
        let histogram = hdrhistogram::Histogram::new_with_bounds(1, MAX_MICROS, 3)
            .expect("constant bounds the crate accepts: low 1, high >= 2, 3 digits");
        Lateness { histogram }
    }

    /// Records one event `late` after its deadline.
    #[inline]
    pub fn record(&mut self, late: Duration) {
        let micros = (late.as_micros() as u64).min(MAX_MICROS);
        self.histogram.saturating_record(micros);
    }

    pub fn summary(&self) -> LatenessSummary {
        let h = &self.histogram;
        let at = |q: f64| Duration::from_micros(h.value_at_quantile(q));
        LatenessSummary {
            count: h.len(),
            p50: at(0.5),
            p99: at(0.99),
            p999: at(0.999),
            max: Duration::from_micros(h.max()),
        }
    }

    /// Adds `other`'s records to these (the workers of one process, summed).
    pub fn add(&mut self, other: &Lateness) {
        // Both have the same bounds, so the addition cannot fail.
        let _ = self.histogram.add(&other.histogram);
    }

    /// Events recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The recorded lateness added up (to the histogram's precision, 3 significant digits).
    pub fn sum(&self) -> Duration {
        let micros = self.histogram.mean() * self.histogram.len() as f64;
        Duration::from_micros(micros.round() as u64)
    }

    /// Events recorded at most `bound` late (to the histogram's precision): the cumulative
    /// count of a histogram bucket, as a metrics exporter wants it.
    pub fn count_at_most(&self, bound: Duration) -> u64 {
        let micros = (bound.as_micros() as u64).min(MAX_MICROS);
        self.histogram.count_between(0, micros)
    }
}

impl std::fmt::Debug for Lateness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Lateness").field(&self.summary()).finish()
    }
}

impl Default for Lateness {
    fn default() -> Lateness {
        Lateness::new()
    }
}
