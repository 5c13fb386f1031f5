//! `countBased`: a fixed number of events, as fast as the sinks take them.

use super::observe::Progress;
use super::{Outcome, RunOptions, Stopped};
use crate::config::SimulationType;
use crate::engine::Engine;
use crate::sink::SinkSet;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Events between progress reports and stop checks.
const CHUNK: u64 = 1 << 16;

pub(super) fn run(
    engine: &mut Engine,
    sinks: &mut SinkSet,
    steps: u64,
    options: &RunOptions,
) -> Result<Outcome, Stopped> {
    let started = Instant::now();
    let mut done = 0u64;
    let mut interrupted = false;
    while done < steps {
        let chunk = (steps - done).min(CHUNK);
        for i in 0..chunk {
            let event = engine.next_event();
            if let Err(error) = sinks.dispatch(&event) {
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
