//! Analysis: what a chain will produce, computed before running it.
//!
//! A config is an absorbing Markov chain: the datasources are transient states and `<end>` is
//! the absorbing one. With `Q` the transition probabilities among datasources, the
//! fundamental matrix `N = (I - Q)^-1` holds in `N[i][j]` the expected number of visits to `j`
//! of a case that is at `i`. A case enters through `<start>`'s distribution `s`, so its
//! expected visits are the row vector `v = s N`, which we get by solving `(I - Q)^T v = s`
//! rather than inverting. Every visit emits exactly one event, so the expected events per case
//! are `sum(v)`, and from `v` follow the share of events per datasource and group, the mean
//! case duration (`sum_i v_i * sum_j p_ij * mean(duration_ij)`) and the probability of
//! finishing through each edge to `<end>` (`v_i * p_ij`).
//!
//! Selections become probabilities ([`Selector::probabilities`]): `genericProbability` is its
//! distribution; `uniform` and `ordered` are `1/n` per entry (`ordered` cycles
//! deterministically, but over many visits each entry is taken `1/n` of the time);
//! `driftingProbability` is analysed twice, once with every drifting datasource at its start
//! distribution and once at its end distribution (the two regimes bracket what a run goes
//! through). Several entries leading to the same datasource add up.
//!
//! Datasources that cannot reach `<end>` would make `I - Q` singular. They are left out of `Q`:
//! a case that enters one never finishes, which we report as a probability and as a warning
//! ([`warnings`]) instead of failing. [`graph`] and [`svg`] draw the chain; [`network`]
//! predicts what a config's networks do to the delivered stream.

pub mod graph;
pub mod network;
pub mod svg;

use crate::config::{ConfigSet, DatasourceSpec, Diagnostic, Diagnostics, Document, SelectionSpec};
use crate::config::{END, START};
use crate::model::Selector;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Whether a selection's distribution drifts, so that the chain has two regimes.
fn drifts(selection: &SelectionSpec) -> bool {
    match selection {
        SelectionSpec::DriftingProbability { .. } => true,
        SelectionSpec::GenericProbability { .. }
        | SelectionSpec::Uniform
        | SelectionSpec::Ordered => false,
    }
}

/// Which distribution drifting selections are analysed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Regime {
    /// No selection drifts: there is one chain.
    Steady,
    /// Every drifting selection at its `startDistribution`.
    Start,
    /// Every drifting selection at its `endDistribution`, where runs settle.
    End,
}

impl Regime {
    /// The name in messages and reports, as it is spelled in `analyze --json`.
    pub fn name(self) -> &'static str {
        match self {
            Regime::Steady => "steady",
            Regime::Start => "start",
            Regime::End => "end",
        }
    }

    /// A selection number at which drifting selections have this regime's distribution, for
    /// [`Selector::probabilities`].
    fn selection(self) -> u64 {
        match self {
            Regime::Steady | Regime::Start => 0,
            Regime::End => u64::MAX,
        }
    }
}

/// Where an `eventData` entry leads, resolved against the loaded datasources.
///
/// Unlike [`crate::model::Target`] it has room for targets that do not resolve, because
/// analysis and drawing also run on configs that failed validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeTarget {
    /// The index of a real datasource in [`ChainView::nodes`].
    Node(usize),
    End,
    /// `<start>` or a name no datasource has (validation reports those).
    Invalid,
}

/// The chain as analysis sees it: the datasources of a config set indexed by node name,
/// tolerant of a config with errors.
///
/// The node order is the config order without `<start>`: the same as [`crate::model::Chain`].
pub struct ChainView<'a> {
    pub start: Option<&'a Document<DatasourceSpec>>,
    pub nodes: Vec<&'a Document<DatasourceSpec>>,
    index: HashMap<&'a str, usize>,
}

