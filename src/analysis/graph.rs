//! The chain as a drawable graph, and its Graphviz (DOT) and Mermaid renderings.
//!
//! [`Graph::build`] turns the datasources into vertices (one per datasource, grouped by
//! `group`, plus `<start>` and `<end>`) and one edge per `eventData` entry, labelled with its
//! probability, activity and duration. The renderers only format; the SVG one, which also lays
//! the graph out, is in [`super::svg`].

use super::{fmt_number, ChainView, EdgeTarget};
use crate::config::{ConfigSet, DurationSpec, Kind, SelectionSpec};
use std::fmt::Write as _;

/// What a vertex stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VertexKind {
    Start,
    End,
    Datasource,
}

#[derive(Clone, Debug)]
pub struct Vertex {
    pub kind: VertexKind,
    /// The node name (`<start>`, `<end>` or `spec.name`).
    pub name: String,
    /// The datasource's group; `None` for `<start>` and `<end>`.
    pub group: Option<String>,
}

/// How likely an edge is taken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Chance {
    Fixed(f64),
    /// A drifting selection: from the start to the end distribution.
    Drifting {
        start: f64,
        end: f64,
    },
    /// An ordered selection: taken in turn, `turn` of `of`.
    Turn {
        turn: usize,
        of: usize,
    },
}

impl Chance {
    pub fn label(&self) -> String {
        match *self {
            Chance::Fixed(p) => fmt_number(p),
            Chance::Drifting { start, end } if start == end => fmt_number(start),
            Chance::Drifting { start, end } => {
                format!("{} → {}", fmt_number(start), fmt_number(end))
            }
            Chance::Turn { turn, of } => format!("turn {turn}/{of}"),
        }
    }
}

/// One `eventData` entry.
#[derive(Clone, Debug)]
pub struct GraphEdge {
    pub from: usize,
    pub to: usize,
    pub chance: Chance,
    /// Empty for `<start>`'s entries, whose activity is never emitted.
    pub activity: String,
    /// Empty for `<start>`'s entries, whose duration is never used.
    pub duration: String,
}

