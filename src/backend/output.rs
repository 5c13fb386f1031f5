//! Where the backend emits events: Kafka (through the Kafka sink's producer settings, topic
//! templates, partitioning and delivery accounting), a file, or standard output (one event's
//! JSON per line).

use super::queue::Frame;
use crate::config::{Diagnostic, KafkaSinkSpec, PartitionSpec};
use crate::sink::kafka::{
    case_partition, client_config, send_waiting, settle, topic_partitions, Accounting, POLL_EVERY,
};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The most distinct Kafka topics one backend emits to (a topic template over the events'
/// `node` and `group`); delivery is counted per topic in a table of this size.
pub const MAX_TOPICS: usize = 256;

/// Where events go, as the command line says.
#[derive(Clone, Debug)]
pub enum OutputSpec {
    /// The Kafka sink's settings: bootstrap server, topic (template), partition, producer map,
    /// connect and flush timeouts.
    Kafka(KafkaSinkSpec),
    File(PathBuf),
    Stdout,
}

/// What an output delivered in the end.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutputReport {
    pub delivered: u64,
    pub failed: u64,
    /// Delivered events per Kafka topic.
    pub destinations: BTreeMap<String, u64>,
    /// Why events failed, if they did.
    pub error: Option<String>,
}

/// Topic names, and the topic index of each (node, group) seen.
type TopicTable = (Vec<String>, HashMap<(String, String), u32>);

/// The Kafka topics of a backend: one fixed topic, or a template resolved per (node, group)
/// as events arrive. Shared by the server (which resolves) and the emitter (which sends).
pub struct Topics {
    template: String,
    fixed: bool,
    names: Mutex<TopicTable>,
}

impl Topics {
    /// The topic table of an output: for files and stdout, one unnamed topic.
    pub fn new(spec: &OutputSpec) -> Result<Topics, String> {
        let template = match spec {
            OutputSpec::Kafka(k) => k.topic.clone(),
            _ => String::new(),
        };
        let fixed = !template.contains('{');
        let mut names = Vec::new();
        if fixed {
            if matches!(spec, OutputSpec::Kafka(_)) {
                crate::sink::kafka::resolve_topic(&template, "", "")?;
            }
            names.push(template.clone());
        }
        Ok(Topics {
            template,
            fixed,
            names: Mutex::new((names, HashMap::new())),
        })
    }

    /// True if events need `node`/`group` to find their topic.
    pub fn templated(&self) -> bool {
        !self.fixed
    }

    /// The topic index of an event with this node and group.
    pub fn resolve(&self, node: &str, group: &str) -> Result<u32, String> {
        if self.fixed {
            return Ok(0);
        }
        let mut guard = self.names.lock().unwrap_or_else(|e| e.into_inner());
        let (names, by_pair) = &mut *guard;
        if let Some(&i) = by_pair.get(&(node.to_string(), group.to_string())) {
            return Ok(i);
        }
        let topic = crate::sink::kafka::resolve_topic(&self.template, node, group)?;
        let index = match names.iter().position(|t| *t == topic) {
            Some(i) => i,
            None if names.len() >= MAX_TOPICS => {
                return Err(format!(
                    "the topic template `{}` gives more than {MAX_TOPICS} topics",
                    self.template
                ))
            }
            None => {
                names.push(topic);
                names.len() - 1
            }
        };
        by_pair.insert((node.to_string(), group.to_string()), index as u32);
        Ok(index as u32)
    }

    /// The name of topic `i`.
    fn name(&self, i: u32) -> String {
        let guard = self.names.lock().unwrap_or_else(|e| e.into_inner());
        guard.0.get(i as usize).cloned().unwrap_or_default()
    }
}

/// An open output.
pub enum Output {
    Kafka(Box<KafkaOutput>),
    Lines(LineOutput),
}

impl Output {
    /// Opens the output; for Kafka, checks within `connectTimeout` that the broker answers
    /// (and that a fixed topic exists).
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
            OutputSpec::Kafka(kafka) => {
                Ok(Output::Kafka(Box::new(KafkaOutput::open(kafka, topics)?)))
            }
        }
    }

    #[inline]
    pub fn write(&mut self, frame: &Frame, i: usize) -> Result<(), String> {
        match self {
            Output::Kafka(k) => k.write(frame, i),
            Output::Lines(l) => l.write(frame.value(i)),
        }
    }

    /// Pushes buffered events out (lines) or serves delivery reports (Kafka).
    pub fn flush(&mut self) -> Result<(), String> {
        match self {
            Output::Kafka(k) => {
                k.producer.poll(Duration::ZERO);
                Ok(())
            }
            Output::Lines(l) => l.flush(),
        }
    }

    /// Delivered and failed so far.
    pub fn progress(&self) -> (u64, u64) {
        match self {
            Output::Kafka(k) => k.counts(),
            Output::Lines(l) => (l.written, 0),
        }
    }

    /// Flushes (Kafka: for at most `flushTimeout`, then purges and counts the rest as failed).
    pub fn finish(self) -> OutputReport {
        match self {
            Output::Kafka(k) => k.finish(),
            Output::Lines(l) => l.finish(),
        }
    }
}

/// One event's JSON per line, to a file or stdout.
pub struct LineOutput {
    writer: std::io::BufWriter<Box<dyn Write + Send>>,
    /// The file again, to sync it at the end.
    sync: Option<std::fs::File>,
    /// Lines handed to the writer and flushed.
    written: u64,
    pending: u64,
    error: Option<String>,
}

