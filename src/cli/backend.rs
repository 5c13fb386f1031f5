//! `def backend`: the load backend on the command line. Flags become a [`BackendConfig`]; the
//! backend runs until SIGINT/SIGTERM (or its output fails), then drains (for at most
//! `--drain-timeout`) or drops its queue, flushes, and prints what it did. Exit 1 if any
//! accepted event was not delivered, including events a timed-out drain had to drop (the user
//! asked for them to be emitted); `--drop-on-stop` drops on request and exits 0.

use super::{EXIT_CONFIG, EXIT_RUNTIME};
use clap::{Args, ValueEnum};
use def::backend::output::OutputSpec;
use def::backend::{
    Backend, BackendConfig, BackendReport, Limits, Queued, Shutdown, WhenFull, DEFAULT_BASE_PATH,
    DEFAULT_BLOCK_TIMEOUT, DEFAULT_DRAIN_TIMEOUT, DEFAULT_LISTEN, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_FRAME_DURATION, DEFAULT_MAX_QUEUED_DURATION,
    DEFAULT_MAX_QUEUED_EVENTS, DEFAULT_MAX_QUEUED_FRAMES, DEFAULT_READ_TIMEOUT,
};
use def::config::{KafkaSinkSpec, PartitionSpec};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Args)]
#[command(after_help = "Examples:\n  \
    def backend --bootstrap-server 127.0.0.1:9092 --topic events\n  \
    def backend --bootstrap-server 127.0.0.1:9092 --topic 'factory.{node}' --partition case:4\n  \
    def backend --output file:events.jsonl --listen 127.0.0.1:9000\n\n\
    API: POST <base>/register {\"duration\": <µs>, \"events\": [...]}, POST <base>/start, \
    POST <base>/stop, GET /health, GET /metrics. See docs/load-test.md.")]
