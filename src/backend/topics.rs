//! The backend's topic table: one fixed topic, or a Kafka topic template resolved per
//! (node, group) as events arrive. The server resolves each event's topic index when it parses
//! a frame; the emitter looks the names up when it sends. File and stdout outputs have one
//! unnamed topic.

use super::output::OutputSpec;
use crate::config::resolve_topic;
use std::collections::HashMap;
use std::sync::Mutex;

/// The most distinct Kafka topics one backend emits to (a topic template over the events'
/// `node` and `group`); delivery is counted per topic in a table of this size.
pub const MAX_TOPICS: usize = 256;

/// Topic names, and the topic index of each (node, group) seen.
type TopicTable = (Vec<String>, HashMap<(String, String), u32>);

/// The topics of a backend, shared by the server (which resolves) and the emitter (which
/// sends).
pub struct Topics {
    template: String,
    fixed: bool,
    names: Mutex<TopicTable>,
}

impl Topics {
    /// The topic table of an output: for files and stdout, one unnamed topic.
    ///
    /// # Errors
    ///
    /// Why a fixed Kafka topic is not a legal topic name.
    pub fn new(spec: &OutputSpec) -> Result<Topics, String> {
        let template = match spec {
            OutputSpec::Kafka(k) => k.topic.clone(),
            _ => String::new(),
        };
        let fixed = !template.contains('{');
        let mut names = Vec::new();
        if fixed {
            if matches!(spec, OutputSpec::Kafka(_)) {
                resolve_topic(&template, "", "")?;
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
    ///
    /// # Errors
    ///
    /// Why the template gives no legal topic for them, or gives more than [`MAX_TOPICS`].
    pub fn resolve(&self, node: &str, group: &str) -> Result<u32, String> {
        if self.fixed {
            return Ok(0);
        }
        let mut guard = self.names.lock().unwrap_or_else(|e| e.into_inner());
        let (names, by_pair) = &mut *guard;
        if let Some(&i) = by_pair.get(&(node.to_string(), group.to_string())) {
            return Ok(i);
        }
        let topic = resolve_topic(&self.template, node, group)?;
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
    #[cfg(feature = "kafka")]
    pub(super) fn name(&self, i: u32) -> String {
        let guard = self.names.lock().unwrap_or_else(|e| e.into_inner());
        guard.0.get(i as usize).cloned().unwrap_or_default()
    }
}