impl LineOutput {
    fn new(out: Box<dyn Write + Send>, sync: Option<std::fs::File>) -> LineOutput {
        LineOutput {
            writer: std::io::BufWriter::with_capacity(1 << 16, out),
            sync,
            written: 0,
            pending: 0,
            error: None,
        }
    }

    #[inline]
    fn write(&mut self, value: &[u8]) -> Result<(), String> {
        let result = self
            .writer
            .write_all(value)
            .and_then(|()| self.writer.write_all(b"\n"));
        self.pending += 1;
        result.map_err(|e| self.fail(e))
    }

    fn flush(&mut self) -> Result<(), String> {
        self.writer.flush().map_err(|e| self.fail(e))?;
        self.written += self.pending;
        self.pending = 0;
        Ok(())
    }

    fn fail(&mut self, e: std::io::Error) -> String {
        let message = format!("cannot write events: {e}");
        self.error.get_or_insert(message.clone());
        message
    }

    fn finish(mut self) -> OutputReport {
        let mut result = self.flush();
        if let (Ok(()), Some(file)) = (&result, &self.sync) {
            result = file
                .sync_all()
                .map_err(|e| format!("cannot sync the file: {e}"));
        }
        let failed = if result.is_err() { self.pending } else { 0 };
        OutputReport {
            delivered: self.written,
            failed,
            destinations: BTreeMap::new(),
            error: result.err().or(self.error),
        }
    }
}

/// Records to Kafka, keyed by case id, counted by librdkafka's delivery reports.
pub struct KafkaOutput {
    producer: BaseProducer<Accounting>,
    topics: Arc<Topics>,
    /// The emitter's copy of the topic names (grows as the server resolves new ones).
    names: Vec<String>,
    partition: PartitionSpec,
    queued: u64,
    flush_timeout: Duration,
}

impl KafkaOutput {
    fn open(spec: &KafkaSinkSpec, topics: Arc<Topics>) -> Result<KafkaOutput, Diagnostic> {
        let accounting = Accounting {
            delivered: (0..MAX_TOPICS).map(|_| AtomicU64::new(0)).collect(),
            failed: (0..MAX_TOPICS).map(|_| AtomicU64::new(0)).collect(),
            first_error: Mutex::new(None),
        };
        let producer: BaseProducer<Accounting> = client_config(spec)
            .create_with_context(accounting)
            .map_err(|e| {
                Diagnostic::error(format!("librdkafka refused the producer settings: {e}")).help(
                    "check the --producer KEY=VALUE options against librdkafka's CONFIGURATION.md",
                )
            })?;
        let timeout = Duration::from_secs_f64(spec.connect_timeout_secs);
        let deadline = Instant::now() + timeout;
        // A fixed topic must exist; with a template, the topics are known only as events
        // come, so the broker is asked for its metadata in general (is it there at all?).
        let probe = if topics.templated() {
            producer
                .client()
                .fetch_metadata(None, timeout)
                .map(|_| ())
                .map_err(|e| {
                    crate::sink::kafka::TopicProblem::Unreachable(e).into_diagnostic(
                        "backend",
                        &spec.bootstrap_server,
                        &spec.topic,
                        timeout,
                    )
                })
        } else {
            topic_partitions(&producer, &spec.topic, deadline)
                .map(|_| ())
                .map_err(|p| {
                    p.into_diagnostic("backend", &spec.bootstrap_server, &spec.topic, timeout)
                })
        };
        probe?;
        Ok(KafkaOutput {
            producer,
            topics,
            names: Vec::new(),
            partition: spec.partition,
            queued: 0,
            flush_timeout: Duration::from_secs_f64(spec.flush_timeout_secs),
        })
    }

    #[inline]
    fn write(&mut self, frame: &Frame, i: usize) -> Result<(), String> {
        let topic = frame.events[i].topic;
        while self.names.len() <= topic as usize {
            let next = self.topics.name(self.names.len() as u32);
            self.names.push(next);
        }
        let key = frame.key(i);
        let partition = match self.partition {
            PartitionSpec::Default => None,
            PartitionSpec::Constant(p) => Some(p),
            PartitionSpec::Case { partition_count } => {
                Some(case_partition(key.unwrap_or_default(), partition_count))
            }
        };
        let mut record = BaseRecord::with_opaque_to(&self.names[topic as usize], topic as usize)
            .payload(frame.value(i));
        if let Some(key) = key {
            record = record.key(key);
        }
        record.partition = partition;
        send_waiting(
            &self.producer,
            record,
            || Ok(()),
            |e| {
                format!(
                    "cannot queue an event for topic `{}`: {e}",
                    self.names[topic as usize]
                )
            },
        )?;
        self.queued += 1;
        if self.queued % POLL_EVERY == 0 {
            self.producer.poll(Duration::ZERO);
        }
        Ok(())
    }

    fn counts(&self) -> (u64, u64) {
        let context = self.producer.context();
        let sum = |cells: &[AtomicU64]| cells.iter().map(|c| c.load(Ordering::Relaxed)).sum();
        (sum(&context.delivered), sum(&context.failed))
    }

    fn finish(self) -> OutputReport {
        let (delivery, error) =
            settle(&self.producer, &self.names, self.queued, self.flush_timeout);
        OutputReport {
            delivered: delivery.delivered,
            failed: delivery.failed,
            destinations: delivery.destinations,
            error,
        }
    }
}