impl<'a> ChainView<'a> {
    /// Indexes the datasources of `set`; of duplicate names the first counts.
    pub fn new(set: &'a ConfigSet) -> ChainView<'a> {
        let mut start = None;
        let mut nodes = Vec::new();
        let mut index = HashMap::new();
        for doc in &set.datasources {
            let name = doc.spec.name.value.as_str();
            if name == START {
                start.get_or_insert(doc);
            } else if name != END && !index.contains_key(name) {
                index.insert(name, nodes.len());
                nodes.push(doc);
            }
        }
        ChainView {
            start,
            nodes,
            index,
        }
    }

    /// Resolves a `transition` name.
    pub fn target(&self, name: &str) -> EdgeTarget {
        match name {
            END => EdgeTarget::End,
            _ => self
                .index
                .get(name)
                .map_or(EdgeTarget::Invalid, |&i| EdgeTarget::Node(i)),
        }
    }

    /// The regimes to analyse: [`Regime::Steady`], or start and end if any selection drifts.
    pub fn regimes(&self) -> Vec<Regime> {
        if self
            .start
            .iter()
            .chain(&self.nodes)
            .any(|d| drifts(&d.spec.selection.value))
        {
            vec![Regime::Start, Regime::End]
        } else {
            vec![Regime::Steady]
        }
    }

    /// Each entry's target and probability in a regime.
    pub fn edges(&self, spec: &DatasourceSpec, regime: Regime) -> Vec<(EdgeTarget, f64)> {
        let p = Selector::probabilities(
            &spec.selection.value,
            spec.event_data.len(),
            regime.selection(),
        );
        spec.event_data
            .iter()
            .zip(p)
            .map(|(e, p)| (self.target(&e.transition.value), p))
            .collect()
    }

    /// For each datasource, whether it can reach `<end>` along edges of positive probability.
    pub fn reaches_end(&self, regime: Regime) -> Vec<bool> {
        let n = self.nodes.len();
        // Reverse adjacency, then a search backwards from `<end>`.
        let mut into: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut done = vec![false; n];
        let mut stack = Vec::new();
        for (i, doc) in self.nodes.iter().enumerate() {
            // Only edges of positive probability count (a NaN one does not).
            let possible = self
                .edges(&doc.spec, regime)
                .into_iter()
                .filter(|&(_, p)| p > 0.0);
            for (to, _) in possible {
                match to {
                    EdgeTarget::End => {
                        if !done[i] {
                            done[i] = true;
                            stack.push(i);
                        }
                    }
                    EdgeTarget::Node(j) => into[j].push(i),
                    EdgeTarget::Invalid => {}
                }
            }
        }
        while let Some(j) = stack.pop() {
            for &i in &into[j] {
                if !done[i] {
                    done[i] = true;
                    stack.push(i);
                }
            }
        }
        done
    }

    /// For each datasource, whether a case can get there from `<start>` in any regime.
    pub fn reachable(&self) -> Vec<bool> {
        let regimes = self.regimes();
        let mut seen = vec![false; self.nodes.len()];
        let mut stack = Vec::new();
        let visit = |spec: &DatasourceSpec, stack: &mut Vec<usize>, seen: &mut Vec<bool>| {
            for &regime in &regimes {
                for (to, p) in self.edges(spec, regime) {
                    if let EdgeTarget::Node(j) = to {
                        if p > 0.0 && !seen[j] {
                            seen[j] = true;
                            stack.push(j);
                        }
                    }
                }
            }
        };
        if let Some(start) = self.start {
            visit(&start.spec, &mut stack, &mut seen);
        }
        while let Some(i) = stack.pop() {
            visit(&self.nodes[i].spec, &mut stack, &mut seen);
        }
        seen
    }
}

/// What cases of one regime look like on average.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegimeAnalysis {
    pub regime: Regime,
    /// Expected events per case (= expected visits to all datasources).
    pub expected_events: f64,
    /// Mean simulated time from a case's opening to its last event, in minutes.
    pub mean_case_minutes: f64,
    /// The probability that a case enters a datasource that cannot reach `<end>`. The other
    /// numbers count such a case up to that moment.
    pub never_finishes: f64,
    pub datasources: Vec<NodeLoad>,
    pub groups: Vec<GroupLoad>,
    /// Every edge to `<end>`, in config order.
    pub endings: Vec<Ending>,
    /// Expected events per case that reach the sinks, behind the config's networks
    /// ([`network`]; only for configs with `kind: network`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_delivered_events: Option<f64>,
}

