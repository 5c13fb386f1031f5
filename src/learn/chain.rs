//! Folding a log's events into the chain's counts: `<start>`'s choices, each datasource's
//! edges `(activity, next datasource or <end>)` with how often they were taken and how long
//! they took.
//!
//! Memory is bounded by the cases open in the reader, not by the log: a case is held as its
//! last event only (datasource, activity, time, the time since the event before), and each
//! edge keeps exact sums for fitting plus a bounded, seeded reservoir sample of its durations
//! for the goodness-of-fit test and empirical quantiles (`fit.rs`).
//!
//! Events of one case must come in time order, ties in file order (XES readers sort each
//! trace first; CSV and JSON lines are read as written, and a case going back in time is an
//! error naming both lines). Cases may interleave.

use super::fit::{fit_duration, Fit};
use super::{LearnError, LearnOptions, LogEvent, DEFAULT_GROUP_ATTRIBUTE};
use crate::config::datasource::DEFAULT_GROUP;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::HashMap;
use std::path::Path;

/// Durations each edge keeps as a sample for the goodness-of-fit test and the empirical
/// quantiles; the sums behind the fitted parameters are exact whatever the count.
pub const DURATION_SAMPLE: usize = 10_000;
/// The reservoir sampler's seed: the same log gives the same chain.
const SAMPLE_SEED: u64 = 0x1ea2;
const MS_PER_MINUTE: f64 = 60_000.0;

/// Where an edge leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Node(u32),
    End,
}

/// Exact sums of an edge's observed durations (minutes) and a reservoir sample of them.
#[derive(Clone, Debug, Default)]
pub struct DurationStats {
    pub n: u64,
    pub sum: f64,
    /// Welford's running mean and sum of squared deviations from it.
    running_mean: f64,
    m2: f64,
    pub min: f64,
    pub max: f64,
    /// Sums of ln(x) and its squares over positive durations, and how many were 0.
    pub sum_ln: f64,
    pub sum_ln2: f64,
    pub zeros: u64,
    pub sample: Vec<f64>,
}

impl DurationStats {
    fn add(&mut self, minutes: f64, rng: &mut Xoshiro256PlusPlus) {
        self.n += 1;
        if self.n == 1 {
            self.min = minutes;
            self.max = minutes;
        } else {
            self.min = self.min.min(minutes);
            self.max = self.max.max(minutes);
        }
        // Welford: stable where sum of squares minus square of sum is not.
        let delta = minutes - self.running_mean;
        self.running_mean += delta / self.n as f64;
        self.m2 += delta * (minutes - self.running_mean);
        self.sum += minutes;
        if minutes > 0.0 {
            let ln = minutes.ln();
            self.sum_ln += ln;
            self.sum_ln2 += ln * ln;
        } else {
            self.zeros += 1;
        }
        if self.sample.len() < DURATION_SAMPLE {
            self.sample.push(minutes);
        } else {
            let j = rng.random_range(0..self.n);
            if (j as usize) < DURATION_SAMPLE {
                self.sample[j as usize] = minutes;
            }
        }
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        }
    }

    /// The maximum-likelihood variance (divided by n).
    pub fn variance(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.m2 / self.n as f64
        }
    }
}

/// An edge's observations.
#[derive(Clone, Debug, Default)]
pub struct EdgeStats {
    pub count: u64,
    pub durations: DurationStats,
}

/// The last event of a case still being read.
#[derive(Clone, Copy, Debug)]
struct Last {
    node: u32,
    activity: u32,
    timestamp_ms: i64,
    /// The time since the case's event before, `None` for its first event.
    duration_ms: Option<i64>,
    first_ms: i64,
    events: u64,
    line: u64,
}

