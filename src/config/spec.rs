//! Typed specs: what a configuration says, checked for shape but not yet compiled.
//!
//! These types know nothing about running. [`crate::model`] compiles datasource specs into a
//! chain, [`crate::sink`] builds sinks from sink specs and [`crate::simulation`] runs a
//! simulation spec. Values that later checks may complain about carry their [`Place`].

use super::diagnostic::Place;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A value and where in the configuration it was written.
#[derive(Clone, Debug)]
pub struct At<T> {
    pub value: T,
    pub place: Place,
}

/// One YAML document: `kind`, `name` and a typed `spec`.
#[derive(Clone, Debug)]
pub struct Document<S> {
    pub name: At<String>,
    /// Where the document starts.
    pub place: Place,
    pub spec: S,
}

/// The name of the special datasource every case starts at.
pub const START: &str = "<start>";
/// The built-in datasource that finishes a case.
pub const END: &str = "<end>";

/// `kind: datasource`: a vertex of the Markov chain.
#[derive(Clone, Debug)]
pub struct DatasourceSpec {
    /// The node name written into each event (`spec.name`).
    pub name: At<String>,
    pub group: String,
    pub selection: At<SelectionSpec>,
    pub event_data: Vec<EdgeSpec>,
}

/// One entry of `eventData`: an edge of the chain.
#[derive(Clone, Debug)]
pub struct EdgeSpec {
    pub activity: String,
    pub transition: At<String>,
    pub duration: DurationSpec,
    pub place: Place,
}

/// How a datasource picks one of its `eventData` entries.
#[derive(Clone, Debug, PartialEq)]
pub enum SelectionSpec {
    GenericProbability {
        distribution: Vec<f64>,
    },
    Uniform,
    Ordered,
    DriftingProbability {
        start: Vec<f64>,
        end: Vec<f64>,
        steps: u64,
    },
}

impl SelectionSpec {
    pub const NAMES: [&'static str; 4] = [
        "genericProbability",
        "uniform",
        "ordered",
        "driftingProbability",
    ];
}

/// Simulated time an edge takes, in minutes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DurationSpec {
    Constant(f64),
    Uniform {
        lower: f64,
        upper: f64,
    },
    /// Clamped at 0: the original let time run backwards.
    Gaussian {
        mu: f64,
        sigma: f64,
    },
    Exponential {
        mean: f64,
    },
    /// `mu` and `sigma` of the underlying normal distribution.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
}

impl DurationSpec {
    pub const NAMES: [&'static str; 5] = [
        "constant",
        "uniform",
        "gaussian",
        "exponential",
        "lognormal",
    ];

    /// The expected duration in minutes (with the clamp at 0 for gaussians).
    pub fn mean(&self) -> f64 {
        match *self {
            DurationSpec::Constant(d) => d,
            DurationSpec::Uniform { lower, upper } => (lower + upper) / 2.0,
            DurationSpec::Gaussian { mu, sigma } => {
                crate::model::duration::clamped_normal_mean(mu, sigma)
            }
            DurationSpec::Exponential { mean } => mean,
            DurationSpec::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
        }
    }
}

/// `kind: sink`: where the events of some datasources go.
#[derive(Clone, Debug)]
pub struct SinkSpec {
    pub kind: At<SinkKind>,
    /// A label (the original's `id`), used in console lines.
    pub id: Option<String>,
    pub data_source_refs: Vec<At<String>>,
}

/// The sink types and their settings.
#[derive(Clone, Debug, PartialEq)]
pub enum SinkKind {
    Console {
        format: ConsoleFormat,
    },
    File {
        path: PathBuf,
        format: FileFormat,
    },
    Blackhole,
    /// Keeps events in memory (`type: test` in the original's files, or `memory`).
    Memory,
    Kafka(KafkaSinkSpec),
    Http(HttpSinkSpec),
    Ui,
}

impl SinkKind {
    pub const NAMES: [&'static str; 8] = [
        "console",
        "file",
        "blackhole",
        "memory",
        "test",
        "kafka",
        "http",
        "ui",
    ];

    pub fn type_name(&self) -> &'static str {
        match self {
            SinkKind::Console { .. } => "console",
            SinkKind::File { .. } => "file",
            SinkKind::Blackhole => "blackhole",
            SinkKind::Memory => "memory",
            SinkKind::Kafka(_) => "kafka",
            SinkKind::Http(_) => "http",
            SinkKind::Ui => "ui",
        }
    }
}

/// How the console sink prints an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ConsoleFormat {
    /// `<id> <node>: <event json>`, as the original.
    #[default]
    Original,
    /// One JSON object per line.
    Json,
}

/// File formats of the file sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FileFormat {
    /// One JSON object per line.
    #[default]
    Jsonl,
}

