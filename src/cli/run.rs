//! `def run`: load, validate, run, summarise.

use super::{load, EXIT_CONFIG, EXIT_RUNTIME};
use clap::Args;
use def::config::{
    ConfigSet, Kind, LoadBehavior, SimulationSettings, SimulationType, SinkType, TimestampFormat,
};
use def::metrics::RunMetrics;
use def::shard::{Shard, MAX_SHARDS};
use def::simulation::{
    Observer, Observers, PacingReport, RunError, RunOptions, RunReport, Workers,
};
use def::sink::UiMode;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Args)]
pub struct RunArgs {
    /// Config files or directories; none runs the bundled assembly-line example. [env:
    /// DEF_CONFIG, several paths separated by `:` as in PATH; used when no path is given]
    paths: Vec<PathBuf>,
    /// Random seed: the same seed (and start time) gives the same events, byte for byte.
    #[arg(long)]
    seed: Option<u64>,
    /// Events to emit in a countBased simulation (overrides `steps`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    steps: Option<u64>,
    /// Stop any simulation after this many events.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_events: Option<u64>,
    /// Stop a stream after this many seconds (overrides `duration`), with exactly the events
    /// its load schedules by then.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    duration: Option<f64>,
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
    /// Serve the run's Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464; port 0
    /// picks a free one). See docs/observability.md.
    #[arg(long, value_name = "ADDR", env = "DEF_METRICS_LISTEN")]
    metrics_listen: Option<String>,
    /// After the run, serve its final metrics this many seconds more, for a last scrape (a
    /// signal ends the wait).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, requires = "metrics_listen")]
    metrics_linger: Option<f64>,
    /// Write the ground truth of the network's effects into this folder: clean.jsonl,
    /// faults.jsonl, chain.json, run.json (docs/realism.md).
    #[arg(long, value_name = "DIR")]
    truth: Option<PathBuf>,
    /// Make part K of N of the workload (K from 0): its share of steps, maxEvents,
    /// maxConcurrentCases and the load, case ids no other shard uses, its own random stream.
    /// See docs/scale-out.md.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Run W shards of the workload as threads of this process (with --shard K/N, worker w
    /// is shard K*W+w of N*W); one summary adds them up. File sink paths need {shard}.
    #[arg(long, value_name = "W", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SHARDS)))]
    workers: u32,
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

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Ok(s),
        _ => Err(format!(
            "`{text}` is not a number of seconds; give a number 0 or more, e.g. 30 or 2.5"
        )),
    }
}

/// The `LOAD` environment variable: a constant load's rate, in events per second (tick).
fn load_override() -> Result<Option<f64>, String> {
    let Some(value) = std::env::var_os("LOAD") else {
        return Ok(None);
    };
    let text = value.to_string_lossy();
    match text.trim().parse::<f64>() {
        Ok(rate) if (0.0..=def::config::MAX_RATE).contains(&rate) => Ok(Some(rate)),
        Ok(rate) if rate > def::config::MAX_RATE => Err(format!(
            "the environment variable LOAD is {rate}, above the largest rate def accepts ({:e} \
             events/s; one core makes a few times 10^7)",
            def::config::MAX_RATE
        )),
        _ => Err(format!(
            "the environment variable LOAD is `{text}`, which is not a rate: give a number \
             of events per second, 0 or more (e.g. LOAD=1000), or unset it"
        )),
    }
}

/// Flags that the chosen simulation type does not use, so that they are not ignored silently.
fn inapplicable_flags(args: &RunArgs, simulation_type: SimulationType) -> Vec<String> {
    let mut out = Vec::new();
    let name = simulation_type.name();
    if args.steps.is_some() && simulation_type != SimulationType::CountBased {
        out.push(format!(
            "--steps applies to countBased simulations; this one is {name} (use --max-events)"
        ));
    }
    if args.duration.is_some() && simulation_type != SimulationType::Stream {
        out.push(format!(
            "--duration applies to stream simulations; this one is {name} (use --max-events)"
        ));
    }
    out
}

fn parse_time(text: &str) -> Result<StartTime, String> {
    if text == "now" {
        return Ok(StartTime(Some(jiff::Timestamp::now())));
    }
    def::time::parse_start_time(text).map(|t| StartTime(Some(t)))
}