pub struct BackendArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Path before /register, /start and /stop.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_BASE_PATH)]
    base_path: String,
    /// Where events go: `kafka` (needs --bootstrap-server and --topic), `file:PATH` or
    /// `stdout`. Default: kafka if --bootstrap-server is given.
    #[arg(long, value_name = "OUTPUT", value_parser = parse_output)]
    output: Option<OutputArg>,
    /// Kafka bootstrap server(s), HOST:PORT[,HOST:PORT...].
    #[arg(long, value_name = "HOST:PORT")]
    bootstrap_server: Option<String>,
    /// Kafka topic, or a template with {node} and {group} from each event's fields.
    #[arg(long, value_name = "TOPIC")]
    topic: Option<String>,
    /// Kafka client id.
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// Kafka partition: `default` (by key), a number, or `case:N` (hash of the case id mod N).
    #[arg(long, value_name = "PARTITION", value_parser = parse_partition, default_value = "default")]
    partition: PartitionArg,
    /// A librdkafka producer setting, e.g. `linger.ms=5` (repeatable); overrides def's defaults.
    #[arg(long = "producer", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    producer: Vec<(String, String)>,
    /// Seconds to wait for the broker at start-up.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_seconds)]
    connect_timeout: f64,
    /// Seconds to wait for Kafka acknowledgements at shutdown.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, value_parser = parse_seconds)]
    flush_timeout: f64,
    /// At most this many events wait in the queue (the frame being emitted included); a frame
    /// past it is "full" (see --when-full). The queue is memory only: a killed backend loses
    /// what it holds, so keep it to what you can afford to lose (see docs/load-test.md).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_QUEUED_EVENTS, value_parser = clap::value_parser!(u64).range(1..))]
    max_queued_events: u64,
    /// At most this many frames wait in the queue, events or not; a frame past it is "full".
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_QUEUED_FRAMES, value_parser = clap::value_parser!(u64).range(1..))]
    max_queued_frames: u64,
    /// The queued frames may last at most this many seconds together (how long emitting the
    /// queue takes); a frame past it is "full", a frame longer than it alone gets 413.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_MAX_QUEUED_DURATION.as_secs_f64(), value_parser = parse_seconds)]
    max_queued_duration: f64,
    /// What /register does with a frame that does not fit: `block` holds the request until it
    /// fits (at most --block-timeout, then 429), so a client that ignores status codes loses
    /// nothing; `reject` answers 429 with Retry-After at once. Before /start a full queue
    /// answers 429 at once either way (it does not drain).
    #[arg(long, value_name = "MODE", value_enum, default_value_t = WhenFullArg::Block)]
    when_full: WhenFullArg,
    /// With --when-full block: seconds a /register waits for room before it gets 429 (keep it
    /// below the client's request timeout; def's http sink waits 30 s).
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_BLOCK_TIMEOUT.as_secs_f64(), value_parser = parse_seconds)]
    block_timeout: f64,
    /// Request bodies over this many bytes get 413 (refused from Content-Length, unread).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Frames lasting longer than this many seconds get 400 (frames are emitted one after
    /// the other, so one endless frame would hold back all later ones).
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_MAX_FRAME_DURATION.as_secs_f64(), value_parser = parse_seconds)]
    max_frame_duration: f64,
    /// Require `Authorization: Bearer TOKEN` on every request but GET /health (401 otherwise).
    /// Needed to listen on an address other than loopback (or --insecure).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "DEF_BACKEND_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// Allow listening on a non-loopback address without --token: anyone who reaches the port
    /// can then post events and stop the test.
    #[arg(long)]
    insecure: bool,
    /// Seconds a request's headers, and then its body, may take to arrive; a connection idle
    /// for as long is closed too (a body gets 408).
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_READ_TIMEOUT.as_secs_f64(), value_parser = parse_seconds)]
    read_timeout: f64,
    /// At most this many connections open at once; further ones wait (in the kernel's backlog)
    /// until one closes. Keep it below the open-file limit (`ulimit -n`).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    max_connections: usize,
    /// On SIGINT/SIGTERM, drop the queued events (and say how many) instead of emitting them.
    #[arg(long)]
    drop_on_stop: bool,
    /// On SIGINT/SIGTERM, emit the queue for at most this many seconds. A drain takes as long
    /// as the queued frames last (their durations add up); when the time is up the rest is
    /// dropped and counted, and the exit status is 1.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_DRAIN_TIMEOUT.as_secs_f64(), value_parser = parse_seconds)]
    drain_timeout: f64,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum WhenFullArg {
    /// Hold the request until the frame fits (at most --block-timeout).
    Block,
    /// Answer 429 with Retry-After at once.
    Reject,
}

#[derive(Clone, Debug)]
enum OutputArg {
    Kafka,
    File(PathBuf),
    Stdout,
}

#[derive(Clone, Copy, Debug)]
struct PartitionArg(PartitionSpec);

fn parse_output(text: &str) -> Result<OutputArg, String> {
    match text {
        "kafka" => Ok(OutputArg::Kafka),
        "stdout" | "-" => Ok(OutputArg::Stdout),
        _ => match text.strip_prefix("file:") {
            Some(path) if !path.is_empty() => Ok(OutputArg::File(path.into())),
            _ => Err(format!(
                "`{text}` is not an output; use `kafka`, `stdout` or `file:PATH`"
            )),
        },
    }
}

fn parse_partition(text: &str) -> Result<PartitionArg, String> {
    let bad = || {
        format!("`{text}` is not a partition; use `default`, a number such as 0, or `case:N` with N ≥ 1")
    };
    if text == "default" {
        return Ok(PartitionArg(PartitionSpec::Default));
    }
    if let Some(n) = text.strip_prefix("case:") {
        return match n.parse::<i32>() {
            Ok(n) if n >= 1 => Ok(PartitionArg(PartitionSpec::Case { partition_count: n })),
            _ => Err(bad()),
        };
    }
    match text.parse::<i32>() {
        Ok(p) if p >= 0 => Ok(PartitionArg(PartitionSpec::Constant(p))),
        _ => Err(bad()),
    }
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!(
            "`{text}` is not KEY=VALUE; e.g. --producer linger.ms=5"
        )),
    }
}

