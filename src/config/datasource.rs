//! `kind: datasource`: a vertex of the Markov chain, its outgoing edges (`eventData`), and how
//! it picks one ([`super::selection`]) and how long each takes ([`super::duration`]).

use super::document::At;
use super::duration::{self, DurationSpec};
use super::read::{names, Field, FieldDefault, FieldType, Kind, MapNode, Nested, Reader};
use super::selection::{self, SelectionSpec, SelectionType};
use super::yaml::{Node, Value};
use super::Place;

/// The name of the special datasource every case starts at.
pub const START: &str = "<start>";
/// The built-in datasource that finishes a case.
pub const END: &str = "<end>";

/// `kind: datasource`: a vertex of the Markov chain.
#[derive(Clone, Debug)]
pub struct DatasourceSpec {
    /// The node name written into each event (`spec.name`).
    pub name: At<String>,
    pub group: String,
    pub selection: At<SelectionSpec>,
    pub event_data: Vec<EdgeSpec>,
}

/// One entry of `eventData`: an edge of the chain.
#[derive(Clone, Debug)]
pub struct EdgeSpec {
    pub activity: String,
    pub transition: At<String>,
    pub duration: DurationSpec,
    pub place: Place,
}

/// The group of a datasource whose spec names none.
pub const DEFAULT_GROUP: &str = "";

/// The fields of an `eventData` entry.
pub const EDGE_FIELDS: &[Field] = &[
    Field::new(
        "activity",
        FieldType::String,
        "The activity written into the event when the case takes this entry",
    )
    .required(),
    Field::new(
        "transition",
        FieldType::String,
        "The datasource the case moves to next, or `<end>` to finish it",
    )
    .required(),
    Field::new(
        "duration",
        FieldType::Nested(Nested::Duration),
        "Simulated minutes the step takes: a number, or a distribution with a `type`",
    )
    .required(),
];

/// A datasource spec's own fields; those of its selection type come before the last,
/// `eventData` (see [`fields`]).
pub const FIELDS: &[Field] = &[
    Field::new(
        "name",
        FieldType::String,
        "The node name written into each event; the document's name when left out",
    ),
    Field::new(
        "group",
        FieldType::String,
        "The group written into each event (a site, a line)",
    )
    .default(FieldDefault::String(DEFAULT_GROUP)),
    Field::new(
        "selection",
        FieldType::Word(SelectionType::words),
        "How the datasource picks one of its eventData entries",
    )
    .required(),
    Field::new(
        "eventData",
        FieldType::Nested(Nested::EventData),
        "The outgoing edges: an activity, the next datasource and a duration each",
    )
    .required(),
];

/// The fields of a datasource spec: its own and those of every selection type, in the order
/// messages list them (`eventData` last).
pub fn fields() -> Vec<&'static str> {
    let (own, last) = FIELDS.split_at(FIELDS.len() - 1);
    let mut fields = names(own);
    for kind in SelectionType::ALL {
        for field in kind.fields() {
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
    }
    fields.extend(names(last));
    fields
}

/// Reads a datasource spec; `doc_name` stands in for a missing `spec.name`.
pub(crate) fn read(
    reader: &mut Reader,
    spec: &MapNode,
    doc_name: &At<String>,
) -> Option<DatasourceSpec> {
    reader.deny_unknown(spec, &fields(), "a datasource spec");
    // `spec.name` is the node name; the document name stands in when it is left out.
    let name = match spec.get("name") {
        Some(_) => reader.req_string(spec, "name", "the datasource spec", "MyNode"),
        None => Some(doc_name.clone()),
    };
    let group = reader
        .opt_string(spec, "group")
        .unwrap_or_else(|| DEFAULT_GROUP.to_string());
    let selection = selection::read(reader, spec);
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
    let mut ok = true;
    for (key, len) in selection.value.distribution_lengths() {
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
    reader.deny_unknown(&obj, &names(EDGE_FIELDS), "an eventData entry");
    let activity = reader.req_string(&obj, "activity", "the eventData entry", "\"Assemble\"");
    let transition = reader.req_string(&obj, "transition", "the eventData entry", "\"<end>\"");
    let duration = match obj.get("duration") {
        Some((n, p)) => duration::read(reader, n, &p),
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
