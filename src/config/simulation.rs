//! `kind: simulation`: how the chain is run. The simulation types, their fields and defaults,
//! and the settings every type shares (case ids, clock, timestamps, limits).

use super::document::At;
use super::load::{self, LoadSpec};
use super::read::{Field, FieldDefault, FieldType, Kind, MapNode, Nested, Reader};
use super::sink::DEFAULT_TIMEFRAME_MS;
use crate::time::{parse_start_time, TimestampFormat};

/// The most cases a simulation may keep open (about 32 bytes each).
pub const MAX_CONCURRENT_CASES: u64 = 10_000_000;
/// Cases open at once when a spec does not say (`maxConcurrentCases`).
pub const DEFAULT_MAX_CONCURRENT_CASES: u64 = 1;

/// Timeframes a load test generates before it starts sending, when a spec does not say
/// (`genTimeframesTilStart`).
pub const DEFAULT_GEN_TIMEFRAMES_TIL_START: u64 = 0;
/// Whether events carry their intended emission time when a spec does not say (`emittedAt`).
pub const DEFAULT_EMITTED_AT: bool = false;
/// The `startTime` word for the time of the run (also the default).
pub const START_NOW: &str = "now";

/// The fields every simulation has, whatever its type.
pub const COMMON_FIELDS: &[Field] = &[
    Field::new(
        "type",
        FieldType::Word(SimulationType::words),
        "How the chain is run: a number of events, a real-time stream, or a load test",
    )
    .required(),
    Field::new(
        "caseId",
        FieldType::Word(CaseIdSpec::words),
        "How case ids are made",
    )
    .default(FieldDefault::Word(|| CaseIdSpec::default().name())),
    Field::new(
        "maxConcurrentCases",
        FieldType::Count {
            min: 1,
            max: Some(MAX_CONCURRENT_CASES),
        },
        "How many cases are open at once, their events interleaved",
    )
    .default(FieldDefault::Count(DEFAULT_MAX_CONCURRENT_CASES)),
    Field::new(
        "startTime",
        FieldType::String,
        "When the simulated clock starts: `now` or an RFC 3339 time",
    )
    .default(FieldDefault::String(START_NOW)),
    Field::new(
        "timestampFormat",
        FieldType::Word(<TimestampFormat as Kind>::words),
        "How timestamps are written",
    )
    .default(FieldDefault::Word(|| TimestampFormat::default().name())),
    Field::new(
        "clock",
        FieldType::Word(ClockSpec::words),
        "Which clock stamps stream events: the chain's simulated time or the wall clock",
    )
    .default(FieldDefault::Word(|| ClockSpec::default().name())),
    Field::new(
        "emittedAt",
        FieldType::Bool,
        "Add the intended emission time to each event",
    )
    .default(FieldDefault::Bool(DEFAULT_EMITTED_AT)),
    Field::new(
        "maxEvents",
        FieldType::Count { min: 1, max: None },
        "Stop after this many events, whatever the type",
    ),
    Field::new(
        "duration",
        FieldType::Number {
            min: Some(0.0),
            max: None,
        },
        "Stop after this many seconds (stream)",
    ),
];

/// A stream's or load test's `load`.
const LOAD: Field = Field::new(
    "load",
    FieldType::Nested(Nested::Load),
    "Events per second (stream) or per timeframe (loadTest) over time",
)
.required();

/// Every field a simulation spec may have, in the order messages list them: the names of
/// [`COMMON_FIELDS`] and of every type's table (a test holds them equal). The reader
/// accepts each on every type (the original's files carry fields their type ignores); the
/// CLI warns about flags a type does not use.
pub const FIELDS: &[&str] = &[
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

/// The simulation types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimulationType {
    CountBased,
    Stream,
    LoadTest,
}

