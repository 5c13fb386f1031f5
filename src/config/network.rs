//! `kind: network`: what the network and the nodes' own clocks do to the events of some
//! datasources on their way to the sinks (docs/realism.md).
//!
//! A network document applies to datasources by name (`datasources:`, a node name or a
//! document name) and/or to whole groups (`groups:`); several documents may cover different
//! parts of the chain, but a datasource matched by two is an error (`config/validate.rs`).
//! Every effect is off unless set. Times are in **seconds** (of event time): `delay`, and an
//! outage's `every` and `lasting`, are duration distributions of the usual kinds
//! ([`super::duration`]) read in seconds instead of minutes.

use super::document::At;
use super::duration::{self, DurationSpec};
use super::read::{names, Field, FieldType, MapNode, Nested, Reader};

/// Every field of a network spec.
pub const FIELDS: &[Field] = &[
    Field::new(
        "datasources",
        FieldType::Strings,
        "The datasources (node or document names) whose events this network carries",
    ),
    Field::new(
        "groups",
        FieldType::Strings,
        "Groups whose every datasource this network carries",
    ),
    Field::new(
        "clock",
        FieldType::Nested(Nested::NetworkClock),
        "The nodes' clock error: written timestamps are skewed by an offset and a drift",
    ),
    Field::new(
        "delay",
        FieldType::Nested(Nested::Duration),
        "Transmission time from node to sink, in seconds (a number or a distribution)",
    ),
    Field::new(
        "duplicate",
        PROBABILITY,
        "Probability that an event is delivered twice",
    ),
    Field::new("drop", PROBABILITY, "Probability that an event is lost"),
    Field::new(
        "outage",
        FieldType::Nested(Nested::Outage),
        "The node's uplink fails now and then: silent, then its backlog arrives at once",
    ),
    Field::new(
        "renameActivity",
        PROBABILITY,
        "Probability that an event's activity is replaced by another activity of its node",
    ),
    Field::new(
        "swapAdjacent",
        PROBABILITY,
        "Probability that an event trades its time with its case's next event",
    ),
    Field::new(
        "truncate",
        PROBABILITY,
        "Probability that a case (by its first datasource) loses its first or its last event",
    ),
];

/// The fields of `clock:`.
pub const CLOCK_FIELDS: &[Field] = &[
    Field::new(
        "offset",
        ANY_NUMBER,
        "Seconds added to every timestamp the node writes (may be negative)",
    ),
    Field::new(
        "driftPpm",
        ANY_NUMBER,
        "Parts per million the node's clock gains (negative: loses) from the run's start",
    ),
];

/// The fields of `outage:`.
pub const OUTAGE_FIELDS: &[Field] = &[
    Field::new(
        "every",
        FieldType::Nested(Nested::Duration),
        "Seconds of event time from the end of one outage to the start of the next (from the run's start for the first)",
    )
    .required(),
    Field::new(
        "lasting",
        FieldType::Nested(Nested::Duration),
        "Seconds an outage lasts",
    )
    .required(),
];

const PROBABILITY: FieldType = FieldType::Number {
    min: Some(0.0),
    max: Some(1.0),
};
const ANY_NUMBER: FieldType = FieldType::Number {
    min: None,
    max: None,
};

/// A node's clock error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClockSkew {
    /// Seconds added to each timestamp.
    pub offset_secs: f64,
    /// Parts per million of the time since the run's start, added on top.
    pub drift_ppm: f64,
}

/// An uplink that fails now and then.
#[derive(Clone, Debug, PartialEq)]
pub struct OutageSpec {
    /// Seconds from the end of one outage to the start of the next.
    pub every: DurationSpec,
    /// Seconds an outage lasts.
    pub lasting: DurationSpec,
}

/// What a network does to the events it carries; every effect off unless set.
#[derive(Clone, Debug, Default)]
pub struct NetworkSpec {
    pub datasources: Vec<At<String>>,
    pub groups: Vec<At<String>>,
    pub clock: Option<ClockSkew>,
    /// Seconds.
    pub delay: Option<DurationSpec>,
    pub duplicate: f64,
    pub drop: f64,
    pub outage: Option<OutageSpec>,
    pub rename_activity: f64,
    pub swap_adjacent: f64,
    pub truncate: f64,
}

impl NetworkSpec {
    /// True if the spec sets no effect at all.
    pub fn is_idle(&self) -> bool {
        self.clock.is_none()
            && self.delay.is_none()
            && self.outage.is_none()
            && [
                self.duplicate,
                self.drop,
                self.rename_activity,
                self.swap_adjacent,
                self.truncate,
            ]
            .iter()
            .all(|&p| p == 0.0)
    }
}

/// A network spec of every effect, as YAML (tests and help).
pub const EXAMPLE: &str = "{datasources: [Assembling], groups: [factory], clock: {offset: -2.5, driftPpm: 40}, delay: {type: exponential, mean: 30}, duplicate: 0.01, drop: 0.02, outage: {every: 3600, lasting: 300}, renameActivity: 0.01, swapAdjacent: 0.01, truncate: 0.05}";

