//! Turns located YAML trees into typed specs, collecting every problem on the way.
//!
//! Each `*_spec` function reads one kind of object. It first reports unknown fields (with a
//! did-you-mean), then reads each field, pushing a diagnostic for a missing or malformed one and
//! carrying on, so one pass reports everything that is wrong with a document.

use super::diagnostic::{did_you_mean, Diagnostic, Diagnostics, Place, Source};
use super::spec::*;
use super::yaml::{Key, Loc, Node, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A parsed document of any kind.
#[derive(Clone, Debug)]
pub enum AnyDocument {
    Datasource(Document<DatasourceSpec>),
    Sink(Document<SinkSpec>),
    Simulation(Document<SimulationSpec>),
}

pub const KINDS: [&str; 3] = ["datasource", "sink", "simulation"];

/// Reading state: the file being read and the problems found.
pub(crate) struct Reader<'d> {
    pub source: Arc<Source>,
    pub diags: &'d mut Diagnostics,
    /// YAML paths of the unknown fields reported so far.
    pub unknown: Vec<String>,
}

/// A mapping being read, with its YAML path.
struct Obj<'n> {
    entries: &'n [(Key, Node)],
    path: String,
    loc: Loc,
}

impl<'n> Obj<'n> {
    fn get(&self, key: &str) -> Option<(&'n Node, String)> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| (v, self.child(key)))
    }

    fn child(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k.name == key)
    }
}

