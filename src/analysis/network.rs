//! What the networks of a config (`kind: network`, docs/realism.md) do to the delivered
//! stream, predicted before a run.
//!
//! **Delivered events per case** are computed: an event at datasource `n` reaches the sinks
//! `f_n = (1 - drop_n)(1 + duplicate_n)` times on average, so a case delivers
//! `sum_n v_n f_n` (with `v` the expected visits of [`super::analyze`]), less what
//! truncation takes: a case truncated (probability `t_s` by its first datasource `s`) loses
//! its first event (half the time, `f_s` deliveries) or its last (`f_m` at the datasource `m`
//! it ends at). With `s` entered with probability `P(s)` and `m` ended at with probability
//! `P(m)`, the loss is `sum_s P(s) t_s (f_s + sum_m P(m) f_m) / 2`: exact when where a case
//! starts says nothing of where it ends (one entry datasource, as the assembly line has),
//! otherwise an approximation. Renames, swaps, skew, delay and outages change no count.
//!
//! **Out-of-order arrivals** depend on how delays, outages and swaps meet the interleaving of
//! cases: no closed formula covers them, so they are estimated by running the chain and its
//! networks ([`crate::engine`], [`crate::network`]) for [`MONTE_CARLO_EVENTS`] events with a
//! fixed seed ([`MONTE_CARLO_SEED`]) at the simulation's `maxConcurrentCases`, counting the
//! delivered events that arrive after an event generated later (in the whole stream, and
//! within their own case). The standard error given is the binomial one, which treats
//! arrivals as independent (they are not quite: read it as an order of magnitude).

use super::RegimeAnalysis;
use crate::config::network::NetworkSpec;
use crate::config::{ConfigSet, DatasourceSpec, Diagnostic, Document};
use crate::engine::{Engine, Event};
use crate::format::CaseMap;
use crate::model::Chain;
use crate::network::{Plan, Receiver, Stage};
use serde::Serialize;
use std::convert::Infallible;

/// Events generated for the Monte-Carlo estimate.
pub const MONTE_CARLO_EVENTS: u64 = 200_000;
/// The estimate's seed: the same config gives the same estimate.
pub const MONTE_CARLO_SEED: u64 = 1;
/// Cases open at once in the estimate when the config has not exactly one simulation.
const DEFAULT_CONCURRENCY: u64 = 1;
/// Where the estimate's clock starts (2025-01-01T00:00:00Z, as a seeded run's): only a
/// clock drift could tell.
const MONTE_CARLO_START_MS: i64 = 1_735_689_600_000;

/// The Monte-Carlo estimate of a config's networks.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkEstimate {
    /// How the numbers were obtained: `monteCarlo`.
    pub method: &'static str,
    /// Events generated.
    pub events: u64,
    pub seed: u64,
    pub max_concurrent_cases: u64,
    /// Deliveries per generated event.
    pub delivered_per_event: f64,
    /// Delivered events that arrive after an event generated later.
    pub out_of_order: f64,
    /// Delivered events that arrive after a later event of their own case.
    pub out_of_order_in_case: f64,
    /// The binomial standard error of `out_of_order`.
    pub standard_error: f64,
}

/// The network carrying datasource `doc`, if any (by node name, document name or group).
fn network_of<'a>(set: &'a ConfigSet, doc: &Document<DatasourceSpec>) -> Option<&'a NetworkSpec> {
    set.networks.iter().map(|n| &n.spec).find(|spec| {
        spec.datasources
            .iter()
            .any(|r| r.value == doc.spec.name.value || r.value == doc.name.value)
            || spec.groups.iter().any(|g| g.value == doc.spec.group)
    })
}

/// Expected deliveries of one event at a datasource carried by `net`.
fn deliveries(net: Option<&NetworkSpec>) -> f64 {
    net.map_or(1.0, |n| (1.0 - n.drop) * (1.0 + n.duplicate))
}

