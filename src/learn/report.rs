//! What `def learn` found, as data: the log's statistics, each datasource's edges with their
//! fitted durations and fit statistics, what was pruned, and `def analyze`'s expectations for
//! the learned chain next to the log's own numbers. The cli draws it or writes it as JSON.

use super::chain::{Edge, LearnedChain, Target};
use super::fit::{family, Candidate};
use super::yaml::{files, OutputFile};
use crate::analysis;
use crate::analysis::graph::duration_label;
use crate::config::ConfigSet;
use serde::Serialize;

/// Counts over the log, kept while reading.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStats {
    pub events: u64,
    pub cases: u64,
    pub complete_cases: u64,
    /// Cases the log marks as never ended (XES `def:open`): counted, not ended.
    pub open_cases: u64,
    /// Events of the complete cases.
    pub complete_events: u64,
    pub single_event_cases: u64,
    /// Events without the node attribute, whose datasource is their activity.
    pub events_without_node: u64,
    #[serde(skip)]
    pub first_ms: i64,
    #[serde(skip)]
    pub last_ms: i64,
    #[serde(skip)]
    pub case_span_sum_ms: f64,
    #[serde(skip)]
    pub complete_span_sum_ms: f64,
    /// How many complete cases had k events, by k.
    #[serde(skip)]
    pub case_events: Vec<u64>,
}

impl Default for LogStats {
    fn default() -> LogStats {
        LogStats {
            events: 0,
            cases: 0,
            complete_cases: 0,
            open_cases: 0,
            complete_events: 0,
            single_event_cases: 0,
            events_without_node: 0,
            first_ms: i64::MAX,
            last_ms: i64::MIN,
            case_span_sum_ms: 0.0,
            complete_span_sum_ms: 0.0,
            case_events: Vec::new(),
        }
    }
}

/// One edge as reported.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EdgeReport {
    pub activity: String,
    pub transition: String,
    pub count: u64,
    /// In the chain, after pruning.
    pub probability: f64,
    /// In the log.
    pub observed_probability: f64,
    /// Durations observed (a case's first event has none).
    pub durations: u64,
    pub log_mean_minutes: f64,
    pub duration: String,
    pub duration_type: &'static str,
    pub fitted_mean_minutes: f64,
    /// `constant`, `unobserved`, `aic` or `empirical` (see `fit.rs`).
    pub chosen_by: &'static str,
    pub ks: Option<f64>,
    pub ks_critical: Option<f64>,
    pub candidates: Vec<Candidate>,
}

/// One datasource as reported.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeReport {
    pub name: String,
    pub group: String,
    pub events: u64,
    pub censored_only: bool,
    pub edges: Vec<EdgeReport>,
    pub pruned: Vec<EdgeReport>,
}

/// `<start>`'s choice of a first datasource.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartReport {
    pub datasource: String,
    pub count: u64,
    pub probability: f64,
}

/// Everything `def learn` reports.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub source: String,
    #[serde(flatten)]
    pub log: LogStats,
    pub first_timestamp: String,
    pub last_timestamp: String,
    pub span_minutes: f64,
    /// Sum over cases of (last − first event) divided by the log's span (Little's law).
    pub mean_open_cases: f64,
    pub max_concurrent_cases: u64,
    /// Events per second of log time.
    pub events_per_second: f64,
    /// The simulation's constant `load` (events per second).
    pub load: f64,
    /// The log's complete cases: mean events and its standard error.
    pub log_events_per_case: f64,
    pub log_events_per_case_se: f64,
    /// The log's complete cases: mean minutes from first to last event.
    pub log_case_minutes: f64,
    /// `def analyze` on the learned chain (`None` when it cannot analyse it).
    pub expected_events_per_case: Option<f64>,
    /// `def analyze`'s mean case duration, which counts the first event's duration too.
    pub expected_case_minutes: Option<f64>,
    /// The same without the first event's expected duration: comparable with the log's.
    pub expected_case_minutes_first_to_last: Option<f64>,
    pub start: Vec<StartReport>,
    pub datasources: Vec<NodeReport>,
    /// Problems `def validate` finds in the output (none is the goal).
    pub validation: Vec<String>,
}

