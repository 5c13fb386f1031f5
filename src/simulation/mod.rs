//! Simulations: running the engine into the sinks.
//!
//! [`Run::prepare`] validates the config, compiles the chain, builds the sinks and fixes the
//! seed and start time; [`Run::execute`] dispatches on the simulation type. Each type lives in
//! its own module: `count_based` (as fast as possible), `stream` (real time, paced) and
//! `load_test` (timeframes for a load backend). While a run goes, it reports its progress to
//! the [`Observer`] of its [`RunOptions`] ([`observe`]); the library itself prints nothing.
//! A run can be one shard of a workload ([`RunOptions::shard`]), and [`Workers`] runs several
//! shards in one process, a thread each.

mod count_based;
pub mod load_test;
pub mod observe;
mod stream;
pub mod workers;

pub use observe::{Observer, Observers, PacingStatus, Progress};
pub use stream::PacingReport;
pub use workers::Workers;

use crate::config::{
    ConfigSet, Diagnostic, Diagnostics, Kind, SimulationSettings, SimulationSpec, TimestampFormat,
};
use crate::engine::Engine;
use crate::model::Chain;
use crate::network::{truth::Truth, NetworkReport, Plan, Stage};
use crate::shard::Shard;
use crate::sink::{
    MemoryHandle, NamedSink, SinkBuildError, SinkError, SinkOptions, SinkReport, SinkSet, UiMode,
};
use crate::time;
use rand::RngExt;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Where a seeded run's clock starts when no start time is given, so that a seed alone
/// reproduces a run byte for byte.
pub const SEEDED_START: &str = "2025-01-01T00:00:00Z";

/// Settings from the command line or a library caller; each overrides the spec.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub seed: Option<u64>,
    /// Overrides a countBased simulation's `steps`.
    pub steps: Option<u64>,
    /// Stops any simulation after this many events.
    pub max_events: Option<u64>,
    /// Stops a stream after this many seconds.
    pub duration_secs: Option<f64>,
    /// Replaces a constant load's rate (the `LOAD` environment variable), events per tick.
    pub load: Option<f64>,
    pub start_time: Option<jiff::Timestamp>,
    pub timestamp_format: Option<TimestampFormat>,
    /// Which simulation to run when several are loaded.
    pub simulation: Option<String>,
    /// Told of the run's progress while it goes (nothing is computed without one).
    pub observer: Option<Arc<dyn Observer>>,
    /// Set from outside (SIGINT/SIGTERM) to stop generation gracefully.
    pub stop: Arc<AtomicBool>,
    /// What `ui` sinks do: record for a live view (reach them with
    /// [`SinkSet::ui_handles`] between [`Run::prepare`] and [`Run::execute`]), or print
    /// console lines where there is nothing to draw on.
    pub ui: UiMode,
    /// Write the ground truth of the network's effects into this folder (docs/realism.md).
    pub truth: Option<std::path::PathBuf>,
    /// Which part of the workload this run makes (`--shard K/N`; the whole by default): its
    /// share of `steps`, `maxEvents`, `maxConcurrentCases` and of the load at every instant,
    /// its own case ids and random stream (see [`crate::shard`]).
    pub shard: Shard,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunReport {
    pub simulation: String,
    pub simulation_type: &'static str,
    pub seed: u64,
    /// Whether the seed was chosen at random (so the summary should print it).
    pub seed_was_random: bool,
    pub start_ms: i64,
    /// Events generated (each goes to zero or more sinks).
    pub events: u64,
    pub elapsed: Duration,
    pub sinks: Vec<SinkReport>,
    /// Collected events of memory sinks, by sink name.
    pub memory: BTreeMap<String, MemoryHandle>,
    /// Stopped by a signal or a closed output before its natural end.
    pub interrupted: bool,
    /// How a stream kept to its schedule (streams only).
    pub pacing: Option<PacingReport>,
    /// The simulated clock reached 9999-12-31T23:59:59.999Z and stood still there.
    pub clock_exhausted: bool,
    /// What the network did (runs with `kind: network` documents or `--truth`).
    pub network: Option<NetworkReport>,
}

impl RunReport {
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Events that sinks took but did not deliver.
    pub fn undelivered(&self) -> u64 {
        self.sinks.iter().map(|s| s.delivery.failed).sum()
    }

