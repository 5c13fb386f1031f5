//! `countBased`: a fixed number of events, as fast as the sinks take them.
//!
//! `steps` counts generated events. Behind a network ([`crate::network`]) they reach the
//! sinks in order of simulated arrival, and when the last is generated everything still in
//! flight arrives. There the engine and the network stage (with the sinks) run on two
//! threads, handing events over in batches: the stage costs more per event than generating
//! it, and on two cores the two overlap. The stage sees the same events in the same order
//! either way, so the output is the same bytes. Only the order of what the sinks receive
//! counts here, not its moment, so the stage delivers every few events
//! ([`Stage::carry_deferred`]) rather than after each.

use super::observe::{report_with_counts, Progress};
use super::{Outcome, RunOptions, Stopped};
use crate::config::SimulationType;
use crate::engine::{Engine, Event};
use crate::network::Stage;
use crate::sink::{SinkError, SinkSet};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Instant;

/// Events between progress reports and stop checks.
const CHUNK: u64 = 1 << 16;

/// Events per batch handed from the engine's thread to the network's: large enough that the
/// hand-over costs nothing per event, small enough to stay in the caches.
const BATCH: usize = 1 << 12;

/// Batches on their way to the network's thread: the engine runs at most this far ahead.
const BATCHES_AHEAD: usize = 4;

pub(super) fn run<'c>(
    engine: &mut Engine<'c>,
    sinks: &mut SinkSet,
    steps: u64,
    options: &RunOptions,
    network: Option<&mut Stage<'c>>,
) -> Result<Outcome, Stopped> {
    match network {
        None => run_with(engine, sinks, steps, options, |sinks, event| {
            sinks.dispatch(&event)
        }),
        Some(stage) => pipelined(engine, sinks, steps, options, stage),
    }
}

/// A batch of generated events, with the engine's open cases after the last of them.
struct Batch<'c> {
    events: Vec<Event<'c>>,
    open_cases: usize,
}

/// The loop behind a network: this thread generates, a second carries the events through the
/// stage to the sinks, in the order generated; progress is reported as they are carried.
fn pipelined<'c>(
    engine: &mut Engine<'c>,
    sinks: &mut SinkSet,
    steps: u64,
    options: &RunOptions,
    stage: &mut Stage<'c>,
) -> Result<Outcome, Stopped> {
    let (full, full_rx) = mpsc::sync_channel::<Batch<'c>>(BATCHES_AHEAD);
    let (empty, empty_rx) = mpsc::channel::<Vec<Event<'c>>>();
    std::thread::scope(|scope| {
        // Reborrowed, so that both are back here if no thread can be had.
        let (stage_there, sinks_there) = (&mut *stage, &mut *sinks);
        let carrier = std::thread::Builder::new()
            .name("def-network".into())
            .spawn_scoped(scope, move || {
                let started = Instant::now();
                let mut carried = 0u64;
                for mut batch in full_rx {
                    for event in batch.events.drain(..) {
                        carried += 1;
                        stage_there
                            .carry_deferred(event, sinks_there)
                            .map_err(|error| Stopped {
                                events: carried,
                                error,
                            })?;
                        if carried % CHUNK == 0 || carried == steps {
                            let open = batch.open_cases;
                            report(options, sinks_there, started, carried, steps, open);
                        }
                    }
                    // The engine's thread may have stopped: the batch is then dropped.
                    let _ = empty.send(batch.events);
                }
                stage_there.finish(sinks_there).map_err(|error| Stopped {
                    events: carried,
                    error,
                })
            });
        let carrier = match carrier {
            Ok(carrier) => carrier,
            // No second thread to be had: carry the events on this one.
            Err(_) => {
                return Err(None);
            }
        };
        let mut done = 0u64;
        let mut interrupted = false;
        'generate: while done < steps {
            let chunk = (steps - done).min(CHUNK);
            let mut left = chunk;
            while left > 0 {
                let n = left.min(BATCH as u64) as usize;
                let mut events = empty_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(BATCH));
                events.extend((0..n).map(|_| engine.next_event()));
                let batch = Batch {
                    events,
                    open_cases: engine.open_cases(),
                };
                if full.send(batch).is_err() {
                    // The carrier failed; its error is the run's.
                    break 'generate;
                }
                left -= n as u64;
            }
            done += chunk;
            if options.stop.load(Ordering::Relaxed) {
                interrupted = true;
                break;
            }
        }
        drop(full);
        match carrier.join() {
            Ok(Ok(())) => Ok(Outcome {
                events: done,
                interrupted,
            }),
            Ok(Err(stopped)) => Err(Some(stopped)),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
    .or_else(|stopped| match stopped {
        Some(stopped) => Err(stopped),
        None => {
            let outcome = run_with(engine, sinks, steps, options, |sinks, event| {
                stage.carry_deferred(event, sinks)
            })?;
            stage.finish(sinks).map_err(|error| Stopped {
                events: outcome.events,
                error,
            })?;
            Ok(outcome)
        }
    })
}

/// Tells the observer, if any, how far the run is.
fn report(
    options: &RunOptions,
    sinks: &SinkSet,
    started: Instant,
    events: u64,
    steps: u64,
    open_cases: usize,
) {
    if let Some(observer) = &options.observer {
        report_with_counts(
            observer.as_ref(),
            sinks,
            Progress {
                simulation_type: SimulationType::CountBased,
                elapsed: started.elapsed(),
                events,
                total: Some(steps),
                open_cases,
                pacing: None,
                frames: None,
                sinks: &[],
                datasources: &[],
                lateness: None,
            },
        );
    }
}

/// The loop, with what becomes of each event (straight to the sinks, or into a network)
/// compiled in.
fn run_with<'c>(
    engine: &mut Engine<'c>,
    sinks: &mut SinkSet,
    steps: u64,
    options: &RunOptions,
    mut send: impl FnMut(&mut SinkSet, Event<'c>) -> Result<(), SinkError>,
) -> Result<Outcome, Stopped> {
    let started = Instant::now();
    let mut done = 0u64;
    let mut interrupted = false;
    while done < steps {
        let chunk = (steps - done).min(CHUNK);
        for i in 0..chunk {
            let event = engine.next_event();
            if let Err(error) = send(sinks, event) {
                return Err(Stopped {
                    events: done + i + 1,
                    error,
                });
            }
        }
        done += chunk;
        report(options, sinks, started, done, steps, engine.open_cases());
        if options.stop.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
    }
    Ok(Outcome {
        events: done,
        interrupted,
    })
}
