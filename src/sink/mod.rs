//! Sinks: where events go. One trait, one file per sink type, one router.
//!
//! A [`Sink`] is a transport: it takes events one at a time, turns them into bytes with an
//! output format ([`crate::format`]) where it has bytes to write, and reports at the end what
//! it delivered. [`SinkSet`] builds the configured sinks and routes each event to every sink
//! whose `dataSourceRefs` lists its datasource, through a per-node table of sink indices
//! computed once, so routing an event is an index and a short loop. A simulation that speaks
//! to one sink type in particular (the load test to its `http` sinks) reaches them by type
//! with [`SinkSet::each`]; the trait itself holds only what every sink shares.

mod blackhole;
mod console;
mod delivery;
mod file;
mod http;
#[cfg(feature = "kafka")]
pub mod kafka;
mod memory;
#[cfg(feature = "mqtt")]
pub mod mqtt;
pub mod mqtt_xes;
mod ui;

pub use crate::format::EventEncoder;
pub use blackhole::BlackholeSink;
pub use console::ConsoleSink;
pub use delivery::DeliveryCounter;
pub use file::{part_path, CreateError as FileCreateError, FileSink};
pub use http::HttpSink;
#[cfg(feature = "kafka")]
pub use kafka::KafkaSink;
pub use memory::{EventRecord, MemoryHandle, MemorySink};
#[cfg(feature = "mqtt")]
pub use mqtt::MqttSink;
pub use ui::{UiEvent, UiHandle, UiMode, UiSink, RECENT};

use crate::config::{
    sink::{ColumnNames, DEFAULT_CONSOLE_ID},
    ConfigSet, ConsoleFormat, Diagnostic, FileFormat, Kind, SinkSettings, TimestampFormat,
};
use crate::engine::Event;
use crate::format::{ConsoleLines, Csv, CsvColumns, JsonLines, Ocel, Xes};
use crate::model::Chain;
use crate::shard::Shard;
use std::any::Any;
use std::collections::BTreeMap;

/// Why a sink could not take or deliver events.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("sink `{sink}`: {message}")]
    Failed { sink: String, message: String },
    #[error("sink `{sink}`: {context}: {source}")]
    Io {
        sink: String,
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The reader went away (a closed pipe): stop quietly.
    #[error("sink `{sink}`: output closed")]
    Closed { sink: String },
}

/// Why the sinks of a run could not be built.
#[derive(Debug)]
pub enum SinkBuildError {
    /// The configuration cannot work (a bad topic template, a setting the client refuses).
    Config(Diagnostic),
    /// A destination cannot be used now (a broker that does not answer, a folder that does
    /// not exist): a runtime failure (exit 1), not a mistake in the config (exit 2).
    Unavailable(Diagnostic),
}

impl From<Diagnostic> for SinkBuildError {
    fn from(d: Diagnostic) -> SinkBuildError {
        SinkBuildError::Config(d)
    }
}

/// What a sink delivered, reported when it finishes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Delivery {
    /// Events confirmed delivered (written, synced, or acknowledged).
    pub delivered: u64,
    /// Events that could not be delivered.
    pub failed: u64,
    /// Per-destination counts: a Kafka sink's topics, a file sink's files (those closed whole,
    /// by path).
    pub destinations: BTreeMap<String, u64>,
    /// Why events were not delivered, if the sink knows (the library does not print it; the
    /// command line does).
    pub error: Option<String>,
    /// True if `delivered` counts acknowledgements from a broker (Kafka): then `failed` are
    /// events *not acknowledged* in time, some of which the broker may still have stored
    /// (a frozen broker that recovers late, an acknowledgement lost on the way).
    pub acknowledged: bool,
    /// Cases still open when the output ended, written marked as open (XES traces with
    /// `def:open`); only formats that group events by case count them.
    pub open_cases: u64,
}

impl Delivery {
    pub fn all(delivered: u64) -> Delivery {
        Delivery {
            delivered,
            ..Delivery::default()
        }
    }
}