    /// The run's outcome: failed with `error` (a sink's), or with the events not delivered,
    /// or this report.
    fn into_result(self, error: Option<SinkError>) -> Result<RunReport, RunError> {
        if let Some(error) = error {
            return Err(RunError::Sink {
                error,
                report: Box::new(self),
            });
        }
        if self.undelivered() > 0 {
            return Err(RunError::Undelivered {
                undelivered: self.undelivered(),
                report: Box::new(self),
            });
        }
        Ok(self)
    }
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the configuration has errors")]
    Config(Diagnostics),
    /// A sink failed during the run; the report has what every sink delivered up to then.
    #[error("{error}")]
    Sink {
        error: SinkError,
        report: Box<RunReport>,
    },
    /// A destination did not answer when the run started (a broker that is down).
    #[error("{}", .0.message)]
    Unavailable(Diagnostic),
    #[error("{undelivered} events were not delivered")]
    Undelivered {
        undelivered: u64,
        report: Box<RunReport>,
    },
}

impl From<SinkBuildError> for RunError {
    fn from(e: SinkBuildError) -> RunError {
        match e {
            SinkBuildError::Config(d) => d.into(),
            SinkBuildError::Unavailable(d) => RunError::Unavailable(d),
        }
    }
}

impl From<Diagnostic> for RunError {
    fn from(d: Diagnostic) -> RunError {
        RunError::Config(Diagnostics { items: vec![d] })
    }
}

/// A run ready to go: compiled chain, built sinks, fixed seed and start.
pub struct Run {
    pub chain: Chain,
    pub sinks: SinkSet,
    pub spec: SimulationSpec,
    pub simulation: String,
    pub seed: u64,
    pub seed_was_random: bool,
    pub start_ms: i64,
    pub options: RunOptions,
    /// The networks over the chain (with `kind: network` documents or a truth to write).
    pub network: Option<Plan>,
    /// The ground truth's files, open (with `--truth`).
    pub truth: Option<Truth>,
}

impl Run {
    /// Validates and compiles. Errors in the config come back all at once.
    ///
    /// # Errors
    /// [`RunError::Config`] with every problem of the configuration, or
    /// [`RunError::Unavailable`] when a sink's destination does not answer.
    pub fn prepare(
        set: &ConfigSet,
        options: RunOptions,
        extra_sinks: Vec<NamedSink>,
    ) -> Result<Run, RunError> {
        let diags = set.validate();
        if diags.has_errors() {
            return Err(RunError::Config(diags));
        }
        let sim = set.simulation(options.simulation.as_deref())?;
        let mut spec = sim.spec.clone();
        if let Some(format) = options.timestamp_format {
            spec.timestamp_format = format;
        }
        let chain = Chain::compile(set)?;
        let network = Plan::compile(set, &chain, options.truth.is_some());
        spec.max_concurrent_cases = concurrent_share(&spec, options.shard)?;
        if set.sinks.is_empty() && extra_sinks.is_empty() {
            return Err(Diagnostic::error("no sink was loaded: the run would produce nothing")
                .help("add a document with `kind: sink`, e.g. `spec: {type: console, dataSourceRefs: [...]}`")
                .into());
        }
        let sinks = SinkSet::build(
            set,
            &chain,
            SinkOptions {
                timestamp_format: spec.timestamp_format,
                simulation: sim.name.value.clone(),
                // Only streams stamp events with `emittedAt`.
                emitted_at: spec.emitted_at
                    && matches!(spec.settings.value, SimulationSettings::Stream { .. }),
                network: network.is_some(),
                ui: options.ui,
                shard: options.shard,
            },
            extra_sinks,
        )?;
        let (seed, seed_was_random) = match options.seed {
            Some(seed) => (seed, false),
            None => (rand::rng().random::<u64>(), true),
        };
        let start_ms = match (options.start_time, spec.start_time) {
            (Some(t), _) | (None, Some(t)) => time::millis(t),
            (None, None) if !seed_was_random => {
                time::millis(SEEDED_START.parse().expect("a valid constant"))
            }
            (None, None) => time::now_ms(),
        };
        let truth = match &options.truth {
            None => None,
            Some(dir) => Some(Truth::create(dir).map_err(|e| {
                RunError::Unavailable(
                    Diagnostic::error(format!(
                        "cannot write the ground truth into {}: {e}",
                        dir.display()
                    ))
                    .help("give --truth a folder that can be created and written"),
                )
            })?),
        };
        Ok(Run {
            network,
            truth,
            chain,
            sinks,
            simulation: sim.name.value.clone(),
            spec,
            seed,
            seed_was_random,
            start_ms,
            options,
        })
    }