impl Reader<'_> {
    fn place(&self, path: &str, loc: Loc) -> Place {
        Place {
            source: self.source.clone(),
            loc,
            path: path.to_string(),
        }
    }

    fn error(&mut self, path: &str, loc: Loc, message: impl Into<String>, help: impl Into<String>) {
        let d = Diagnostic::error(message)
            .at(&self.place(path, loc))
            .help(help);
        self.diags.push(d);
    }

    fn warn(&mut self, path: &str, loc: Loc, message: impl Into<String>, help: impl Into<String>) {
        let d = Diagnostic::warning(message)
            .at(&self.place(path, loc))
            .help(help);
        self.diags.push(d);
    }

    fn obj<'n>(&mut self, node: &'n Node, path: &str, what: &str) -> Option<Obj<'n>> {
        match &node.value {
            Value::Map(entries) => Some(Obj {
                entries,
                path: path.to_string(),
                loc: node.loc,
            }),
            other => {
                self.error(
                    path,
                    node.loc,
                    format!("{what} must be a mapping, found {} `{other}`", other.kind()),
                    format!("write {what} as `key: value` lines"),
                );
                None
            }
        }
    }

    /// Reports every key of `obj` that is not in `allowed`, with a suggestion.
    fn deny_unknown(&mut self, obj: &Obj, allowed: &[&str], what: &str) {
        for (key, _) in obj.entries {
            if allowed.contains(&key.name.as_str()) {
                continue;
            }
            let help = match did_you_mean(&key.name, allowed.iter().copied()) {
                Some(name) => format!("did you mean `{name}`?"),
                None => format!("{what} takes: {}", allowed.join(", ")),
            };
            let path = obj.child(&key.name);
            self.error(
                &path,
                key.loc,
                format!("unknown field `{}` in {what}", key.name),
                help,
            );
            self.unknown.push(path);
        }
    }

    fn missing(&mut self, obj: &Obj, key: &str, what: &str, example: &str) {
        // A misspelt key already reported as unknown, with "did you mean `key`?": once is enough.
        let misspelt = obj.entries.iter().any(|(k, _)| {
            did_you_mean(&k.name, [key]).is_some() && self.unknown.contains(&obj.child(&k.name))
        });
        if misspelt {
            return;
        }
        self.error(
            &obj.path,
            obj.loc,
            format!("{what} is missing `{key}`"),
            format!("add `{key}: {example}`"),
        );
    }

    fn string_of(&mut self, node: &Node, path: &str, what: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            // Unquoted scalars that YAML reads as numbers are still fine as names.
            Value::Int(i) => Some(i.to_string()),
            Value::Float(x) => Some(x.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => {
                self.error(
                    path,
                    node.loc,
                    format!("{what} must be a string, found {}", other.kind()),
                    "write a string, quoted if it has special characters",
                );
                None
            }
        }
    }

    fn req_string(
        &mut self,
        obj: &Obj,
        key: &str,
        what: &str,
        example: &str,
    ) -> Option<At<String>> {
        match obj.get(key) {
            Some((node, path)) => {
                let value = self.string_of(node, &path, &format!("`{key}`"))?;
                Some(At {
                    value,
                    place: self.place(&path, node.loc),
                })
            }
            None => {
                self.missing(obj, key, what, example);
                None
            }
        }
    }

    fn opt_string(&mut self, obj: &Obj, key: &str) -> Option<String> {
        let (node, path) = obj.get(key)?;
        self.string_of(node, &path, &format!("`{key}`"))
    }

    /// A finite number; `min` is the smallest allowed value (inclusive).
    fn number_of(&mut self, node: &Node, path: &str, key: &str, min: Option<f64>) -> Option<f64> {
        let x = match &node.value {
            Value::Int(i) => *i as f64,
            Value::Float(x) => *x,
            other => {
                self.error(
                    path,
                    node.loc,
                    format!("`{key}` must be a number, found {} `{other}`", other.kind()),
                    "write a plain number such as `1.5`",
                );
                return None;
            }
        };
        if !x.is_finite() {
            self.error(
                path,
                node.loc,
                format!("`{key}` is {x}"),
                "use a finite number",
            );
            return None;
        }
        if let Some(min) = min {
            if x < min {
                self.error(
                    path,
                    node.loc,
                    format!("`{key}` is {x}, below the smallest allowed value {min}"),
                    format!("use a value of at least {min}"),
                );
                return None;
            }
        }
        Some(x)
    }

    fn req_number(&mut self, obj: &Obj, key: &str, what: &str, min: Option<f64>) -> Option<f64> {
        match obj.get(key) {
            Some((node, path)) => self.number_of(node, &path, key, min),
            None => {
                self.missing(obj, key, what, "1");
                None
            }
        }
    }

    fn opt_number(&mut self, obj: &Obj, key: &str, min: Option<f64>) -> Option<Option<f64>> {
        match obj.get(key) {
            Some((node, path)) => self.number_of(node, &path, key, min).map(Some),
            None => Some(None),
        }
    }

    /// A whole number of at least `min`.
    fn count_of(&mut self, node: &Node, path: &str, key: &str, min: u64) -> Option<u64> {
        match &node.value {
            Value::Int(i) if *i >= min as i64 => Some(*i as u64),
            Value::Int(i) => {
                self.error(
                    path,
                    node.loc,
                    format!("`{key}` is {i}, but must be at least {min}"),
                    format!("use a whole number of at least {min}"),
                );
                None
            }
            other => {
                self.error(
                    path,
                    node.loc,
                    format!(
                        "`{key}` must be a whole number, found {} `{other}`",
                        other.kind()
                    ),
                    format!("use a whole number of at least {min}"),
                );
                None
            }
        }
    }

    fn opt_count(&mut self, obj: &Obj, key: &str, min: u64) -> Option<Option<u64>> {
        match obj.get(key) {
            Some((node, path)) => self.count_of(node, &path, key, min).map(Some),
            None => Some(None),
        }
    }

    fn opt_bool(&mut self, obj: &Obj, key: &str) -> Option<bool> {
        let (node, path) = obj.get(key)?;
        match node.value {
            Value::Bool(b) => Some(b),
            ref other => {
                self.error(
                    &path,
                    node.loc,
                    format!("`{key}` must be true or false, found {}", other.kind()),
                    "write `true` or `false`",
                );
                None
            }
        }
    }

    fn probabilities(&mut self, obj: &Obj, key: &str) -> Option<Vec<f64>> {
        let Some((node, path)) = obj.get(key) else {
            self.missing(obj, key, "this selection", "[0.5, 0.5]");
            return None;
        };
        let Value::Seq(items) = &node.value else {
            self.error(
                &path,
                node.loc,
                format!(
                    "`{key}` must be a list of probabilities, found {}",
                    node.value.kind()
                ),
                "write a list such as `[0.2, 0.8]`, one probability per eventData entry",
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            match self.number_of(item, &item_path, key, Some(0.0)) {
                Some(p) => out.push(p),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let sum: f64 = out.iter().sum();
        if (sum - 1.0).abs() > 1e-6 {
            self.error(
                &path,
                node.loc,
                format!("`{key}` sums to {sum}, not 1"),
                "make the probabilities add up to 1 (tolerance 1e-6)",
            );
            return None;
        }
        Some(out)
    }

    /// Reads a `name`-valued choice such as `selection: uniform`.
    fn choice<'a>(
        &mut self,
        node: &Node,
        path: &str,
        key: &str,
        names: &[&'a str],
    ) -> Option<&'a str> {
        let word = self.string_of(node, path, &format!("`{key}`"))?;
        if let Some(name) = names.iter().find(|n| **n == word) {
            return Some(name);
        }
        let help = match did_you_mean(&word, names.iter().copied()) {
            Some(name) => format!("did you mean `{name}`?"),
            None => format!("use one of: {}", names.join(", ")),
        };
        self.error(path, node.loc, format!("unknown {key} `{word}`"), help);
        None
    }
}

/// Reads one document. `None` when it is too broken to use; then, if it was a datasource,
/// its names go into `broken` so that references to it are not reported again as unknown.
pub(crate) fn document(
    reader: &mut Reader,
    node: &Node,
    broken: &mut Vec<String>,
) -> Option<AnyDocument> {
    let doc = read_document(reader, node);
    if doc.is_none() {
        if let Value::Map(entries) = &node.value {
            // Anything not clearly a sink or simulation may be a (mistyped) datasource.
            let is_datasource = !entries.iter().any(|(k, v)| {
                k.name == "kind"
                    && matches!(&v.value, Value::Str(s) if s == "sink" || s == "simulation")
            });
            let named = |entries: &[(Key, Node)]| {
                entries
                    .iter()
                    .find(|(k, _)| k.name == "name")
                    .and_then(|(_, v)| match &v.value {
                        Value::Str(s) => Some(s.clone()),
                        _ => None,
                    })
            };
            if is_datasource {
                broken.extend(named(entries));
                if let Some((_, spec)) = entries.iter().find(|(k, _)| k.name == "spec") {
                    if let Value::Map(spec) = &spec.value {
                        broken.extend(named(spec));
                    }
                }
            }
        }
    }
    doc
}

fn read_document(reader: &mut Reader, node: &Node) -> Option<AnyDocument> {
    let obj = reader.obj(node, "", "a document")?;
    reader.deny_unknown(&obj, &["kind", "name", "spec"], "a document");
    let place = reader.place("", node.loc);
    let kind = match obj.get("kind") {
        Some((n, path)) => reader.choice(n, &path, "kind", &KINDS),
        None => {
            reader.missing(&obj, "kind", "the document", "datasource");
            None
        }
    };
    let name = reader.req_string(&obj, "name", "the document", "my-name");
    let spec_node = match obj.get("spec") {
        Some((n, _)) => Some(n),
        None => {
            reader.missing(&obj, "spec", "the document", "{...}");
            None
        }
    };
    let (kind, name, spec_node) = (kind?, name?, spec_node?);
    let spec = reader.obj(spec_node, "spec", "`spec`")?;
    Some(match kind {
        "datasource" => AnyDocument::Datasource(Document {
            spec: datasource_spec(reader, &spec, &name)?,
            name,
            place,
        }),
        "sink" => AnyDocument::Sink(Document {
            spec: sink_spec(reader, &spec)?,
            name,
            place,
        }),
        _ => AnyDocument::Simulation(Document {
            spec: simulation_spec(reader, &spec)?,
            name,
            place,
        }),
    })
}

const DATASOURCE_FIELDS: &[&str] = &[
    "name",
    "group",
    "selection",
    "distribution",
    "startDistribution",
    "endDistribution",
    "steps",
    "eventData",
];

fn datasource_spec(
    reader: &mut Reader,
    spec: &Obj,
    doc_name: &At<String>,
) -> Option<DatasourceSpec> {
    reader.deny_unknown(spec, DATASOURCE_FIELDS, "a datasource spec");
    // `spec.name` is the node name; the document name stands in when it is left out.
    let name = match spec.get("name") {
        Some(_) => reader.req_string(spec, "name", "the datasource spec", "MyNode"),
        None => Some(doc_name.clone()),
    };
    let group = reader.opt_string(spec, "group").unwrap_or_default();
    let selection = selection_spec(reader, spec);
    let event_data = match spec.get("eventData") {
        Some((node, path)) => edges(reader, node, &path),
        None => {
            reader.missing(
                spec,
                "eventData",
                "the datasource spec",
                "[{activity: ..., transition: ..., duration: 1}]",
            );
            None
        }
    };
    let (name, selection, event_data) = (name?, selection?, event_data?);
    let want = event_data.len();
    let lengths: Vec<(&str, usize)> = match &selection.value {
        SelectionSpec::GenericProbability { distribution } => {
            vec![("distribution", distribution.len())]
        }
        SelectionSpec::DriftingProbability { start, end, .. } => {
            vec![
                ("startDistribution", start.len()),
                ("endDistribution", end.len()),
            ]
        }
        _ => vec![],
    };
    let mut ok = true;
    for (key, len) in lengths {
        if len != want {
            ok = false;
            let (node, path) = spec.get(key).expect("read above");
            reader.error(
                &path,
                node.loc,
                format!("`{key}` has {len} probabilities but `eventData` has {want} entries"),
                "give exactly one probability per eventData entry, in the same order",
            );
        }
    }
    ok.then_some(DatasourceSpec {
        name,
        group,
        selection,
        event_data,
    })
}

fn selection_spec(reader: &mut Reader, spec: &Obj) -> Option<At<SelectionSpec>> {
    let (node, path) = match spec.get("selection") {
        Some(found) => found,
        None => {
            reader.missing(
                spec,
                "selection",
                "the datasource spec",
                "genericProbability",
            );
            return None;
        }
    };
    let which = reader.choice(node, &path, "selection", &SelectionSpec::NAMES)?;
    let used: &[&str] = match which {
        "genericProbability" => &["distribution"],
        "driftingProbability" => &["startDistribution", "endDistribution", "steps"],
        _ => &[],
    };
    for key in [
        "distribution",
        "startDistribution",
        "endDistribution",
        "steps",
    ] {
        if spec.has(key) && !used.contains(&key) {
            let (n, p) = spec.get(key).expect("has");
            reader.warn(
                &p,
                n.loc,
                format!("`{key}` is ignored by selection `{which}`"),
                format!("remove `{key}`, or change the selection"),
            );
        }
    }
    let value = match which {
        "genericProbability" => SelectionSpec::GenericProbability {
            distribution: reader.probabilities(spec, "distribution")?,
        },
        "uniform" => SelectionSpec::Uniform,
        "ordered" => SelectionSpec::Ordered,
        _ => {
            let start = reader.probabilities(spec, "startDistribution");
            let end = reader.probabilities(spec, "endDistribution");
            let steps = match spec.get("steps") {
                Some((n, p)) => reader.count_of(n, &p, "steps", 1),
                None => {
                    reader.missing(spec, "steps", "a driftingProbability selection", "1000");
                    None
                }
            };
            SelectionSpec::DriftingProbability {
                start: start?,
                end: end?,
                steps: steps?,
            }
        }
    };
    Some(At {
        value,
        place: reader.place(&path, node.loc),
    })
}

fn edges(reader: &mut Reader, node: &Node, path: &str) -> Option<Vec<EdgeSpec>> {
    let Value::Seq(items) = &node.value else {
        reader.error(
            path,
            node.loc,
            format!("`eventData` must be a list, found {}", node.value.kind()),
            "write one `- activity: ...` entry per edge",
        );
        return None;
    };
    if items.is_empty() {
        reader.error(
            path,
            node.loc,
            "`eventData` is empty",
            "give the datasource at least one entry (use `transition: <end>` to finish cases)",
        );
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        match edge(reader, item, &item_path) {
            Some(edge) => out.push(edge),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn edge(reader: &mut Reader, node: &Node, path: &str) -> Option<EdgeSpec> {
    let obj = reader.obj(node, path, "an eventData entry")?;
    reader.deny_unknown(
        &obj,
        &["activity", "transition", "duration"],
        "an eventData entry",
    );
    let activity = reader.req_string(&obj, "activity", "the eventData entry", "\"Assemble\"");
    let transition = reader.req_string(&obj, "transition", "the eventData entry", "\"<end>\"");
    let duration = match obj.get("duration") {
        Some((n, p)) => duration_spec(reader, n, &p),
        None => {
            reader.missing(&obj, "duration", "the eventData entry", "1");
            None
        }
    };
    Some(EdgeSpec {
        activity: activity?.value,
        transition: transition?,
        duration: duration?,
        place: reader.place(path, node.loc),
    })
}

fn duration_spec(reader: &mut Reader, node: &Node, path: &str) -> Option<DurationSpec> {
    if matches!(node.value, Value::Int(_) | Value::Float(_)) {
        return reader
            .number_of(node, path, "duration", Some(0.0))
            .map(DurationSpec::Constant);
    }
    let obj = reader.obj(node, path, "`duration`")?;
    let which = match obj.get("type") {
        Some((n, p)) => reader.choice(n, &p, "duration type", &DurationSpec::NAMES)?,
        None => {
            reader.missing(&obj, "type", "the duration", "constant");
            return None;
        }
    };
    let fields: &[&str] = match which {
        "constant" => &["type", "duration"],
        "uniform" => &["type", "lowerBound", "upperBound"],
        "gaussian" | "lognormal" => &["type", "mu", "sigma"],
        _ => &["type", "mean"],
    };
    reader.deny_unknown(&obj, fields, &format!("a {which} duration"));
    let what = format!("the {which} duration");
    Some(match which {
        "constant" => {
            DurationSpec::Constant(reader.req_number(&obj, "duration", &what, Some(0.0))?)
        }
        "uniform" => {
            let lower = reader.req_number(&obj, "lowerBound", &what, Some(0.0));
            let upper = reader.req_number(&obj, "upperBound", &what, Some(0.0));
            let (lower, upper) = (lower?, upper?);
            if upper < lower {
                reader.error(
                    path,
                    obj.loc,
                    format!("`upperBound` {upper} is below `lowerBound` {lower}"),
                    "swap the bounds",
                );
                return None;
            }
            DurationSpec::Uniform { lower, upper }
        }
        "gaussian" => {
            let mu = reader.req_number(&obj, "mu", &what, None);
            let sigma = reader.req_number(&obj, "sigma", &what, Some(0.0));
            DurationSpec::Gaussian {
                mu: mu?,
                sigma: sigma?,
            }
        }
        "lognormal" => {
            let mu = reader.req_number(&obj, "mu", &what, None);
            let sigma = reader.req_number(&obj, "sigma", &what, Some(0.0));
            DurationSpec::LogNormal {
                mu: mu?,
                sigma: sigma?,
            }
        }
        _ => DurationSpec::Exponential {
            mean: reader.req_number(&obj, "mean", &what, Some(0.0))?,
        },
    })
}

fn sink_spec(reader: &mut Reader, spec: &Obj) -> Option<SinkSpec> {
    let (type_node, type_path) = match spec.get("type") {
        Some(found) => found,
        None => {
            reader.missing(spec, "type", "the sink spec", "console");
            return None;
        }
    };
    let which = reader.choice(type_node, &type_path, "sink type", &SinkKind::NAMES)?;
    let specific: &[&str] = match which {
        "console" => &["format"],
        "file" => &["path", "format"],
        "kafka" => &[
            "bootstrapServer",
            "clientId",
            "topic",
            "partition",
            "producer",
            "connectTimeout",
            "flushTimeout",
        ],
        "http" => &["url", "timeframe"],
        _ => &[],
    };
    let mut allowed = vec!["type", "id", "dataSourceRefs"];
    allowed.extend_from_slice(specific);
    reader.deny_unknown(spec, &allowed, &format!("a {which} sink"));
    let id = reader.opt_string(spec, "id");
    let refs = match spec.get("dataSourceRefs") {
        Some((node, path)) => string_list(reader, node, &path, "dataSourceRefs"),
        None => {
            reader.missing(spec, "dataSourceRefs", "the sink spec", "[\"MyNode\"]");
            None
        }
    };
    let what = format!("the {which} sink");
    let kind = match which {
        "console" => SinkKind::Console {
            format: match spec.get("format") {
                Some((n, p)) => {
                    match reader.choice(n, &p, "console format", &["original", "json"])? {
                        "json" => ConsoleFormat::Json,
                        _ => ConsoleFormat::Original,
                    }
                }
                None => ConsoleFormat::Original,
            },
        },
        "file" => {
            let path = reader.req_string(spec, "path", &what, "events.jsonl");
            if let Some((n, p)) = spec.get("format") {
                reader.choice(n, &p, "file format", &["jsonl"])?;
            }
            SinkKind::File {
                path: PathBuf::from(path?.value),
                format: FileFormat::Jsonl,
            }
        }
        "blackhole" => SinkKind::Blackhole,
        "memory" | "test" => SinkKind::Memory,
        "kafka" => SinkKind::Kafka(kafka_spec(reader, spec, &what)?),
        "http" => {
            let url = reader.req_string(spec, "url", &what, "http://localhost:8080/loadgenerator");
            let timeframe = match spec.get("timeframe") {
                Some((n, p)) => reader.count_of(n, &p, "timeframe", 1),
                None => Some(1000),
            };
            SinkKind::Http(HttpSinkSpec {
                url: url?.value,
                timeframe_ms: timeframe?,
            })
        }
        _ => SinkKind::Ui,
    };
    Some(SinkSpec {
        kind: At {
            value: kind,
            place: reader.place(&type_path, type_node.loc),
        },
        id,
        data_source_refs: refs?,
    })
}

fn kafka_spec(reader: &mut Reader, spec: &Obj, what: &str) -> Option<KafkaSinkSpec> {
    let servers = reader.req_string(spec, "bootstrapServer", what, "localhost:9092");
    let topic = reader.req_string(spec, "topic", what, "events");
    let client_id = reader.opt_string(spec, "clientId");
    let connect_timeout = reader.opt_number(spec, "connectTimeout", Some(0.1));
    let flush_timeout = reader.opt_number(spec, "flushTimeout", Some(0.0));
    let partition = match spec.get("partition") {
        None => Some(PartitionSpec::Default),
        Some((n, p)) => partition_spec(reader, n, &p),
    };
    let producer = match spec.get("producer") {
        None => Some(BTreeMap::new()),
        Some((n, p)) => {
            let obj = reader.obj(n, &p, "`producer`")?;
            let mut map = BTreeMap::new();
            for (key, value) in obj.entries {
                let value = match &value.value {
                    Value::Str(s) => s.clone(),
                    Value::Int(i) => i.to_string(),
                    Value::Float(x) => x.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => {
                        reader.error(
                            &obj.child(&key.name),
                            value.loc,
                            format!(
                                "producer setting `{}` must be a scalar, found {}",
                                key.name,
                                other.kind()
                            ),
                            "librdkafka settings are strings, numbers or booleans",
                        );
                        continue;
                    }
                };
                map.insert(key.name.clone(), value);
            }
            Some(map)
        }
    };
    Some(KafkaSinkSpec {
        bootstrap_server: servers?.value,
        client_id,
        topic: topic?.value,
        partition: partition?,
        producer: producer?,
        connect_timeout_secs: connect_timeout?.unwrap_or(5.0),
        flush_timeout_secs: flush_timeout?.unwrap_or(30.0),
    })
}

fn partition_spec(reader: &mut Reader, node: &Node, path: &str) -> Option<PartitionSpec> {
    let obj = reader.obj(node, path, "`partition`")?;
    let which = match obj.get("type") {
        Some((n, p)) => reader.choice(n, &p, "partition type", &["constant", "case", "default"])?,
        None => {
            reader.missing(&obj, "type", "the partition", "case");
            return None;
        }
    };
    match which {
        "constant" => {
            reader.deny_unknown(&obj, &["type", "partition"], "a constant partition");
            let (n, p) = obj.get("partition").or_else(|| {
                reader.missing(&obj, "partition", "the constant partition", "0");
                None
            })?;
            let partition = reader.count_of(n, &p, "partition", 0)?;
            Some(PartitionSpec::Constant(
                partition.min(i32::MAX as u64) as i32
            ))
        }
        "case" => {
            reader.deny_unknown(&obj, &["type", "partitionCount"], "a case partition");
            let (n, p) = obj.get("partitionCount").or_else(|| {
                reader.missing(&obj, "partitionCount", "the case partition", "4");
                None
            })?;
            let count = reader.count_of(n, &p, "partitionCount", 1)?;
            Some(PartitionSpec::Case {
                partition_count: count.min(i32::MAX as u64) as i32,
            })
        }
        _ => {
            reader.deny_unknown(&obj, &["type"], "a default partition");
            Some(PartitionSpec::Default)
        }
    }
}

fn string_list(reader: &mut Reader, node: &Node, path: &str, key: &str) -> Option<Vec<At<String>>> {
    let Value::Seq(items) = &node.value else {
        reader.error(
            path,
            node.loc,
            format!("`{key}` must be a list, found {}", node.value.kind()),
            "write a list such as `[\"A\", \"B\"]`",
        );
        return None;
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        if let Some(value) = reader.string_of(item, &item_path, &format!("`{key}` entries")) {
            out.push(At {
                value,
                place: reader.place(&item_path, item.loc),
            });
        }
    }
    Some(out)
}

/// The largest rate (events per second or per timeframe) a load may ask for: far above what
/// one process makes (a few times 10^7 per core), low enough that counts cannot overflow.
pub const MAX_RATE: f64 = 1e9;

/// The most cases a simulation may keep open (about 32 bytes each, all opened at the start).
pub const MAX_CONCURRENT_CASES: u64 = 10_000_000;

const SIMULATION_FIELDS: &[&str] = &[
    "type",
    "steps",
    "caseId",
    "maxConcurrentCases",
    "load",
    "genTimeframesTilStart",
    "timeframe",
    "startTime",
    "timestampFormat",
    "clock",
    "emittedAt",
    "maxEvents",
    "duration",
];

fn simulation_spec(reader: &mut Reader, spec: &Obj) -> Option<SimulationSpec> {
    reader.deny_unknown(spec, SIMULATION_FIELDS, "a simulation spec");
    let (type_node, type_path) = match spec.get("type") {
        Some(found) => found,
        None => {
            reader.missing(spec, "type", "the simulation spec", "countBased");
            return None;
        }
    };
    let which = reader.choice(
        type_node,
        &type_path,
        "simulation type",
        &SimulationKind::NAMES,
    )?;
    let case_id = match spec.get("caseId") {
        Some((n, p)) => {
            reader.choice(n, &p, "caseId", &["increasing"])?;
            CaseIdSpec::Increasing
        }
        None => CaseIdSpec::Increasing,
    };
    let max_concurrent_cases = match reader.opt_count(spec, "maxConcurrentCases", 1) {
        Some(Some(n)) if n > MAX_CONCURRENT_CASES => {
            let (node, path) = spec.get("maxConcurrentCases").expect("read above");
            reader.error(
                &path,
                node.loc,
                format!("`maxConcurrentCases` is {n}, more than def can keep open ({MAX_CONCURRENT_CASES})"),
                "every open case is held in memory from the start: use at most 10000000",
            );
            None
        }
        other => other,
    };
    let start_time = match spec.get("startTime") {
        None => Some(None),
        Some((n, p)) => {
            let text = reader.string_of(n, &p, "`startTime`")?;
            if text == "now" {
                Some(None)
            } else {
                match parse_start_time(&text) {
                    Ok(ts) => Some(Some(ts)),
                    Err(e) => {
                        reader.error(
                            &p,
                            n.loc,
                            format!("`startTime` `{text}` is not a time: {e}"),
                            "write `now` or an RFC 3339 time such as `2026-01-01T08:00:00Z`",
                        );
                        None
                    }
                }
            }
        }
    };
    let timestamp_format = match spec.get("timestampFormat") {
        None => Some(TimestampFormat::Original),
        Some((n, p)) => reader
            .choice(n, &p, "timestampFormat", &["original", "iso8601"])
            .map(|w| match w {
                "iso8601" => TimestampFormat::Iso8601,
                _ => TimestampFormat::Original,
            }),
    };
    let clock = match spec.get("clock") {
        None => Some(ClockSpec::Simulated),
        Some((n, p)) => reader
            .choice(n, &p, "clock", &["simulated", "wall"])
            .map(|w| match w {
                "wall" => ClockSpec::Wall,
                _ => ClockSpec::Simulated,
            }),
    };
    let emitted_at = reader.opt_bool(spec, "emittedAt").unwrap_or(false);
    let max_events = reader.opt_count(spec, "maxEvents", 1);
    let duration = reader.opt_number(spec, "duration", Some(0.0));
    let load = |reader: &mut Reader| match spec.get("load") {
        Some((n, p)) => load_spec(reader, n, &p),
        None => {
            reader.missing(
                spec,
                "load",
                "a stream or loadTest simulation",
                "{loadBehavior: constant, load: 10}",
            );
            None
        }
    };
    let kind = match which {
        "countBased" => match spec.get("steps") {
            Some((n, p)) => reader
                .count_of(n, &p, "steps", 1)
                .map(|steps| SimulationKind::CountBased { steps }),
            None => {
                reader.missing(spec, "steps", "a countBased simulation", "100");
                None
            }
        },
        "stream" => load(reader).map(|load| SimulationKind::Stream { load }),
        _ => {
            let load = load(reader);
            let til_start = reader.opt_count(spec, "genTimeframesTilStart", 0);
            let timeframe = reader.opt_count(spec, "timeframe", 1);
            let steps = reader.opt_count(spec, "steps", 1);
            Some(SimulationKind::LoadTest {
                load: load?,
                gen_timeframes_til_start: til_start?.unwrap_or(0),
                timeframe_ms: timeframe?.unwrap_or(1000),
                steps: steps?,
            })
        }
    };
    Some(SimulationSpec {
        kind: At {
            value: kind?,
            place: reader.place(&type_path, type_node.loc),
        },
        case_id,
        max_concurrent_cases: max_concurrent_cases?.unwrap_or(1) as u32,
        start_time: start_time?,
        timestamp_format: timestamp_format?,
        clock: clock?,
        emitted_at,
        max_events: max_events?,
        duration_secs: duration?,
    })
}

/// Parses an RFC 3339 time, or a civil time without offset taken as UTC.
pub fn parse_start_time(text: &str) -> Result<jiff::Timestamp, String> {
    let ts = match text.parse::<jiff::Timestamp>() {
        Ok(ts) => ts,
        Err(_) => text
            .parse::<jiff::civil::DateTime>()
            .and_then(|dt| jiff::tz::Offset::UTC.to_timestamp(dt))
            .map_err(|e| e.to_string())?,
    };
    if ts.as_millisecond() < crate::engine::clock::MIN_MS {
        return Err("it is before the year 0, which timestamps cannot show".into());
    }
    Ok(ts)
}

fn load_spec(reader: &mut Reader, node: &Node, path: &str) -> Option<LoadSpec> {
    let obj = reader.obj(node, path, "`load`")?;
    let (n, p) = obj.get("loadBehavior").or_else(|| {
        reader.missing(&obj, "loadBehavior", "the load", "constant");
        None
    })?;
    // The original README's example says `loadBehavior: load`; read it as `constant`.
    let word = reader.string_of(n, &p, "`loadBehavior`")?;
    let which = if word == "load" {
        reader.warn(
            &p,
            n.loc,
            "`loadBehavior: load` is read as `constant`",
            "write `loadBehavior: constant`",
        );
        "constant"
    } else {
        reader.choice(n, &p, "loadBehavior", &LoadSpec::NAMES)?
    };
    let fields: &[&str] = match which {
        "constant" => &["loadBehavior", "load"],
        "gradual" => &["loadBehavior", "tickCount", "minimalLoad", "load"],
        "sinus" => &["loadBehavior", "mean", "amplitude", "phase"],
        "steps" => &["loadBehavior", "steps", "repeat"],
        _ => &["loadBehavior", "path"],
    };
    reader.deny_unknown(&obj, fields, &format!("a {which} load"));
    let what = format!("the {which} load");
    let rate = |reader: &mut Reader, key: &str| {
        let x = reader.req_number(&obj, key, &what, Some(0.0))?;
        if x > MAX_RATE {
            let (node, path) = obj.get(key).expect("read above");
            reader.error(
                &path,
                node.loc,
                format!(
                    "`{key}` is {x}, above the largest rate def accepts ({MAX_RATE:e} events/s)"
                ),
                "one core makes a few times 10^7 events/s; ask for at most 1e9",
            );
            return None;
        }
        Some(x)
    };
    Some(match which {
        "constant" => LoadSpec::Constant {
            load: rate(reader, "load")?,
        },
        "gradual" => {
            let ticks = match obj.get("tickCount") {
                Some((n, p)) => reader.count_of(n, &p, "tickCount", 1),
                None => {
                    reader.missing(&obj, "tickCount", &what, "60");
                    None
                }
            };
            let minimal = rate(reader, "minimalLoad");
            let load = rate(reader, "load");
            LoadSpec::Gradual {
                tick_count: ticks?,
                minimal_load: minimal?,
                load: load?,
            }
        }
        "sinus" => {
            let mean = rate(reader, "mean");
            let amplitude = reader.req_number(&obj, "amplitude", &what, Some(0.0));
            let phase = reader.req_number(&obj, "phase", &what, None);
            let (mean, amplitude, phase) = (mean?, amplitude?, phase?);
            if phase == 0.0 {
                reader.error(
                    path,
                    obj.loc,
                    "`phase` is 0",
                    "use a non-zero phase (ticks per half wave)",
                );
                return None;
            }
            if amplitude > mean {
                reader.error(
                    path,
                    obj.loc,
                    format!("`amplitude` {amplitude} exceeds `mean` {mean}, so the rate would go below zero"),
                    "keep amplitude at most mean",
                );
                return None;
            }
            LoadSpec::Sinus {
                mean,
                amplitude,
                phase,
            }
        }
        "steps" => {
            let repeat = reader.opt_bool(&obj, "repeat").unwrap_or(false);
            let (n, p) = obj.get("steps").or_else(|| {
                reader.missing(&obj, "steps", &what, "[{rate: 100, seconds: 10}]");
                None
            })?;
            let Value::Seq(items) = &n.value else {
                reader.error(
                    &p,
                    n.loc,
                    "`steps` must be a list",
                    "write `[{rate: 100, seconds: 10}, ...]`",
                );
                return None;
            };
            let mut steps = Vec::new();
            let mut ok = !items.is_empty();
            if items.is_empty() {
                reader.error(
                    &p,
                    n.loc,
                    "`steps` is empty",
                    "add at least one `{rate, seconds}`",
                );
            }
            for (i, item) in items.iter().enumerate() {
                let ip = format!("{p}[{i}]");
                let Some(step) = reader.obj(item, &ip, "a load step") else {
                    ok = false;
                    continue;
                };
                reader.deny_unknown(&step, &["rate", "seconds"], "a load step");
                let r = reader
                    .req_number(&step, "rate", "the load step", Some(0.0))
                    .filter(|r| {
                        let ok = *r <= MAX_RATE;
                        if !ok {
                            reader.error(
                                &step.child("rate"),
                                step.loc,
                                format!("`rate` is {r}, above the largest rate def accepts ({MAX_RATE:e})"),
                                "ask for at most 1e9 events/s",
                            );
                        }
                        ok
                    });
                let s = reader.req_number(&step, "seconds", "the load step", Some(0.0));
                match (r, s) {
                    (Some(rate), Some(seconds)) => steps.push(RateStep { rate, seconds }),
                    _ => ok = false,
                }
            }
            if ok && steps.iter().all(|s| s.seconds == 0.0) {
                reader.error(
                    &p,
                    n.loc,
                    "every step lasts 0 seconds",
                    "give at least one step a positive `seconds`",
                );
                ok = false;
            }
            ok.then_some(LoadSpec::Steps { steps, repeat })?
        }
        _ => {
            let path_at = reader.req_string(&obj, "path", &what, "load.csv")?;
            let file = resolve(&reader.source.path, &path_at.value);
            match read_trace(&file) {
                Ok(rates) => LoadSpec::Trace { path: file, rates },
                Err(e) => {
                    reader.error(
                        &path_at.place.path,
                        path_at.place.loc,
                        format!("cannot use trace `{}`: {e}", file.display()),
                        "give a CSV file of `second,rate` rows",
                    );
                    return None;
                }
            }
        }
    })
}

/// A path in a config is relative to the config file's folder.
fn resolve(config: &Path, path: &str) -> PathBuf {
    let p = PathBuf::from(path);
    if p.is_absolute() {
        return p;
    }
    match config.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && config.exists() => dir.join(p),
        _ => p,
    }
}

/// Reads a `second,rate` CSV into one rate per second (seconds not listed keep the previous rate).
pub fn read_trace(path: &Path) -> Result<Vec<f64>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut points: Vec<(u64, f64)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cols = line.split(',').map(str::trim);
        let (Some(sec), Some(rate)) = (cols.next(), cols.next()) else {
            return Err(format!("line {}: expected `second,rate`", i + 1));
        };
        let (Ok(sec), Ok(rate)) = (sec.parse::<f64>(), rate.parse::<f64>()) else {
            if i == 0 {
                continue; // a header
            }
            return Err(format!("line {}: `{line}` is not `second,rate`", i + 1));
        };
        if !(sec >= 0.0 && sec.is_finite() && (0.0..=MAX_RATE).contains(&rate)) {
            return Err(format!(
                "line {}: second must be finite and not negative, rate between 0 and {MAX_RATE:e}",
                i + 1
            ));
        }
        if let Some(&(last, _)) = points.last() {
            if (sec as u64) <= last {
                return Err(format!("line {}: seconds must increase", i + 1));
            }
        }
        points.push((sec as u64, rate));
    }
    let Some(&(last, _)) = points.last() else {
        return Err("no `second,rate` rows".into());
    };
    let mut rates = vec![0.0; last as usize + 1];
    let mut current = 0.0;
    let mut next = points.iter().peekable();
    for (sec, slot) in rates.iter_mut().enumerate() {
        while let Some(&&(s, r)) = next.peek() {
            if s as usize <= sec {
                current = r;
                next.next();
            } else {
                break;
            }
        }
        *slot = current;
    }
    Ok(rates)
}
