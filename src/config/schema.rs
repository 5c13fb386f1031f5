//! The JSON Schema of a config document (`def schema`), for editors: yaml-language-server
//! (VS Code's YAML extension, Neovim, Helix, ...) completes, documents and checks a file that
//! names it in a `# yaml-language-server: $schema=...` modeline.
//!
//! Nothing here is written by hand but the shape: every property, its type and bounds, its
//! default and its description come from the field tables the readers deny unknown fields by
//! ([`Kind::field_table`], and each family's common fields), and every enum from a [`Kind`]'s
//! words. A field added to a reader is in the schema.
//!
//! The schema is draft-07, which every yaml-language-server understands. A document is `oneOf`
//! datasource, sink or simulation by its `kind`; within a spec, the fields of each type are
//! chosen by an `if`/`then` on its type word (`type`, `selection`, `loadBehavior`). What a
//! schema cannot say (probabilities that add up to 1, references between documents, bounds
//! that depend on another field) is left to `def validate`.

use super::datasource::{self, EDGE_FIELDS};
use super::document::{DocumentKind, DOCUMENT_FIELDS};
use super::duration::{self, DurationType};
use super::file_output::ROTATE_FIELDS;
use super::load::{self, LoadBehavior, LEGACY_CONSTANT, STEP_FIELDS};
use super::network;
use super::read::{Field, FieldDefault, FieldType, Kind, Nested};
use super::selection::SelectionType;
use super::simulation::{self, SimulationType};
use super::sink::{self, PartitionType, SinkType, PARTITION_COMMON_FIELDS};
use super::yaml::{Node, Value as Yaml};
use serde_json::{json, Map, Value};

/// The JSON Schema dialect the schema is written in.
pub const DIALECT: &str = "http://json-schema.org/draft-07/schema#";

/// The schema of one config document (`kind`, `name`, `spec`).
pub fn json_schema() -> Value {
    let by_kind: Vec<Value> = DocumentKind::ALL
        .iter()
        .map(|&kind| {
            json!({
                "properties": {
                    "kind": { "const": kind.name() },
                    "spec": reference(definition(kind)),
                },
                "required": ["kind"],
            })
        })
        .collect();
    let mut definitions = Map::new();
    for kind in DocumentKind::ALL {
        let (mut spec, description) = match kind {
            DocumentKind::Datasource => (
                datasource_spec(),
                "A datasource: a node of the Markov chain, its outgoing edges and how it picks one",
            ),
            DocumentKind::Sink => (
                sink_spec(),
                "A sink: where the events of some datasources go",
            ),
            DocumentKind::Simulation => (simulation_spec(), "A simulation: how the chain is run"),
            DocumentKind::Network => (
                closed(&[network::FIELDS]),
                "A network: what clocks and the network do to some datasources' events",
            ),
        };
        spec["description"] = json!(description);
        definitions.insert(definition(*kind).into(), spec);
    }
    for nested in NESTED {
        if let Some(schema) = nested_definition(*nested) {
            definitions.insert(nested_name(*nested).into(), schema);
        }
    }
    json!({
        "$schema": DIALECT,
        "title": "def config document",
        "description": "One document of a def (Distributed Event Factory) config: \
            a datasource (a node of the Markov chain), a sink or a simulation",
        "type": "object",
        "properties": properties(DOCUMENT_FIELDS),
        "required": required(DOCUMENT_FIELDS),
        "additionalProperties": false,
        "oneOf": by_kind,
        "definitions": definitions,
    })
}

/// Every nested shape, for the definitions.
const NESTED: &[Nested] = &[
    Nested::Spec,
    Nested::EventData,
    Nested::Duration,
    Nested::Load,
    Nested::LoadSteps,
    Nested::Partition,
    Nested::Settings,
    Nested::Rotate,
    Nested::Columns,
    Nested::NetworkClock,
    Nested::Outage,
];

/// The definition of a document kind's spec.
fn definition(kind: DocumentKind) -> &'static str {
    kind.name()
}

/// The definition a nested shape refers to.
fn nested_name(nested: Nested) -> &'static str {
    match nested {
        Nested::Spec => "spec",
        Nested::EventData => "eventDataEntry",
        Nested::Duration => "duration",
        Nested::Load => "load",
        Nested::LoadSteps => "loadStep",
        Nested::Partition => "partition",
        Nested::Settings => "settings",
        Nested::Rotate => "rotate",
        Nested::Columns => "columns",
        Nested::NetworkClock => "networkClock",
        Nested::Outage => "outage",
    }
}