/// Expected delivered events per case of one regime (see the module docs); `first` is the
/// probability each datasource (by index) is a case's first.
pub(super) fn expected_delivered(
    set: &ConfigSet,
    nodes: &[&Document<DatasourceSpec>],
    regime: &RegimeAnalysis,
    first: &[f64],
) -> f64 {
    let f: Vec<f64> = nodes
        .iter()
        .map(|d| deliveries(network_of(set, d)))
        .collect();
    let index = |name: &str| nodes.iter().position(|d| d.spec.name.value == name);
    let sent: f64 = regime
        .datasources
        .iter()
        .zip(&f)
        .map(|(d, f)| d.expected_visits.unwrap_or(0.0) * f)
        .sum();
    let tail: f64 = regime
        .endings
        .iter()
        .filter_map(|e| index(&e.datasource).map(|m| e.probability * f[m]))
        .sum();
    let truncated: f64 = nodes
        .iter()
        .enumerate()
        .map(|(s, d)| {
            let t = network_of(set, d).map_or(0.0, |n| n.truncate);
            first[s] * t * (f[s] + tail) / 2.0
        })
        .sum();
    sent - truncated
}

/// Counts arrivals that come after a later-generated event.
#[derive(Default)]
struct Counter {
    delivered: u64,
    late: u64,
    late_in_case: u64,
    newest: u64,
    newest_of_case: CaseMap<u64>,
}

impl Receiver for Counter {
    type Error = Infallible;

    fn deliver(&mut self, event: &Event<'_>) -> Result<(), Infallible> {
        let id = event.event_id.map_or(0, |id| id.get());
        self.delivered += 1;
        if id < self.newest {
            self.late += 1;
        }
        self.newest = self.newest.max(id);
        let newest = self.newest_of_case.entry(event.case).or_insert(0);
        if id < *newest {
            self.late_in_case += 1;
        }
        *newest = (*newest).max(id);
        if event.closes_case {
            self.newest_of_case.remove(&event.case);
        }
        Ok(())
    }

    fn case_closed(&mut self, case: u64) -> Result<(), Infallible> {
        self.newest_of_case.remove(&case);
        Ok(())
    }
}

/// The Monte-Carlo estimate (see the module docs); `None` for a config without networks.
///
/// # Errors
/// The chain does not compile (a config that did not pass validation).
pub fn estimate(set: &ConfigSet) -> Result<Option<NetworkEstimate>, Diagnostic> {
    if set.networks.is_empty() {
        return Ok(None);
    }
    let chain = Chain::compile(set)?;
    let Some(plan) = Plan::compile(set, &chain, false) else {
        return Ok(None);
    };
    let concurrency = match set.simulations.as_slice() {
        [only] => u64::from(only.spec.max_concurrent_cases),
        _ => DEFAULT_CONCURRENCY,
    };
    let start_ms = MONTE_CARLO_START_MS;
    let mut engine = Engine::new(&chain, MONTE_CARLO_SEED, start_ms, concurrency as usize);
    let mut stage = Stage::new(
        &plan,
        &chain,
        MONTE_CARLO_SEED,
        start_ms,
        None,
        crate::shard::Shard::WHOLE,
    );
    let mut counter = Counter::default();
    for _ in 0..MONTE_CARLO_EVENTS {
        let Ok(()) = stage.carry(engine.next_event(), &mut counter);
    }
    let Ok(()) = stage.finish(&mut counter);
    let n = counter.delivered.max(1) as f64;
    let out_of_order = counter.late as f64 / n;
    Ok(Some(NetworkEstimate {
        method: "monteCarlo",
        events: MONTE_CARLO_EVENTS,
        seed: MONTE_CARLO_SEED,
        max_concurrent_cases: concurrency,
        delivered_per_event: counter.delivered as f64 / MONTE_CARLO_EVENTS as f64,
        out_of_order,
        out_of_order_in_case: counter.late_in_case as f64 / n,
        standard_error: (out_of_order * (1.0 - out_of_order) / n).sqrt(),
    }))
}
