//! The learned chain as def's YAML: `datasources.yaml` (`<start>` and one document per
//! datasource), `sink.yaml` (a console sink taking every datasource, so nothing is warned
//! about) and `simulation.yaml` (a `stream` at the log's rate). Comments name the source log
//! and the counts behind every number, so the files explain themselves.

use super::chain::{Edge, LearnedChain, Target};
use super::fit::family;
use super::report::Report;
use crate::config::DurationSpec;
use std::fmt::Write as _;

/// One file of the output directory.
#[derive(Clone, Debug)]
pub struct OutputFile {
    pub name: &'static str,
    pub text: String,
}

/// The document names of what `learn` writes.
pub const SINK_NAME: &str = "learned-console";
pub const SIMULATION_NAME: &str = "learned";

/// A YAML double-quoted scalar (JSON's string syntax is a subset of YAML's).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// Minutes and parameters to 7 decimals (a few microseconds; the clock has milliseconds).
fn num(x: f64) -> String {
    let rounded = (x * 1e7).round() / 1e7;
    format!("{}", if rounded == 0.0 { 0.0 } else { rounded })
}

fn duration(spec: &DurationSpec) -> String {
    match spec {
        DurationSpec::Constant(d) => num(*d),
        DurationSpec::Uniform { lower, upper } => format!(
            "{{type: uniform, lowerBound: {}, upperBound: {}}}",
            num(*lower),
            num(*upper)
        ),
        DurationSpec::Gaussian { mu, sigma } => {
            format!(
                "{{type: gaussian, mu: {}, sigma: {}}}",
                num(*mu),
                num(*sigma)
            )
        }
        DurationSpec::Exponential { mean } => {
            format!("{{type: exponential, mean: {}}}", num(*mean))
        }
        DurationSpec::LogNormal { mu, sigma } => {
            format!(
                "{{type: lognormal, mu: {}, sigma: {}}}",
                num(*mu),
                num(*sigma)
            )
        }
        DurationSpec::Empirical { quantiles } => {
            let q: Vec<String> = quantiles.iter().map(|&q| num(q)).collect();
            format!("{{type: empirical, quantiles: [{}]}}", q.join(", "))
        }
    }
}

fn target_name(chain: &LearnedChain, target: Target) -> &str {
    match target {
        Target::Node(i) => &chain.nodes[i as usize].name,
        Target::End => "<end>",
    }
}

/// Why an edge has the duration it has, in a few words.
fn duration_comment(edge: &Edge) -> String {
    let fit = &edge.fit;
    match fit.chosen_by {
        "unobserved" => "duration not observed: only ever a case's first event".to_string(),
        "constant" => format!("{} durations, all equal", edge.durations.n),
        chosen => format!(
            "{} durations (mean {} min), {} by {}, KS {:.4} (critical {:.4})",
            edge.durations.n,
            num(edge.durations.mean()),
            family(&fit.spec),
            if chosen == "aic" {
                "AIC"
            } else {
                "no family passing KS"
            },
            fit.ks.unwrap_or(0.0),
            fit.ks_critical.unwrap_or(0.0)
        ),
    }
}

/// The output files of a learned chain.
pub fn files(chain: &LearnedChain, report: &Report) -> Vec<OutputFile> {
    let header = format!(
        "# Learned by `def learn` from {}:\n# {} events, {} cases ({} complete, {} left open), {} datasources.\n",
        chain.source,
        chain.stats.events,
        chain.stats.cases,
        chain.stats.complete_cases,
        chain.stats.open_cases,
        chain.nodes.len()
    );
    vec![
        OutputFile {
            name: "datasources.yaml",
            text: datasources(chain, &header),
        },
        OutputFile {
            name: "sink.yaml",
            text: sink(chain, &header),
        },
        OutputFile {
            name: "simulation.yaml",
            text: simulation(report, &header),
        },
    ]
}

fn datasources(chain: &LearnedChain, header: &str) -> String {
    let mut out = String::from(header);
    let _ = writeln!(
        out,
        "\n# <start>: the first datasource of each of the {} cases.",
        chain.stats.cases
    );
    out.push_str("kind: datasource\nname: \"<start>\"\nspec:\n  name: \"<start>\"\n");
    out.push_str("  selection: genericProbability\n");
    let probabilities: Vec<String> = chain.start.iter().map(|s| s.2.to_string()).collect();
    let _ = writeln!(out, "  distribution: [{}]", probabilities.join(", "));
    out.push_str("  eventData:\n");
    for &(node, count, _) in &chain.start {
        let _ = writeln!(
            out,
            "    - {{activity: \"\", transition: {}, duration: 0}}  # {count} cases",
            quote(&chain.nodes[node as usize].name)
        );
    }
    for node in &chain.nodes {
        let _ = writeln!(
            out,
            "---\n# {}: {} events in the log{}.",
            node.name,
            node.events,
            if node.censored_only {
                "; seen only as the last event of cases left open, so its edges end the case"
            } else {
                ""
            }
        );
        for edge in &node.pruned {
            let _ = writeln!(
                out,
                "# pruned below --min-probability: {} -> {} ({} times, p {:.6})",
                edge.activity,
                target_name(chain, edge.target),
                edge.count,
                edge.observed_probability
            );
        }
        let _ = writeln!(out, "kind: datasource\nname: {}", quote(&node.name));
        let _ = writeln!(out, "spec:\n  name: {}", quote(&node.name));
        let _ = writeln!(out, "  group: {}", quote(&node.group));
        out.push_str("  selection: genericProbability\n");
        let probabilities: Vec<String> = node
            .edges
            .iter()
            .map(|e| e.probability.to_string())
            .collect();
        let _ = writeln!(out, "  distribution: [{}]", probabilities.join(", "));
        out.push_str("  eventData:\n");
        for edge in &node.edges {
            let _ = writeln!(
                out,
                "    # {} times; {}",
                edge.count,
                duration_comment(edge)
            );
            let _ = writeln!(
                out,
                "    - activity: {}\n      transition: {}\n      duration: {}",
                quote(&edge.activity),
                quote(target_name(chain, edge.target)),
                duration(&edge.fit.spec)
            );
        }
    }
    out
}

fn sink(chain: &LearnedChain, header: &str) -> String {
    let refs: Vec<String> = chain.nodes.iter().map(|n| quote(&n.name)).collect();
    format!(
        "{header}\n# Every datasource's events as JSON lines on stdout; replace with the sinks you need.\n\
         kind: sink\nname: {SINK_NAME}\nspec:\n  type: console\n  format: json\n  dataSourceRefs: [{}]\n",
        refs.join(", ")
    )
}

fn simulation(report: &Report, header: &str) -> String {
    format!(
        "{header}\n# The log's pace: {} events over {} minutes ({} events/s of log time) with {} cases\n\
         # open on average (their first to last event). A stream emits in real time at `load`.\n\
         kind: simulation\nname: {SIMULATION_NAME}\nspec:\n  type: stream\n  caseId: increasing\n  \
         maxConcurrentCases: {}\n  startTime: {}\n  timestampFormat: iso8601\n  \
         load: {{loadBehavior: constant, load: {}}}\n",
        report.log.events,
        num(report.span_minutes),
        num(report.events_per_second),
        num(report.mean_open_cases),
        report.max_concurrent_cases,
        quote(&report.first_timestamp),
        num(report.load),
    )
}