impl Kind for SimulationType {
    const ALL: &'static [SimulationType] = &[
        SimulationType::CountBased,
        SimulationType::Stream,
        SimulationType::LoadTest,
    ];
    const WHAT: &'static str = "simulation type";

    fn name(self) -> &'static str {
        match self {
            SimulationType::CountBased => "countBased",
            SimulationType::Stream => "stream",
            SimulationType::LoadTest => "loadTest",
        }
    }

    fn field_table(self) -> &'static [Field] {
        match self {
            SimulationType::CountBased => {
                const {
                    &[Field::new(
                        "steps",
                        FieldType::Count { min: 1, max: None },
                        "How many events to generate",
                    )
                    .required()]
                }
            }
            SimulationType::Stream => const { &[LOAD] },
            SimulationType::LoadTest => {
                const {
                    &[
                        Field::new(
                            "steps",
                            FieldType::Count { min: 1, max: None },
                            "How many timeframes to send (by default until stopped or maxEvents)",
                        ),
                        LOAD,
                        Field::new(
                            "genTimeframesTilStart",
                            FieldType::Count { min: 0, max: None },
                            "Timeframes generated ahead before sending starts",
                        )
                        .default(FieldDefault::Count(DEFAULT_GEN_TIMEFRAMES_TIL_START)),
                        Field::new(
                            "timeframe",
                            FieldType::Count { min: 1, max: None },
                            "Milliseconds per timeframe",
                        )
                        .default(FieldDefault::Count(DEFAULT_TIMEFRAME_MS)),
                    ]
                }
            }
        }
    }
}

impl SimulationType {
    /// The type-specific fields of a simulation of this type, as YAML (`type:` included).
    pub fn example(self) -> &'static str {
        match self {
            SimulationType::CountBased => "type: countBased\nsteps: 100",
            SimulationType::Stream => "type: stream\nload: {loadBehavior: constant, load: 1000}",
            SimulationType::LoadTest => {
                "type: loadTest\nsteps: 3\nload: {loadBehavior: constant, load: 10}"
            }
        }
    }
}

/// `kind: simulation`: how the chain is run.
#[derive(Clone, Debug)]
pub struct SimulationSpec {
    /// The type and its settings, placed at the `type:` line.
    pub settings: At<SimulationSettings>,
    pub case_id: CaseIdSpec,
    pub max_concurrent_cases: u32,
    /// When the simulated clock starts; `None` means now (or a fixed epoch for seeded runs).
    pub start_time: Option<jiff::Timestamp>,
    pub timestamp_format: TimestampFormat,
    pub clock: ClockSpec,
    /// Add the intended emission time to each event (`emittedAt`).
    pub emitted_at: bool,
    /// Stop after this many events, whatever the simulation type.
    pub max_events: Option<u64>,
    /// Stop after this many seconds (stream).
    pub duration_secs: Option<f64>,
}

/// Each simulation type's settings.
#[derive(Clone, Debug, PartialEq)]
pub enum SimulationSettings {
    CountBased {
        steps: u64,
    },
    Stream {
        load: LoadSpec,
    },
    LoadTest {
        load: LoadSpec,
        gen_timeframes_til_start: u64,
        /// Milliseconds per timeframe.
        timeframe_ms: u64,
        /// How many timeframes to send; `None` runs until stopped or `maxEvents`.
        steps: Option<u64>,
    },
}

impl SimulationSettings {
    pub fn simulation_type(&self) -> SimulationType {
        match self {
            SimulationSettings::CountBased { .. } => SimulationType::CountBased,
            SimulationSettings::Stream { .. } => SimulationType::Stream,
            SimulationSettings::LoadTest { .. } => SimulationType::LoadTest,
        }
    }
}

/// How case ids are made (`caseId`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CaseIdSpec {
    /// `case_1`, `case_2`, ...
    #[default]
    Increasing,
}

impl Kind for CaseIdSpec {
    const ALL: &'static [CaseIdSpec] = &[CaseIdSpec::Increasing];
    const WHAT: &'static str = "caseId";

    fn name(self) -> &'static str {
        match self {
            CaseIdSpec::Increasing => "increasing",
        }
    }

    fn field_table(self) -> &'static [Field] {
        &[]
    }
}