/// The learned chain: its files and its report.
#[derive(Clone, Debug)]
pub struct Learned {
    pub files: Vec<OutputFile>,
    pub report: Report,
}

fn edge_report(chain: &LearnedChain, edge: &Edge) -> EdgeReport {
    EdgeReport {
        activity: edge.activity.clone(),
        transition: match edge.target {
            Target::Node(i) => chain.nodes[i as usize].name.clone(),
            Target::End => "<end>".to_string(),
        },
        count: edge.count,
        probability: edge.probability,
        observed_probability: edge.observed_probability,
        durations: edge.durations.n,
        log_mean_minutes: edge.durations.mean(),
        duration: duration_label(&edge.fit.spec),
        duration_type: family(&edge.fit.spec),
        fitted_mean_minutes: edge.fit.spec.mean(),
        chosen_by: edge.fit.chosen_by,
        ks: edge.fit.ks,
        ks_critical: edge.fit.ks_critical,
        candidates: edge.fit.candidates.clone(),
    }
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

impl LearnedChain {
    /// Writes the chain as YAML, checks it as `def validate` would and analyses it as
    /// `def analyze` does, all in memory.
    pub fn into_output(self) -> Learned {
        let s = &self.stats;
        let span_ms = (s.last_ms - s.first_ms).max(0) as f64;
        let mean_open_cases = if span_ms > 0.0 {
            s.case_span_sum_ms / span_ms
        } else {
            s.cases as f64
        };
        let events_per_second = if span_ms > 0.0 {
            s.events as f64 / (span_ms / 1000.0)
        } else {
            s.events as f64
        };
        let complete = s.complete_cases.max(1) as f64;
        let mean_events = s.complete_events as f64 / complete;
        let var: f64 = s
            .case_events
            .iter()
            .enumerate()
            .map(|(k, &c)| c as f64 * (k as f64 - mean_events).powi(2))
            .sum::<f64>()
            / complete;
        let mut report = Report {
            source: self.source.clone(),
            log: s.clone(),
            first_timestamp: rfc3339(s.first_ms),
            last_timestamp: rfc3339(s.last_ms),
            span_minutes: span_ms / 60_000.0,
            mean_open_cases,
            max_concurrent_cases: (mean_open_cases.round() as u64).max(1),
            events_per_second,
            load: events_per_second.min(crate::config::load::MAX_RATE),
            log_events_per_case: mean_events,
            log_events_per_case_se: (var / complete).sqrt(),
            log_case_minutes: s.complete_span_sum_ms / complete / 60_000.0,
            expected_events_per_case: None,
            expected_case_minutes: None,
            expected_case_minutes_first_to_last: None,
            start: self
                .start
                .iter()
                .map(|&(node, count, probability)| StartReport {
                    datasource: self.nodes[node as usize].name.clone(),
                    count,
                    probability,
                })
                .collect(),
            datasources: self
                .nodes
                .iter()
                .map(|n| NodeReport {
                    name: n.name.clone(),
                    group: n.group.clone(),
                    events: n.events,
                    censored_only: n.censored_only,
                    edges: n.edges.iter().map(|e| edge_report(&self, e)).collect(),
                    pruned: n.pruned.iter().map(|e| edge_report(&self, e)).collect(),
                })
                .collect(),
            validation: Vec::new(),
        };
        let files = files(&self, &report);
        let mut set = ConfigSet::new();
        for file in &files {
            set.add_str(file.name, &file.text);
        }
        let mut diags = set.validate();
        diags.extend(analysis::warnings(&set));
        report.validation = diags.items.iter().map(|d| d.render()).collect();
        if !diags.has_errors() {
            if let Ok(analysis) = analysis::analyze(&set) {
                if let Some(steady) = analysis.regimes.first() {
                    report.expected_events_per_case = Some(steady.expected_events);
                    report.expected_case_minutes = Some(steady.mean_case_minutes);
                    let first: f64 = self
                        .start
                        .iter()
                        .map(|&(node, _, p)| {
                            p * self.nodes[node as usize]
                                .edges
                                .iter()
                                .map(|e| e.probability * e.fit.spec.mean())
                                .sum::<f64>()
                        })
                        .sum();
                    report.expected_case_minutes_first_to_last =
                        Some(steady.mean_case_minutes - first);
                }
            }
        }
        Learned { files, report }
    }
}
