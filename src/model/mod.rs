//! The compiled Markov chain: datasources as indexed nodes, edges with samplers.
//!
//! [`Chain::compile`] turns validated datasource specs into a form the engine can walk without
//! ever touching a name: transitions are node indices, selections are alias tables, durations
//! are samplers, and every string an event carries is stored twice, raw and JSON-escaped, so
//! writing an event is a copy rather than an escape.

pub mod duration;
pub mod selection;

use crate::config::{ConfigSet, DatasourceSpec, Diagnostic, Document, END, START};
pub use duration::DurationSampler;
pub use selection::Selector;
use std::collections::HashMap;

/// A string as written in events: raw, and as a quoted, escaped JSON string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    raw: Box<str>,
    json: Box<str>,
}

impl Text {
    pub fn new(raw: &str) -> Text {
        Text {
            raw: raw.into(),
            json: serde_json::to_string(raw)
                .unwrap_or_else(|_| "\"\"".into())
                .into(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The JSON string literal, quotes included.
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// Where an edge leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Node(u32),
    End,
}

/// An edge: an activity, the time it takes, and where the case goes next.
#[derive(Clone, Debug)]
pub struct Edge {
    pub activity: Text,
    pub target: Target,
    pub duration: DurationSampler,
}

/// A datasource: a vertex of the chain.
#[derive(Clone, Debug)]
pub struct Node {
    pub index: u32,
    /// The node name written into events (`spec.name`).
    pub name: Text,
    pub group: Text,
    /// The document name (`name:`), which sinks may refer to.
    pub doc_name: String,
    pub selector: Selector,
    pub edges: Vec<Edge>,
}

/// The compiled chain.
#[derive(Clone, Debug)]
pub struct Chain {
    /// Every real datasource; `<start>` is kept apart.
    pub nodes: Vec<Node>,
    /// `<start>`: chooses the first datasource of each case. Its edges never target `End`.
    pub start: Node,
}

impl Chain {
    /// Compiles the datasources of a config set. The set must have passed validation; if it
    /// has not, the first structural problem is returned instead of a panic.
    ///
    /// # Errors
    ///
    /// As [`Chain::from_specs`].
    pub fn compile(set: &ConfigSet) -> Result<Chain, Diagnostic> {
        Chain::from_specs(set.datasources.iter())
    }

    /// Compiles datasource documents, in config order, into a chain; `<start>` may be anywhere
    /// among them.
    ///
    /// # Errors
    ///
    /// A [`Diagnostic`] for the first structural problem found: there is no `<start>`, a
    /// transition names no datasource, or `<start>` transitions straight to `<end>`.
    pub fn from_specs<'a>(
        docs: impl Iterator<Item = &'a Document<DatasourceSpec>>,
    ) -> Result<Chain, Diagnostic> {
        let mut start_spec = None;
        let mut specs = Vec::new();
        for doc in docs {
            if doc.spec.name.value == START {
                start_spec = Some(doc);
            } else {
                specs.push(doc);
            }
        }
        let start_spec =
            start_spec.ok_or_else(|| Diagnostic::error("there is no `<start>` datasource"))?;
        let index: HashMap<&str, u32> = specs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.spec.name.value.as_str(), i as u32))
            .collect();
        let node = |i: u32, doc: &Document<DatasourceSpec>| -> Result<Node, Diagnostic> {
            let spec = &doc.spec;
            let edges = spec
                .event_data
                .iter()
                .map(|e| {
                    let target = match e.transition.value.as_str() {
                        END => Target::End,
                        name => Target::Node(*index.get(name).ok_or_else(|| {
                            Diagnostic::error(format!("transition to unknown datasource `{name}`"))
                                .at(&e.transition.place)
                        })?),
                    };
                    Ok(Edge {
                        activity: Text::new(&e.activity),
                        target,
                        duration: DurationSampler::compile(&e.duration),
                    })
                })
                .collect::<Result<Vec<_>, Diagnostic>>()?;
            Ok(Node {
                index: i,
                name: Text::new(&spec.name.value),
                group: Text::new(&spec.group),
                doc_name: doc.name.value.clone(),
                selector: Selector::compile(&spec.selection.value, edges.len()),
                edges,
            })
        };
        let nodes = specs
            .iter()
            .enumerate()
            .map(|(i, d)| node(i as u32, d))
            .collect::<Result<Vec<_>, _>>()?;
        let start = node(u32::MAX, start_spec)?;
        if start.edges.iter().any(|e| e.target == Target::End) {
            return Err(Diagnostic::error(
                "`<start>` transitions straight to `<end>`",
            ));
        }
        Ok(Chain { nodes, start })
    }

    /// The node with a node name or document name, if any.
    pub fn find(&self, name: &str) -> Option<&Node> {
        self.nodes
            .iter()
            .find(|n| n.name.as_str() == name)
            .or_else(|| self.nodes.iter().find(|n| n.doc_name == name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_json_escaped_once() {
        let t = Text::new("a \"quoted\" \\ line\n");
        assert_eq!(t.as_str(), "a \"quoted\" \\ line\n");
        assert_eq!(t.json(), r#""a \"quoted\" \\ line\n""#);
    }

    #[test]
    fn compiles_the_assembly_line_with_indices() {
        let set = ConfigSet::example();
        assert!(!set.validate().has_errors(), "{}", set.validate().render());
        let chain = Chain::compile(&set).unwrap();
        assert_eq!(chain.nodes.len(), 7);
        assert_eq!(chain.start.edges[0].target, Target::Node(0));
        assert_eq!(chain.nodes[0].name.as_str(), "GoodsDelivery");
        assert_eq!(chain.nodes[0].edges[0].target, Target::End);
        assert_eq!(chain.nodes[0].edges[1].target, Target::Node(0));
        assert_eq!(chain.find("Shipping").unwrap().index, 6);
    }
}
