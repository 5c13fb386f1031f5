//! A YAML document as a tree of values that remember where they came from.
//!
//! serde-saphyr parses the text (multi-document, with line/column syntax errors), but we do not
//! deserialise straight into typed specs: serde stops at the first error and internally tagged
//! enums (`type: gaussian`) lose their source locations. Instead every node keeps its
//! [`Loc`], and [`super::document`] hands each document's tree to its component family's
//! reader, which turns it into typed specs while collecting *all* problems, each pointing at
//! a line and column.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A 1-based line and column in a source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
}

impl Loc {
    fn of(location: &serde_saphyr::Location) -> Loc {
        Loc {
            line: location.line() as u32,
            col: location.column() as u32,
        }
    }
}

/// A YAML value with its location.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub loc: Loc,
}

/// The shapes a YAML value can take. Mapping keys keep their own locations so that an
/// unknown field can be pointed at.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key and where it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub loc: Loc,
}

impl Value {
    /// A short description of the value's type, for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Seq(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", item.value)?;
                }
                f.write_str("]")
            }
            Value::Map(_) => f.write_str("{...}"),
        }
    }
}

/// A syntax error in a YAML file.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub message: String,
    pub loc: Option<Loc>,
}

/// Parses every document of a YAML text. Empty documents are skipped.
///
/// # Errors
/// The text is not YAML; the error has the line and column.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    // Let `.inf`/`.nan` through as numbers so validation can say which field must be finite.
    let mut options = serde_saphyr::Options::default();
    options.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::PassThrough;
    let docs: Vec<Spanned<RawValue>> = serde_saphyr::from_multiple_with_options(text, options)
        .map_err(|error| SyntaxError {
            loc: error.location().map(|l| Loc::of(&l)),
            message: first_line(&error.to_string()),
        })?;
    Ok(docs.into_iter().map(node_of).collect())
}

fn first_line(message: &str) -> String {
    // serde-saphyr renders its own snippet below the first line; we render ours.
    let line = message.lines().next().unwrap_or(message);
    match line.strip_prefix("error: ") {
        Some(rest) => match rest.split_once(": ") {
            Some((place, msg)) if place.starts_with("line ") => msg.to_string(),
            _ => rest.to_string(),
        },
        None => line.to_string(),
    }
}

fn node_of(spanned: Spanned<RawValue>) -> Node {
    let loc = Loc::of(&spanned.referenced);
    let value = match spanned.value {
        RawValue::Null => Value::Null,
        RawValue::Bool(b) => Value::Bool(b),
        RawValue::Int(i) => Value::Int(i),
        RawValue::Float(x) => Value::Float(x),
        RawValue::Str(s) => Value::Str(s),
        RawValue::Seq(items) => Value::Seq(items.into_iter().map(node_of).collect()),
        RawValue::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    (
                        Key {
                            loc: Loc::of(&k.referenced),
                            name: k.value,
                        },
                        node_of(v),
                    )
                })
                .collect(),
        ),
    };
    Node { value, loc }
}

/// What serde-saphyr hands us: any YAML value, each child wrapped in `Spanned`.
enum RawValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawValue>>),
    Map(Vec<(Spanned<String>, Spanned<RawValue>)>),
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawValue, D::Error> {
        struct AnyVisitor;
        impl<'de> Visitor<'de> for AnyVisitor {
            type Value = RawValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<RawValue, E> {
                Ok(RawValue::Null)
            }
            fn visit_none<E>(self) -> Result<RawValue, E> {
                Ok(RawValue::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<RawValue, E> {
                Ok(RawValue::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<RawValue, E> {
                Ok(RawValue::Int(i))
            }
            fn visit_u64<E>(self, u: u64) -> Result<RawValue, E> {
                Ok(match i64::try_from(u) {
                    Ok(i) => RawValue::Int(i),
                    Err(_) => RawValue::Float(u as f64),
                })
            }
            fn visit_f64<E>(self, x: f64) -> Result<RawValue, E> {
                Ok(RawValue::Float(x))
            }
            fn visit_str<E>(self, s: &str) -> Result<RawValue, E> {
                Ok(RawValue::Str(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<RawValue, E> {
                Ok(RawValue::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(RawValue::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(RawValue::Map(entries))
            }
        }
        deserializer.deserialize_any(AnyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_keep_their_lines_and_columns() {
        let docs = parse_documents("kind: sink\nspec:\n  id: [1, 2.5]\n---\nkind: x\n").unwrap();
        assert_eq!(docs.len(), 2);
        let Value::Map(entries) = &docs[0].value else {
            panic!("not a map")
        };
        assert_eq!(entries[1].0.name, "spec");
        let Value::Map(spec) = &entries[1].1.value else {
            panic!("spec not a map")
        };
        assert_eq!(spec[0].0.loc, Loc { line: 3, col: 3 });
        let Value::Seq(items) = &spec[0].1.value else {
            panic!("not a seq")
        };
        assert_eq!(items[1].value, Value::Float(2.5));
        assert_eq!(items[1].loc, Loc { line: 3, col: 11 });
        let Value::Map(second) = &docs[1].value else {
            panic!("not a map")
        };
        assert_eq!(second[0].0.loc.line, 5);
    }

    #[test]
    fn syntax_errors_have_a_location() {
        let error = parse_documents("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(error.loc.is_some(), "{error:?}");
    }
}
