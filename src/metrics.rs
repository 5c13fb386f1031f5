//! Prometheus metrics, one set of conventions for `def run --metrics-listen` and the load
//! backend's `GET /metrics`.
//!
//! Both render through `prometheus-client`'s Prometheus text encoder (exposition format 0.0.4,
//! [`CONTENT_TYPE`]): every family has a `# HELP` and a `# TYPE` line, names are
//! `def_<component>_<what>[_<unit>]` with units in base units (`_seconds`,
//! `_events_per_second`), and counters end in `_total`. Values are read at scrape time from
//! state the run keeps anyway (a [`Collector`] over a snapshot), so a scrape costs the run
//! nothing between scrapes.
//!
//! [`RunMetrics`] is the run's side: an [`Observer`] that keeps the last [`Progress`] facts
//! (and, at the end, what each sink delivered) for [`RunMetrics::render`]. Serving them over
//! HTTP is the command line's business (`src/cli/metrics.rs`).

use crate::config::{Kind, SimulationType};
use crate::pacing::Lateness;
use crate::simulation::{Observer, Progress, RunReport};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeGaugeValue, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The `Content-Type` of [`render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds (seconds) of the buckets of `def_run_emission_lateness_seconds`.
pub const LATENESS_BUCKETS: [f64; 14] = [
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];

/// The Prometheus text of what `collector` reports now.
pub fn render(collector: impl Collector) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(collector));
    let mut out = String::with_capacity(4096);
    // Writing into a `String` cannot fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
    out
}

/// Writes one metric family; `name` without its unit and `_total` (the encoder adds them).
pub struct Writer<'a, 'e> {
    encoder: &'a mut DescriptorEncoder<'e>,
}

impl<'a, 'e> Writer<'a, 'e> {
    pub fn new(encoder: &'a mut DescriptorEncoder<'e>) -> Writer<'a, 'e> {
        Writer { encoder }
    }

    /// A counter without labels.
    ///
    /// # Errors
    /// Only as the encoder's writer (never, into a `String`).
    pub fn counter(
        &mut self,
        name: &str,
        help: &str,
        unit: Option<Unit>,
        value: u64,
    ) -> Result<(), std::fmt::Error> {
        let mut m =
            self.encoder
                .encode_descriptor(name, help, unit.as_ref(), MetricType::Counter)?;
        m.encode_counter::<NoLabelSet, _, u64>(&value, None)
    }

    /// A gauge without labels.
    ///
    /// # Errors
    /// As [`Writer::counter`].
    pub fn gauge(
        &mut self,
        name: &str,
        help: &str,
        unit: Option<Unit>,
        value: impl EncodeGaugeValue,
    ) -> Result<(), std::fmt::Error> {
        let mut m = self
            .encoder
            .encode_descriptor(name, help, unit.as_ref(), MetricType::Gauge)?;
        m.encode_gauge(&value)
    }

    /// An info metric (`<name>_info{labels} 1`).
    ///
    /// # Errors
    /// As [`Writer::counter`].
    pub fn info(
        &mut self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<(), std::fmt::Error> {
        let mut m = self
            .encoder
            .encode_descriptor(name, help, None, MetricType::Info)?;
        m.encode_info(&labels)
    }

    /// A counter with one label, a sample per `(label value, count)`.
    ///
    /// # Errors
    /// As [`Writer::counter`].
    pub fn labelled_counter<'v>(
        &mut self,
        name: &str,
        help: &str,
        label: &str,
        values: impl IntoIterator<Item = (&'v str, u64)>,
    ) -> Result<(), std::fmt::Error> {
        let mut m = self
            .encoder
            .encode_descriptor(name, help, None, MetricType::Counter)?;
        for (value, count) in values {
            let labels = [(label, value)];
            m.encode_family(&labels)?
                .encode_counter::<NoLabelSet, _, u64>(&count, None)?;
        }
        Ok(())
    }

    /// A histogram from cumulative bucket counts (`(upper bound, events at most that)`).
    ///
    /// # Errors
    /// As [`Writer::counter`].
    pub fn histogram(
        &mut self,
        name: &str,
        help: &str,
        unit: Option<Unit>,
        histogram: &HistogramSnapshot,
    ) -> Result<(), std::fmt::Error> {
        let mut m =
            self.encoder
                .encode_descriptor(name, help, unit.as_ref(), MetricType::Histogram)?;
        // The encoder wants each bucket's own count and adds them up itself.
        let mut below = 0;
        let buckets: Vec<(f64, u64)> = histogram
            .cumulative
            .iter()
            .map(|&(bound, at_most)| {
                let own = at_most.saturating_sub(below);
                below = below.max(at_most);
                (bound, own)
            })
            .collect();
        m.encode_histogram::<NoLabelSet>(histogram.sum, histogram.count, &buckets, None)
    }
}

/// A histogram's state: cumulative bucket counts, sum and count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistogramSnapshot {
    pub cumulative: Vec<(f64, u64)>,
    pub sum: f64,
    pub count: u64,
}

impl HistogramSnapshot {
    /// Lateness in seconds, in [`LATENESS_BUCKETS`].
    pub fn of_lateness(lateness: &Lateness) -> HistogramSnapshot {
        HistogramSnapshot {
            cumulative: LATENESS_BUCKETS
                .iter()
                .map(|&b| (b, lateness.count_at_most(Duration::from_secs_f64(b))))
                .collect(),
            sum: lateness.sum().as_secs_f64(),
            count: lateness.count(),
        }
    }
}

/// A run's metrics: an [`Observer`] that keeps the last facts for [`RunMetrics::render`].
/// Cheap to clone (one shared state).
#[derive(Clone, Debug)]
pub struct RunMetrics(Arc<Mutex<RunFacts>>);

/// What the run's metrics show.
#[derive(Clone, Debug, Default)]
struct RunFacts {
    simulation: String,
    simulation_type: Option<SimulationType>,
    elapsed: Duration,
    events: u64,
    open_cases: usize,
    sinks: Vec<(String, u64)>,
    datasources: Vec<(String, u64)>,
    /// Events per second over the last interval between reports.
    achieved_rate: f64,
    /// Streams only.
    target_rate: Option<f64>,
    behind: u64,
    lag: Duration,
    lateness: Option<HistogramSnapshot>,
    frames: Option<u64>,
    /// Per sink: (delivered, failed), once the run has ended.
    delivered: Vec<(String, u64, u64)>,
    finished: bool,
    interrupted: bool,
}

impl RunMetrics {
    /// Metrics of the run of simulation `simulation` (its name) of type `simulation_type`.
    pub fn new(simulation: &str, simulation_type: SimulationType) -> RunMetrics {
        RunMetrics(Arc::new(Mutex::new(RunFacts {
            simulation: simulation.to_string(),
            simulation_type: Some(simulation_type),
            ..RunFacts::default()
        })))
    }

    fn facts(&self) -> std::sync::MutexGuard<'_, RunFacts> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The run has ended: its final counts and what each sink delivered.
    pub fn finish(&self, report: &RunReport) {
        let mut facts = self.facts();
        facts.events = report.events;
        facts.elapsed = report.elapsed;
        facts.sinks = report
            .sinks
            .iter()
            .map(|s| (s.name.clone(), s.events))
            .collect();
        facts.delivered = report
            .sinks
            .iter()
            .map(|s| (s.name.clone(), s.delivery.delivered, s.delivery.failed))
            .collect();
        facts.finished = true;
        facts.interrupted = report.interrupted;
    }

    /// The Prometheus text of the run's metrics now.
    pub fn render(&self) -> String {
        let facts = self.facts().clone();
        render(RunCollector(facts))
    }
}

impl Observer for RunMetrics {
    fn progress(&self, progress: &Progress<'_>) {
        // Computed outside the lock: a scrape never waits for the histogram walk.
        let lateness = progress.lateness.map(HistogramSnapshot::of_lateness);
        let mut facts = self.facts();
        let (events, secs) = (
            progress.events.saturating_sub(facts.events),
            progress.elapsed.saturating_sub(facts.elapsed).as_secs_f64(),
        );
        facts.achieved_rate = match progress.pacing {
            Some(p) => p.achieved_rate,
            None if secs > 0.0 => events as f64 / secs,
            None => facts.achieved_rate,
        };
        facts.target_rate = progress.pacing.map(|p| p.target_rate);
        facts.behind = progress.pacing.map_or(0, |p| p.behind);
        facts.lag = progress.pacing.map_or(Duration::ZERO, |p| p.lag);
        facts.simulation_type = Some(progress.simulation_type);
        facts.elapsed = progress.elapsed;
        facts.events = progress.events;
        facts.open_cases = progress.open_cases;
        facts.frames = progress.frames;
        facts.sinks = progress
            .sinks
            .iter()
            .map(|&(n, c)| (n.to_string(), c))
            .collect();
        facts.datasources = progress
            .datasources
            .iter()
            .map(|&(n, c)| (n.to_string(), c))
            .collect();
        if lateness.is_some() {
            facts.lateness = lateness;
        }
    }
}

#[derive(Debug)]
struct RunCollector(RunFacts);

impl Collector for RunCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let f = &self.0;
        let mut out = Writer::new(&mut encoder);
        let kind = f.simulation_type.map_or("", |t| t.name());
        out.info(
            "def_run",
            "The simulation this process runs (value 1).",
            &[("simulation", f.simulation.as_str()), ("type", kind)],
        )?;
        out.counter("def_run_events", "Events generated.", None, f.events)?;
        out.labelled_counter(
            "def_run_sink_events",
            "Events handed to each sink.",
            "sink",
            f.sinks.iter().map(|(n, c)| (n.as_str(), *c)),
        )?;
        out.labelled_counter(
            "def_run_datasource_events",
            "Events generated by each datasource (node name).",
            "datasource",
            f.datasources.iter().map(|(n, c)| (n.as_str(), *c)),
        )?;
        let delivered: Vec<(&str, u64, u64)> = if f.delivered.is_empty() {
            f.sinks.iter().map(|(n, _)| (n.as_str(), 0, 0)).collect()
        } else {
            f.delivered
                .iter()
                .map(|(n, d, x)| (n.as_str(), *d, *x))
                .collect()
        };
        out.labelled_counter(
            "def_run_sink_delivered_events",
            "Events each sink confirmed delivered (known when the run has ended).",
            "sink",
            delivered.iter().map(|&(n, d, _)| (n, d)),
        )?;
        out.labelled_counter(
            "def_run_sink_failed_events",
            "Events each sink could not deliver (known when the run has ended).",
            "sink",
            delivered.iter().map(|&(n, _, x)| (n, x)),
        )?;
        out.gauge(
            "def_run_elapsed",
            "Time since the simulation started.",
            Some(Unit::Seconds),
            f.elapsed.as_secs_f64(),
        )?;
        out.gauge(
            "def_run_open_cases",
            "Cases open in the engine.",
            None,
            f.open_cases as u64,
        )?;
        out.gauge(
            "def_run_achieved_events_per_second",
            "Events generated per second over the last status interval.",
            None,
            f.achieved_rate,
        )?;
        if let Some(target) = f.target_rate {
            out.gauge(
                "def_run_target_events_per_second",
                "Events per second the stream's load asked for over the last status interval.",
                None,
                target,
            )?;
            out.gauge(
                "def_run_behind_events",
                "Events due by the stream's schedule but not yet emitted.",
                None,
                f.behind,
            )?;
            out.gauge(
                "def_run_lag",
                "How late the oldest event due but not yet emitted is.",
                Some(Unit::Seconds),
                f.lag.as_secs_f64(),
            )?;
        }
        if let Some(lateness) = &f.lateness {
            out.histogram(
                "def_run_emission_lateness",
                "How late each event of the stream went out against its deadline.",
                Some(Unit::Seconds),
                lateness,
            )?;
        }
        if let Some(frames) = f.frames {
            out.counter(
                "def_run_frames",
                "Load-test timeframes prepared.",
                None,
                frames,
            )?;
        }
        out.gauge(
            "def_run_finished",
            "1 once the run has ended and these values are final.",
            None,
            u64::from(f.finished),
        )?;
        out.gauge(
            "def_run_interrupted",
            "1 if the run was stopped before its natural end (a signal, a key, a closed output).",
            None,
            u64::from(f.interrupted),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulation::PacingStatus;

    fn progress_of(lateness: &Lateness) -> Progress<'_> {
        Progress {
            simulation_type: SimulationType::Stream,
            elapsed: Duration::from_secs(2),
            events: 2000,
            total: None,
            open_cases: 7,
            pacing: Some(PacingStatus {
                target_rate: 1000.0,
                achieved_rate: 990.0,
                behind: 3,
                lag: Duration::from_millis(4),
            }),
            frames: None,
            sinks: &[("out", 2000), ("ui-sink", 1200)],
            datasources: &[("Assembling", 900), ("Shipping", 1100)],
            lateness: Some(lateness),
        }
    }

    #[test]
    fn a_run_renders_every_family_with_help_and_type() {
        let metrics = RunMetrics::new("stream-sim", SimulationType::Stream);
        let mut lateness = Lateness::new();
        for us in [50, 200, 3000, 70_000] {
            lateness.record(Duration::from_micros(us));
        }
        metrics.progress(&progress_of(&lateness));
        let text = metrics.render();
        for line in [
            "# HELP def_run_events_total Events generated.",
            "# TYPE def_run_events_total counter",
            "def_run_events_total 2000",
            "def_run_sink_events_total{sink=\"ui-sink\"} 1200",
            "def_run_datasource_events_total{datasource=\"Shipping\"} 1100",
            "def_run_info{simulation=\"stream-sim\",type=\"stream\"} 1",
            "def_run_open_cases 7",
            "def_run_target_events_per_second 1000.0",
            "def_run_achieved_events_per_second 990.0",
            "def_run_behind_events 3",
            "def_run_lag_seconds 0.004",
            "# TYPE def_run_emission_lateness_seconds histogram",
            "def_run_emission_lateness_seconds_bucket{le=\"0.0001\"} 1",
            "def_run_emission_lateness_seconds_bucket{le=\"0.005\"} 3",
            "def_run_emission_lateness_seconds_bucket{le=\"+Inf\"} 4",
            "def_run_emission_lateness_seconds_count 4",
            "def_run_finished 0",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        }
        assert!(!text.contains("def_run_frames"), "{text}");
    }

    #[test]
    fn counters_become_final_at_the_end() {
        let metrics = RunMetrics::new("c", SimulationType::CountBased);
        let report = RunReport {
            simulation: "c".into(),
            simulation_type: "countBased",
            seed: 1,
            seed_was_random: false,
            start_ms: 0,
            events: 42,
            elapsed: Duration::from_millis(10),
            sinks: vec![crate::sink::SinkReport {
                name: "k".into(),
                type_name: "kafka".into(),
                events: 42,
                delivery: crate::sink::Delivery {
                    delivered: 40,
                    failed: 2,
                    ..Default::default()
                },
            }],
            memory: Default::default(),
            interrupted: false,
            pacing: None,
            network: None,
            clock_exhausted: false,
        };
        metrics.finish(&report);
        let text = metrics.render();
        for line in [
            "def_run_events_total 42",
            "def_run_sink_delivered_events_total{sink=\"k\"} 40",
            "def_run_sink_failed_events_total{sink=\"k\"} 2",
            "def_run_finished 1",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        }
        assert!(!text.contains("def_run_target"), "{text}");
    }
}