/// A destination for events. (`Any` lets a simulation reach the sinks of one type by
/// downcasting, see [`SinkSet::each`].)
pub trait Sink: Any + Send {
    /// Takes one event. Called on the hot path: no per-event allocation, please.
    ///
    /// # Errors
    /// The destination failed, or went away ([`SinkError::Closed`]).
    fn write(&mut self, event: &Event<'_>) -> Result<(), SinkError>;

    /// Pushes buffered events out. Streams call this after each batch.
    ///
    /// # Errors
    /// As [`Sink::write`].
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    /// Flushes everything, closes, and says what was delivered.
    ///
    /// # Errors
    /// The destination failed at the end (a write, a sync, a last request).
    fn finish(&mut self) -> Result<Delivery, SinkError>;

    /// True if the sink must hear of every case that ends, also at datasources it does not
    /// take (a format that groups events by case: [`crate::format::EventFormat::follows_cases`]).
    fn follows_cases(&self) -> bool {
        false
    }

    /// Case `case` ended with an event this sink does not take. Called only on sinks that
    /// [`Sink::follows_cases`].
    ///
    /// # Errors
    /// As [`Sink::write`].
    fn case_ended(&mut self, _case: u64) -> Result<(), SinkError> {
        Ok(())
    }
}

/// A sink with its name and its routing.
pub struct NamedSink {
    pub name: String,
    pub type_name: String,
    pub sink: Box<dyn Sink>,
    /// Node names whose events this sink takes.
    pub refs: Vec<String>,
}

impl NamedSink {
    /// A sink that takes the events of every datasource of `chain`.
    pub fn taking_all(
        name: &str,
        type_name: &str,
        sink: Box<dyn Sink>,
        chain: &Chain,
    ) -> NamedSink {
        NamedSink {
            name: name.to_string(),
            type_name: type_name.to_string(),
            sink,
            refs: chain
                .nodes
                .iter()
                .map(|n| n.name.as_str().to_string())
                .collect(),
        }
    }
}

/// Settings shared by every sink of a run.
#[derive(Clone, Debug, Default)]
pub struct SinkOptions {
    pub timestamp_format: TimestampFormat,
    /// The name of the simulation being run: the MQTT sink's default `process` (empty: the
    /// sink's own name).
    pub simulation: String,
    /// The run stamps events with `emittedAt` (formats with a fixed set of columns add one).
    pub emitted_at: bool,
    /// The run has a network document: events carry `eventId` and `arrivalTime` (formats
    /// with a fixed set of columns add them).
    pub network: bool,
    /// What `ui` sinks do: record for a live view, or print console lines.
    pub ui: UiMode,
    /// The shard this run makes: `{shard}` in file paths and MQTT client ids becomes its
    /// number, and generated MQTT client ids get it as a suffix (see [`crate::shard`]).
    pub shard: Shard,
}

/// `path` with `{shard}` replaced by the shard's number (a path that is not UTF-8 has none).
fn shard_path(path: &std::path::Path, shard: Shard) -> std::path::PathBuf {
    path.to_str()
        .map_or_else(|| path.to_path_buf(), |p| shard.fill(p).into())
}

/// What one sink did in a run.
#[derive(Clone, Debug, PartialEq)]
pub struct SinkReport {
    pub name: String,
    pub type_name: String,
    /// Events handed to the sink.
    pub events: u64,
    pub delivery: Delivery,
}

/// The CSV columns of a sink's `columns:`, with `emittedAt` if the run stamps it.
fn csv_columns(names: &ColumnNames, emitted_at: bool) -> CsvColumns {
    CsvColumns {
        caseid: names.caseid.clone(),
        activity: names.activity.clone(),
        timestamp: names.timestamp.clone(),
        node: names.node.clone(),
        group: names.group.clone(),
        emitted_at: emitted_at.then(|| names.emitted_at.clone()),
    }
}

/// The activities of the datasources a sink takes (by `dataSourceRefs`).
fn activities<'c>(chain: &'c Chain, refs: &[crate::config::At<String>]) -> Vec<&'c str> {
    chain
        .nodes
        .iter()
        .filter(|n| {
            refs.iter()
                .any(|r| r.value == n.name.as_str() || r.value == n.doc_name)
        })
        .flat_map(|n| n.edges.iter().map(|e| e.activity.as_str()))
        .collect()
}

/// The sinks of a run and the routing table from datasources to sinks.
pub struct SinkSet {
    sinks: Vec<NamedSink>,
    /// `routes[route_start[n]..route_start[n + 1]]` are the sinks of node `n`.
    routes: Vec<u16>,
    route_start: Vec<u32>,
    /// `ends[end_start[n]..end_start[n + 1]]` are the sinks that follow cases but do not take
    /// node `n`'s events: told when a case ends there.
    ends: Vec<u16>,
    end_start: Vec<u32>,
    counts: Vec<u64>,
    memory: BTreeMap<String, MemoryHandle>,
    ui: Vec<(String, UiHandle)>,
    /// Events per node (datasource), and the nodes' names.
    node_counts: Vec<u64>,
    node_names: Vec<String>,
}

