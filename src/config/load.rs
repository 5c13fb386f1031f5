//! Events per tick over time (`load:` of stream and loadTest simulations): the load
//! behaviours, their fields, and reading recorded traces.

use super::read::{names, resolve, Field, FieldDefault, FieldType, Kind, Nested, Reader};
use super::yaml::{Node, Value};
use std::path::{Path, PathBuf};

/// The largest rate (events per second or per timeframe) a load may ask for: far above what
/// one process makes (a few times 10^7 per core), low enough that counts cannot overflow.
pub const MAX_RATE: f64 = 1e9;

/// The load behaviours (`loadBehavior`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadBehavior {
    Constant,
    Gradual,
    Sinus,
    Steps,
    Trace,
}

impl Kind for LoadBehavior {
    const ALL: &'static [LoadBehavior] = &[
        LoadBehavior::Constant,
        LoadBehavior::Gradual,
        LoadBehavior::Sinus,
        LoadBehavior::Steps,
        LoadBehavior::Trace,
    ];
    const WHAT: &'static str = "loadBehavior";

    fn name(self) -> &'static str {
        match self {
            LoadBehavior::Constant => "constant",
            LoadBehavior::Gradual => "gradual",
            LoadBehavior::Sinus => "sinus",
            LoadBehavior::Steps => "steps",
            LoadBehavior::Trace => "trace",
        }
    }

    fn field_table(self) -> &'static [Field] {
        match self {
            LoadBehavior::Constant => {
                const {
                    &[Field::new(
                        "load",
                        RATE,
                        "Events per second (per timeframe in a loadTest)",
                    )
                    .required()]
                }
            }
            LoadBehavior::Gradual => {
                const {
                    &[
                        Field::new(
                            "tickCount",
                            FieldType::Count { min: 1, max: None },
                            "Over how many ticks the rate rises from minimalLoad to load",
                        )
                        .required(),
                        Field::new(
                            "minimalLoad",
                            RATE,
                            "Events per second (or timeframe) at the first tick",
                        )
                        .required(),
                        Field::new(
                            "load",
                            RATE,
                            "Events per second (or timeframe) from tickCount ticks on",
                        )
                        .required(),
                    ]
                }
            }
            LoadBehavior::Sinus => {
                const {
                    &[
                        Field::new(
                            "mean",
                            RATE,
                            "Events per second (or timeframe) the wave swings around",
                        )
                        .required(),
                        Field::new(
                            "amplitude",
                            FieldType::Number {
                                min: Some(0.0),
                                max: None,
                            },
                            "How far the rate swings from the mean (at most the mean)",
                        )
                        .required(),
                        Field::new(
                            "phase",
                            FieldType::Number {
                                min: None,
                                max: None,
                            },
                            "Ticks per half wave (not 0)",
                        )
                        .required(),
                    ]
                }
            }
            LoadBehavior::Steps => {
                const {
                    &[
                        Field::new(
                            "steps",
                            FieldType::Nested(Nested::LoadSteps),
                            "Piecewise constant rates, in order",
                        )
                        .required(),
                        Field::new(
                            "repeat",
                            FieldType::Bool,
                            "Start again from the first step after the last",
                        )
                        .default(FieldDefault::Bool(DEFAULT_REPEAT)),
                    ]
                }
            }
            LoadBehavior::Trace => {
                const {
                    &[Field::new(
                        "path",
                        FieldType::String,
                        "A CSV file of `second,rate` rows, relative to the config file",
                    )
                    .required()]
                }
            }
        }
    }
}

/// A rate: events per second (stream) or per timeframe (loadTest), at most [`MAX_RATE`].
const RATE: FieldType = FieldType::Number {
    min: Some(0.0),
    max: Some(MAX_RATE),
};

/// The original README's word for a constant load (`loadBehavior: load`): read as
/// [`LoadBehavior::Constant`], with a warning.
pub const LEGACY_CONSTANT: &str = "load";

/// Every `loadBehavior` word the reader takes: the behaviours' and [`LEGACY_CONSTANT`].
pub fn behavior_words() -> Vec<&'static str> {
    let mut words = LoadBehavior::words();
    words.push(LEGACY_CONSTANT);
    words
}

/// The field every load mapping has, whatever its behaviour.
pub const COMMON_FIELDS: &[Field] = &[Field::new(
    "loadBehavior",
    FieldType::Word(behavior_words),
    "How the rate changes over time (`load` is read as `constant`)",
)
.required()];