/// Which clock stamps stream events (`clock`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ClockSpec {
    /// The chain's simulated time, as the original.
    #[default]
    Simulated,
    /// The wall-clock time at emission.
    Wall,
}

impl Kind for ClockSpec {
    const ALL: &'static [ClockSpec] = &[ClockSpec::Simulated, ClockSpec::Wall];
    const WHAT: &'static str = "clock";

    fn name(self) -> &'static str {
        match self {
            ClockSpec::Simulated => "simulated",
            ClockSpec::Wall => "wall",
        }
    }

    fn field_table(self) -> &'static [Field] {
        &[]
    }
}

impl Kind for TimestampFormat {
    const ALL: &'static [TimestampFormat] = &TimestampFormat::ALL;
    const WHAT: &'static str = "timestampFormat";

    fn name(self) -> &'static str {
        TimestampFormat::name(self)
    }

    fn field_table(self) -> &'static [Field] {
        &[]
    }
}

/// Reads a simulation spec.
pub(crate) fn read(reader: &mut Reader, spec: &MapNode) -> Option<SimulationSpec> {
    reader.deny_unknown(spec, FIELDS, "a simulation spec");
    let (simulation_type, place) =
        reader.req_kind::<SimulationType>(spec, "type", "the simulation spec", "countBased")?;
    let case_id = reader.opt_kind(spec, "caseId", CaseIdSpec::default())?;
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
            if text == START_NOW {
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
    let timestamp_format = reader.opt_kind(spec, "timestampFormat", TimestampFormat::default());
    let clock = reader.opt_kind(spec, "clock", ClockSpec::default());
    let emitted_at = reader
        .opt_bool(spec, "emittedAt")
        .unwrap_or(DEFAULT_EMITTED_AT);
    let max_events = reader.opt_count(spec, "maxEvents", 1);
    let duration = reader.opt_number(spec, "duration", Some(0.0));
    let load = |reader: &mut Reader| match spec.get("load") {
        Some((n, p)) => load::read(reader, n, &p),
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
    let settings = match simulation_type {
        SimulationType::CountBased => match spec.get("steps") {
            Some((n, p)) => reader
                .count_of(n, &p, "steps", 1)
                .map(|steps| SimulationSettings::CountBased { steps }),
            None => {
                reader.missing(spec, "steps", "a countBased simulation", "100");
                None
            }
        },
        SimulationType::Stream => load(reader).map(|load| SimulationSettings::Stream { load }),
        SimulationType::LoadTest => {
            let load = load(reader);
            let til_start = reader.opt_count(spec, "genTimeframesTilStart", 0);
            let timeframe = reader.opt_count(spec, "timeframe", 1);
            let steps = reader.opt_count(spec, "steps", 1);
            Some(SimulationSettings::LoadTest {
                load: load?,
                gen_timeframes_til_start: til_start?.unwrap_or(DEFAULT_GEN_TIMEFRAMES_TIL_START),
                timeframe_ms: timeframe?.unwrap_or(DEFAULT_TIMEFRAME_MS),
                steps: steps?,
            })
        }
    };
    Some(SimulationSpec {
        settings: At {
            value: settings?,
            place,
        },
        case_id,
        max_concurrent_cases: max_concurrent_cases?.unwrap_or(DEFAULT_MAX_CONCURRENT_CASES) as u32,
        start_time: start_time?,
        timestamp_format: timestamp_format?,
        clock: clock?,
        emitted_at,
        max_events: max_events?,
        duration_secs: duration?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_list_is_the_common_fields_and_every_types_own() {
        let mut union: Vec<&str> = crate::config::read::names(COMMON_FIELDS);
        for kind in SimulationType::ALL {
            for field in kind.fields() {
                if !union.contains(&field) {
                    union.push(field);
                }
            }
        }
        let (mut a, mut b) = (union.clone(), FIELDS.to_vec());
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
    }
}
