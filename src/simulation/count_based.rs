//! `countBased`: a fixed number of events, as fast as the sinks take them.

use super::{Outcome, RunOptions, Stopped};
use crate::engine::Engine;
use crate::sink::SinkSet;
use std::io::IsTerminal;
use std::sync::atomic::Ordering;

/// Events between progress updates and stop checks.
const CHUNK: u64 = 1 << 16;
/// Below this many events a progress bar would only flicker.
const PROGRESS_FROM: u64 = 1_000_000;

pub(super) fn run(
    engine: &mut Engine,
    sinks: &mut SinkSet,
    steps: u64,
    options: &RunOptions,
) -> Result<Outcome, Stopped> {
    let bar = (options.progress && steps >= PROGRESS_FROM && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(steps);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} events ({msg}, ETA {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
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
        if let Some(bar) = &bar {
            bar.set_position(done);
            let rate = done as f64 / bar.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("{:.1} M events/s", rate / 1e6));
        }
        if options.stop.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(Outcome {
        events: done,
        interrupted,
    })
}
