//! Where the backend emits events: Kafka (through def's `crate::kafka::Producer`, in builds
//! with the `kafka` feature), a file, or standard output (one event's JSON per line). Each
//! reports what it delivered as a [`Delivery`], as sinks do.

#[cfg(feature = "kafka")]
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
    #[cfg(feature = "kafka")]
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
    /// does not answer, a fixed topic it does not have, or a build without Kafka support.
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
            #[cfg(feature = "kafka")]
            OutputSpec::Kafka(spec) => Ok(Output::Kafka(Box::new(kafka::KafkaOutput::open(
                spec, topics,
            )?))),
            #[cfg(not(feature = "kafka"))]
            OutputSpec::Kafka(_) => {
                let _ = topics;
                Err(
                    Diagnostic::error("this build of def has no Kafka support").help(
                        "emit into a file or stdout (--output file:PATH, --output stdout), or \
                         install a build with the `kafka` feature: `cargo install --path .` \
                         (default features include it), or add `--features kafka` to a \
                         `--no-default-features` build",
                    ),
                )
            }
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
            #[cfg(feature = "kafka")]
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
            #[cfg(feature = "kafka")]
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
            #[cfg(feature = "kafka")]
            Output::Kafka(k) => k.progress(),
            Output::Lines(l) => l.progress(),
        }
    }

    /// Flushes (Kafka: for at most `flushTimeout`, then purges and counts the rest as failed).
    pub fn finish(self) -> Delivery {
        match self {
            #[cfg(feature = "kafka")]
            Output::Kafka(k) => k.finish(),
            Output::Lines(l) => l.finish(),
        }
    }
}
