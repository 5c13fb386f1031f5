//! How `def run` shows a run's progress on stderr: the library reports [`Progress`] as data,
//! this observer draws it.
//!
//! On a terminal: a progress bar for count-based runs of at least a million events, a status
//! line for streams (target vs achieved rate, events, how far behind, per sink) and load tests
//! (frames, events). Elsewhere (a log file, CI): nothing, except a warning, at most every ten
//! seconds, while a stream is a second or more behind its schedule.

use def::config::SimulationType;
use def::simulation::{Observer, Progress};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Below this many events a progress bar would only flicker.
const BAR_FROM: u64 = 1_000_000;
/// Without a terminal, a stream this far behind schedule prints a warning...
const WARN_BEHIND: Duration = Duration::from_secs(1);
/// ...at most this often.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Draws progress on stderr.
#[derive(Debug)]
pub struct TerminalProgress {
    terminal: bool,
    /// Created at the first report, once the run's type and size are known.
    bar: Mutex<Option<ProgressBar>>,
    last_warning: Mutex<Option<Instant>>,
}

impl TerminalProgress {
    pub fn new() -> TerminalProgress {
        TerminalProgress {
            terminal: std::io::stderr().is_terminal(),
            bar: Mutex::new(None),
            last_warning: Mutex::new(None),
        }
    }

    fn bar_for(progress: &Progress<'_>) -> Option<ProgressBar> {
        let (bar, template) = match (progress.simulation_type, progress.total) {
            (SimulationType::CountBased, Some(total)) if total >= BAR_FROM => (
                ProgressBar::new(total),
                "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} events ({msg}, ETA {eta})",
            ),
            (SimulationType::CountBased, _) => return None,
            (SimulationType::Stream | SimulationType::LoadTest, _) => (
                ProgressBar::new_spinner(),
                "{spinner} [{elapsed_precise}] {msg}",
            ),
        };
        bar.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(bar)
    }

    fn warn_if_behind(&self, progress: &Progress<'_>) {
        let Some(pacing) = progress.pacing else {
            return;
        };
        if pacing.lag < WARN_BEHIND {
            return;
        }
        let now = Instant::now();
        let Ok(mut last) = self.last_warning.lock() else {
            return;
        };
        if last.is_none_or(|t| now >= t + WARN_EVERY) {
            *last = Some(now);
            say!(
                "def: warning: {} events ({:.1} s) behind schedule; the sinks take {:.0} events/s of {:.0}/s",
                pacing.behind,
                pacing.lag.as_secs_f64(),
                pacing.achieved_rate,
                pacing.target_rate
            );
        }
    }
}

impl Observer for TerminalProgress {
    fn progress(&self, progress: &Progress<'_>) {
        if !self.terminal {
            self.warn_if_behind(progress);
            return;
        }
        let Ok(mut slot) = self.bar.lock() else {
            return;
        };
        if slot.is_none() {
            *slot = TerminalProgress::bar_for(progress);
        }
        let Some(bar) = slot.as_ref() else {
            return;
        };
        let per_sink = || {
            let parts: Vec<String> = progress
                .sinks
                .iter()
                .map(|(name, n)| format!("{name} {n}"))
                .collect();
            if parts.is_empty() {
                "none".to_string()
            } else {
                parts.join(", ")
            }
        };
        match progress.simulation_type {
            SimulationType::CountBased => {
                bar.set_position(progress.events);
                let rate = progress.events as f64 / progress.elapsed.as_secs_f64().max(1e-9);
                bar.set_message(format!("{:.1} M events/s", rate / 1e6));
            }
            SimulationType::Stream => {
                let p = progress.pacing.unwrap_or_default();
                bar.set_message(format!(
                    "target {:.0}/s, achieved {:.0}/s, {} events, behind {} ({:.2} s); sinks: {}",
                    p.target_rate,
                    p.achieved_rate,
                    progress.events,
                    p.behind,
                    p.lag.as_secs_f64(),
                    per_sink()
                ));
                bar.tick();
            }
            SimulationType::LoadTest => {
                bar.set_message(format!(
                    "{} frames, {} events; sinks: {}",
                    progress.frames.unwrap_or(0),
                    progress.events,
                    per_sink()
                ));
                bar.tick();
            }
        }
    }

    fn finished(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}