/// Expected visits to one datasource per case.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeLoad {
    pub datasource: String,
    pub group: String,
    /// `None` if the datasource cannot reach `<end>` (a case there stays forever).
    pub expected_visits: Option<f64>,
    /// Its share of all events.
    pub share: f64,
}

/// Expected events of one group per case.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupLoad {
    pub group: String,
    pub expected_visits: f64,
    pub share: f64,
}

/// How likely a case finishes through one edge to `<end>`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ending {
    pub datasource: String,
    pub activity: String,
    /// The index of the entry in the datasource's `eventData`.
    pub entry: usize,
    pub probability: f64,
}

/// The analysis of a whole chain: one [`RegimeAnalysis`] per regime.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    /// Datasources whose selection drifts (both regimes are analysed if any).
    pub drifting: Vec<String>,
    pub regimes: Vec<RegimeAnalysis>,
    /// Out-of-order arrivals behind the config's networks, estimated ([`network`]; only for
    /// configs with `kind: network`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<network::NetworkEstimate>,
}

/// Analyses a config set that passed validation (it needs a `<start>`).
///
/// # Errors
///
/// A [`Diagnostic`] if there is no `<start>` datasource, or if the chain of a regime is
/// numerically singular (a loop that is left with probability indistinguishable from 0).
pub fn analyze(set: &ConfigSet) -> Result<Analysis, Diagnostic> {
    let view = ChainView::new(set);
    let start = view.start.ok_or_else(|| {
        Diagnostic::error("there is no `<start>` datasource").help(
            "add a datasource named `<start>` whose eventData `transition` names the first datasource",
        )
    })?;
    let drifting = view
        .start
        .iter()
        .chain(&view.nodes)
        .filter(|d| drifts(&d.spec.selection.value))
        .map(|d| d.spec.name.value.clone())
        .collect();
    let regimes = view
        .regimes()
        .into_iter()
        .map(|regime| {
            let mut analysis = analyze_regime(&view, start, regime)?;
            if !set.networks.is_empty() {
                let mut first = vec![0.0; view.nodes.len()];
                for (to, p) in view.edges(&start.spec, regime) {
                    if let EdgeTarget::Node(j) = to {
                        first[j] += p;
                    }
                }
                analysis.expected_delivered_events = Some(network::expected_delivered(
                    set,
                    &view.nodes,
                    &analysis,
                    &first,
                ));
            }
            Ok(analysis)
        })
        .collect::<Result<Vec<_>, Diagnostic>>()?;
    Ok(Analysis {
        drifting,
        regimes,
        network: network::estimate(set)?,
    })
}

