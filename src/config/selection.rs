//! How a datasource picks one of its `eventData` entries (`selection:`).

use super::document::At;
use super::read::{Field, FieldType, Kind, MapNode, Reader};

/// The selection types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectionType {
    GenericProbability,
    Uniform,
    Ordered,
    DriftingProbability,
}

impl Kind for SelectionType {
    const ALL: &'static [SelectionType] = &[
        SelectionType::GenericProbability,
        SelectionType::Uniform,
        SelectionType::Ordered,
        SelectionType::DriftingProbability,
    ];
    const WHAT: &'static str = "selection";

    fn name(self) -> &'static str {
        match self {
            SelectionType::GenericProbability => "genericProbability",
            SelectionType::Uniform => "uniform",
            SelectionType::Ordered => "ordered",
            SelectionType::DriftingProbability => "driftingProbability",
        }
    }

    fn field_table(self) -> &'static [Field] {
        match self {
            SelectionType::GenericProbability => {
                const {
                    &[Field::new(
                        "distribution",
                        FieldType::Probabilities,
                        "The probability of each eventData entry, in order; they add up to 1",
                    )
                    .required()]
                }
            }
            SelectionType::Uniform | SelectionType::Ordered => &[],
            SelectionType::DriftingProbability => {
                const {
                    &[
                        Field::new(
                            "startDistribution",
                            FieldType::Probabilities,
                            "The probability of each eventData entry at the first selection",
                        )
                        .required(),
                        Field::new(
                            "endDistribution",
                            FieldType::Probabilities,
                            "The probability of each eventData entry from `steps` selections on",
                        )
                        .required(),
                        Field::new(
                            "steps",
                            FieldType::Count { min: 1, max: None },
                            "Over how many selections the probabilities move from start to end",
                        )
                        .required(),
                    ]
                }
            }
        }
    }
}

impl SelectionType {
    /// A datasource spec's selection fields for two `eventData` entries, as YAML.
    pub fn example(self) -> &'static str {
        match self {
            SelectionType::GenericProbability => {
                "selection: genericProbability\ndistribution: [0.25, 0.75]"
            }
            SelectionType::Uniform => "selection: uniform",
            SelectionType::Ordered => "selection: ordered",
            SelectionType::DriftingProbability => {
                "selection: driftingProbability\nstartDistribution: [0.9, 0.1]\n\
                 endDistribution: [0.1, 0.9]\nsteps: 100"
            }
        }
    }
}

/// A selection and its settings.
#[derive(Clone, Debug, PartialEq)]
pub enum SelectionSpec {
    GenericProbability {
        distribution: Vec<f64>,
    },
    /// Every entry equally likely.
    Uniform,
    /// The entries in turn, first to last, then again.
    Ordered,
    /// Moves linearly from `start` to `end` over `steps` selections, then stays at `end`.
    DriftingProbability {
        start: Vec<f64>,
        end: Vec<f64>,
        steps: u64,
    },
}

impl SelectionSpec {
    pub fn selection_type(&self) -> SelectionType {
        match self {
            SelectionSpec::GenericProbability { .. } => SelectionType::GenericProbability,
            SelectionSpec::Uniform => SelectionType::Uniform,
            SelectionSpec::Ordered => SelectionType::Ordered,
            SelectionSpec::DriftingProbability { .. } => SelectionType::DriftingProbability,
        }
    }

    /// Each probability list with its field name, to check against `eventData`'s length.
    pub fn distribution_lengths(&self) -> Vec<(&'static str, usize)> {
        match self {
            SelectionSpec::GenericProbability { distribution } => {
                vec![("distribution", distribution.len())]
            }
            SelectionSpec::DriftingProbability { start, end, .. } => {
                vec![
                    ("startDistribution", start.len()),
                    ("endDistribution", end.len()),
                ]
            }
            SelectionSpec::Uniform | SelectionSpec::Ordered => vec![],
        }
    }
}

/// Reads `selection` and the fields of its type from a datasource spec.
pub(crate) fn read(reader: &mut Reader, spec: &MapNode) -> Option<At<SelectionSpec>> {
    let (selection_type, place) = reader.req_kind::<SelectionType>(
        spec,
        "selection",
        "the datasource spec",
        "genericProbability",
    )?;
    // Fields of other selection types are harmless but a sign of a mix-up: warn.
    for key in SelectionType::ALL.iter().flat_map(|k| k.fields()) {
        if spec.has(key) && !selection_type.fields().contains(&key) {
            let (n, p) = spec.get(key).expect("has");
            reader.warn(
                &p,
                n.loc,
                format!(
                    "`{key}` is ignored by selection `{}`",
                    selection_type.name()
                ),
                format!("remove `{key}`, or change the selection"),
            );
        }
    }
    let value = match selection_type {
        SelectionType::GenericProbability => SelectionSpec::GenericProbability {
            distribution: reader.probabilities(spec, "distribution")?,
        },
        SelectionType::Uniform => SelectionSpec::Uniform,
        SelectionType::Ordered => SelectionSpec::Ordered,
        SelectionType::DriftingProbability => {
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
    Some(At { value, place })
}
