//! `countBased`: a fixed number of events, as fast as the sinks take them.
//!
//! `steps` counts generated events. Behind a network ([`crate::network`]) they reach the
//! sinks in order of simulated arrival, and when the last is generated everything still in
//! flight arrives.

use super::observe::Progress;
use super::{Outcome, RunOptions, Stopped};
use crate::config::SimulationType;
use crate::engine::{Engine, Event};
use crate::network::Stage;
use crate::sink::{SinkError, SinkSet};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Events between progress reports and stop checks.
const CHUNK: u64 = 1 << 16;

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
        Some(stage) => {
            let outcome = run_with(engine, sinks, steps, options, |sinks, event| {
                stage.carry(event, sinks)
            })?;
            stage.finish(sinks).map_err(|error| Stopped {
                events: outcome.events,
                error,
            })?;
            Ok(outcome)
        }
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
        if let Some(observer) = &options.observer {
            let counts: Vec<(&str, u64)> = sinks.counts().collect();
            let datasources: Vec<(&str, u64)> = sinks.datasource_counts().collect();
            observer.progress(&Progress {
                simulation_type: SimulationType::CountBased,
                elapsed: started.elapsed(),
                events: done,
                total: Some(steps),
                open_cases: engine.open_cases(),
                pacing: None,
                frames: None,
                sinks: &counts,
                datasources: &datasources,
                lateness: None,
            });
        }
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