pub fn run(mut args: RunArgs) -> ExitCode {
    if args.paths.is_empty() {
        args.paths = super::env::config_paths();
    }
    let set = if args.paths.is_empty() {
        ConfigSet::example()
    } else {
        load(&args.paths)
    };
    // The same checks as `def validate`, so --deny-warnings refuses the same configs.
    let mut diags = set.validate();
    diags.extend(def::analysis::warnings(&set));
    let has_warnings = diags.warnings().next().is_some();
    let show = !args.quiet || diags.has_errors() || (args.deny_warnings && has_warnings);
    if show && !diags.is_empty() {
        say_raw!("{}", diags.render_styled(super::diagnostic_style()));
    }
    if diags.has_errors() || (args.deny_warnings && has_warnings) {
        return ExitCode::from(EXIT_CONFIG);
    }
    let load = match load_override() {
        Ok(load) => load,
        Err(message) => {
            say!("error: {message}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let Ok(sim) = set.simulation(args.simulation.as_deref()) {
        for warning in inapplicable_flags(&args, sim.spec.settings.value.simulation_type()) {
            say!("def: warning: {warning}");
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(super::progress::TerminalProgress::new());
    super::signals::stop_on_signals(stop.clone(), progress.clone());
    let live = live_view(&set, args.quiet);
    let metrics = match serve_metrics(&args, &set) {
        Ok(metrics) => metrics,
        Err(message) => {
            say!("error: {message}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let options = RunOptions {
        seed: args.seed,
        steps: args.steps,
        max_events: args.max_events,
        duration_secs: args.duration,
        load,
        start_time: args.start_time.and_then(|s| s.0),
        timestamp_format: args.timestamp_format.map(|t| match t {
            TimestampArg::Original => TimestampFormat::Original,
            TimestampArg::Iso8601 => TimestampFormat::Iso8601,
        }),
        simulation: args.simulation,
        observer: None,
        stop: stop.clone(),
        ui: if live { UiMode::Live } else { UiMode::Console },
        truth: args.truth.clone(),
        shard: args.shard.unwrap_or(Shard::WHOLE),
    };
    let result = Workers::prepare(&set, options, args.workers).and_then(|mut workers| {
        // Every worker runs the same simulation; the first speaks for them.
        let run = &mut workers.runs_mut()[0];
        if let (Some(rate), false) = (load, args.quiet) {
            warn_unused_load(rate, &run.spec.settings.value);
        }
        if let Some(dir) = &args.truth {
            super::truth::write_run_files(&set, run, dir).map_err(|message| {
                RunError::Unavailable(
                    def::config::Diagnostic::error(message)
                        .help("give --truth a folder that can be written"),
                )
            })?;
        }
        // A live view has one worker: Workers::prepare refuses ui sinks with more.
        let dashboard = if live {
            let kind = run.spec.settings.value.simulation_type();
            let handles = run.sinks.ui_handles();
            Some(
                super::dashboard::Dashboard::start(handles, &run.simulation, kind, stop.clone())
                    .map_err(|e| {
                        def::config::Diagnostic::error(format!("cannot start the live view: {e}"))
                            .help("redirect standard output to get the ui sinks' events as lines")
                    })
                    .map_err(RunError::Unavailable)?,
            )
        } else {
            None
        };
        let mut observers: Vec<Arc<dyn Observer>> = Vec::new();
        match &dashboard {
            Some(dashboard) => observers.push(dashboard.observer()),
            None if !args.quiet => observers.push(progress.clone()),
            None => {}
        }
        if let Some(metrics) = &metrics {
            observers.push(Arc::new(metrics.clone()));
        }
        workers.observe(
            (!observers.is_empty()).then(|| Arc::new(Observers(observers)) as Arc<dyn Observer>),
        );
        let result = workers.execute();
        if let Some(dashboard) = dashboard {
            dashboard.close();
        }
        result
    });
    if let Some(metrics) = &metrics {
        match &result {
            Ok(report) => metrics.finish(report),
            Err(RunError::Undelivered { report, .. } | RunError::Sink { report, .. }) => {
                metrics.finish(report);
            }
            Err(_) => {}
        }
    }
    let code = match result {
        Ok(report) => {
            undelivered_reasons(&report);
            if !args.quiet {
                summary(&report);
            }
            if report.clock_exhausted {
                say!(
                    "def: warning: the simulated clock reached 9999-12-31T23:59:59.999Z, the last \
                     time that can be written; the events after that carry it. Use an earlier \
                     start time, shorter durations or fewer events."
                );
            }
            ExitCode::SUCCESS
        }
        Err(RunError::Config(diags)) => {
            say_raw!("{}", diags.render_styled(super::diagnostic_style()));
            ExitCode::from(EXIT_CONFIG)
        }
        Err(RunError::Unavailable(diagnostic)) => {
            say_raw!("{}", diagnostic.render_styled(super::diagnostic_style()));
            ExitCode::from(EXIT_RUNTIME)
        }
        Err(RunError::Undelivered {
            undelivered,
            report,
        }) => {
            undelivered_reasons(&report);
            summary(&report);
            if report
                .sinks
                .iter()
                .all(|s| s.delivery.failed == 0 || s.delivery.acknowledged)
            {
                say!(
                    "error: {undelivered} events were not acknowledged by the broker in time \
                     (some may still have been stored: docs/kafka.md, docs/mqtt.md)"
                );
            } else {
                say!("error: {undelivered} events were not delivered");
            }
            ExitCode::from(EXIT_RUNTIME)
        }
        Err(RunError::Sink { error, report }) => {
            // Every sink's count, not only the failed one's.
            undelivered_reasons(&report);
            summary(&report);
            say!("error: {error}");
            ExitCode::from(EXIT_RUNTIME)
        }
    };
    if let (Some(_), Some(secs)) = (&metrics, args.metrics_linger) {
        linger(secs, &stop, args.quiet);
    }
    code
}

/// Whether the `ui` sinks get the live view; if they cannot, says why, once.
fn live_view(set: &ConfigSet, quiet: bool) -> bool {
    let names = super::dashboard::ui_sinks(set);
    if names.is_empty() {
        return false;
    }
    let Some(why) = super::dashboard::refusal(set) else {
        return true;
    };
    if !quiet {
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        say!(
            "def: {why}: ui sink{} {} print{} console lines on standard output instead of a \
             live view",
            if names.len() == 1 { "" } else { "s" },
            names.join(", "),
            if names.len() == 1 { "s" } else { "" }
        );
    }
    false
}

/// `--metrics-listen`: the run's metrics, served from now on.
fn serve_metrics(args: &RunArgs, set: &ConfigSet) -> Result<Option<RunMetrics>, String> {
    let Some(addr) = args
        .metrics_listen
        .as_deref()
        .filter(|a| !a.trim().is_empty())
    else {
        return Ok(None);
    };
    // A simulation that cannot be chosen fails the run right after, with its diagnostic.
    let Ok(sim) = set.simulation(args.simulation.as_deref()) else {
        return Ok(None);
    };
    let metrics = RunMetrics::new(&sim.name.value, sim.spec.settings.value.simulation_type());
    let bound = super::metrics::serve(addr.trim(), metrics.clone())?;
    if !args.quiet {
        say!("def: metrics at http://{bound}/metrics");
    }
    Ok(Some(metrics))
}

/// `--metrics-linger`: keeps the process (and its metrics) up a while after the run, unless
/// the run was stopped by a signal or a key, or one comes meanwhile.
fn linger(secs: f64, stop: &AtomicBool, quiet: bool) {
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};
    if secs <= 0.0 || stop.load(Ordering::SeqCst) {
        return;
    }
    if !quiet {
        say!("def: serving the final metrics for {secs} s more (Ctrl-C ends this)");
    }
    let until = Instant::now() + Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX);
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `LOAD` replaces only a constant load; say so when the simulation has another.
fn warn_unused_load(rate: f64, kind: &SimulationSettings) {
    let load = match kind {
        SimulationSettings::Stream { load } | SimulationSettings::LoadTest { load, .. } => load,
        SimulationSettings::CountBased { .. } => {
            say!("def: warning: LOAD={rate} is ignored: a countBased simulation has no load");
            return;
        }
    };
    let behavior = load.behavior();
    if behavior != LoadBehavior::Constant {
        say!(
            "def: warning: LOAD={rate} is ignored: it replaces a constant load, and this load is {}",
            behavior.name()
        );
    }
}

/// Why sinks did not deliver events, a line per sink that knows; printed even with --quiet.
fn undelivered_reasons(report: &RunReport) {
    for sink in &report.sinks {
        if let Some(why) = &sink.delivery.error {
            say!(
                "def: {} sink `{}`: {} of {} events not {}: {why}",
                sink.type_name,
                sink.name,
                sink.delivery.failed,
                sink.events,
                if sink.delivery.acknowledged {
                    "acknowledged"
                } else {
                    "delivered"
                }
            );
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
    say!(
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
    if let Some(n) = &report.network {
        say!(
            "def: network: {} events generated, {} delivered ({} lost, {} duplicated)",
            n.generated,
            n.delivered,
            n.lost,
            n.duplicated
        );
    }
    for sink in report
        .sinks
        .iter()
        .filter(|s| !s.delivery.destinations.is_empty())
    {
        if sink.type_name == SinkType::File.name() {
            files_written(sink);
            continue;
        }
        let counts: Vec<String> = sink
            .delivery
            .destinations
            .iter()
            .map(|(topic, n)| format!("{topic} {n}"))
            .collect();
        say!(
            "def: {} delivered per topic: {}",
            sink.name,
            counts.join(", ")
        );
    }
    for sink in report.sinks.iter().filter(|s| s.delivery.open_cases > 0) {
        say!(
            "def: {}: {} cases were still open at the end; written as traces marked def:open",
            sink.name,
            sink.delivery.open_cases
        );
    }
    if let Some(pacing) = &report.pacing {
        stream_summary(report, pacing);
    }
    if report.seed_was_random {
        let start = jiff::Timestamp::from_millisecond(report.start_ms)
            .map(|t| t.to_string())
            .unwrap_or_default();
        say!(
            "def: seed {}; repeat this run with --seed {} --start-time {start}",
            report.seed,
            report.seed
        );
    }
}

/// The files a file sink closed whole, with their events: all of them, or the first and last
/// few of a long rotation (the run report has every one).
fn files_written(sink: &def::sink::SinkReport) {
    const SHOWN: usize = 6;
    let files = &sink.delivery.destinations;
    let each = |(path, n): (&String, &u64)| format!("{path} ({n} events)");
    let listed = if files.len() <= SHOWN {
        files.iter().map(each).collect::<Vec<_>>().join(", ")
    } else {
        let first: Vec<String> = files.iter().take(SHOWN / 2).map(each).collect();
        let last: Vec<String> = files
            .iter()
            .skip(files.len() - SHOWN / 2)
            .map(each)
            .collect();
        format!(
            "{}, ... {} more ..., {}",
            first.join(", "),
            files.len() - SHOWN,
            last.join(", ")
        )
    };
    let count = match files.len() {
        1 => String::new(),
        n => format!("{n} files: "),
    };
    say!("def: {} wrote {count}{listed}", sink.name);
}

/// Lateness below this is pacing jitter, not sinks falling behind.
const KEPT_UP_WITHIN: std::time::Duration = std::time::Duration::from_millis(100);

/// How a stream kept to its schedule: target and achieved rate, lateness, lag.
fn stream_summary(report: &RunReport, pacing: &PacingReport) {
    let achieved = report.events as f64 / pacing.elapsed.as_secs_f64().max(1e-9);
    let target = pacing.target_rate();
    let share = if target > 0.0 {
        achieved * 100.0 / target
    } else {
        100.0
    };
    let l = &pacing.lateness;
    say!(
        "def: stream target {} events in {:.3} s ({target:.1}/s); emitted {} in {:.3} s \
         ({achieved:.1}/s, {share:.2}% of target); lateness p50 {} p99 {} p99.9 {} max {}",
        pacing.target_events,
        pacing.span.as_secs_f64(),
        report.events,
        pacing.elapsed.as_secs_f64(),
        micros(l.p50),
        micros(l.p99),
        micros(l.p999),
        micros(l.max),
    );
    // Only real lag is reported: events still due at the end, or events that went out late by
    // a noticeable margin (a stream stopped early or a finite load that ended is not lag).
    if pacing.behind > 0 {
        say!(
            "def: warning: the stream ended {} events behind its schedule: the sinks could not keep up",
            pacing.behind
        );
    } else if l.max >= KEPT_UP_WITHIN && pacing.elapsed > pacing.span {
        say!(
            "def: warning: the sinks could not keep up: the events due in {:.3} s took {:.3} s \
             (up to {} late)",
            pacing.span.as_secs_f64(),
            pacing.elapsed.as_secs_f64(),
            micros(l.max)
        );
    }
}

fn micros(d: std::time::Duration) -> String {
    let us = d.as_micros();
    if us >= 10_000 {
        format!("{:.1} ms", us as f64 / 1000.0)
    } else {
        format!("{us} µs")
    }
}