impl SinkSet {
    /// Builds the sinks a config declares (plus `extra` ones from a library caller) and routes
    /// them over `chain`'s nodes. Sink types this build cannot run are refused here.
    ///
    /// # Errors
    /// [`SinkBuildError::Config`] for a sink this config or build cannot run,
    /// [`SinkBuildError::Unavailable`] for a destination that does not answer.
    pub fn build(
        set: &ConfigSet,
        chain: &Chain,
        options: SinkOptions,
        extra: Vec<NamedSink>,
    ) -> Result<SinkSet, SinkBuildError> {
        let mut sinks = Vec::new();
        let mut memory = BTreeMap::new();
        let mut ui = Vec::new();
        for doc in &set.sinks {
            let spec = &doc.spec;
            let name = doc.name.value.clone();
            let timestamps = options.timestamp_format;
            let sink: Box<dyn Sink> = match &spec.settings.value {
                SinkSettings::Console { format, columns } => match format {
                    ConsoleFormat::Original => Box::new(ConsoleSink::new(
                        &name,
                        ConsoleLines::new(
                            spec.id.as_deref().unwrap_or(DEFAULT_CONSOLE_ID),
                            timestamps,
                        ),
                    )),
                    ConsoleFormat::Json => {
                        Box::new(ConsoleSink::new(&name, JsonLines::new(timestamps)))
                    }
                    ConsoleFormat::Csv => Box::new(ConsoleSink::new(
                        &name,
                        Csv::new(&csv_columns(columns, options.emitted_at))
                            .with_network(options.network),
                    )),
                    ConsoleFormat::Xes => Box::new(ConsoleSink::new(&name, Xes::new())),
                },
                SinkSettings::File {
                    path,
                    format,
                    output,
                    columns,
                } => {
                    let path = &shard_path(path, options.shard);
                    // The config is fine; the file system is not (yet): a runtime failure.
                    let cannot = |e: file::CreateError| {
                        SinkBuildError::Unavailable(
                            Diagnostic::error(format!("sink `{name}` {e}"))
                                .at(spec.place_of("path"))
                                .help("check that the folder exists and is writable"),
                        )
                    };
                    match format {
                        FileFormat::Jsonl => Box::new(
                            FileSink::create(&name, path, output, JsonLines::new(timestamps))
                                .map_err(cannot)?,
                        ),
                        FileFormat::Csv => {
                            let csv = Csv::new(&csv_columns(columns, options.emitted_at))
                                .with_network(options.network);
                            Box::new(FileSink::create(&name, path, output, csv).map_err(cannot)?)
                        }
                        FileFormat::Xes => Box::new(
                            FileSink::create(&name, path, output, Xes::new()).map_err(cannot)?,
                        ),
                        FileFormat::Ocel => {
                            // The objects spill beside the output, on its file system.
                            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
                            let activities = activities(chain, &spec.data_source_refs);
                            let ocel = Ocel::create(
                                dir.unwrap_or(std::path::Path::new(".")),
                                &activities,
                                options.emitted_at,
                            )
                            .map_err(|e| {
                                SinkBuildError::Unavailable(
                                    Diagnostic::error(format!(
                                        "sink `{name}` cannot create a temporary file beside {}: {e}",
                                        path.display()
                                    ))
                                    .at(spec.place_of("path"))
                                    .help("check that the folder exists and is writable"),
                                )
                            })?
                            .with_network(options.network);
                            Box::new(FileSink::create(&name, path, output, ocel).map_err(cannot)?)
                        }
                    }
                }
                SinkSettings::Blackhole => Box::new(BlackholeSink::default()),
                SinkSettings::Memory => {
                    let (sink, handle) = MemorySink::new(options.timestamp_format);
                    memory.insert(name.clone(), handle);
                    Box::new(sink)
                }
                #[cfg(feature = "kafka")]
                SinkSettings::Kafka(kafka) => {
                    let refs: Vec<String> = spec
                        .data_source_refs
                        .iter()
                        .map(|r| r.value.clone())
                        .collect();
                    let at = |field: &str| Some(spec.place_of(field).clone());
                    Box::new(KafkaSink::build(
                        &name,
                        kafka,
                        chain,
                        &refs,
                        options.timestamp_format,
                        &at,
                    )?)
                }
                #[cfg(not(feature = "kafka"))]
                SinkSettings::Kafka(_) => {
                    return Err(Diagnostic::error(format!(
                        "sink `{name}` has type `kafka`, but this build of def has no Kafka support"
                    ))
                    .at(&spec.settings.place)
                    .help(
                        "install a build with the `kafka` feature: `cargo install --path .` \
                         (default features include it), or add `--features kafka` to a \
                         `--no-default-features` build",
                    )
                    .into())
                }
                #[cfg(feature = "mqtt")]
                SinkSettings::Mqtt(mqtt) => {
                    let process = match (&mqtt.process, options.simulation.as_str()) {
                        (Some(process), _) => process.as_str(),
                        (None, "") => name.as_str(),
                        (None, simulation) => simulation,
                    };
                    let at = |field: &str| Some(spec.place_of(field).clone());
                    // Two clients with one id push each other off the broker: shards differ.
                    let shard = options.shard;
                    let mut mqtt = mqtt.clone();
                    mqtt.client_id = match mqtt.client_id.take() {
                        Some(id) => Some(shard.fill(&id)),
                        None if shard.is_whole() => None,
                        None => Some(format!(
                            "{}{name}-{}-{}",
                            mqtt::DEFAULT_CLIENT_ID_PREFIX,
                            std::process::id(),
                            shard.index()
                        )),
                    };
                    Box::new(MqttSink::build(&name, &mqtt, process, timestamps, &at)?)
                }
                #[cfg(not(feature = "mqtt"))]
                SinkSettings::Mqtt(_) => {
                    return Err(Diagnostic::error(format!(
                        "sink `{name}` has type `mqtt`, but this build of def has no MQTT support"
                    ))
                    .at(&spec.settings.place)
                    .help(
                        "install a build with the `mqtt` feature: `cargo install --path .` \
                         (default features include it), or add `--features mqtt` to a \
                         `--no-default-features` build",
                    )
                    .into())
                }
                SinkSettings::Http(http) => Box::new(HttpSink::new(&name, http, timestamps)),
                SinkSettings::Ui => {
                    let label = spec.id.as_deref().unwrap_or(&name);
                    match options.ui {
                        UiMode::Live => {
                            let refs: Vec<String> = spec
                                .data_source_refs
                                .iter()
                                .map(|r| r.value.clone())
                                .collect();
                            let (sink, handle) = UiSink::new(label, chain, &refs, timestamps);
                            ui.push((name.clone(), handle));
                            Box::new(sink)
                        }
                        UiMode::Console => Box::new(ConsoleSink::new(
                            &name,
                            ConsoleLines::new(label, timestamps),
                        )),
                    }
                }
            };
            sinks.push(NamedSink {
                name,
                type_name: spec.settings.value.sink_type().name().to_string(),
                sink,
                refs: spec
                    .data_source_refs
                    .iter()
                    .map(|r| r.value.clone())
                    .collect(),
            });
        }
        sinks.extend(extra);
        let mut set = SinkSet::route(sinks, chain, memory)?;
        set.ui = ui;
        Ok(set)
    }