/// Seconds above 0 that fit a [`Duration`].
fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && Duration::try_from_secs_f64(s).is_ok() => Ok(s),
        _ => Err(format!(
            "`{text}` is not a number of seconds above 0, e.g. 5 or 0.5"
        )),
    }
}

/// Why the backend must not listen as asked: an empty token, or a non-loopback address without
/// a token (and without --insecure).
fn access_problem(args: &BackendArgs) -> Option<String> {
    match &args.token {
        Some(token) if token.trim().is_empty() => {
            return Some(
                "--token (or DEF_BACKEND_TOKEN) is empty; give a secret, e.g. \
                 `--token \"$(openssl rand -hex 16)\"`"
                    .into(),
            )
        }
        Some(token) if token.trim() != token || token.chars().any(char::is_control) => {
            return Some(
                "--token (or DEF_BACKEND_TOKEN) has spaces around it or control characters, \
                 which an Authorization header cannot carry"
                    .into(),
            )
        }
        Some(_) => return None,
        None => {}
    }
    if args.listen.ip().to_canonical().is_loopback() || args.insecure {
        return None;
    }
    Some(format!(
        "refusing to listen on {} without a token: anyone who reaches it could post events and \
         stop the test. Give --token TOKEN (or DEF_BACKEND_TOKEN; clients then send \
         `Authorization: Bearer TOKEN`), listen on 127.0.0.1, or pass --insecure to allow it \
         (put a TLS reverse proxy in front for other machines: see docs/load-test.md)",
        args.listen
    ))
}

/// The output the flags ask for, or why they do not make sense together.
fn output_spec(args: &BackendArgs) -> Result<OutputSpec, String> {
    let kind = match (&args.output, &args.bootstrap_server) {
        (Some(o), _) => o.clone(),
        (None, Some(_)) => OutputArg::Kafka,
        (None, None) => {
            return Err(
                "say where events go: --bootstrap-server HOST:PORT --topic TOPIC for \
                 Kafka, or --output file:PATH, or --output stdout"
                    .into(),
            )
        }
    };
    match kind {
        OutputArg::Stdout => Ok(OutputSpec::Stdout),
        OutputArg::File(path) => Ok(OutputSpec::File(path)),
        OutputArg::Kafka => {
            let Some(bootstrap) = args.bootstrap_server.clone() else {
                return Err("--output kafka needs --bootstrap-server HOST:PORT".into());
            };
            let Some(topic) = args.topic.clone() else {
                return Err("Kafka output needs --topic (a name, or a template such as \
                     `factory.{node}`)"
                    .into());
            };
            let producer: BTreeMap<String, String> = args.producer.iter().cloned().collect();
            Ok(OutputSpec::Kafka(KafkaSinkSpec {
                bootstrap_server: bootstrap,
                client_id: args.client_id.clone(),
                topic,
                partition: args.partition.0,
                producer,
                connect_timeout_secs: args.connect_timeout,
                flush_timeout_secs: args.flush_timeout,
            }))
        }
    }
}