/// The definition of a nested shape; `None` for those written in place.
fn nested_definition(nested: Nested) -> Option<Value> {
    Some(match nested {
        // Chosen by the document's `kind` (see the `oneOf`).
        Nested::Spec => return None,
        Nested::EventData => closed(&[EDGE_FIELDS]),
        Nested::LoadSteps => closed(&[STEP_FIELDS]),
        Nested::Duration => duration_schema(),
        Nested::Load => load_schema(),
        Nested::Partition => typed("type", PARTITION_COMMON_FIELDS, words_of::<PartitionType>),
        Nested::Settings => json!({
            "type": "object",
            "additionalProperties": { "type": ["string", "number", "boolean"] },
        }),
        // Exactly one of its fields.
        Nested::Rotate => {
            let mut one = closed(&[ROTATE_FIELDS]);
            one["minProperties"] = json!(1);
            one["maxProperties"] = json!(1);
            one
        }
        Nested::Columns => closed(&[sink::COLUMN_FIELDS]),
        Nested::NetworkClock => closed(&[network::CLOCK_FIELDS]),
        Nested::Outage => closed(&[network::OUTAGE_FIELDS]),
    })
}

/// The words that name one kind: its name and aliases.
fn words_of<K: Kind>(kind: K) -> Vec<&'static str> {
    std::iter::once(kind.name())
        .chain(kind.aliases().iter().copied())
        .collect()
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/definitions/{name}") })
}

/// The schema of a value of type `ty`.
fn type_schema(ty: FieldType) -> Value {
    match ty {
        // The reader takes an unquoted number or boolean as its text.
        FieldType::String => json!({ "type": ["string", "number", "boolean"] }),
        FieldType::Number { min, max } => {
            let mut s = json!({ "type": "number" });
            if let Some(min) = min {
                s["minimum"] = json!(min);
            }
            if let Some(max) = max {
                s["maximum"] = json!(max);
            }
            s
        }
        FieldType::Count { min, max } => {
            let mut s = json!({ "type": "integer", "minimum": min });
            if let Some(max) = max {
                s["maximum"] = json!(max);
            }
            s
        }
        FieldType::Bool => json!({ "type": "boolean" }),
        FieldType::Word(words) => json!({ "type": "string", "enum": words() }),
        FieldType::Probabilities => json!({
            "type": "array",
            "minItems": 1,
            "items": { "type": "number", "minimum": 0, "maximum": 1 },
        }),
        FieldType::Strings => json!({
            "type": "array",
            "items": type_schema(FieldType::String),
        }),
        FieldType::Quantiles => json!({
            "type": "array",
            "minItems": 2,
            "items": { "type": "number", "minimum": 0 },
        }),
        FieldType::Nested(nested) => match nested {
            Nested::Spec => json!({ "type": "object" }),
            Nested::EventData | Nested::LoadSteps => json!({
                "type": "array",
                "minItems": 1,
                "items": reference(nested_name(nested)),
            }),
            Nested::Duration
            | Nested::Load
            | Nested::Partition
            | Nested::Settings
            | Nested::Rotate
            | Nested::Columns
            | Nested::NetworkClock
            | Nested::Outage => reference(nested_name(nested)),
        },
    }
}

/// The schema of one field: its type's, with its description and default.
pub fn field_schema(field: &Field) -> Value {
    let mut schema = type_schema(field.ty);
    // In draft-07 a `$ref` hides its siblings: wrap it so the description shows.
    if schema.get("$ref").is_some() {
        schema = json!({ "allOf": [schema] });
    }
    schema["description"] = json!(field.description);
    if let Some(default) = field.default {
        schema["default"] = default_value(default);
    }
    schema
}

fn default_value(default: FieldDefault) -> Value {
    match default {
        FieldDefault::String(s) => json!(s),
        FieldDefault::Number(x) => json!(x),
        FieldDefault::Count(n) => json!(n),
        FieldDefault::Bool(b) => json!(b),
        FieldDefault::Word(word) => json!(word()),
    }
}

/// The `properties` of some tables (a name in two tables is described by the first).
fn properties(fields: &[Field]) -> Value {
    properties_of(&[fields])
}

fn properties_of(tables: &[&[Field]]) -> Value {
    let mut map = Map::new();
    for field in tables.iter().flat_map(|t| t.iter()) {
        map.entry(field.name).or_insert_with(|| field_schema(field));
    }
    Value::Object(map)
}

/// The names of the required fields of some tables.
fn required(fields: &[Field]) -> Value {
    required_of(&[fields])
}

