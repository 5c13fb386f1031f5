//! `loadTest`: events prepared ahead in timeframes, for a load backend to emit at an exact pace.
//!
//! The generator does not pace anything itself. Frame `i` (counting from 0) gets as many events
//! as tick `i` of the `load` behaviour has: the difference of the load profile's exact count
//! ([`Load`]'s floor of the integral) at `i + 1` and `i`, so a constant load of 10 gives 10
//! events per frame and any behaviour's totals are exact. The events go to the sinks as fast as
//! the engine makes them; after each frame the `http` sinks post it to their backend
//! ([`HttpSink::end_frame`]), and after `genTimeframesTilStart` frames they tell the backend to
//! begin emission ([`HttpSink::start`]). Other sinks know nothing of frames.
//!
//! `steps` is the number of timeframes. The run ends after `steps` frames, at `maxEvents`
//! events (the last frame is then cut short and sent as it is), or on SIGINT/SIGTERM between
//! frames. With fewer frames than `genTimeframesTilStart`, emission starts after the last one.
//!
//! Behind a network ([`crate::network`]) frames count generated events; what the sinks get
//! comes in order of simulated arrival, and what is still in flight at the end goes into one
//! more frame.
//!
//! A shard's frame `i` has its share of tick `i`'s events ([`Share`]); every shard makes the
//! same number of frames.

use super::observe::{report_with_counts, Progress};
use super::{Outcome, RunOptions, Stopped};
use crate::config::{LoadSpec, SimulationType};
use crate::engine::Engine;
use crate::network::Stage;
use crate::pacing::{Load, Schedule, Share};
use crate::sink::{HttpSink, SinkSet};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// The events of frame `i` under `load`: tick `i`'s exact count (a shard's share of it for a
/// [`Share`] of the load).
pub fn frame_events<S: Schedule>(load: &mut S, i: u64) -> u64 {
    load.due_by(i as f64 + 1.0)
        .saturating_sub(load.due_by(i as f64))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn run<'c>(
    engine: &mut Engine<'c>,
    sinks: &mut SinkSet,
    load: &LoadSpec,
    gen_timeframes_til_start: u64,
    frames: Option<u64>,
    options: &RunOptions,
    max_events: Option<u64>,
    mut network: Option<&mut Stage<'c>>,
) -> Result<Outcome, Stopped> {
    let load = super::stream::effective_load(load, options);
    let mut load = Share::new(Load::new(&load), options.shard);
    let max_events = max_events.unwrap_or(u64::MAX);
    let mut events = 0u64;
    let mut started = false;
    let mut interrupted = false;
    let mut frame = 0u64;
    let stopped = |events: u64, error| Stopped { events, error };
    let began = Instant::now();
    while frames.is_none_or(|n| frame < n) && events < max_events {
        if options.stop.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
        let count = frame_events(&mut load, frame).min(max_events - events);
        for _ in 0..count {
            let event = engine.next_event();
            events += 1;
            match network.as_deref_mut() {
                None => sinks.dispatch(&event),
                Some(stage) => stage.carry(event, sinks),
            }
            .map_err(|e| stopped(events, e))?;
        }
        sinks
            .each(HttpSink::end_frame)
            .map_err(|e| stopped(events, e))?;
        frame += 1;
        if let Some(observer) = &options.observer {
            report_with_counts(
                observer.as_ref(),
                sinks,
                Progress {
                    simulation_type: SimulationType::LoadTest,
                    elapsed: began.elapsed(),
                    events,
                    total: None,
                    open_cases: engine.open_cases(),
                    pacing: None,
                    frames: Some(frame),
                    sinks: &[],
                    datasources: &[],
                    lateness: None,
                },
            );
        }
        if !started && frame >= gen_timeframes_til_start {
            sinks
                .each(HttpSink::start)
                .map_err(|e| stopped(events, e))?;
            started = true;
        }
    }
    if let Some(stage) = network {
        if stage.next_arrival().is_some() {
            stage.finish(sinks).map_err(|e| stopped(events, e))?;
            sinks
                .each(HttpSink::end_frame)
                .map_err(|e| stopped(events, e))?;
        }
    }
    if !started {
        sinks
            .each(HttpSink::start)
            .map_err(|e| stopped(events, e))?;
    }
    Ok(Outcome {
        events,
        interrupted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_take_the_load_behaviours_tick_counts() {
        let mut constant = Load::new(&LoadSpec::Constant { load: 10.0 });
        let counts: Vec<u64> = (0..4).map(|i| frame_events(&mut constant, i)).collect();
        assert_eq!(counts, [10, 10, 10, 10]);
        let mut gradual = Load::new(&LoadSpec::Gradual {
            tick_count: 4,
            minimal_load: 0.0,
            load: 100.0,
        });
        let counts: Vec<u64> = (0..6).map(|i| frame_events(&mut gradual, i)).collect();
        assert_eq!(counts, [0, 25, 50, 75, 100, 100]);
    }
}
