//! Workers: several shards of one workload in one process, a thread each (`--workers W`).
//!
//! Worker w of a process that runs shard K of N is shard K·W + w of N·W (see
//! [`crate::shard`]), so W workers in one process make exactly the bytes W processes with
//! `--shard` would. Each worker is a whole [`Run`]: its own engine and its own sinks (its own
//! files, its own Kafka producer), so nothing on the hot path is shared or locked. Sinks that
//! cannot be split that way are refused when W > 1: the console and `ui` sinks (one terminal),
//! `memory` (one collection per run), `http` (one backend takes one generator's frames in
//! order), a file sink whose `path` has no `{shard}` (two writers on one file), and an MQTT
//! sink whose `clientId` has none (the broker keeps one connection per id).
//!
//! What the workers do is added up: one [`Observer`] sees the sum of their progress (once each
//! has reported), and one [`RunReport`] has the sum of their events and of each sink's
//! deliveries. They share one stop flag, so a signal stops them all; a worker that fails sets
//! it too, so that the others end early rather than run on alone.

use super::observe::{Observer, PacingStatus, Progress};
use super::{PacingReport, Run, RunError, RunOptions, RunReport};
use crate::config::{ConfigSet, Diagnostic, SimulationType, SinkSettings, SinkSpec};
use crate::pacing::{Lateness, LatenessSummary};
use crate::shard::SHARD_PLACEHOLDER;
use crate::sink::{Delivery, SinkReport};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The runs of W workers, prepared.
pub struct Workers {
    runs: Vec<Run>,
}