    /// Routes the given sinks over the chain's nodes.
    ///
    /// # Errors
    /// More sinks than the routing table holds (65,535).
    pub fn route(
        sinks: Vec<NamedSink>,
        chain: &Chain,
        memory: BTreeMap<String, MemoryHandle>,
    ) -> Result<SinkSet, Diagnostic> {
        if sinks.len() > u16::MAX as usize {
            return Err(Diagnostic::error("more than 65535 sinks").help("use fewer sinks"));
        }
        let mut routes = Vec::new();
        let mut route_start = Vec::with_capacity(chain.nodes.len() + 1);
        for node in &chain.nodes {
            route_start.push(routes.len() as u32);
            for (i, sink) in sinks.iter().enumerate() {
                let takes = sink
                    .refs
                    .iter()
                    .any(|r| r == node.name.as_str() || *r == node.doc_name);
                if takes {
                    routes.push(i as u16);
                }
            }
        }
        route_start.push(routes.len() as u32);
        let mut ends = Vec::new();
        let mut end_start = Vec::with_capacity(chain.nodes.len() + 1);
        for n in 0..chain.nodes.len() {
            end_start.push(ends.len() as u32);
            let routed = &routes[route_start[n] as usize..route_start[n + 1] as usize];
            for (i, sink) in sinks.iter().enumerate() {
                if sink.sink.follows_cases() && !routed.contains(&(i as u16)) {
                    ends.push(i as u16);
                }
            }
        }
        end_start.push(ends.len() as u32);
        Ok(SinkSet {
            counts: vec![0; sinks.len()],
            sinks,
            routes,
            route_start,
            ends,
            end_start,
            memory,
            ui: Vec::new(),
            node_counts: vec![0; chain.nodes.len()],
            node_names: chain
                .nodes
                .iter()
                .map(|n| n.name.as_str().to_string())
                .collect(),
        })
    }

