//! Where the backend emits events: Kafka (through def's `crate::kafka::Producer`), a file, or
//! standard output (one event's JSON per line). Each reports what it delivered as a
//! [`Delivery`], as sinks do.

mod kafka;
mod lines;

use super::queue::Frame;
use super::topics::Topics;
use crate::config::{Diagnostic, KafkaSinkSpec};
use crate::sink::Delivery;
use lines::LineOutput;
use std::path::PathBuf;
use std::sync::Arc;

/// Where events go, as the command line says.
#[derive(Clone, Debug)]
pub enum OutputSpec {
    /// The Kafka sink's settings: bootstrap server, topic (template), partition, producer map,
    /// connect and flush timeouts.
    Kafka(KafkaSinkSpec),
    File(PathBuf),
    Stdout,
}

/// An open output.
pub enum Output {
    Kafka(Box<kafka::KafkaOutput>),
    Lines(LineOutput),
}

impl Output {
    /// Opens the output; for Kafka, checks within `connectTimeout` that the broker answers
    /// (and that a fixed topic exists).
    ///
    /// # Errors
    ///
    /// A file that cannot be created; for Kafka, settings librdkafka refuses, a broker that
    /// does not answer, or a fixed topic it does not have.
    pub fn open(spec: &OutputSpec, topics: Arc<Topics>) -> Result<Output, Diagnostic> {
        match spec {
            OutputSpec::Stdout => Ok(Output::Lines(LineOutput::new(
                Box::new(std::io::stdout()),
                None,
            ))),
            OutputSpec::File(path) => {
                let file = std::fs::File::create(path).map_err(|e| {
                    Diagnostic::error(format!("cannot create {}: {e}", path.display()))
                        .help("check that the folder exists and is writable")
                })?;
                let sync = file.try_clone().ok();
                Ok(Output::Lines(LineOutput::new(Box::new(file), sync)))
            }
            OutputSpec::Kafka(spec) => Ok(Output::Kafka(Box::new(kafka::KafkaOutput::open(
                spec, topics,
            )?))),
        }
    }

    /// Hands event `i` of `frame` to the output.
    ///
    /// # Errors
    ///
    /// Why the output cannot take it (a write error; Kafka refusing the record).
    #[inline]
    pub fn write(&mut self, frame: &Frame, i: usize) -> Result<(), String> {
        match self {
            Output::Kafka(k) => k.write(frame, i),
            Output::Lines(l) => l.write(frame.value(i)),
        }
    }

    /// Pushes buffered events out (lines) or serves delivery reports (Kafka).
    ///
    /// # Errors
    ///
    /// A write error of a line output.
    pub fn flush(&mut self) -> Result<(), String> {
        match self {
            Output::Kafka(k) => {
                k.poll();
                Ok(())
            }
            Output::Lines(l) => l.flush(),
        }
    }

    /// Delivered and failed so far.
    pub fn progress(&self) -> (u64, u64) {
        match self {
            Output::Kafka(k) => k.progress(),
            Output::Lines(l) => l.progress(),
        }
    }

    /// Flushes (Kafka: for at most `flushTimeout`, then purges and counts the rest as failed).
    pub fn finish(self) -> Delivery {
        match self {
            Output::Kafka(k) => k.finish(),
            Output::Lines(l) => l.finish(),
        }
    }
}
