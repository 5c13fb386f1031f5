//! The field-reading toolkit every component family's reader uses.
//!
//! A `Reader` reads one file's located YAML tree into typed values, collecting every problem
//! as a [`Diagnostic`] instead of stopping at the first: a reader first reports unknown fields
//! (with a did-you-mean), then reads each field, pushing a diagnostic for a missing or
//! malformed one and carrying on, so one pass reports everything wrong with a document. (serde
//! derive would stop at the first error and loses locations inside tagged enums.)
//!
//! A [`Kind`] is a closed set of names a config chooses between (`type: kafka`,
//! `selection: uniform`): `Reader::kind` turns the word into the enum, so every dispatch on
//! it after that is an exhaustive `match` the compiler checks.

use super::diagnostic::{did_you_mean, Diagnostic, Diagnostics, Place, Source};
use super::document::{At, FieldPlaces};
use super::yaml::{Key, Loc, Node, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A closed set of component types, named by one YAML word.
///
/// Implemented by a `Copy` enum per family (sink types, simulation types, duration types,
/// ...). The reader matches words against [`Kind::ALL`] and from then on code matches on the
/// enum, never on strings, so adding a variant is a compile error wherever it is dispatched.
pub trait Kind: Copy + Eq + std::fmt::Debug + 'static {
    /// Every kind, in the order messages and docs list them.
    const ALL: &'static [Self];
    /// What the YAML word names, for messages: "sink type", "selection".
    const WHAT: &'static str;
    /// The YAML word.
    fn name(self) -> &'static str;
    /// Other words read as this kind (the original's `test` for `memory`).
    fn aliases(self) -> &'static [&'static str] {
        &[]
    }
    /// The fields a spec of this kind reads besides those every kind of its family has: the
    /// table the reader takes its allowed fields from and `def schema` its properties.
    fn field_table(self) -> &'static [Field];
    /// The names of [`Kind::field_table`], in its order.
    fn fields(self) -> Vec<&'static str> {
        names(self.field_table())
    }
    /// Every word accepted, names and aliases, in order.
    fn words() -> Vec<&'static str> {
        Self::ALL
            .iter()
            .flat_map(|k| std::iter::once(k.name()).chain(k.aliases().iter().copied()))
            .collect()
    }
}

/// One field of a spec: its name, what it holds, whether it must be given, its default and a
/// one-line description.
///
/// Each component family keeps its fields in static tables of these (a kind's
/// [`Kind::field_table`], a family's common fields). The readers deny unknown fields by the
/// tables' names and [`super::schema`] builds the JSON Schema from the same tables, so a field
/// cannot be read without being in the schema, nor the other way round.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    /// The reader reports the field as missing when it is absent.
    pub required: bool,
    /// What the reader takes when the field is absent.
    pub default: Option<FieldDefault>,
    /// One line for editors and docs.
    pub description: &'static str,
}

impl Field {
    /// An optional field without a default.
    pub const fn new(name: &'static str, ty: FieldType, description: &'static str) -> Field {
        Field {
            name,
            ty,
            required: false,
            default: None,
            description,
        }
    }

    /// The same field, required.
    pub const fn required(self) -> Field {
        Field {
            required: true,
            ..self
        }
    }

    /// The same field, with the default the reader takes when it is absent.
    pub const fn default(self, default: FieldDefault) -> Field {
        Field {
            default: Some(default),
            ..self
        }
    }
}

/// What a field holds, with the bounds its reader enforces.
#[derive(Clone, Copy, Debug)]
pub enum FieldType {
    /// A scalar read as text (unquoted numbers and booleans are taken as their text).
    String,
    /// A finite number within the bounds (inclusive).
    Number { min: Option<f64>, max: Option<f64> },
    /// A whole number within the bounds (inclusive).
    Count { min: u64, max: Option<u64> },
    /// `true` or `false`.
    Bool,
    /// One word of a [`Kind`]: its names and aliases (`K::words`), and any words the reader
    /// takes besides.
    Word(fn() -> Vec<&'static str>),
    /// A non-empty list of probabilities (numbers from 0 to 1) that add up to 1.
    Probabilities,
    /// A list of strings.
    Strings,
    /// At least two non-negative numbers in non-decreasing order: the quantiles of an
    /// empirical distribution at equally spaced probabilities 0, 1/n, ..., 1.
    Quantiles,
    /// A value with a shape of its own, read by its own table.
    Nested(Nested),
}

/// The values that have a shape of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nested {
    /// A document's `spec`: a datasource, sink or simulation spec, by the document's `kind`.
    Spec,
    /// A non-empty list of `eventData` entries.
    EventData,
    /// A number of minutes, or a mapping with a duration `type`.
    Duration,
    /// A mapping with a `loadBehavior`.
    Load,
    /// A non-empty list of load steps (`rate`, `seconds`).
    LoadSteps,
    /// A mapping with a partition `type`.
    Partition,
    /// A mapping of settings, each a string, number or boolean, passed on as text.
    Settings,
    /// A file sink's `rotate`: a mapping with one of `events` or `bytes`.
    Rotate,
    /// A mapping from event fields to CSV column names.
    Columns,
    /// A network's `clock`: `offset` and `driftPpm`.
    NetworkClock,
    /// A network's `outage`: `every` and `lasting`.
    Outage,
}