pub fn backend(args: BackendArgs) -> ExitCode {
    let output = match output_spec(&args) {
        Ok(o) => o,
        Err(message) => {
            say!("error: {message}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let destination = match &output {
        OutputSpec::Kafka(k) => format!("Kafka {} topic `{}`", k.bootstrap_server, k.topic),
        OutputSpec::File(p) => format!("file {}", p.display()),
        OutputSpec::Stdout => "stdout".to_string(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while draining kills the process the usual way.
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 1, stop.clone());
        let _ = signal_hook::flag::register(signal, stop.clone());
    }
    if let Some(message) = access_problem(&args) {
        say!("error: {message}");
        return ExitCode::from(EXIT_CONFIG);
    }
    // parse_seconds made sure every number of seconds fits a Duration.
    let config = BackendConfig {
        base_path: args.base_path.clone(),
        limits: Limits {
            events: args.max_queued_events,
            frames: args.max_queued_frames,
            duration: Duration::from_secs_f64(args.max_queued_duration),
        },
        when_full: match args.when_full {
            WhenFullArg::Block => WhenFull::Block,
            WhenFullArg::Reject => WhenFull::Reject,
        },
        block_timeout: Duration::from_secs_f64(args.block_timeout),
        max_body_bytes: args.max_body_bytes,
        max_frame_duration: Duration::from_secs_f64(args.max_frame_duration),
        token: args.token.clone(),
        read_timeout: Duration::from_secs_f64(args.read_timeout),
        max_connections: args.max_connections,
        ..BackendConfig::new(args.listen, output)
    };
    let drain_timeout = Duration::from_secs_f64(args.drain_timeout);
    let backend = match Backend::start(config) {
        Ok(b) => b,
        Err(diagnostic) => {
            say_raw!("{}", diagnostic.render_styled(super::diagnostic_style()));
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    // Always printed (also with --quiet): scripts read the address from it when listening
    // on port 0.
    say!(
        "def backend: listening on {}, emitting to {destination}",
        backend.url()
    );
    let mut failure = None;
    while !stop.load(Ordering::Relaxed) {
        if let Some(reason) = backend.failure() {
            failure = Some(reason);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mode = if args.drop_on_stop {
        Shutdown::Drop
    } else {
        Shutdown::Drain
    };
    if !args.quiet && failure.is_none() {
        let Queued {
            events,
            frames,
            duration,
        } = backend.queued();
        if args.drop_on_stop {
            say!("def backend: stopping; dropping {events} queued events ({frames} frames)");
        } else {
            say!(
                "def backend: stopping; emitting {events} queued events ({frames} frames, {:.3} \
                 s; for at most {} s, --drain-timeout; a second signal ends it at once)",
                duration.as_secs_f64(),
                args.drain_timeout
            );
        }
    }
    let report = backend.shutdown_within(mode, drain_timeout);
    if let Some(e) = &report.server_error {
        say!("def backend: {e}");
    }
    if !args.quiet {
        summary(&report);
    }
    if let Some(reason) = report.emitted.fatal.as_ref().or(failure.as_ref()) {
        say!("error: {reason}");
        return ExitCode::from(EXIT_RUNTIME);
    }
    let expired = report.drain_expired.is_some();
    if let Some(dropped) = report.drain_expired {
        say!(
            "error: the drain did not finish within --drain-timeout {} s; dropped {dropped} \
             queued events without emitting them (raise --drain-timeout to wait for them: a \
             drain takes as long as the queued frames last)",
            args.drain_timeout
        );
    }
    let undelivered = report.undelivered();
    if undelivered > 0 {
        say!(
            "error: {undelivered} events were not delivered{}",
            report
                .emitted
                .output
                .error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        );
        return ExitCode::from(EXIT_RUNTIME);
    }
    if expired {
        return ExitCode::from(EXIT_RUNTIME);
    }
    ExitCode::SUCCESS
}

fn summary(report: &BackendReport) {
    let e = &report.emitted;
    say!(
        "def backend: received {} events in {} frames; emitted {} in {} frames; delivered {}, failed {}, dropped {}",
        report.received_events,
        report.received_frames,
        e.emitted,
        e.frames,
        e.output.delivered,
        e.output.failed,
        report.dropped_events
    );
    let q = report.queued_at_shutdown;
    say!(
        "def backend: queued at shutdown: {} events in {} frames ({:.3} s); the queue is memory \
         only, so a kill at that moment would have lost them",
        q.events,
        q.frames,
        q.duration.as_secs_f64()
    );
    if e.lateness.count > 0 {
        say!(
            "def backend: lateness against deadlines: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            e.lateness.p50.as_secs_f64() * 1e3,
            e.lateness.p99.as_secs_f64() * 1e3,
            e.lateness.max.as_secs_f64() * 1e3
        );
    }
    for (topic, n) in &e.output.destinations {
        say!("def backend:   {topic}: {n}");
    }
}