    /// Runs the simulation to its end (or until stopped) and finishes every sink.
    ///
    /// # Errors
    /// A sink failed ([`RunError::Sink`]), or events were not delivered
    /// ([`RunError::Undelivered`], with the report).
    pub fn execute(mut self) -> Result<RunReport, RunError> {
        let started = std::time::Instant::now();
        let shard = self.options.shard;
        let mut engine = Engine::for_shard(
            &self.chain,
            self.seed,
            self.start_ms,
            self.spec.max_concurrent_cases as usize,
            shard,
        );
        let max_events = self
            .options
            .max_events
            .or(self.spec.max_events)
            .map(|m| shard.share(m));
        let mut pacing = None;
        let mut stage = self.network.as_ref().map(|plan| {
            Stage::new(
                plan,
                &self.chain,
                self.seed,
                self.start_ms,
                self.truth.take(),
                shard,
            )
        });
        let outcome = match &self.spec.settings.value {
            SimulationSettings::CountBased { steps } => {
                let steps = shard.share(self.options.steps.unwrap_or(*steps));
                let limit = max_events.map_or(steps, |m| m.min(steps));
                count_based::run(
                    &mut engine,
                    &mut self.sinks,
                    limit,
                    &self.options,
                    stage.as_mut(),
                )
            }
            SimulationSettings::Stream { load } => stream::run(
                &mut engine,
                &mut self.sinks,
                &self.spec,
                load,
                &self.options,
                max_events,
                stage.as_mut(),
            )
            .map(|(outcome, report)| {
                pacing = Some(report);
                outcome
            }),
            SimulationSettings::LoadTest {
                load,
                gen_timeframes_til_start,
                steps,
                ..
            } => load_test::run(
                &mut engine,
                &mut self.sinks,
                load,
                *gen_timeframes_til_start,
                *steps,
                &self.options,
                max_events,
                stage.as_mut(),
            ),
        };
        if let Some(observer) = &self.options.observer {
            observer.finished();
        }
        let (events, interrupted, run_error) = match outcome {
            Ok(o) => (o.events, o.interrupted, None),
            Err(Stopped { events, error }) => match error {
                SinkError::Closed { .. } => (events, true, None),
                e => (events, true, Some(e)),
            },
        };
        let truth_error = stage.as_mut().and_then(|s| s.close_truth().err());
        let network = stage.as_ref().map(|s| s.report().clone());
        drop(stage);
        let (sinks, mut errors) = self.sinks.finish();
        if let Some(e) = truth_error {
            errors.push(SinkError::Io {
                sink: "truth".into(),
                context: "writing the ground truth".into(),
                source: e,
            });
        }
        let report = RunReport {
            simulation: self.simulation,
            simulation_type: self.spec.settings.value.simulation_type().name(),
            seed: self.seed,
            seed_was_random: self.seed_was_random,
            start_ms: self.start_ms,
            events,
            elapsed: started.elapsed(),
            memory: self.sinks.memory_handles(),
            sinks,
            interrupted,
            pacing,
            clock_exhausted: engine.clock_exhausted(),
            network,
        };
        let error = run_error.or(errors
            .into_iter()
            .find(|e| !matches!(e, SinkError::Closed { .. })));
        report.into_result(error)
    }
}

/// This shard's share of `maxConcurrentCases`; a shard that would get none is an error, as it
/// could never open a case.
pub(super) fn concurrent_share(spec: &SimulationSpec, shard: Shard) -> Result<u32, Diagnostic> {
    let total = spec.max_concurrent_cases;
    match shard.share(u64::from(total)) {
        0 => Err(Diagnostic::error(format!(
            "maxConcurrentCases is {total}: split into {} shards, shard {shard} would have no \
             case open, and so no events",
            shard.count()
        ))
        .at(&spec.settings.place)
        .help(format!(
            "each shard needs at least one open case: run at most {total} shards (shards × \
             workers), or raise maxConcurrentCases to {} or more",
            shard.count()
        ))),
        // At most the whole, so it fits.
        share => Ok(share as u32),
    }
}

/// How a simulation loop ended.
pub(crate) struct Outcome {
    pub events: u64,
    pub interrupted: bool,
}

/// A simulation loop stopped by a sink error after `events` events.
pub(crate) struct Stopped {
    pub events: u64,
    pub error: SinkError,
}