/// A field's default.
#[derive(Clone, Copy, Debug)]
pub enum FieldDefault {
    String(&'static str),
    Number(f64),
    Count(u64),
    Bool(bool),
    /// A kind's default word (`|| ConsoleFormat::default().name()`).
    Word(fn() -> &'static str),
}

/// The names of a table's fields, in order.
pub fn names(fields: &[Field]) -> Vec<&'static str> {
    fields.iter().map(|f| f.name).collect()
}

/// Reading state: the file being read and the problems found.
pub(crate) struct Reader<'d> {
    pub source: Arc<Source>,
    pub diags: &'d mut Diagnostics,
    /// YAML paths of the unknown fields reported so far.
    pub unknown: Vec<String>,
}

/// A YAML mapping being read, with its path in the document.
pub(crate) struct MapNode<'n> {
    pub entries: &'n [(Key, Node)],
    pub path: String,
    pub loc: Loc,
}

impl<'n> MapNode<'n> {
    pub fn get(&self, key: &str) -> Option<(&'n Node, String)> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| (v, self.child(key)))
    }

    pub fn child(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k.name == key)
    }
}

impl Reader<'_> {
    pub(crate) fn place(&self, path: &str, loc: Loc) -> Place {
        Place {
            source: self.source.clone(),
            loc,
            path: path.to_string(),
        }
    }

    pub(crate) fn error(
        &mut self,
        path: &str,
        loc: Loc,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let d = Diagnostic::error(message)
            .at(&self.place(path, loc))
            .help(help);
        self.diags.push(d);
    }

    pub(crate) fn warn(
        &mut self,
        path: &str,
        loc: Loc,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let d = Diagnostic::warning(message)
            .at(&self.place(path, loc))
            .help(help);
        self.diags.push(d);
    }

    pub(crate) fn obj<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        what: &str,
    ) -> Option<MapNode<'n>> {
        match &node.value {
            Value::Map(entries) => Some(MapNode {
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
    pub(crate) fn deny_unknown(&mut self, obj: &MapNode, allowed: &[&str], what: &str) {
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

    pub(crate) fn missing(&mut self, obj: &MapNode, key: &str, what: &str, example: &str) {
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

    pub(crate) fn string_of(&mut self, node: &Node, path: &str, what: &str) -> Option<String> {
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

    pub(crate) fn req_string(
        &mut self,
        obj: &MapNode,
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

    pub(crate) fn opt_string(&mut self, obj: &MapNode, key: &str) -> Option<String> {
        let (node, path) = obj.get(key)?;
        self.string_of(node, &path, &format!("`{key}`"))
    }

    /// A finite number; `min` is the smallest allowed value (inclusive).
    pub(crate) fn number_of(
        &mut self,
        node: &Node,
        path: &str,
        key: &str,
        min: Option<f64>,
    ) -> Option<f64> {
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

    pub(crate) fn req_number(
        &mut self,
        obj: &MapNode,
        key: &str,
        what: &str,
        min: Option<f64>,
    ) -> Option<f64> {
        match obj.get(key) {
            Some((node, path)) => self.number_of(node, &path, key, min),
            None => {
                self.missing(obj, key, what, "1");
                None
            }
        }
    }

    pub(crate) fn opt_number(
        &mut self,
        obj: &MapNode,
        key: &str,
        min: Option<f64>,
    ) -> Option<Option<f64>> {
        match obj.get(key) {
            Some((node, path)) => self.number_of(node, &path, key, min).map(Some),
            None => Some(None),
        }
    }

    /// A whole number of at least `min`.
    pub(crate) fn count_of(&mut self, node: &Node, path: &str, key: &str, min: u64) -> Option<u64> {
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

    pub(crate) fn opt_count(&mut self, obj: &MapNode, key: &str, min: u64) -> Option<Option<u64>> {
        match obj.get(key) {
            Some((node, path)) => self.count_of(node, &path, key, min).map(Some),
            None => Some(None),
        }
    }

    pub(crate) fn opt_bool(&mut self, obj: &MapNode, key: &str) -> Option<bool> {
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

    pub(crate) fn probabilities(&mut self, obj: &MapNode, key: &str) -> Option<Vec<f64>> {
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

    /// A `FieldType::Quantiles` list: at least two numbers, each at least 0 and none below
    /// the one before.
    pub(crate) fn quantiles(&mut self, obj: &MapNode, key: &str, what: &str) -> Option<Vec<f64>> {
        let Some((node, path)) = obj.get(key) else {
            self.missing(obj, key, what, "[1, 2, 4]");
            return None;
        };
        let fix = "write at least two minutes in non-decreasing order, such as `[1, 2, 4]`";
        let Value::Seq(items) = &node.value else {
            let found = format!(
                "`{key}` must be a list of minutes, found {}",
                node.value.kind()
            );
            self.error(&path, node.loc, found, fix);
            return None;
        };
        if items.len() < 2 {
            let found = format!(
                "`{key}` has {} value(s), at least 2 are needed",
                items.len()
            );
            self.error(&path, node.loc, found, fix);
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            let q = self.number_of(item, &item_path, key, Some(0.0))?;
            if let Some(&before) = out.last() {
                if q < before {
                    let found =
                        format!("`{key}[{i}]` is {q}, below the value before it ({before})");
                    self.error(&item_path, item.loc, found, fix);
                    return None;
                }
            }
            out.push(q);
        }
        Some(out)
    }

    /// The place of every field of `obj` (at its value).
    pub(crate) fn field_places(&self, obj: &MapNode) -> FieldPlaces {
        FieldPlaces(
            obj.entries
                .iter()
                .map(|(key, value)| {
                    (
                        key.name.clone(),
                        self.place(&obj.child(&key.name), value.loc),
                    )
                })
                .collect(),
        )
    }

    /// Reads a kind word such as `selection: uniform` or `type: kafka`.
    pub(crate) fn kind<K: Kind>(&mut self, node: &Node, path: &str) -> Option<K> {
        let word = self.string_of(node, path, &format!("`{}`", K::WHAT))?;
        if let Some(kind) = K::ALL
            .iter()
            .find(|k| k.name() == word || k.aliases().contains(&word.as_str()))
        {
            return Some(*kind);
        }
        let words = K::words();
        let help = match did_you_mean(&word, words.iter().copied()) {
            Some(name) => format!("did you mean `{name}`?"),
            None => format!("use one of: {}", words.join(", ")),
        };
        self.error(
            path,
            node.loc,
            format!("unknown {} `{word}`", K::WHAT),
            help,
        );
        None
    }

    /// Reads the kind under `key` of `obj`; a missing key is reported with `example`.
    pub(crate) fn req_kind<K: Kind>(
        &mut self,
        obj: &MapNode,
        key: &str,
        what: &str,
        example: &str,
    ) -> Option<(K, Place)> {
        let Some((node, path)) = obj.get(key) else {
            self.missing(obj, key, what, example);
            return None;
        };
        let kind = self.kind(node, &path)?;
        Some((kind, self.place(&path, node.loc)))
    }

    /// Reads the kind under `key` of `obj`, or `default` when it is absent.
    pub(crate) fn opt_kind<K: Kind>(&mut self, obj: &MapNode, key: &str, default: K) -> Option<K> {
        match obj.get(key) {
            Some((node, path)) => self.kind(node, &path),
            None => Some(default),
        }
    }

    /// A list of strings, each with its place.
    pub(crate) fn string_list(
        &mut self,
        node: &Node,
        path: &str,
        key: &str,
    ) -> Option<Vec<At<String>>> {
        let reader = self;
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
}

/// A path in a config is relative to the config file's folder.
pub(crate) fn resolve(config: &Path, path: &str) -> PathBuf {
    let p = PathBuf::from(path);
    if p.is_absolute() {
        return p;
    }
    match config.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && config.exists() => dir.join(p),
        _ => p,
    }
}
