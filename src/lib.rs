//! # def — the Distributed Event Factory
//!
//! Realistic, distributed process-mining event streams from a Markov chain of datasources.
//! Data flows one way: [`config`] (YAML → typed specs, with locations for errors) →
//! [`model`] (the compiled chain) → [`engine`] (cases walking the chain in timestamp order) →
//! [`network`] (clocks and links, when the config has `kind: network`) →
//! [`sink`] (where events go), driven by a [`simulation`].
//!
//! The library mirrors the original's `EventFactory().add_directory(..).add_file(..).run()`:
//!
//! ```
//! use def::EventFactory;
//!
//! let report = EventFactory::new()
//!     .add_str("chain.yaml", r#"
//! kind: datasource
//! name: "<start>"
//! spec: {name: "<start>", selection: uniform, eventData: [{activity: "", transition: Drill, duration: 0}]}
//! ---
//! kind: datasource
//! name: Drill
//! spec:
//!   name: Drill
//!   group: workshop
//!   selection: genericProbability
//!   distribution: [0.75, 0.25]
//!   eventData:
//!     - {activity: "drill hole", transition: Drill, duration: 2}
//!     - {activity: "done", transition: "<end>", duration: {type: uniform, lowerBound: 1, upperBound: 3}}
//! ---
//! kind: simulation
//! name: quick
//! spec: {type: countBased, steps: 50, maxConcurrentCases: 3}
//! "#)
//!     .memory_sink("collected", &["Drill"])
//!     .seed(7)
//!     .run()
//!     .expect("a valid config");
//!
//! let events = report.memory["collected"].events();
//! assert_eq!(events.len(), 50);
//! assert!(events.iter().all(|e| e.node == "Drill" && e.group == "workshop"));
//! ```
//!
//! Custom sinks implement [`sink::Sink`] and are added with [`EventFactory::add_sink`].
//!
//! Cargo features, all on by default: `kafka` (the `kafka` module and the Kafka sink; builds
//! librdkafka), `backend` (the `backend` module, the load backend; tokio and axum) and `mqtt`
//! (the MQTT sink, `sink::mqtt`; rumqttc). Without them the generator, its other sinks and
//! `def run`/`validate`/`graph`/`analyze` remain.

/// README.md's Rust blocks, compiled and run as doctests so the README cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod analysis;
#[cfg(feature = "backend")]
pub mod backend;
pub mod config;
pub mod engine;
pub mod format;
pub mod frame;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod learn;
pub mod metrics;
pub mod model;
pub mod network;
pub mod pacing;
pub mod shard;
pub mod simulation;
pub mod sink;
pub mod time;

use config::ConfigSet;
use simulation::{Run, RunError, RunOptions, RunReport};
use sink::{MemoryHandle, MemorySink, NamedSink, Sink};
use std::path::Path;

/// Loads configuration, adds sinks, and runs: the library's front door.
#[derive(Default)]
pub struct EventFactory {
    config: ConfigSet,
    sinks: Vec<NamedSink>,
    memory_handles: Vec<(String, MemoryHandle)>,
    options: RunOptions,
}

impl EventFactory {
    pub fn new() -> EventFactory {
        EventFactory::default()
    }

    /// Adds every `.yaml`/`.yml` file below a directory, in sorted order.
    pub fn add_directory(mut self, dir: impl AsRef<Path>) -> EventFactory {
        self.config.add_directory(dir);
        self
    }

    /// Adds every document of a YAML file.
    pub fn add_file(mut self, file: impl AsRef<Path>) -> EventFactory {
        self.config.add_file(file);
        self
    }

    /// Adds every document of a YAML text; `name` stands for a file name in errors.
    pub fn add_str(mut self, name: &str, yaml: &str) -> EventFactory {
        self.config.add_str(name, yaml);
        self
    }

    /// Adds a sink of your own that takes the events of the named datasources.
    pub fn add_sink(
        mut self,
        name: &str,
        datasources: &[&str],
        sink: impl Sink + 'static,
    ) -> EventFactory {
        self.sinks.push(NamedSink {
            name: name.to_string(),
            type_name: "custom".to_string(),
            sink: Box::new(sink),
            refs: datasources.iter().map(|s| s.to_string()).collect(),
        });
        self
    }

    /// Adds an in-memory sink; its events are in [`RunReport::memory`] under `name`.
    pub fn memory_sink(self, name: &str, datasources: &[&str]) -> EventFactory {
        let (sink, handle) = MemorySink::new(Default::default());
        let mut factory = self.add_sink(name, datasources, sink);
        if let Some(last) = factory.sinks.last_mut() {
            last.type_name = "memory".to_string();
        }
        factory.memory_handles.push((name.to_string(), handle));
        factory
    }

    /// Fixes the random seed: the same seed gives the same events, byte for byte.
    pub fn seed(mut self, seed: u64) -> EventFactory {
        self.options.seed = Some(seed);
        self
    }

    /// Replaces every run option at once.
    pub fn options(mut self, options: RunOptions) -> EventFactory {
        self.options = options;
        self
    }

    /// The loaded configuration, e.g. to validate it without running.
    pub fn config(&self) -> &ConfigSet {
        &self.config
    }

    /// Validates, compiles and runs the simulation.
    ///
    /// # Errors
    /// See [`RunError`]: the configuration has errors, a destination is unreachable, a sink
    /// failed, or events were not delivered.
    pub fn run(self) -> Result<RunReport, RunError> {
        let handles = self.memory_handles;
        let mut report = Run::prepare(&self.config, self.options, self.sinks)?.execute()?;
        report.memory.extend(handles);
        Ok(report)
    }
}