    /// Hands an event to every sink of its datasource.
    ///
    /// # Errors
    /// The first sink that fails; the sinks after it do not get the event.
    #[inline(always)]
    pub fn dispatch(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        let n = event.node.index as usize;
        if let Some(count) = self.node_counts.get_mut(n) {
            *count += 1;
        }
        let (from, to) = (
            self.route_start[n] as usize,
            self.route_start[n + 1] as usize,
        );
        for &i in &self.routes[from..to] {
            let i = i as usize;
            self.sinks[i].sink.write(event)?;
            self.counts[i] += 1;
        }
        if !self.ends.is_empty() && event.ends_case() {
            let (from, to) = (self.end_start[n] as usize, self.end_start[n + 1] as usize);
            for &i in &self.ends[from..to] {
                self.sinks[i as usize].sink.case_ended(event.case)?;
            }
        }
        Ok(())
    }

    /// Case `case` is over, but no event the sinks saw closed it (a network lost its last
    /// events): every sink that follows cases hears of it, so that it holds nothing for it.
    ///
    /// # Errors
    /// The first sink that fails.
    pub fn case_closed(&mut self, case: u64) -> Result<(), SinkError> {
        for named in &mut self.sinks {
            if named.sink.follows_cases() {
                named.sink.case_ended(case)?;
            }
        }
        Ok(())
    }

    /// Flushes every sink.
    ///
    /// # Errors
    /// The first sink that fails to flush.
    pub fn flush(&mut self) -> Result<(), SinkError> {
        self.sinks.iter_mut().try_for_each(|s| s.sink.flush())
    }

    /// Calls `f` on every sink of type `T`, in order, stopping at the first error.
    ///
    /// # Errors
    /// The first error `f` returns.
    pub fn each<T: Sink>(
        &mut self,
        mut f: impl FnMut(&mut T) -> Result<(), SinkError>,
    ) -> Result<(), SinkError> {
        for named in &mut self.sinks {
            let sink: &mut dyn Any = named.sink.as_mut();
            if let Some(sink) = sink.downcast_mut::<T>() {
                f(sink)?;
            }
        }
        Ok(())
    }

    /// Events handed to each sink so far.
    pub fn counts(&self) -> impl Iterator<Item = (&str, u64)> {
        self.sinks
            .iter()
            .zip(&self.counts)
            .map(|(s, c)| (s.name.as_str(), *c))
    }

    /// Events generated so far per datasource (every node of the chain, by node name).
    pub fn datasource_counts(&self) -> impl Iterator<Item = (&str, u64)> {
        self.node_names
            .iter()
            .zip(&self.node_counts)
            .map(|(name, c)| (name.as_str(), *c))
    }

    /// Finishes every sink (even after one fails) and reports.
    pub fn finish(&mut self) -> (Vec<SinkReport>, Vec<SinkError>) {
        let mut reports = Vec::new();
        let mut errors = Vec::new();
        for (sink, &events) in self.sinks.iter_mut().zip(&self.counts) {
            let delivery = match sink.sink.finish() {
                Ok(d) => d,
                Err(e) => {
                    errors.push(e);
                    Delivery {
                        delivered: 0,
                        failed: events,
                        ..Delivery::default()
                    }
                }
            };
            reports.push(SinkReport {
                name: sink.name.clone(),
                type_name: sink.type_name.clone(),
                events,
                delivery,
            });
        }
        (reports, errors)
    }

    /// Handles of the memory sinks, by sink name.
    pub fn memory_handles(&self) -> BTreeMap<String, MemoryHandle> {
        self.memory.clone()
    }

    /// Handles of the `ui` sinks recording for a live view ([`UiMode::Live`]), by sink name,
    /// in config order.
    pub fn ui_handles(&self) -> Vec<(String, UiHandle)> {
        self.ui.clone()
    }
}