impl Workers {
    /// Prepares `workers` runs of `options.shard` (at least one): worker w runs shard
    /// K·W + w of N·W. They share one seed and start time (chosen once if not given).
    ///
    /// # Errors
    /// [`RunError::Config`] when the config cannot be split `workers` ways (a sink that
    /// cannot be, too few `maxConcurrentCases`, too many shards) or has errors;
    /// [`RunError::Unavailable`] when a sink's destination does not answer.
    pub fn prepare(
        set: &ConfigSet,
        options: RunOptions,
        workers: u32,
    ) -> Result<Workers, RunError> {
        if workers == 0 {
            return Err(
                Diagnostic::error("--workers is 0: a run needs at least one worker")
                    .help("give --workers 1 or more (e.g. the number of cores)")
                    .into(),
            );
        }
        if workers > 1 && options.truth.is_some() {
            // The truth is one stream's record; W workers would write W streams into one folder.
            return Err(Diagnostic::error(format!(
                "--truth records one stream, and --workers {workers} makes {workers}"
            ))
            .help("run the shards as processes (--shard K/N), each with its own --truth folder")
            .into());
        }
        if workers > 1 {
            let problems: Vec<Diagnostic> = set
                .sinks
                .iter()
                .filter_map(|doc| unsplittable(&doc.name.value, &doc.spec, workers))
                .collect();
            if !problems.is_empty() {
                return Err(RunError::Config(crate::config::Diagnostics {
                    items: problems,
                }));
            }
        }
        let whole = options.shard;
        let shards = (0..workers)
            .map(|w| {
                whole.worker(w, workers).map_err(|e| {
                    Diagnostic::error(format!("--shard {whole} with --workers {workers}: {e}"))
                        .help("use fewer shards or fewer workers")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Every shard's share is checked before any sink is built (and a file created).
        if let Ok(sim) = set.simulation(options.simulation.as_deref()) {
            for &shard in &shards {
                super::concurrent_share(&sim.spec, shard)?;
            }
        }
        let mut runs: Vec<Run> = Vec::with_capacity(workers as usize);
        let mut options = options;
        for (w, shard) in shards.into_iter().enumerate() {
            options.shard = shard;
            let run = Run::prepare(set, options.clone(), Vec::new())?;
            if w == 0 {
                // One seed and one start for all, so that one line repeats the whole run.
                options.seed = Some(run.seed);
                options.start_time = jiff::Timestamp::from_millisecond(run.start_ms).ok();
            }
            runs.push(run);
        }
        let random = runs[0].seed_was_random;
        for run in &mut runs {
            run.seed_was_random = random;
        }
        Ok(Workers { runs })
    }

    /// The prepared runs, worker 0 first.
    pub fn runs_mut(&mut self) -> &mut [Run] {
        &mut self.runs
    }

    /// Tells `observer` of the workers' summed progress (replacing any observer they had).
    pub fn observe(&mut self, observer: Option<Arc<dyn Observer>>) {
        let Some(observer) = observer else {
            for run in &mut self.runs {
                run.options.observer = None;
            }
            return;
        };
        if self.runs.len() == 1 {
            self.runs[0].options.observer = Some(observer);
            return;
        }
        let combined = Arc::new(Combined {
            inner: observer,
            state: Mutex::new(State {
                workers: vec![None; self.runs.len()],
                finished: 0,
            }),
        });
        for (index, run) in self.runs.iter_mut().enumerate() {
            run.options.observer = Some(Arc::new(WorkerObserver {
                index,
                combined: combined.clone(),
            }));
        }
    }

    /// Runs every worker to its end (one on this thread, more on a thread each) and adds
    /// their reports up.
    ///
    /// # Errors
    /// As [`Run::execute`], with the summed report: the first sink error of any worker, or
    /// the events no worker could deliver.
    pub fn execute(mut self) -> Result<RunReport, RunError> {
        if self.runs.len() == 1 {
            return self.runs.remove(0).execute();
        }
        let stop = self.runs[0].options.stop.clone();
        let results: Vec<Result<RunReport, RunError>> = std::thread::scope(|scope| {
            let mut handles = Vec::new();
            let mut results = Vec::new();
            for (w, run) in self.runs.into_iter().enumerate() {
                let stop_all = stop.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("def-worker-{w}"))
                    .spawn_scoped(scope, move || {
                        let result = run.execute();
                        if result.is_err() {
                            stop_all.store(true, Ordering::SeqCst);
                        }
                        result
                    });
                match spawned {
                    Ok(handle) => handles.push(handle),
                    Err(e) => {
                        // The workers already running stop; their reports still count.
                        stop.store(true, Ordering::SeqCst);
                        results.push(Err(RunError::Unavailable(
                            Diagnostic::error(format!("cannot start worker {w}: {e}"))
                                .help("run fewer workers"),
                        )));
                        break;
                    }
                }
            }
            for handle in handles {
                match handle.join() {
                    Ok(result) => results.push(result),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            results
        });
        combine(results)
    }
}

/// Why a sink cannot be run by `workers` workers at once, if it cannot.
fn unsplittable(name: &str, spec: &SinkSpec, workers: u32) -> Option<Diagnostic> {
    let refuse = |why: String, help: &str| {
        Some(
            Diagnostic::error(format!("sink `{name}` {why}"))
                .at(&spec.settings.place)
                .help(help.to_string()),
        )
    };
    let one_output = "run it with --workers 1 (several processes with --shard K/N can each \
                      have one), or write to a file sink with {shard} in its path";
    match &spec.settings.value {
        SinkSettings::Console { .. } => refuse(
            format!("is a console sink: {workers} workers would mix their lines on one standard output"),
            one_output,
        ),
        SinkSettings::Ui => refuse(
            format!("is a ui sink: {workers} workers cannot share one terminal dashboard"),
            one_output,
        ),
        SinkSettings::Memory => refuse(
            format!("is a memory sink: it keeps one run's events, and {workers} workers are {workers} runs"),
            "run it with --workers 1",
        ),
        SinkSettings::Http(_) => refuse(
            format!(
                "is an http sink: a load backend emits one generator's frames in order, so \
                 {workers} workers posting to it would stretch the test {workers} times"
            ),
            "run one generator per backend: --workers 1, and one process (--shard K/N) per backend",
        ),
        SinkSettings::File { path, .. } => {
            let has = path.to_str().is_some_and(|p| p.contains(SHARD_PLACEHOLDER));
            (!has).then(|| {
                Diagnostic::error(format!(
                    "sink `{name}` writes {}, and {workers} workers would all write that one file",
                    path.display()
                ))
                .at(spec.place_of("path"))
                .help(format!(
                    "put {SHARD_PLACEHOLDER} in the path, e.g. `path: {}`: each worker then \
                     writes its own file, {SHARD_PLACEHOLDER} replaced by its shard number",
                    example_path(path)
                ))
            })
        }
        SinkSettings::Mqtt(mqtt) => {
            let id = mqtt.client_id.as_deref()?;
            (!id.contains(SHARD_PLACEHOLDER)).then(|| {
                Diagnostic::error(format!(
                    "sink `{name}` connects as MQTT client `{id}`, and {workers} workers would \
                     all use that id: the broker keeps one connection per id and drops the others"
                ))
                .at(spec.place_of("clientId"))
                .help(format!(
                    "put {SHARD_PLACEHOLDER} in the id, e.g. `clientId: {id}-{SHARD_PLACEHOLDER}`, \
                     or leave clientId out for a generated one per worker"
                ))
            })
        }
        SinkSettings::Kafka(_) | SinkSettings::Blackhole => None,
    }
}

/// `events.jsonl` → `events-{shard}.jsonl`, for the help of a path without `{shard}`.
fn example_path(path: &std::path::Path) -> String {
    let file = path
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or("events");
    let (stem, ext) = match file.split_once('.') {
        Some((stem, ext)) => (stem, format!(".{ext}")),
        None => (file, String::new()),
    };
    path.with_file_name(format!("{stem}-{SHARD_PLACEHOLDER}{ext}"))
        .display()
        .to_string()
}

/// The workers' results as one: the summed report, with the first sink error or the
/// undelivered events of any.
fn combine(results: Vec<Result<RunReport, RunError>>) -> Result<RunReport, RunError> {
    let mut reports = Vec::new();
    let mut sink_error = None;
    let mut other = None;
    for result in results {
        match result {
            Ok(report) => reports.push(report),
            Err(RunError::Sink { error, report }) => {
                sink_error.get_or_insert(error);
                reports.push(*report);
            }
            Err(RunError::Undelivered { report, .. }) => reports.push(*report),
            Err(e) => {
                other.get_or_insert(e);
            }
        }
    }
    if let Some(e) = other {
        return Err(e);
    }
    sum(reports).into_result(sink_error)
}

/// The workers' reports added up: events, each sink's counts (the sinks are the same, in
/// the same order, in every worker), the longest time; a stream's lateness percentiles are
/// the worst worker's (percentiles cannot be added).
fn sum(reports: Vec<RunReport>) -> RunReport {
    let mut reports = reports.into_iter();
    let mut total = reports.next().expect("at least one worker");
    for report in reports {
        total.events += report.events;
        total.elapsed = total.elapsed.max(report.elapsed);
        total.interrupted |= report.interrupted;
        total.clock_exhausted |= report.clock_exhausted;
        for (mine, theirs) in total.sinks.iter_mut().zip(report.sinks) {
            add_sink(mine, theirs);
        }
        total.pacing = match (total.pacing.take(), report.pacing) {
            (Some(a), Some(b)) => Some(add_pacing(a, b)),
            (a, b) => a.or(b),
        };
    }
    total
}

fn add_sink(mine: &mut SinkReport, theirs: SinkReport) {
    mine.events += theirs.events;
    add_delivery(&mut mine.delivery, theirs.delivery);
}

fn add_delivery(mine: &mut Delivery, theirs: Delivery) {
    mine.delivered += theirs.delivered;
    mine.failed += theirs.failed;
    for (destination, n) in theirs.destinations {
        *mine.destinations.entry(destination).or_default() += n;
    }
    if mine.error.is_none() {
        mine.error = theirs.error;
    }
    mine.acknowledged |= theirs.acknowledged;
    mine.open_cases += theirs.open_cases;
}

fn add_pacing(a: PacingReport, b: PacingReport) -> PacingReport {
    let (x, y) = (a.lateness, b.lateness);
    PacingReport {
        target_events: a.target_events + b.target_events,
        behind: a.behind + b.behind,
        elapsed: a.elapsed.max(b.elapsed),
        span: a.span.max(b.span),
        lateness: LatenessSummary {
            count: x.count + y.count,
            p50: x.p50.max(y.p50),
            p99: x.p99.max(y.p99),
            p999: x.p999.max(y.p999),
            max: x.max.max(y.max),
        },
    }
}

/// The summed progress of several workers, told to one observer.
#[derive(Debug)]
struct Combined {
    inner: Arc<dyn Observer>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Each worker's latest progress.
    workers: Vec<Option<Snapshot>>,
    /// Workers that have finished generating.
    finished: usize,
}

/// One worker's progress, owned.
#[derive(Clone, Debug)]
struct Snapshot {
    simulation_type: SimulationType,
    elapsed: Duration,
    events: u64,
    total: Option<u64>,
    open_cases: usize,
    pacing: Option<PacingStatus>,
    frames: Option<u64>,
    sinks: Vec<(String, u64)>,
    datasources: Vec<(String, u64)>,
    lateness: Option<Lateness>,
}

impl Snapshot {
    fn of(p: &Progress<'_>) -> Snapshot {
        let own = |pairs: &[(&str, u64)]| pairs.iter().map(|&(n, c)| (n.to_string(), c)).collect();
        Snapshot {
            simulation_type: p.simulation_type,
            elapsed: p.elapsed,
            events: p.events,
            total: p.total,
            open_cases: p.open_cases,
            pacing: p.pacing,
            frames: p.frames,
            sinks: own(p.sinks),
            datasources: own(p.datasources),
            lateness: p.lateness.cloned(),
        }
    }

    /// Adds `other` in: counts add up, the time is the longest, frames the fewest (the
    /// frames every worker has made).
    fn add(&mut self, other: &Snapshot) {
        self.elapsed = self.elapsed.max(other.elapsed);
        self.events += other.events;
        self.total = self.total.zip(other.total).map(|(a, b)| a + b);
        self.open_cases += other.open_cases;
        self.pacing = match (self.pacing, other.pacing) {
            (Some(a), Some(b)) => Some(PacingStatus {
                target_rate: a.target_rate + b.target_rate,
                achieved_rate: a.achieved_rate + b.achieved_rate,
                behind: a.behind + b.behind,
                lag: a.lag.max(b.lag),
            }),
            (a, b) => a.or(b),
        };
        self.frames = match (self.frames, other.frames) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        for (mine, theirs) in self.sinks.iter_mut().zip(&other.sinks) {
            mine.1 += theirs.1;
        }
        for (mine, theirs) in self.datasources.iter_mut().zip(&other.datasources) {
            mine.1 += theirs.1;
        }
        match (&mut self.lateness, &other.lateness) {
            (Some(mine), Some(theirs)) => mine.add(theirs),
            (mine @ None, Some(theirs)) => *mine = Some(theirs.clone()),
            _ => {}
        }
    }
}

impl Combined {
    fn progress(&self, index: usize, progress: &Progress<'_>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.workers[index] = Some(Snapshot::of(progress));
        // A sum is told only once every worker has a count in it.
        let Some(mut sum) = state
            .workers
            .iter()
            .try_fold(None::<Snapshot>, |sum, w| {
                let w = w.as_ref()?;
                Some(Some(match sum {
                    None => w.clone(),
                    Some(mut sum) => {
                        sum.add(w);
                        sum
                    }
                }))
            })
            .flatten()
        else {
            return;
        };
        drop(state);
        let sinks: Vec<(&str, u64)> = sum.sinks.iter().map(|(n, c)| (n.as_str(), *c)).collect();
        let datasources: Vec<(&str, u64)> = sum
            .datasources
            .iter()
            .map(|(n, c)| (n.as_str(), *c))
            .collect();
        let lateness = sum.lateness.take();
        self.inner.progress(&Progress {
            simulation_type: sum.simulation_type,
            elapsed: sum.elapsed,
            events: sum.events,
            total: sum.total,
            open_cases: sum.open_cases,
            pacing: sum.pacing,
            frames: sum.frames,
            sinks: &sinks,
            datasources: &datasources,
            lateness: lateness.as_ref(),
        });
    }

    fn finished(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.finished += 1;
        if state.finished == state.workers.len() {
            drop(state);
            self.inner.finished();
        }
    }
}

/// One worker's view of the [`Combined`] observer.
#[derive(Debug)]
struct WorkerObserver {
    index: usize,
    combined: Arc<Combined>,
}

impl Observer for WorkerObserver {
    fn progress(&self, progress: &Progress<'_>) {
        self.combined.progress(self.index, progress);
    }

    fn finished(&self) {
        self.combined.finished();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_example_path_puts_the_placeholder_before_the_extensions() {
        let example = |p: &str| example_path(std::path::Path::new(p));
        assert_eq!(
            example("out/events.jsonl.gz"),
            "out/events-{shard}.jsonl.gz"
        );
        assert_eq!(example("events"), "events-{shard}");
    }

    #[test]
    fn deliveries_add_up_per_destination() {
        let mut a = Delivery::all(3);
        a.destinations.insert("t1".into(), 3);
        let mut b = Delivery::all(5);
        b.failed = 1;
        b.error = Some("broker gone".into());
        b.destinations.insert("t1".into(), 2);
        b.destinations.insert("t2".into(), 3);
        add_delivery(&mut a, b);
        assert_eq!((a.delivered, a.failed), (8, 1));
        assert_eq!(a.error.as_deref(), Some("broker gone"));
        assert_eq!(
            a.destinations.into_iter().collect::<Vec<_>>(),
            [("t1".to_string(), 5), ("t2".to_string(), 3)]
        );
    }
}