fn required_of(tables: &[&[Field]]) -> Value {
    let mut names: Vec<&str> = Vec::new();
    for field in tables.iter().flat_map(|t| t.iter()) {
        if field.required && !names.contains(&field.name) {
            names.push(field.name);
        }
    }
    json!(names)
}

/// A mapping of exactly these tables' fields.
fn closed(tables: &[&[Field]]) -> Value {
    json!({
        "type": "object",
        "properties": properties_of(tables),
        "required": required_of(tables),
        "additionalProperties": false,
    })
}

/// One `if`/`then` per kind: when `key` is one of the kind's words, `then(kind)` applies.
fn per_kind<K: Kind>(
    key: &str,
    words: impl Fn(K) -> Vec<&'static str>,
    then: impl Fn(K) -> Value,
) -> Value {
    K::ALL
        .iter()
        .map(|&kind| {
            json!({
                "if": {
                    "properties": { key: { "enum": words(kind) } },
                    "required": [key],
                },
                "then": then(kind),
            })
        })
        .collect()
}

/// A mapping chosen by the kind word under `key`: `common`'s fields, and for each kind exactly
/// those and its own.
fn typed<K: Kind>(
    key: &str,
    common: &'static [Field],
    words: impl Fn(K) -> Vec<&'static str>,
) -> Value {
    json!({
        "type": "object",
        "properties": properties(common),
        "required": required(common),
        "allOf": per_kind(key, words, |kind: K| closed(&[common, kind.field_table()])),
    })
}

/// A datasource spec: its own fields, and those of its selection. The reader takes another
/// selection's fields too, without reading them (it warns): they are allowed, of any type.
fn datasource_spec() -> Value {
    let mut own = properties(datasource::FIELDS);
    add_untyped(&mut own, SelectionType::ALL.iter().map(|k| k.field_table()));
    json!({
        "type": "object",
        "properties": own,
        "required": required(datasource::FIELDS),
        "additionalProperties": false,
        "allOf": per_kind("selection", words_of::<SelectionType>, |kind| {
            json!({
                "properties": properties_of(&[kind.field_table()]),
                "required": required(kind.field_table()),
            })
        }),
    })
}

/// A sink spec: the common fields, and those of its `type`.
fn sink_spec() -> Value {
    typed("type", sink::COMMON_FIELDS, words_of::<SinkType>)
}

/// A simulation spec: the common fields, and those of its `type`. The reader takes every
/// type's fields on every type (the original's files carry fields their type ignores) without
/// reading those of other types: they are allowed, of any type.
fn simulation_spec() -> Value {
    let mut common = properties(simulation::COMMON_FIELDS);
    add_untyped(
        &mut common,
        SimulationType::ALL.iter().map(|k| k.field_table()),
    );
    json!({
        "type": "object",
        "properties": common,
        "required": required(simulation::COMMON_FIELDS),
        "additionalProperties": false,
        "allOf": per_kind("type", words_of::<SimulationType>, |kind| {
            json!({
                "properties": properties(kind.field_table()),
                "required": required(kind.field_table()),
            })
        }),
    })
}

/// Adds the fields of `tables` not in `properties` yet, with their description only: allowed
/// whatever they hold (their kind's `then` types them).
fn add_untyped<'a>(properties: &mut Value, tables: impl Iterator<Item = &'a [Field]>) {
    let Value::Object(map) = properties else {
        return;
    };
    for field in tables.flatten() {
        map.entry(field.name)
            .or_insert_with(|| json!({ "description": field.description }));
    }
}

/// A duration: a number of minutes (read as a constant one), or a mapping with a `type`.
fn duration_schema() -> Value {
    let constant = DurationType::Constant
        .field_table()
        .iter()
        .find(|f| f.name == "duration")
        .expect("a constant duration has a `duration` field");
    let mut minutes = field_schema(constant);
    minutes["description"] = json!("Minutes: a constant duration");
    json!({
        "anyOf": [
            minutes,
            typed("type", duration::COMMON_FIELDS, words_of::<DurationType>),
        ],
    })
}

/// A load: a mapping with a `loadBehavior` (the legacy `load` is a constant one).
fn load_schema() -> Value {
    typed("loadBehavior", load::COMMON_FIELDS, |kind: LoadBehavior| {
        let mut words = words_of(kind);
        if kind == LoadBehavior::Constant {
            words.push(LEGACY_CONSTANT);
        }
        words
    })
}

