//! `stream`: events in real time at the rate of the `load`, until stopped or a limit.
//!
//! The [`Pacer`] says how many events are due; this loop takes that many from the engine,
//! stamps them (wall-clock timestamps with `clock: wall`, the intended emission time with
//! `emittedAt`), hands them to the sinks, and flushes the sinks so that readers see events
//! promptly: after every batch at low rates, at most every [`FLUSH_EVERY`] at high ones.
//!
//! The run ends on SIGINT/SIGTERM (the `stop` flag), when `maxEvents` events are out (exactly
//! that many), when the `duration` is over (with exactly the events due by then), or when a
//! finite load (non-repeating `steps`, `trace`) ends. If the sinks cannot keep up, the events
//! still go out in order as fast as the sinks take them, and the run says how far behind it
//! is: in the pacing it reports to the observer once a second, and in its [`PacingReport`].
//!
//! Behind a network ([`crate::network`]) the pacer paces *generation*: the rate is events
//! generated per second. With the simulated clock the sinks get the events in order of
//! simulated arrival as generation moves the clock on; with `clock: wall` a delay is real
//! time: an event is held until its arrival instant on the wall clock, and the loop wakes for
//! it. What is still in flight when the stream ends arrives at once.
//!
//! A shard paces its [`Share`] of the load: its part of the events due at every instant.

use super::observe::{report_with_counts, Observer, PacingStatus, Progress};
use super::{Outcome, RunOptions, Stopped};
use crate::config::{ClockSpec, LoadSpec, SimulationSpec, SimulationType};
use crate::engine::{Engine, MaybeMs};
use crate::network::Stage;
use crate::pacing::{Lateness, LatenessSummary, Load, Pacer, Share, Wait};
use crate::sink::SinkSet;
use crate::time;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The longest the loop waits without looking at the stop flag.
const NAP: Duration = Duration::from_millis(50);
/// Sinks are flushed at least this often while events flow, and before every longer wait.
const FLUSH_EVERY: Duration = Duration::from_millis(2);
/// The most events handed out between two looks at the stop flag and the clock.
const MAX_BATCH: u64 = 8192;
/// How often the pacing is reported to the observer.
const STATUS_EVERY: Duration = Duration::from_secs(1);

/// How a stream kept to its schedule.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PacingReport {
    /// Events the schedule called for over the run (within `maxEvents` and `duration`).
    pub target_events: u64,
    /// Events due but not emitted when the run ended (0 unless the sinks fell behind and
    /// the run was stopped).
    pub behind: u64,
    /// How long the stream ran, from its first deadline clock to its end.
    pub elapsed: Duration,
    /// The time the target covers: `elapsed`, but at most the `duration` (a run that fell
    /// behind goes on past its duration to emit the events due by then).
    pub span: Duration,
    /// Lateness of each event's emission against its deadline.
    pub lateness: LatenessSummary,
}

impl PacingReport {
    /// The schedule's mean rate over the run, in events per second.
    pub fn target_rate(&self) -> f64 {
        self.target_events as f64 / self.span.as_secs_f64().max(1e-9)
    }
}

/// The load a stream runs: the spec's, with a constant load replaced by `LOAD` if given.
pub(super) fn effective_load(load: &LoadSpec, options: &RunOptions) -> LoadSpec {
    match (load, options.load) {
        (LoadSpec::Constant { .. }, Some(rate)) => LoadSpec::Constant { load: rate },
        (load, _) => load.clone(),
    }
}