fn analyze_regime(
    view: &ChainView,
    start: &Document<DatasourceSpec>,
    regime: Regime,
) -> Result<RegimeAnalysis, Diagnostic> {
    let n = view.nodes.len();
    let finishes = view.reaches_end(regime);
    // The transient states that can finish, renumbered 0..m.
    let mut slot = vec![usize::MAX; n];
    let mut members = Vec::new();
    for i in 0..n {
        if finishes[i] {
            slot[i] = members.len();
            members.push(i);
        }
    }
    let m = members.len();
    // a = (I - Q)^T over the members, b = the entry distribution s.
    let mut a = vec![vec![0.0; m]; m];
    for (r, row) in a.iter_mut().enumerate() {
        row[r] = 1.0;
    }
    let mut b = vec![0.0; m];
    for (to, p) in view.edges(&start.spec, regime) {
        if let EdgeTarget::Node(j) = to {
            if finishes[j] {
                b[slot[j]] += p;
            }
        }
    }
    for (si, &i) in members.iter().enumerate() {
        for (to, p) in view.edges(&view.nodes[i].spec, regime) {
            if let EdgeTarget::Node(j) = to {
                if finishes[j] {
                    a[slot[j]][si] -= p;
                }
            }
        }
    }
    let visits = solve(a, b).ok_or_else(|| {
        Diagnostic::error(format!(
            "the chain ({} regime) is numerically singular: some datasources return to \
             themselves with probability indistinguishable from 1",
            regime.name()
        ))
        .help("give every loop a clearly positive probability of leaving it")
    })?;

    let mut datasources = Vec::with_capacity(n);
    let mut groups: BTreeMap<String, f64> = BTreeMap::new();
    let mut endings = Vec::new();
    let mut minutes = 0.0;
    let total: f64 = visits.iter().sum();
    for (i, doc) in view.nodes.iter().enumerate() {
        let spec = &doc.spec;
        let v = finishes[i].then(|| visits[slot[i]].max(0.0));
        let group = groups.entry(spec.group.clone()).or_insert(0.0);
        *group += v.unwrap_or(0.0);
        let p = Selector::probabilities(
            &spec.selection.value,
            spec.event_data.len(),
            regime.selection(),
        );
        for (entry, (edge, p)) in spec.event_data.iter().zip(p).enumerate() {
            minutes += v.unwrap_or(0.0) * p * edge.duration.mean();
            if view.target(&edge.transition.value) == EdgeTarget::End {
                endings.push(Ending {
                    datasource: spec.name.value.clone(),
                    activity: edge.activity.clone(),
                    entry,
                    probability: v.unwrap_or(0.0) * p,
                });
            }
        }
        datasources.push(NodeLoad {
            datasource: spec.name.value.clone(),
            group: spec.group.clone(),
            expected_visits: v,
            share: share(v.unwrap_or(0.0), total),
        });
    }
    let finished: f64 = endings.iter().map(|e| e.probability).sum();
    Ok(RegimeAnalysis {
        regime,
        expected_events: total,
        mean_case_minutes: minutes,
        // Rounding leaves ~1e-16 behind when every case finishes; that is not a finding.
        never_finishes: if 1.0 - finished < 1e-12 {
            0.0
        } else {
            (1.0 - finished).min(1.0)
        },
        expected_delivered_events: None,
        datasources,
        groups: groups
            .into_iter()
            .map(|(group, v)| GroupLoad {
                share: share(v, total),
                group,
                expected_visits: v,
            })
            .collect(),
        endings,
    })
}

fn share(part: f64, total: f64) -> f64 {
    if total > 0.0 {
        part / total
    } else {
        0.0
    }
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting; `None` if `a` is singular.
///
/// Written here rather than taken from a linear-algebra crate: the systems are tiny and dense
/// (one row per datasource), this is a few dozen lines, and nalgebra would multiply build time.
pub fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))?;
        // I - Q has ones on the diagonal; a pivot this small means a loop of probability ~1.
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, rest) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        let pivot_b = b[col];
        for (row, bv) in rest.iter_mut().zip(&mut b[col + 1..]) {
            let factor = row[col] / pivot_row[col];
            if factor == 0.0 {
                continue;
            }
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= factor * p;
            }
            *bv -= factor * pivot_b;
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let rest: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    Some(x)
}

/// A self-loop at least this likely is almost certainly a mistake.
pub const SELF_LOOP_WARNING: f64 = 0.99;