/// Folds cases into counts. Readers call [`ChainBuilder::trace`] per whole trace, or
/// [`ChainBuilder::event`] per event and [`ChainBuilder::end_file`] when the file's cases
/// are complete.
pub struct ChainBuilder {
    nodes: Vec<String>,
    node_ids: HashMap<String, u32>,
    groups: Vec<Option<String>>,
    node_events: Vec<u64>,
    activities: Vec<String>,
    activity_ids: HashMap<String, u32>,
    start: HashMap<u32, u64>,
    edges: HashMap<(u32, u32, Target), EdgeStats>,
    /// The last events of cases left open, by datasource and activity: a datasource seen only
    /// there still needs an edge.
    censored: HashMap<(u32, u32), EdgeStats>,
    /// Cases read from CSV and JSON lines, by case id, until their file ends.
    open: HashMap<String, Last>,
    rng: Xoshiro256PlusPlus,
    pub(crate) stats: super::LogStats,
    case_events: Vec<u64>,
    group_attribute_seen: bool,
}

impl Default for ChainBuilder {
    fn default() -> ChainBuilder {
        ChainBuilder::new()
    }
}

impl ChainBuilder {
    pub fn new() -> ChainBuilder {
        ChainBuilder {
            nodes: Vec::new(),
            node_ids: HashMap::new(),
            groups: Vec::new(),
            node_events: Vec::new(),
            activities: Vec::new(),
            activity_ids: HashMap::new(),
            start: HashMap::new(),
            edges: HashMap::new(),
            censored: HashMap::new(),
            open: HashMap::new(),
            rng: Xoshiro256PlusPlus::seed_from_u64(SAMPLE_SEED),
            stats: super::LogStats::default(),
            case_events: Vec::new(),
            group_attribute_seen: false,
        }
    }

    fn node_id(&mut self, event: &LogEvent<'_>) -> u32 {
        let name = match event.node {
            Some(node) if !node.is_empty() => node,
            _ => {
                self.stats.events_without_node += 1;
                event.activity
            }
        };
        let id = match self.node_ids.get(name) {
            Some(&id) => id,
            None => {
                let id = self.nodes.len() as u32;
                self.nodes.push(name.to_string());
                self.node_ids.insert(name.to_string(), id);
                self.groups.push(None);
                self.node_events.push(0);
                id
            }
        };
        if let Some(group) = event.group {
            self.group_attribute_seen = true;
            if self.groups[id as usize].is_none() {
                self.groups[id as usize] = Some(group.to_string());
            }
        }
        self.node_events[id as usize] += 1;
        id
    }

    fn activity_id(&mut self, activity: &str) -> u32 {
        if let Some(&id) = self.activity_ids.get(activity) {
            return id;
        }
        let id = self.activities.len() as u32;
        self.activities.push(activity.to_string());
        self.activity_ids.insert(activity.to_string(), id);
        id
    }

    /// The next event of the case `case`, whose events so far are `last` (`None`: its first).
    fn step(&mut self, last: Option<Last>, event: &LogEvent<'_>) -> Last {
        let node = self.node_id(event);
        let activity = self.activity_id(event.activity);
        self.stats.events += 1;
        self.stats.first_ms = self.stats.first_ms.min(event.timestamp_ms);
        self.stats.last_ms = self.stats.last_ms.max(event.timestamp_ms);
        match last {
            None => {
                *self.start.entry(node).or_default() += 1;
                self.stats.cases += 1;
                Last {
                    node,
                    activity,
                    timestamp_ms: event.timestamp_ms,
                    duration_ms: None,
                    first_ms: event.timestamp_ms,
                    events: 1,
                    line: event.line,
                }
            }
            Some(last) => {
                self.record(last, Target::Node(node));
                Last {
                    node,
                    activity,
                    timestamp_ms: event.timestamp_ms,
                    duration_ms: Some(event.timestamp_ms - last.timestamp_ms),
                    first_ms: last.first_ms,
                    events: last.events + 1,
                    line: event.line,
                }
            }
        }
    }

    /// The edge `last` took: its event's activity, towards `target`.
    fn record(&mut self, last: Last, target: Target) {
        let edge = self
            .edges
            .entry((last.node, last.activity, target))
            .or_default();
        edge.count += 1;
        if let Some(ms) = last.duration_ms {
            edge.durations.add(ms as f64 / MS_PER_MINUTE, &mut self.rng);
        }
    }