/// Reads a network spec.
pub(crate) fn read(reader: &mut Reader, spec: &MapNode) -> Option<NetworkSpec> {
    reader.deny_unknown(spec, &names(FIELDS), "a network spec");
    let mut ok = true;
    let mut list = |reader: &mut Reader, key: &str| match spec.get(key) {
        Some((node, path)) => reader.string_list(node, &path, key).unwrap_or_else(|| {
            ok = false;
            Vec::new()
        }),
        None => Vec::new(),
    };
    let datasources = list(reader, "datasources");
    let groups = list(reader, "groups");
    if datasources.is_empty() && groups.is_empty() && ok {
        reader.error(
            &spec.path,
            spec.loc,
            "the network applies to no datasource",
            "add `datasources: [...]` or `groups: [...]` naming what it carries",
        );
        ok = false;
    }
    let clock = match spec.get("clock") {
        None => None,
        Some((node, path)) => read_clock(reader, node, &path).or_else(|| {
            ok = false;
            None
        }),
    };
    let delay = match spec.get("delay") {
        None => None,
        Some((node, path)) => seconds(reader, node, &path).or_else(|| {
            ok = false;
            None
        }),
    };
    let outage = match spec.get("outage") {
        None => None,
        Some((node, path)) => read_outage(reader, node, &path).or_else(|| {
            ok = false;
            None
        }),
    };
    let mut probability = |reader: &mut Reader, key: &str| match probability(reader, spec, key) {
        Some(p) => p,
        None => {
            ok = false;
            0.0
        }
    };
    let duplicate = probability(reader, "duplicate");
    let drop = probability(reader, "drop");
    let rename_activity = probability(reader, "renameActivity");
    let swap_adjacent = probability(reader, "swapAdjacent");
    let truncate = probability(reader, "truncate");
    ok.then_some(NetworkSpec {
        datasources,
        groups,
        clock,
        delay,
        duplicate,
        drop,
        outage,
        rename_activity,
        swap_adjacent,
        truncate,
    })
}

/// A probability under `key` (0 when absent); `None` after reporting a bad one.
fn probability(reader: &mut Reader, obj: &MapNode, key: &str) -> Option<f64> {
    let Some((node, path)) = obj.get(key) else {
        return Some(0.0);
    };
    let p = reader.number_of(node, &path, key, Some(0.0))?;
    if p > 1.0 {
        reader.error(
            &path,
            node.loc,
            format!("`{key}` is {p}, but a probability is at most 1"),
            "use a probability from 0 to 1, e.g. `0.05` for 5%",
        );
        return None;
    }
    Some(p)
}

/// A duration in seconds: a number or a distribution, as `duration:` reads them in minutes.
fn seconds(reader: &mut Reader, node: &super::yaml::Node, path: &str) -> Option<DurationSpec> {
    duration::read(reader, node, path)
}

fn read_clock(reader: &mut Reader, node: &super::yaml::Node, path: &str) -> Option<ClockSkew> {
    let obj = reader.obj(node, path, "`clock`")?;
    reader.deny_unknown(&obj, &names(CLOCK_FIELDS), "a network clock");
    let offset = reader.opt_number(&obj, "offset", None);
    let drift = reader.opt_number(&obj, "driftPpm", None);
    Some(ClockSkew {
        offset_secs: offset?.unwrap_or(0.0),
        drift_ppm: drift?.unwrap_or(0.0),
    })
}

fn read_outage(reader: &mut Reader, node: &super::yaml::Node, path: &str) -> Option<OutageSpec> {
    let obj = reader.obj(node, path, "`outage`")?;
    reader.deny_unknown(&obj, &names(OUTAGE_FIELDS), "an outage");
    let field = |reader: &mut Reader, key: &str, example: &str| match obj.get(key) {
        Some((node, path)) => seconds(reader, node, &path),
        None => {
            reader.missing(&obj, key, "the outage", example);
            None
        }
    };
    let every = field(reader, "every", "3600");
    let lasting = field(reader, "lasting", "300");
    let (every, lasting) = (every?, lasting?);
    if every.mean() <= 0.0 {
        let (node, path) = obj.get("every").expect("read above");
        reader.error(
            &path,
            node.loc,
            "`every` is 0: the node would be in outage all the time",
            "give the time between outages in seconds, e.g. `every: 3600`",
        );
        return None;
    }
    Some(OutageSpec { every, lasting })
}

#[cfg(test)]
mod tests {
    use crate::config::ConfigSet;

    fn network(spec: &str) -> ConfigSet {
        let mut set = ConfigSet::new();
        set.add_str(
            "net.yaml",
            &format!("kind: network\nname: n\nspec: {spec}\n"),
        );
        set
    }

    #[test]
    fn the_example_reads_every_effect() {
        let set = network(super::EXAMPLE);
        assert!(
            !set.diagnostics.has_errors(),
            "{}",
            set.diagnostics.render()
        );
        let spec = &set.networks[0].spec;
        assert_eq!(spec.datasources[0].value, "Assembling");
        assert_eq!(spec.groups[0].value, "factory");
        assert_eq!(spec.clock.unwrap().drift_ppm, 40.0);
        assert_eq!(spec.drop, 0.02);
        assert_eq!(spec.truncate, 0.05);
        assert!(spec.outage.is_some() && spec.delay.is_some());
        assert!(!spec.is_idle());
    }

    #[test]
    fn bad_values_are_located() {
        let set = network("{datasources: [A], drop: 1.5, delay: -3, swapAdjacent: -0.1}");
        let text = set.diagnostics.render();
        assert!(text.contains("net.yaml:3:"), "{text}");
        assert!(
            text.contains("`drop` is 1.5, but a probability is at most 1"),
            "{text}"
        );
        assert!(
            text.contains("below the smallest allowed value 0"),
            "{text}"
        );
        assert_eq!(set.diagnostics.errors().count(), 3, "{text}");
        let set = network("{drop: 0.5}");
        assert!(set
            .diagnostics
            .render()
            .contains("the network applies to no datasource"));
    }
}