pub(super) fn run<'c>(
    engine: &mut Engine<'c>,
    sinks: &mut SinkSet,
    spec: &SimulationSpec,
    load: &LoadSpec,
    options: &RunOptions,
    max_events: Option<u64>,
    mut network: Option<&mut Stage<'c>>,
) -> Result<(Outcome, PacingReport), Stopped> {
    let load = effective_load(load, options);
    let wall = spec.clock == ClockSpec::Wall;
    let duration = options.duration_secs.or(spec.duration_secs);
    let start = Instant::now();
    let wall_start_ms = time::now_ms();
    let mut pacer = Pacer::new(Share::new(Load::new(&load), options.shard), start);
    if let Some(n) = max_events {
        pacer = pacer.limit_events(n);
    }
    if let Some(secs) = duration {
        pacer = pacer.until(Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(Duration::MAX));
    }
    let until = pacer.end();
    let mut status = Status::new(start);
    let mut lateness = Lateness::new();
    let mut unflushed = false;
    let mut last_flush = start;
    let mut interrupted = false;
    let stopped = |events: u64, error| Stopped { events, error };
    loop {
        if options.stop.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
        let mut wake_by = (Instant::now() + NAP).min(status.next_at);
        if let Some(arrival) = network
            .as_deref()
            .filter(|_| wall)
            .and_then(Stage::next_arrival)
        {
            // Wake for the next arrival on the wall clock.
            let due = Duration::from_millis(arrival.saturating_sub(wall_start_ms).max(0) as u64);
            wake_by = wake_by.min(start + due);
        }
        match pacer.wait(wake_by) {
            Wait::Done => break,
            Wait::Idle => {}
            Wait::Due { count, now } => {
                let since_start = now - start;
                let wall_now_ms = wall_start_ms + since_start.as_millis() as i64;
                for n in pacer.take(count.min(MAX_BATCH)) {
                    let deadline = pacer.deadline(n).unwrap_or(since_start);
                    lateness.record(since_start.saturating_sub(deadline));
                    let mut event = engine.next_event();
                    if wall {
                        event.timestamp_ms = wall_now_ms;
                    }
                    if spec.emitted_at {
                        event.emitted_at_ms =
                            MaybeMs::some(wall_start_ms + deadline.as_millis() as i64);
                    }
                    match network.as_deref_mut() {
                        None => sinks.dispatch(&event),
                        Some(stage) if wall => stage.push(event, sinks),
                        Some(stage) => stage.carry(event, sinks),
                    }
                    .map_err(|e| stopped(n, e))?;
                }
                unflushed = true;
            }
        }
        let now = Instant::now();
        if let Some(stage) = network.as_deref_mut().filter(|_| wall) {
            // Everything whose arrival instant has come.
            let wall_now_ms = wall_start_ms + (now - start).as_millis() as i64;
            if stage.next_arrival().is_some_and(|a| a <= wall_now_ms) {
                stage
                    .release(wall_now_ms + 1, sinks)
                    .map_err(|e| stopped(pacer.taken(), e))?;
                unflushed = true;
            }
        }
        if unflushed {
            // Flush now if the next event is not imminent (we are about to sleep) or the
            // last flush is long enough ago; otherwise let the next batch join this one.
            let next = pacer
                .deadline(pacer.taken() + 1)
                .and_then(|d| start.checked_add(d));
            let waiting = next.is_none_or(|t| t > now + FLUSH_EVERY);
            if waiting || now >= last_flush + FLUSH_EVERY {
                sinks.flush().map_err(|e| stopped(pacer.taken(), e))?;
                unflushed = false;
                last_flush = now;
            }
        }
        if now >= status.next_at {
            let pacing = status.update(now, &mut pacer);
            if let Some(observer) = &options.observer {
                report_progress(
                    &**observer,
                    now - start,
                    engine,
                    sinks,
                    &pacer,
                    max_events,
                    pacing,
                    &lateness,
                );
            }
        }
    }
    if let Some(stage) = network {
        stage.finish(sinks).map_err(|e| stopped(pacer.taken(), e))?;
        sinks.flush().map_err(|e| stopped(pacer.taken(), e))?;
    }
    let end = Instant::now();
    // The last report has the final counts, so that a watcher ends where the summary does.
    if let Some(observer) = &options.observer {
        let pacing = status.update(end, &mut pacer);
        report_progress(
            &**observer,
            end - start,
            engine,
            sinks,
            &pacer,
            max_events,
            pacing,
            &lateness,
        );
    }
    let target_events = pacer.due_total(end).max(pacer.taken());
    let report = PacingReport {
        target_events,
        behind: target_events - pacer.taken(),
        elapsed: end - start,
        span: until.map_or(end - start, |u| u.min(end - start)),
        lateness: lateness.summary(),
    };
    Ok((
        Outcome {
            events: pacer.taken(),
            interrupted,
        },
        report,
    ))
}