/// Whether a `steps` load starts again after its last step when it does not say (`repeat`).
pub const DEFAULT_REPEAT: bool = false;

/// The fields of one step of a `steps` load.
pub const STEP_FIELDS: &[Field] = &[
    Field::new(
        "rate",
        RATE,
        "Events per second (or timeframe) during the step",
    )
    .required(),
    Field::new(
        "seconds",
        FieldType::Number {
            min: Some(0.0),
            max: Some(MAX_STEP_SECONDS),
        },
        "How long the step lasts: 0, or one microsecond to about 31 years",
    )
    .required(),
];

impl LoadBehavior {
    /// A `load:` value of this behaviour, as YAML. (A trace needs a file: its example names
    /// one relative to the config, which the caller must provide.)
    pub fn example(self) -> &'static str {
        match self {
            LoadBehavior::Constant => "{loadBehavior: constant, load: 1000}",
            LoadBehavior::Gradual => {
                "{loadBehavior: gradual, tickCount: 3, minimalLoad: 100, load: 1000}"
            }
            LoadBehavior::Sinus => "{loadBehavior: sinus, mean: 1000, amplitude: 500, phase: 2}",
            LoadBehavior::Steps => {
                "{loadBehavior: steps, steps: [{rate: 1000, seconds: 1}, {rate: 2000, seconds: 1}]}"
            }
            LoadBehavior::Trace => "{loadBehavior: trace, path: load.csv}",
        }
    }
}

/// Events per tick over time.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadSpec {
    Constant {
        load: f64,
    },
    /// Rises linearly from `minimal_load` to `load` over `tick_count` ticks, then stays.
    Gradual {
        tick_count: u64,
        minimal_load: f64,
        load: f64,
    },
    /// Tick i has `amplitude * sin(i * pi / phase) + mean`.
    Sinus {
        mean: f64,
        amplitude: f64,
        phase: f64,
    },
    /// Piecewise constant rates, optionally repeating.
    Steps {
        steps: Vec<RateStep>,
        repeat: bool,
    },
    /// A recorded load replayed: its rows, each rate holding until the next row.
    Trace {
        path: PathBuf,
        points: Vec<TracePoint>,
    },
}

impl LoadSpec {
    pub fn behavior(&self) -> LoadBehavior {
        match self {
            LoadSpec::Constant { .. } => LoadBehavior::Constant,
            LoadSpec::Gradual { .. } => LoadBehavior::Gradual,
            LoadSpec::Sinus { .. } => LoadBehavior::Sinus,
            LoadSpec::Steps { .. } => LoadBehavior::Steps,
            LoadSpec::Trace { .. } => LoadBehavior::Trace,
        }
    }

    /// True if the load's rate is 0 throughout: a stream of it would wait for ever.
    pub fn never_emits(&self) -> bool {
        match self {
            LoadSpec::Constant { load } => *load <= 0.0,
            LoadSpec::Gradual {
                minimal_load, load, ..
            } => *minimal_load <= 0.0 && *load <= 0.0,
            // The rate is at least mean - amplitude and amplitude <= mean: zero only if mean is.
            LoadSpec::Sinus { mean, .. } => *mean <= 0.0,
            LoadSpec::Steps { steps, .. } => {
                steps.iter().all(|s| s.rate <= 0.0 || s.seconds <= 0.0)
            }
            LoadSpec::Trace { points, .. } => points.iter().all(|p| p.rate <= 0.0),
        }
    }
}

/// The shortest positive step (`seconds`) a `steps` load takes: one microsecond, the pacer's
/// resolution. Shorter steps would only make the schedule slow to search.
pub const MIN_STEP_SECONDS: f64 = 1e-6;
/// The longest step: about 31.7 years, like a trace.
pub const MAX_STEP_SECONDS: f64 = MAX_TRACE_SECOND as f64;

/// One piece of a `steps` load.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateStep {
    pub rate: f64,
    pub seconds: f64,
}

