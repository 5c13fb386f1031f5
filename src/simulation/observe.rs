//! Watching a run while it goes: the progress facts a simulation reports, as data.
//!
//! The library never prints. A simulation hands a [`Progress`] to the [`Observer`] of its
//! [`super::RunOptions`] now and then (count-based runs every 65,536 events, streams once a
//! second, load tests after each frame); whoever watches decides what to make of it: the CLI
//! draws a progress bar or a status line, a live dashboard draws panes, a metrics exporter
//! sets gauges. Without an observer nothing is computed.

use crate::config::SimulationType;
use crate::pacing::Lateness;
use crate::sink::SinkSet;
use std::fmt::Debug;
use std::time::Duration;

/// Someone watching a run. Called from the simulation's thread: return quickly.
pub trait Observer: Send + Sync + Debug {
    /// The run's state now.
    fn progress(&self, progress: &Progress<'_>);

    /// The run has stopped generating (before the sinks finish): clear any live display.
    fn finished(&self) {}
}

/// A run's state at one moment.
#[derive(Clone, Debug)]
pub struct Progress<'a> {
    pub simulation_type: SimulationType,
    /// Since the simulation started.
    pub elapsed: Duration,
    /// Events generated so far.
    pub events: u64,
    /// The events the run will make, when that is known in advance (countBased).
    pub total: Option<u64>,
    /// Cases open in the engine.
    pub open_cases: usize,
    /// How a stream keeps to its schedule (streams only).
    pub pacing: Option<PacingStatus>,
    /// Load-test timeframes prepared so far (loadTest only).
    pub frames: Option<u64>,
    /// Events handed to each sink so far, by sink name.
    pub sinks: &'a [(&'a str, u64)],
    /// Events generated so far by each datasource, by node name (every node of the chain).
    pub datasources: &'a [(&'a str, u64)],
    /// How late each event went out against its deadline, since the start (streams only).
    pub lateness: Option<&'a Lateness>,
}

/// A stream's pacing over the last status interval.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PacingStatus {
    /// Events per second the schedule asked for.
    pub target_rate: f64,
    /// Events per second that went out.
    pub achieved_rate: f64,
    /// Events due but not yet emitted.
    pub behind: u64,
    /// How late the oldest of them is.
    pub lag: Duration,
}

/// Tells `observer` of `progress` with the counts `sinks` has now in its `sinks` and
/// `datasources` (whatever the caller put there).
pub(super) fn report_with_counts(observer: &dyn Observer, sinks: &SinkSet, progress: Progress<'_>) {
    let counts: Vec<(&str, u64)> = sinks.counts().collect();
    let datasources: Vec<(&str, u64)> = sinks.datasource_counts().collect();
    observer.progress(&Progress {
        sinks: &counts,
        datasources: &datasources,
        ..progress
    });
}

/// Several watchers of one run (a progress display and a metrics exporter, say), told in
/// order.
#[derive(Debug, Default)]
pub struct Observers(pub Vec<std::sync::Arc<dyn Observer>>);

impl Observer for Observers {
    fn progress(&self, progress: &Progress<'_>) {
        for observer in &self.0 {
            observer.progress(progress);
        }
    }

    fn finished(&self) {
        for observer in &self.0 {
            observer.finished();
        }
    }
}
