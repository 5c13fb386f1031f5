//! SIGINT and SIGTERM for `def run`: the first stops the run gracefully (every sink flushed,
//! a summary, exit 0); a second, while it stops, ends the process at once and says what that
//! may have cost.

use super::progress::TerminalProgress;
use signal_hook::consts::{SIGINT, SIGTERM};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Sets `stop` on the first signal; on a second, exits at once (status 128 + the signal).
pub fn stop_on_signals(stop: Arc<AtomicBool>, progress: Arc<TerminalProgress>) {
    let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(e) => {
            say!(
                "def: warning: cannot watch for SIGINT/SIGTERM ({e}); Ctrl-C ends the run at once"
            );
            return;
        }
    };
    std::thread::spawn(move || {
        for signal in signals.forever() {
            if stop.swap(true, Ordering::SeqCst) {
                super::dashboard::restore_terminal();
                let events = progress.events();
                let generated = if events > 0 {
                    format!(" ({events} or more were generated)")
                } else {
                    String::new()
                };
                say!(
                    "def: stopped at once on a second signal; events the sinks had not yet \
                     written out may be missing{generated}"
                );
                std::process::exit(128 + signal);
            }
        }
    });
}