/// Warnings about the shape of the chain: datasources cases cannot finish from, datasources no
/// case reaches, and near-certain self-loops. (Datasources without a sink are reported by
/// [`ConfigSet::validate`].) Works on a config with errors too, skipping what does not resolve.
pub fn warnings(set: &ConfigSet) -> Diagnostics {
    let mut diags = Diagnostics::default();
    if !set.broken_datasources.is_empty() {
        // A datasource too broken to read (already reported) leaves holes in the chain: what
        // looks unreachable or stuck now may well not be once it is fixed.
        return diags;
    }
    let view = ChainView::new(set);
    let regimes = view.regimes();
    let finishes: Vec<(Regime, Vec<bool>)> =
        regimes.iter().map(|&r| (r, view.reaches_end(r))).collect();
    let reachable = view.reachable();
    for (i, doc) in view.nodes.iter().enumerate() {
        let name = &doc.spec.name.value;
        let place = &doc.name.place;
        if view.start.is_some() && !reachable[i] {
            diags.push(
                Diagnostic::warning(format!(
                    "datasource `{name}` is unreachable from `<start>`: it never emits an event"
                ))
                .at(place)
                .help(format!(
                    "give some reachable datasource (or `<start>`) a transition to `{name}` \
                     with a probability above 0, or remove it"
                )),
            );
        }
        let stuck: Vec<Regime> = finishes
            .iter()
            .filter(|(_, f)| !f[i])
            .map(|(r, _)| *r)
            .collect();
        if !stuck.is_empty() {
            let when = match stuck.as_slice() {
                [Regime::Start] => " while drifting selections are at their start distributions",
                [Regime::End] => " once drifting selections reach their end distributions",
                // Nothing drifts, or the datasource is stuck whatever the drift.
                [Regime::Steady] | [] | [_, _, ..] => "",
            };
            diags.push(
                Diagnostic::warning(format!(
                    "datasource `{name}` cannot reach `<end>`{when}: cases that get there never finish"
                ))
                .at(place)
                .help(format!(
                    "give `{name}`, or a datasource it leads to, a transition to `<end>` with a \
                     probability above 0"
                )),
            );
        }
        let self_loop = regimes
            .iter()
            .map(|&r| {
                view.edges(&doc.spec, r)
                    .into_iter()
                    .filter(|(to, _)| *to == EdgeTarget::Node(i))
                    .map(|(_, p)| p)
                    .sum::<f64>()
            })
            .fold(0.0, f64::max);
        if self_loop >= SELF_LOOP_WARNING {
            let stay = if self_loop < 1.0 {
                format!(
                    "a case stays there for {} events on average",
                    fmt_number(1.0 / (1.0 - self_loop))
                )
            } else {
                "a case never leaves".to_string()
            };
            diags.push(
                Diagnostic::warning(format!(
                    "datasource `{name}` loops to itself with probability {}: {stay}",
                    fmt_number(self_loop)
                ))
                .at(place)
                .help(
                    "lower the self-loop's probability, and check that `distribution` lists \
                     the probabilities in the order of `eventData`",
                ),
            );
        }
    }
    diags
}

/// A number with at most 4 decimals and no trailing zeros: `0.7`, `0.3333`, `12`.
pub fn fmt_number(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Minutes in a human form: `45 s`, `12.5 min`, `3 h 20 min`, `2 d 5 h`.
pub fn human_minutes(minutes: f64) -> String {
    if !minutes.is_finite() {
        return "unbounded".to_string();
    }
    if minutes < 1.0 {
        return format!("{} s", (minutes * 60.0).round());
    }
    if minutes < 60.0 {
        return format!("{} min", fmt_number((minutes * 10.0).round() / 10.0));
    }
    let total = minutes.round() as u64;
    let (days, hours, mins) = (total / 1440, total / 60 % 24, total % 60);
    if days > 0 {
        format!("{days} d {hours} h")
    } else {
        format!("{hours} h {mins} min")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_with_pivoting() {
        // The first pivot is 0, so this needs a row swap: x = 1, y = 2.
        let x = solve(vec![vec![0.0, 1.0], vec![2.0, 1.0]], vec![2.0, 4.0]).unwrap();
        assert!(
            (x[0] - 1.0).abs() < 1e-15 && (x[1] - 2.0).abs() < 1e-15,
            "{x:?}"
        );
        assert!(solve(vec![vec![1.0, 1.0], vec![1.0, 1.0]], vec![1.0, 2.0]).is_none());
    }

    #[test]
    fn formats_numbers_and_durations() {
        assert_eq!(fmt_number(0.7), "0.7");
        assert_eq!(fmt_number(1.0 / 3.0), "0.3333");
        assert_eq!(fmt_number(12.0), "12");
        assert_eq!(human_minutes(0.5), "30 s");
        assert_eq!(human_minutes(12.25), "12.3 min");
        assert_eq!(human_minutes(200.0), "3 h 20 min");
        assert_eq!(human_minutes(3000.0), "2 d 2 h");
    }
}
