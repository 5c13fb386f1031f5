//! A YAML document (`kind`, `name`, `spec`) and the dispatch of its `spec` to the reader of
//! its component family: [`super::datasource`], [`super::sink`] or [`super::simulation`].

use super::datasource::{self, DatasourceSpec};
use super::diagnostic::Place;
use super::network::{self, NetworkSpec};
use super::read::{names, Field, FieldType, Kind, Nested, Reader};
use super::simulation::{self, SimulationSpec};
use super::sink::{self, SinkSpec};
use super::yaml::{Key, Node, Value};

/// A value and where in the configuration it was written.
#[derive(Clone, Debug)]
pub struct At<T> {
    pub value: T,
    pub place: Place,
}

/// Where each field of a spec mapping was written, so that a later check can point at the
/// field it is about (the `topic:` line, not the `type:` line).
#[derive(Clone, Debug, Default)]
pub struct FieldPlaces(pub Vec<(String, Place)>);

impl FieldPlaces {
    /// The place of `field`, if the spec has it.
    pub fn of(&self, field: &str) -> Option<&Place> {
        self.0
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, p)| p)
    }
}

/// One YAML document: `kind`, `name` and a typed `spec`.
#[derive(Clone, Debug)]
pub struct Document<S> {
    pub name: At<String>,
    /// Where the document starts.
    pub place: Place,
    pub spec: S,
}

/// What a document declares (`kind:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    Datasource,
    Sink,
    Simulation,
    /// What the network does to some datasources' events (docs/realism.md).
    Network,
}

impl Kind for DocumentKind {
    const ALL: &'static [DocumentKind] = &[
        DocumentKind::Datasource,
        DocumentKind::Sink,
        DocumentKind::Simulation,
        DocumentKind::Network,
    ];
    const WHAT: &'static str = "kind";

    fn name(self) -> &'static str {
        match self {
            DocumentKind::Datasource => "datasource",
            DocumentKind::Sink => "sink",
            DocumentKind::Simulation => "simulation",
            DocumentKind::Network => "network",
        }
    }

    fn field_table(self) -> &'static [Field] {
        DOCUMENT_FIELDS
    }
}

/// The fields of every document.
pub const DOCUMENT_FIELDS: &[Field] = &[
    Field::new(
        "kind",
        FieldType::Word(DocumentKind::words),
        "What the document declares: a datasource (a node of the chain), a sink, a simulation or a network",
    )
    .required(),
    Field::new(
        "name",
        FieldType::String,
        "The document's name: sinks refer to datasources by it, --simulation chooses by it",
    )
    .required(),
    Field::new(
        "spec",
        FieldType::Nested(Nested::Spec),
        "The settings of the datasource, sink, simulation or network",
    )
    .required(),
];

/// A parsed document of any kind.
#[derive(Clone, Debug)]
pub enum AnyDocument {
    Datasource(Document<DatasourceSpec>),
    Sink(Document<SinkSpec>),
    Simulation(Document<SimulationSpec>),
    Network(Document<NetworkSpec>),
}

/// What was too broken to read, already reported: later checks must not report its
/// consequences again.
pub(crate) struct Broken<'a> {
    /// Names of datasource documents (and their node names): references to them are not
    /// reported as unknown.
    pub datasources: &'a mut Vec<String>,
    /// How many sink documents: datasources they might take are not reported as untaken.
    pub sinks: &'a mut usize,
}

/// Reads one document. `None` when it is too broken to use; then it is counted in `broken`.
pub(crate) fn read(reader: &mut Reader, node: &Node, broken: Broken) -> Option<AnyDocument> {
    let doc = read_document(reader, node);
    if doc.is_none() {
        if let Value::Map(entries) = &node.value {
            let says_sink = entries.iter().any(|(k, v)| {
                k.name == "kind"
                    && matches!(&v.value, Value::Str(s) if s == DocumentKind::Sink.name())
            });
            let has_refs = entries.iter().any(|(k, v)| {
                k.name == "spec"
                    && matches!(&v.value, Value::Map(spec)
                        if spec.iter().any(|(k, _)| k.name == "dataSourceRefs"))
            });
            if says_sink || has_refs {
                *broken.sinks += 1;
                return None;
            }
            // Anything not clearly a sink or simulation may be a (mistyped) datasource.
            let is_other_kind = |word: &str| {
                [
                    DocumentKind::Sink,
                    DocumentKind::Simulation,
                    DocumentKind::Network,
                ]
                .iter()
                .any(|k| k.name() == word)
            };
            let is_datasource = !entries.iter().any(|(k, v)| {
                k.name == "kind" && matches!(&v.value, Value::Str(s) if is_other_kind(s))
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
                broken.datasources.extend(named(entries));
                if let Some((_, spec)) = entries.iter().find(|(k, _)| k.name == "spec") {
                    if let Value::Map(spec) = &spec.value {
                        broken.datasources.extend(named(spec));
                    }
                }
            }
        }
    }
    doc
}

fn read_document(reader: &mut Reader, node: &Node) -> Option<AnyDocument> {
    let obj = reader.obj(node, "", "a document")?;
    reader.deny_unknown(&obj, &names(DOCUMENT_FIELDS), "a document");
    let place = reader.place("", node.loc);
    let kind = reader.req_kind::<DocumentKind>(&obj, "kind", "the document", "datasource");
    let name = reader.req_string(&obj, "name", "the document", "my-name");
    let spec_node = match obj.get("spec") {
        Some((n, _)) => Some(n),
        None => {
            reader.missing(&obj, "spec", "the document", "{...}");
            None
        }
    };
    let ((kind, _), name, spec_node) = (kind?, name?, spec_node?);
    let spec = reader.obj(spec_node, "spec", "`spec`")?;
    Some(match kind {
        DocumentKind::Datasource => AnyDocument::Datasource(Document {
            spec: datasource::read(reader, &spec, &name)?,
            name,
            place,
        }),
        DocumentKind::Sink => AnyDocument::Sink(Document {
            spec: sink::read(reader, &spec)?,
            name,
            place,
        }),
        DocumentKind::Simulation => AnyDocument::Simulation(Document {
            spec: simulation::read(reader, &spec)?,
            name,
            place,
        }),
        DocumentKind::Network => AnyDocument::Network(Document {
            spec: network::read(reader, &spec)?,
            name,
            place,
        }),
    })
}