/// The JSON value a YAML node stands for, as the schema sees it: what yaml-language-server
/// checks, and what the tests validate. JSON has no infinite or NaN numbers: those become
/// their text, so that a number field rejects them as the reader does.
pub fn yaml_to_json(node: &Node) -> Value {
    match &node.value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => json!(b),
        Yaml::Int(i) => json!(i),
        Yaml::Float(x) => {
            serde_json::Number::from_f64(*x).map_or_else(|| json!(x.to_string()), Value::Number)
        }
        Yaml::Str(s) => json!(s),
        Yaml::Seq(items) => items.iter().map(yaml_to_json).collect(),
        Yaml::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(key, value)| (key.name.clone(), yaml_to_json(value)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConsoleFormat, FileFormat};

    /// Every field table of every family, with what it belongs to.
    fn tables() -> Vec<(String, &'static [Field])> {
        fn of<K: Kind>(out: &mut Vec<(String, &'static [Field])>) {
            for kind in K::ALL {
                out.push((format!("{} {}", K::WHAT, kind.name()), kind.field_table()));
            }
        }
        let mut out: Vec<(String, &'static [Field])> = vec![
            ("document".into(), DOCUMENT_FIELDS),
            ("datasource".into(), datasource::FIELDS),
            ("eventData entry".into(), EDGE_FIELDS),
            ("duration".into(), duration::COMMON_FIELDS),
            ("sink".into(), sink::COMMON_FIELDS),
            ("partition".into(), PARTITION_COMMON_FIELDS),
            ("csv columns".into(), sink::COLUMN_FIELDS),
            ("simulation".into(), simulation::COMMON_FIELDS),
            ("load".into(), load::COMMON_FIELDS),
            ("load step".into(), STEP_FIELDS),
            ("rotate".into(), ROTATE_FIELDS),
            ("network".into(), network::FIELDS),
            ("network clock".into(), network::CLOCK_FIELDS),
            ("outage".into(), network::OUTAGE_FIELDS),
        ];
        of::<DocumentKind>(&mut out);
        of::<SelectionType>(&mut out);
        of::<DurationType>(&mut out);
        of::<SinkType>(&mut out);
        of::<ConsoleFormat>(&mut out);
        of::<crate::config::Compression>(&mut out);
        of::<FileFormat>(&mut out);
        of::<PartitionType>(&mut out);
        of::<SimulationType>(&mut out);
        of::<LoadBehavior>(&mut out);
        out
    }

    /// Every (name, description) of a property anywhere in `schema`.
    fn described(schema: &Value, out: &mut Vec<(String, String)>) {
        match schema {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    for (name, prop) in props {
                        if let Some(Value::String(d)) = prop.get("description") {
                            out.push((name.clone(), d.clone()));
                        }
                    }
                }
                map.values().for_each(|v| described(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| described(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_field_of_every_table_is_in_the_schema_with_its_description() {
        let mut found = Vec::new();
        described(&json_schema(), &mut found);
        for (owner, table) in tables() {
            for field in table {
                let pair = (field.name.to_string(), field.description.to_string());
                assert!(
                    found.contains(&pair),
                    "{owner}: `{}` not in the schema",
                    field.name
                );
            }
        }
    }

    #[test]
    fn tables_name_each_field_once_and_describe_it() {
        for (owner, table) in tables() {
            let mut names: Vec<&str> = table.iter().map(|f| f.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), table.len(), "{owner}: a field named twice");
            for field in table {
                assert!(!field.description.is_empty(), "{owner}: `{}`", field.name);
                assert!(
                    !(field.required && field.default.is_some()),
                    "{owner}: `{}` is required and has a default",
                    field.name
                );
            }
        }
    }

    #[test]
    fn every_default_is_a_value_of_its_field() {
        for (owner, table) in tables() {
            for field in table {
                let Some(default) = field.default else {
                    continue;
                };
                let schema = type_schema(field.ty);
                let value = default_value(default);
                assert!(
                    jsonschema::draft7::is_valid(&schema, &value),
                    "{owner}: the default {value} of `{}` is not a {schema}",
                    field.name
                );
            }
        }
    }

    #[test]
    fn yaml_becomes_the_json_it_stands_for() {
        let docs =
            crate::config::yaml::parse_documents("a: [1, 2.5, true, null, x]\nb: {c: .inf}\n")
                .unwrap();
        assert_eq!(
            yaml_to_json(&docs[0]),
            json!({"a": [1, 2.5, true, null, "x"], "b": {"c": "inf"}})
        );
    }
}