    /// Ends a case after its last event: `open` when the log says it never ended.
    fn close(&mut self, last: Last, open: bool) {
        let span_ms = (last.timestamp_ms - last.first_ms) as f64;
        self.stats.case_span_sum_ms += span_ms;
        if open {
            self.stats.open_cases += 1;
            let edge = self.censored.entry((last.node, last.activity)).or_default();
            edge.count += 1;
            if let Some(ms) = last.duration_ms {
                edge.durations.add(ms as f64 / MS_PER_MINUTE, &mut self.rng);
            }
            return;
        }
        if last.events == 1 {
            self.stats.single_event_cases += 1;
        }
        self.stats.complete_cases += 1;
        self.stats.complete_events += last.events;
        self.stats.complete_span_sum_ms += span_ms;
        let k = last.events as usize;
        if self.case_events.len() <= k {
            self.case_events.resize(k + 1, 0);
        }
        self.case_events[k] += 1;
        self.record(last, Target::End);
    }

    /// One trace read whole (XES): its events in time order (a stable sort: ties keep the
    /// file's order).
    pub fn trace(&mut self, events: &mut [LogEvent<'_>], open: bool) {
        events.sort_by_key(|e| e.timestamp_ms);
        let mut last = None;
        for event in events.iter() {
            last = Some(self.step(last, event));
        }
        if let Some(last) = last {
            self.close(last, open);
        }
    }

    /// One event of an interleaved log (CSV, JSON lines): its case is held until the file ends.
    ///
    /// # Errors
    /// The event is earlier than its case's event before it.
    pub fn event(
        &mut self,
        file: &Path,
        case: &str,
        event: &LogEvent<'_>,
    ) -> Result<(), LearnError> {
        let last = self.open.get(case).copied();
        if let Some(last) = last {
            if event.timestamp_ms < last.timestamp_ms {
                return Err(LearnError::input(
                    file,
                    event.line,
                    format!(
                        "case `{case}` goes back in time: this event is earlier than its event on line {}",
                        last.line
                    ),
                    "sort the log by case and time (def reads each case's events in file order)",
                ));
            }
        }
        let next = self.step(last, event);
        match self.open.get_mut(case) {
            Some(slot) => *slot = next,
            None => {
                self.open.insert(case.to_string(), next);
            }
        }
        Ok(())
    }

    /// The end of a file: every case still held is complete (a case does not continue into
    /// the next file).
    pub fn end_file(&mut self) {
        let mut held: Vec<Last> = self.open.drain().map(|(_, last)| last).collect();
        // By first line: the same log always gives the same reservoir samples.
        held.sort_by_key(|last| last.line);
        for last in held {
            self.close(last, false);
        }
    }

    /// The chain: probabilities, fitted durations, pruning by `options.min_probability`.
    ///
    /// # Errors
    /// The log had no events.
    pub fn finish(self, source: &str, options: &LearnOptions) -> Result<LearnedChain, LearnError> {
        if self.stats.events == 0 {
            return Err(LearnError::Empty {
                files: source.to_string(),
                fix: "give a log with at least one event (a trace with events, a CSV row, a JSON line)"
                    .to_string(),
            });
        }
        let group_name =
            if self.group_attribute_seen || options.columns.group == DEFAULT_GROUP_ATTRIBUTE {
                DEFAULT_GROUP.to_string()
            } else {
                options.columns.group.clone()
            };
        let mut nodes: Vec<Node> = (0..self.nodes.len())
            .map(|i| Node {
                name: self.nodes[i].clone(),
                group: self.groups[i].clone().unwrap_or_else(|| group_name.clone()),
                events: self.node_events[i],
                edges: Vec::new(),
                pruned: Vec::new(),
                censored_only: false,
            })
            .collect();
        let mut edges: Vec<((u32, u32, Target), EdgeStats)> = self.edges.into_iter().collect();
        edges.sort_by_key(|e| e.0);
        for ((node, activity, target), stats) in edges {
            nodes[node as usize]
                .edges
                .push(self_edge(&self.activities, activity, target, stats));
        }
        // A datasource seen only as the last event of open cases: its observed activities lead
        // to `<end>`, so the chain stays complete.
        let mut censored: Vec<((u32, u32), EdgeStats)> = self.censored.into_iter().collect();
        censored.sort_by_key(|e| e.0);
        for ((node, activity), stats) in censored {
            let node = &mut nodes[node as usize];
            if node.edges.iter().all(|e| e.censored) {
                node.censored_only = true;
                node.edges
                    .push(self_edge(&self.activities, activity, Target::End, stats));
                if let Some(edge) = node.edges.last_mut() {
                    edge.censored = true;
                }
            }
        }
        for node in &mut nodes {
            node.set_probabilities(options.min_probability);
        }
        let mut start: Vec<(u32, u64)> = self.start.into_iter().collect();
        start.sort();
        let start_total: u64 = start.iter().map(|s| s.1).sum();
        let start = start
            .into_iter()
            .map(|(node, count)| (node, count, count as f64 / start_total as f64))
            .collect();
        let mut stats = self.stats;
        stats.case_events = self.case_events;
        Ok(LearnedChain {
            source: source.to_string(),
            nodes,
            start,
            stats,
        })
    }
}

fn self_edge(activities: &[String], activity: u32, target: Target, stats: EdgeStats) -> Edge {
    let fit = fit_duration(&stats.durations);
    Edge {
        activity: activities[activity as usize].clone(),
        target,
        count: stats.count,
        probability: 0.0,
        observed_probability: 0.0,
        durations: stats.durations,
        fit,
        censored: false,
    }
}

/// One learned edge.
#[derive(Clone, Debug)]
pub struct Edge {
    pub activity: String,
    pub target: Target,
    /// How often the log took it.
    pub count: u64,
    /// Its probability in the chain (after pruning).
    pub probability: f64,
    /// Its share of the datasource's observed choices.
    pub observed_probability: f64,
    pub durations: DurationStats,
    pub fit: Fit,
    /// Made from the last events of open cases (see [`Node::censored_only`]).
    pub censored: bool,
}

/// One learned datasource.
#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    pub group: String,
    /// Events of the log at this datasource.
    pub events: u64,
    pub edges: Vec<Edge>,
    /// Edges below `--min-probability`, dropped from `edges`.
    pub pruned: Vec<Edge>,
    /// Seen only as the last event of cases left open: its edges lead to `<end>`.
    pub censored_only: bool,
}