/// The Kafka sink's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct KafkaSinkSpec {
    pub bootstrap_server: String,
    pub client_id: Option<String>,
    /// A topic name, or a template with `{node}` and `{group}`.
    pub topic: String,
    pub partition: PartitionSpec,
    /// Passed to librdkafka as they are.
    pub producer: BTreeMap<String, String>,
    /// Seconds to wait for the broker when the sink is built (`connectTimeout`, default 5).
    pub connect_timeout_secs: f64,
    /// Seconds to wait for outstanding deliveries when the run ends (`flushTimeout`, default 30).
    pub flush_timeout_secs: f64,
}

/// Resolves `{node}` and `{group}` in a topic template and checks the result is a legal
/// Kafka topic name.
pub fn resolve_topic(template: &str, node: &str, group: &str) -> Result<String, String> {
    let topic = template.replace("{node}", node).replace("{group}", group);
    if let Some(open) = topic.find('{') {
        let rest = &topic[open..];
        let shown = rest.find('}').map_or(rest, |close| &rest[..=close]);
        return Err(format!(
            "the topic template `{template}` has an unknown placeholder `{shown}`; \
             the placeholders are {{node}} and {{group}}"
        ));
    }
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if topic.is_empty() || topic.len() > 249 || !topic.chars().all(legal) || topic == "." {
        return Err(format!(
            "`{topic}` (from the topic template `{template}`) is not a legal Kafka topic name: \
             use 1 to 249 letters, digits, `.`, `_` and `-`"
        ));
    }
    Ok(topic)
}

/// Which partition a Kafka record goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PartitionSpec {
    /// Let the partitioner choose (by key).
    #[default]
    Default,
    Constant(i32),
    /// Hash of the case id modulo the count: a case stays in one partition, in order.
    Case {
        partition_count: i32,
    },
}

/// The load-test sink's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpSinkSpec {
    pub url: String,
    /// Milliseconds per timeframe.
    pub timeframe_ms: u64,
}

/// `kind: simulation`: how the chain is run.
#[derive(Clone, Debug)]
pub struct SimulationSpec {
    pub kind: At<SimulationKind>,
    pub case_id: CaseIdSpec,
    pub max_concurrent_cases: u32,
    /// When the simulated clock starts; `None` means now (or a fixed epoch for seeded runs).
    pub start_time: Option<jiff::Timestamp>,
    pub timestamp_format: TimestampFormat,
    pub clock: ClockSpec,
    /// Add the intended emission time to each event (`emittedAt`).
    pub emitted_at: bool,
    /// Stop after this many events, whatever the simulation type.
    pub max_events: Option<u64>,
    /// Stop after this many seconds (stream).
    pub duration_secs: Option<f64>,
}

/// The simulation types.
#[derive(Clone, Debug, PartialEq)]
pub enum SimulationKind {
    CountBased {
        steps: u64,
    },
    Stream {
        load: LoadSpec,
    },
    LoadTest {
        load: LoadSpec,
        gen_timeframes_til_start: u64,
        /// Milliseconds per timeframe.
        timeframe_ms: u64,
        /// How many timeframes to send; `None` runs until stopped or `maxEvents`.
        steps: Option<u64>,
    },
}

impl SimulationKind {
    pub const NAMES: [&'static str; 3] = ["countBased", "stream", "loadTest"];

    pub fn type_name(&self) -> &'static str {
        match self {
            SimulationKind::CountBased { .. } => "countBased",
            SimulationKind::Stream { .. } => "stream",
            SimulationKind::LoadTest { .. } => "loadTest",
        }
    }
}

/// How case ids are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CaseIdSpec {
    /// `case_1`, `case_2`, ...
    #[default]
    Increasing,
}

/// How timestamps are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimestampFormat {
    /// `YYYY-MM-DD HH:MM:SS` (UTC), as the original.
    #[default]
    Original,
    /// ISO 8601 with milliseconds and offset: `2026-11-28T05:24:33.123+00:00`.
    Iso8601,
}

/// Which clock stamps stream events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ClockSpec {
    /// The chain's simulated time, as the original.
    #[default]
    Simulated,
    /// The wall-clock time at emission.
    Wall,
}

/// Events per tick over time.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadSpec {
    Constant {
        load: f64,
    },
    /// Rises linearly from `minimal_load` to `load` over `tick_count` ticks, then stays.
    Gradual {
        tick_count: u64,
        minimal_load: f64,
        load: f64,
    },
    /// Tick i has `amplitude * sin(i * pi / phase) + mean`.
    Sinus {
        mean: f64,
        amplitude: f64,
        phase: f64,
    },
    /// Piecewise constant rates, optionally repeating.
    Steps {
        steps: Vec<RateStep>,
        repeat: bool,
    },
    /// A recorded load replayed: one rate per second.
    Trace {
        path: PathBuf,
        rates: Vec<f64>,
    },
}

impl LoadSpec {
    pub const NAMES: [&'static str; 5] = ["constant", "gradual", "sinus", "steps", "trace"];
}

/// One piece of a `steps` load.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateStep {
    pub rate: f64,
    pub seconds: f64,
}