/// Reads a `load:` mapping.
pub(crate) fn read(reader: &mut Reader, node: &Node, path: &str) -> Option<LoadSpec> {
    let obj = reader.obj(node, path, "`load`")?;
    let (n, p) = obj.get("loadBehavior").or_else(|| {
        reader.missing(&obj, "loadBehavior", "the load", "constant");
        None
    })?;
    // The original README's example says `loadBehavior: load`; read it as `constant`.
    let word = reader.string_of(n, &p, "`loadBehavior`")?;
    let behavior = if word == LEGACY_CONSTANT {
        reader.warn(
            &p,
            n.loc,
            "`loadBehavior: load` is read as `constant`",
            "write `loadBehavior: constant`",
        );
        LoadBehavior::Constant
    } else {
        reader.kind::<LoadBehavior>(n, &p)?
    };
    let mut fields = names(COMMON_FIELDS);
    fields.extend(behavior.fields());
    reader.deny_unknown(&obj, &fields, &format!("a {} load", behavior.name()));
    let what = format!("the {} load", behavior.name());
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
    let spec = match behavior {
        LoadBehavior::Constant => LoadSpec::Constant {
            load: rate(reader, "load")?,
        },
        LoadBehavior::Gradual => {
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
        LoadBehavior::Sinus => {
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
        LoadBehavior::Steps => {
            let repeat = reader.opt_bool(&obj, "repeat").unwrap_or(DEFAULT_REPEAT);
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
                reader.deny_unknown(&step, &names(STEP_FIELDS), "a load step");
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
                let s = reader
                    .req_number(&step, "seconds", "the load step", Some(0.0))
                    .filter(|s| {
                        let ok = *s == 0.0 || (MIN_STEP_SECONDS..=MAX_STEP_SECONDS).contains(s);
                        if !ok {
                            reader.error(
                                &step.child("seconds"),
                                step.loc,
                                format!(
                                    "`seconds` is {s}, outside what a step may last \
                                     ({MIN_STEP_SECONDS:e} to {MAX_STEP_SECONDS:e} seconds, or 0)"
                                ),
                                "give the step a duration from one microsecond to about 31 years",
                            );
                        }
                        ok
                    });
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
        LoadBehavior::Trace => {
            let path_at = reader.req_string(&obj, "path", &what, "load.csv")?;
            let file = resolve(&reader.source.path, &path_at.value);
            match read_trace(&file) {
                Ok(points) => LoadSpec::Trace { path: file, points },
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
    };
    if spec.never_emits() {
        reader.warn(
            path,
            obj.loc,
            format!(
                "this {} load never emits an event: its rate is 0 throughout",
                behavior.name()
            ),
            "give it a rate above 0; a stream of it would wait until it is stopped",
        );
    }
    Some(spec)
}

/// The last second a trace row may name (about 31.7 years): far beyond any recorded load, and
/// small enough that times in seconds stay exact in floating point.
pub const MAX_TRACE_SECOND: u64 = 1_000_000_000;

/// One row of a trace: from `second` on, `rate` events per second (until the next row).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TracePoint {
    pub second: u64,
    pub rate: f64,
}

impl TracePoint {
    /// One row per second, `rates[i]` at second `i`: a trace written out in full.
    pub fn per_second(rates: &[f64]) -> Vec<TracePoint> {
        rates
            .iter()
            .enumerate()
            .map(|(second, &rate)| TracePoint {
                second: second as u64,
                rate,
            })
            .collect()
    }
}

/// Reads a `second,rate` CSV: its rows as given (memory is by rows, not by seconds). Seconds
/// before the first row have rate 0; a row's rate holds until the next row; the trace ends one
/// second after its last row.
///
/// # Errors
/// The file cannot be read, or a row is not `second,rate` within range (a whole second from 0
/// to [`MAX_TRACE_SECOND`], increasing; a rate from 0 to [`MAX_RATE`]); the message names the
/// line.
pub fn read_trace(path: &Path) -> Result<Vec<TracePoint>, String> {
    let text = super::read_text_file(path)?;
    let mut points: Vec<TracePoint> = Vec::new();
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
        if !(0.0..=MAX_TRACE_SECOND as f64).contains(&sec) || sec.fract() != 0.0 {
            return Err(format!(
                "line {}: second `{sec}` is not a whole number from 0 to {MAX_TRACE_SECOND} \
                 (about 31.7 years)",
                i + 1
            ));
        }
        if !(0.0..=MAX_RATE).contains(&rate) {
            return Err(format!(
                "line {}: rate `{rate}` is not between 0 and {MAX_RATE:e}",
                i + 1
            ));
        }
        let second = sec as u64;
        if points.last().is_some_and(|last| second <= last.second) {
            return Err(format!("line {}: seconds must increase", i + 1));
        }
        points.push(TracePoint { second, rate });
    }
    if points.is_empty() {
        return Err("no `second,rate` rows".into());
    }
    Ok(points)
}