impl Node {
    fn set_probabilities(&mut self, min_probability: f64) {
        let total: u64 = self.edges.iter().map(|e| e.count).sum();
        for edge in &mut self.edges {
            edge.observed_probability = edge.count as f64 / total.max(1) as f64;
        }
        // Keep at least the most frequent edge, whatever the threshold.
        let best = self
            .edges
            .iter()
            .enumerate()
            .max_by_key(|(i, e)| (e.count, std::cmp::Reverse(*i)))
            .map(|(i, _)| i);
        let mut kept = Vec::with_capacity(self.edges.len());
        for (i, edge) in std::mem::take(&mut self.edges).into_iter().enumerate() {
            if edge.observed_probability < min_probability && Some(i) != best {
                self.pruned.push(edge);
            } else {
                kept.push(edge);
            }
        }
        let kept_total: u64 = kept.iter().map(|e| e.count).sum();
        for edge in &mut kept {
            edge.probability = edge.count as f64 / kept_total.max(1) as f64;
        }
        self.edges = kept;
    }
}

/// The learned chain and the log's own statistics.
#[derive(Clone, Debug)]
pub struct LearnedChain {
    /// The logs it was learned from, as given.
    pub source: String,
    pub nodes: Vec<Node>,
    /// `<start>`'s choices: datasource, count, probability.
    pub start: Vec<(u32, u64, f64)>,
    pub stats: super::LogStats,
}

#[cfg(test)]
impl DurationStats {
    pub(crate) fn add_for_tests(&mut self, minutes: f64, rng: &mut Xoshiro256PlusPlus) {
        self.add(minutes, rng);
    }
}