impl GraphEdge {
    /// `probability · activity · duration`, leaving out empty parts.
    pub fn label(&self) -> String {
        [
            self.chance.label(),
            self.activity.clone(),
            self.duration.clone(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
    }
}

/// A sink and the datasources it takes.
#[derive(Clone, Debug)]
pub struct SinkBox {
    pub name: String,
    pub type_name: String,
    pub refs: Vec<String>,
}

/// The drawable chain. Vertex 0 is `<start>`, the last is `<end>`, datasources in between in
/// config order.
#[derive(Clone, Debug)]
pub struct Graph {
    pub vertices: Vec<Vertex>,
    pub edges: Vec<GraphEdge>,
    /// Groups in order of first appearance.
    pub groups: Vec<String>,
    pub sinks: Vec<SinkBox>,
}

impl Graph {
    /// Builds the graph of a config set; entries whose target does not resolve are skipped
    /// (validation reports them). With `sinks`, sinks are included.
    pub fn build(set: &ConfigSet, sinks: bool) -> Graph {
        let view = ChainView::new(set);
        let n = view.nodes.len();
        let end = n + 1;
        let mut vertices = vec![Vertex {
            kind: VertexKind::Start,
            name: crate::config::START.to_string(),
            group: None,
        }];
        let mut groups: Vec<String> = Vec::new();
        for doc in &view.nodes {
            if !groups.contains(&doc.spec.group) {
                groups.push(doc.spec.group.clone());
            }
            vertices.push(Vertex {
                kind: VertexKind::Datasource,
                name: doc.spec.name.value.clone(),
                group: Some(doc.spec.group.clone()),
            });
        }
        vertices.push(Vertex {
            kind: VertexKind::End,
            name: crate::config::END.to_string(),
            group: None,
        });
        let mut edges = Vec::new();
        let sources = view.start.iter().map(|d| (0, *d, true)).chain(
            view.nodes
                .iter()
                .enumerate()
                .map(|(i, d)| (i + 1, *d, false)),
        );
        for (from, doc, is_start) in sources {
            let spec = &doc.spec;
            let count = spec.event_data.len();
            for (k, edge) in spec.event_data.iter().enumerate() {
                let to = match view.target(&edge.transition.value) {
                    EdgeTarget::Node(j) => j + 1,
                    EdgeTarget::End => end,
                    EdgeTarget::Invalid => continue,
                };
                let chance = match &spec.selection.value {
                    SelectionSpec::GenericProbability { distribution } => {
                        Chance::Fixed(distribution.get(k).copied().unwrap_or(0.0))
                    }
                    SelectionSpec::Uniform => Chance::Fixed(1.0 / count as f64),
                    SelectionSpec::Ordered => Chance::Turn {
                        turn: k + 1,
                        of: count,
                    },
                    SelectionSpec::DriftingProbability { start, end, .. } => Chance::Drifting {
                        start: start.get(k).copied().unwrap_or(0.0),
                        end: end.get(k).copied().unwrap_or(0.0),
                    },
                };
                let (activity, duration) = if is_start {
                    (String::new(), String::new())
                } else {
                    (edge.activity.clone(), duration_label(&edge.duration))
                };
                edges.push(GraphEdge {
                    from,
                    to,
                    chance,
                    activity,
                    duration,
                });
            }
        }
        let sinks = if sinks {
            set.sinks
                .iter()
                .map(|s| SinkBox {
                    name: s.name.value.clone(),
                    type_name: s.spec.settings.value.sink_type().name().to_string(),
                    refs: s
                        .spec
                        .data_source_refs
                        .iter()
                        .map(|r| r.value.clone())
                        .collect(),
                })
                .collect()
        } else {
            Vec::new()
        };
        Graph {
            vertices,
            edges,
            groups,
            sinks,
        }
    }

    /// The vertex of a sink reference: a node name or a datasource's document name.
    fn find_ref(&self, set_names: &[(String, String)], name: &str) -> Option<usize> {
        set_names
            .iter()
            .position(|(node, doc)| node == name || doc == name)
            .map(|i| i + 1)
    }

    /// Graphviz DOT: groups become clusters, sinks dashed boxes.
    pub fn to_dot(&self, set: &ConfigSet) -> String {
        let mut out = String::from("digraph chain {\n");
        out.push_str("  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
        out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
        let _ = writeln!(out, "  v0 [label={}, shape=circle];", dot_str("<start>"));
        for (g, group) in self.groups.iter().enumerate() {
            let _ = writeln!(out, "  subgraph cluster_{g} {{");
            let _ = writeln!(out, "    label={}; style=dashed;", dot_str(group));
            for (v, vertex) in self.vertices.iter().enumerate() {
                if vertex.group.as_ref() == Some(group) {
                    let _ = writeln!(out, "    v{v} [label={}];", dot_str(&vertex.name));
                }
            }
            out.push_str("  }\n");
        }
        let end = self.vertices.len() - 1;
        let _ = writeln!(
            out,
            "  v{end} [label={}, shape=doublecircle];",
            dot_str("<end>")
        );
        for e in &self.edges {
            let _ = writeln!(
                out,
                "  v{} -> v{} [label={}];",
                e.from,
                e.to,
                dot_str(&e.label())
            );
        }
        let names = node_names(set);
        for (s, sink) in self.sinks.iter().enumerate() {
            let _ = writeln!(
                out,
                "  s{s} [label={}, shape=note, style=dashed];",
                dot_str(&format!("{} ({})", sink.name, sink.type_name))
            );
            for r in &sink.refs {
                if let Some(v) = self.find_ref(&names, r) {
                    let _ = writeln!(out, "  v{v} -> s{s} [style=dashed, arrowhead=empty];");
                }
            }
        }
        out.push_str("}\n");
        out
    }

    /// Mermaid `flowchart`: groups become subgraphs, sinks dashed links.
    pub fn to_mermaid(&self, set: &ConfigSet) -> String {
        let mut out = String::from("flowchart TD\n");
        let _ = writeln!(out, "  v0((\"{}\"))", mermaid_str("<start>"));
        for (g, group) in self.groups.iter().enumerate() {
            let _ = writeln!(out, "  subgraph g{g} [\"{}\"]", mermaid_str(group));
            for (v, vertex) in self.vertices.iter().enumerate() {
                if vertex.group.as_ref() == Some(group) {
                    let _ = writeln!(out, "    v{v}(\"{}\")", mermaid_str(&vertex.name));
                }
            }
            out.push_str("  end\n");
        }
        let end = self.vertices.len() - 1;
        let _ = writeln!(out, "  v{end}(((\"{}\")))", mermaid_str("<end>"));
        for e in &self.edges {
            let _ = writeln!(
                out,
                "  v{} -->|\"{}\"| v{}",
                e.from,
                mermaid_str(&e.label()),
                e.to
            );
        }
        let names = node_names(set);
        for (s, sink) in self.sinks.iter().enumerate() {
            let _ = writeln!(
                out,
                "  s{s}[/\"{}\"/]",
                mermaid_str(&format!("{} ({})", sink.name, sink.type_name))
            );
            for r in &sink.refs {
                if let Some(v) = self.find_ref(&names, r) {
                    let _ = writeln!(out, "  v{v} -.-> s{s}");
                }
            }
        }
        out
    }
}

/// (node name, document name) of every real datasource, in vertex order.
fn node_names(set: &ConfigSet) -> Vec<(String, String)> {
    ChainView::new(set)
        .nodes
        .iter()
        .map(|d| (d.spec.name.value.clone(), d.name.value.clone()))
        .collect()
}

/// A duration as a short label: `3 min`, `U(3, 7) min`, `N(720, 120) min`.
pub fn duration_label(d: &DurationSpec) -> String {
    let f = fmt_number;
    match *d {
        DurationSpec::Constant(x) => format!("{} min", f(x)),
        DurationSpec::Uniform { lower, upper } => format!("U({}, {}) min", f(lower), f(upper)),
        DurationSpec::Gaussian { mu, sigma } => format!("N({}, {}) min", f(mu), f(sigma)),
        DurationSpec::Exponential { mean } => format!("Exp(mean {}) min", f(mean)),
        DurationSpec::LogNormal { mu, sigma } => format!("LogN({}, {}) min", f(mu), f(sigma)),
        DurationSpec::Empirical { ref quantiles } => format!(
            "Empirical({} quantiles, {}..{}) min",
            quantiles.len(),
            f(quantiles.first().copied().unwrap_or(0.0)),
            f(quantiles.last().copied().unwrap_or(0.0))
        ),
    }
}

/// A DOT string literal: quoted, with `"` and `\` escaped and newlines as `\n`.
fn dot_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text inside a quoted Mermaid label: characters Mermaid would parse become entity codes.
fn mermaid_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_dot_and_mermaid_strings() {
        assert_eq!(dot_str(r#"say "hi" \ now"#), r#""say \"hi\" \\ now""#);
        assert_eq!(
            mermaid_str("<end> \"x\" #1"),
            "#lt;end#gt; #quot;x#quot; #35;1"
        );
    }

    #[test]
    fn the_assembly_line_has_one_edge_per_entry() {
        let set = ConfigSet::example();
        let g = Graph::build(&set, false);
        assert_eq!(g.vertices.len(), 9);
        // 1 from <start> + 3 + 3 + 5 + 4 + 3 + 1 + 2 entries.
        assert_eq!(g.edges.len(), 22);
        let store = g.edges.iter().find(|e| e.activity == "Store").unwrap();
        assert_eq!(
            store.label(),
            "0.7 → 0.2 · Store · N(720, 120) min".to_string()
        );
        assert_eq!(g.groups, vec!["factory".to_string()]);
    }
}