/// Tells the observer how the stream goes.
#[allow(clippy::too_many_arguments)]
fn report_progress(
    observer: &dyn Observer,
    elapsed: Duration,
    engine: &Engine,
    sinks: &SinkSet,
    pacer: &Pacer<Share<Load>>,
    max_events: Option<u64>,
    pacing: PacingStatus,
    lateness: &Lateness,
) {
    report_with_counts(
        observer,
        sinks,
        Progress {
            simulation_type: SimulationType::Stream,
            elapsed,
            events: pacer.taken(),
            total: max_events,
            open_cases: engine.open_cases(),
            pacing: Some(pacing),
            frames: None,
            sinks: &[],
            datasources: &[],
            lateness: Some(lateness),
        },
    );
}

/// The pacing facts reported to the observer once a second.
struct Status {
    next_at: Instant,
    /// Where the current interval began: (time, events taken, events due).
    last: (Instant, u64, u64),
    /// Where the interval before it began; a rate over a very short last interval
    /// (the final report, just after a regular one) is measured from here instead,
    /// so that it is not 0 only because no event fell due in a few milliseconds.
    before: (Instant, u64, u64),
}

impl Status {
    fn new(start: Instant) -> Status {
        Status {
            next_at: start + STATUS_EVERY,
            last: (start, 0, 0),
            before: (start, 0, 0),
        }
    }

    /// The pacing over the interval since the last call (or the one before, if the
    /// last call is less than half a status interval ago).
    fn update(&mut self, now: Instant, pacer: &mut Pacer<Share<Load>>) -> PacingStatus {
        self.next_at = now + STATUS_EVERY;
        let taken = pacer.taken();
        let due = pacer.due_total(now);
        let behind = due.saturating_sub(taken);
        let lag = if behind > 0 {
            pacer
                .deadline(taken + 1)
                .map(|d| (now - pacer.start()).saturating_sub(d))
                .unwrap_or_default()
        } else {
            Duration::ZERO
        };
        let (from_at, from_taken, from_due) = if now - self.last.0 < STATUS_EVERY / 2 {
            self.before
        } else {
            self.last
        };
        let secs = (now - from_at).as_secs_f64().max(1e-9);
        let target_rate = (due - from_due.min(due)) as f64 / secs;
        let achieved_rate = (taken - from_taken) as f64 / secs;
        (self.before, self.last) = (self.last, (now, taken, due));
        PacingStatus {
            target_rate,
            achieved_rate,
            behind,
            lag,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_last_interval_reports_the_rate_of_the_one_before() {
        let start = Instant::now();
        let load = Share::new(Load::constant(500.0), crate::shard::Shard::WHOLE);
        let mut pacer = Pacer::new(load, start).until(Duration::from_secs(4));
        let mut status = Status::new(start);
        let at = |ms| start + Duration::from_millis(ms);
        let due = pacer.due_total(at(1000));
        pacer.take(due);
        let first = status.update(at(1000), &mut pacer);
        assert_eq!((first.target_rate, first.achieved_rate), (500.0, 500.0));
        // The run ends 1 ms later: no event fell due in that millisecond, yet the
        // target is still 500/s, measured over the last 1.001 s.
        let last = status.update(at(1001), &mut pacer);
        assert!((last.target_rate - 500.0 / 1.001).abs() < 1.0, "{last:?}");
        assert!((last.achieved_rate - 500.0 / 1.001).abs() < 1.0, "{last:?}");
    }
}
