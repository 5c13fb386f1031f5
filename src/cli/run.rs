//! `def run`: load, validate, run, summarise.

use super::{load, EXIT_CONFIG, EXIT_RUNTIME};
use clap::Args;
use def::config::{ConfigSet, TimestampFormat};
use def::simulation::{Run, RunError, RunOptions, RunReport};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Args)]
pub struct RunArgs {
    /// Config files or directories; none runs the bundled assembly-line example.
    paths: Vec<PathBuf>,
    /// Random seed: the same seed (and start time) gives the same events, byte for byte.
    #[arg(long)]
    seed: Option<u64>,
    /// Events to emit in a countBased simulation (overrides `steps`).
    #[arg(long)]
    steps: Option<u64>,
    /// Stop any simulation after this many events.
    #[arg(long)]
    max_events: Option<u64>,
    /// When the simulated clock starts (RFC 3339, e.g. 2026-01-01T08:00:00Z, or `now`).
    #[arg(long, value_parser = parse_time)]
    start_time: Option<StartTime>,
    /// How timestamps are written.
    #[arg(long, value_enum)]
    timestamp_format: Option<TimestampArg>,
    /// Which simulation to run when several are loaded.
    #[arg(long)]
    simulation: Option<String>,
    /// Treat config warnings as errors (exit 2).
    #[arg(long)]
    deny_warnings: bool,
    /// No progress, status or summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum TimestampArg {
    /// `YYYY-MM-DD HH:MM:SS`, as the original.
    Original,
    /// `2026-11-28T05:24:33.123+00:00`.
    Iso8601,
}

#[derive(Clone, Copy)]
struct StartTime(Option<jiff::Timestamp>);

fn parse_time(text: &str) -> Result<StartTime, String> {
    if text == "now" {
        return Ok(StartTime(Some(jiff::Timestamp::now())));
    }
    def::config::extract::parse_start_time(text).map(|t| StartTime(Some(t)))
}

pub fn run(args: RunArgs) -> ExitCode {
    let set = if args.paths.is_empty() {
        ConfigSet::example()
    } else {
        load(&args.paths)
    };
    let diags = set.validate();
    let has_warnings = diags.warnings().next().is_some();
    let show = !args.quiet || diags.has_errors() || (args.deny_warnings && has_warnings);
    if show && !diags.is_empty() {
        eprint!("{}", diags.render());
    }
    if diags.has_errors() || (args.deny_warnings && has_warnings) {
        return ExitCode::from(EXIT_CONFIG);
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while stopping kills the process the usual way.
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 1, stop.clone());
        let _ = signal_hook::flag::register(signal, stop.clone());
    }
    let options = RunOptions {
        seed: args.seed,
        steps: args.steps,
        max_events: args.max_events,
        duration_secs: None,
        start_time: args.start_time.and_then(|s| s.0),
        timestamp_format: args.timestamp_format.map(|t| match t {
            TimestampArg::Original => TimestampFormat::Original,
            TimestampArg::Iso8601 => TimestampFormat::Iso8601,
        }),
        simulation: args.simulation,
        progress: !args.quiet,
        stop,
    };
    let result = Run::prepare(&set, options, Vec::new()).and_then(Run::execute);
    match result {
        Ok(report) => {
            if !args.quiet {
                summary(&report);
            }
            ExitCode::SUCCESS
        }
        Err(RunError::Config(diags)) => {
            eprint!("{}", diags.render());
            ExitCode::from(EXIT_CONFIG)
        }
        Err(RunError::Undelivered {
            undelivered,
            report,
        }) => {
            summary(&report);
            eprintln!("error: {undelivered} events were not delivered");
            ExitCode::from(EXIT_RUNTIME)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// The one-line summary (plus a line per sink when there are several).
fn summary(report: &RunReport) {
    let per_sink: Vec<String> = report
        .sinks
        .iter()
        .map(|s| format!("{} ({}) {}", s.name, s.type_name, s.delivery.delivered))
        .collect();
    eprintln!(
        "def: {} events in {:.3} s ({:.0} events/s){}; sinks: {}",
        report.events,
        report.elapsed.as_secs_f64(),
        report.events_per_second(),
        if report.interrupted {
            ", stopped early"
        } else {
            ""
        },
        if per_sink.is_empty() {
            "none".to_string()
        } else {
            per_sink.join(", ")
        }
    );
    if report.seed_was_random {
        let start = jiff::Timestamp::from_millisecond(report.start_ms)
            .map(|t| t.to_string())
            .unwrap_or_default();
        eprintln!(
            "def: seed {}; repeat this run with --seed {} --start-time {start}",
            report.seed, report.seed
        );
    }
}
