//! Checks that span documents: names, transitions and references.
//!
//! Single-document checks (types, ranges, distribution sums) happen while reading, in
//! the family readers ([`super::document`]). What is left needs every document at once.

use super::datasource::{END, START};
use super::diagnostic::{did_you_mean, Diagnostic, Diagnostics};
use super::document::Document;
use super::simulation::SimulationSettings;
use super::sink::{resolve_topic, SinkSettings};
use super::ConfigSet;
use std::collections::{BTreeSet, HashMap};

/// The checks across documents; `sinks` adds those about routing events to sinks.
pub(super) fn check(set: &ConfigSet, sinks: bool) -> Diagnostics {
    let mut diags = Diagnostics::default();
    duplicate_names(&mut diags, "datasource", &set.datasources);
    duplicate_names(&mut diags, "sink", &set.sinks);
    duplicate_names(&mut diags, "simulation", &set.simulations);
    duplicate_names(&mut diags, "network", &set.networks);
    networks(&mut diags, set);

    // Node names (`spec.name`) are what transitions refer to; they must be unique too.
    let mut nodes: HashMap<&str, usize> = HashMap::new();
    for (i, ds) in set.datasources.iter().enumerate() {
        let name = ds.spec.name.value.as_str();
        if let Some(&first) = nodes.get(name) {
            let first_place = &set.datasources[first].spec.name.place;
            diags.push(
                Diagnostic::error(format!("two datasources have the node name `{name}`"))
                    .at(&ds.spec.name.place)
                    .help(format!(
                        "the first is at {}:{}; give each datasource its own `spec.name`",
                        first_place.file().display(),
                        first_place.loc.line
                    )),
            );
        } else {
            nodes.insert(name, i);
        }
        if name == END {
            diags.push(
                Diagnostic::error("`<end>` is built in and cannot be defined")
                    .at(&ds.spec.name.place)
                    .help("remove this datasource; use `transition: <end>` to finish cases"),
            );
        }
    }
    let node_names: Vec<&str> = set
        .datasources
        .iter()
        .map(|d| d.spec.name.value.as_str())
        .filter(|n| *n != START)
        .collect();

    if set.datasources.is_empty() && set.broken_datasources.is_empty() {
        // After a syntax error this would only repeat it.
        if set.diagnostics.has_errors() {
            return diags;
        }
        diags.push(
            Diagnostic::error("no datasource was loaded")
                .help("load the files with `kind: datasource`, e.g. a directory of them"),
        );
    } else if !nodes.contains_key(START) && !set.broken_datasources.iter().any(|b| b == START) {
        diags.push(Diagnostic::error("there is no `<start>` datasource").help(
            "add a datasource named `<start>` whose eventData `transition` names the first datasource",
        ));
    }

    for ds in &set.datasources {
        let is_start = ds.spec.name.value == START;
        for edge in &ds.spec.event_data {
            let target = edge.transition.value.as_str();
            if target == END {
                if is_start {
                    diags.push(
                        Diagnostic::error(
                            "`<start>` transitions straight to `<end>`: such cases emit no event",
                        )
                        .at(&edge.transition.place)
                        .help("let `<start>` transition to the first real datasource"),
                    );
                }
                continue;
            }
            if target == START {
                diags.push(
                    Diagnostic::error("a transition cannot lead back to `<start>`")
                        .at(&edge.transition.place)
                        .help("`<start>` only opens new cases; transition to a real datasource or `<end>`"),
                );
                continue;
            }
            let broken = set.broken_datasources.iter().any(|b| b == target);
            if !nodes.contains_key(target) && !broken {
                let help = match did_you_mean(target, node_names.iter().copied().chain([END])) {
                    Some(name) => format!("did you mean `{name}`?"),
                    None => format!(
                        "transition to one of the loaded datasources or `<end>`; loaded: {}",
                        node_names.join(", ")
                    ),
                };
                diags.push(
                    Diagnostic::error(format!("transition to unknown datasource `{target}`"))
                        .at(&edge.transition.place)
                        .help(help),
                );
            }
        }
    }

    // Sinks: references to unknown datasources, and datasources no sink takes. The original's
    // own console-sink.yaml lists datasources `A`..`E` that its assembly line does not have, so an
    // unknown reference is a warning (an error with --deny-warnings), not an error.
    let doc_names: BTreeSet<&str> = set
        .datasources
        .iter()
        .map(|d| d.name.value.as_str())
        .collect();
    let mut referenced: BTreeSet<&str> = BTreeSet::new();
    for sink in &set.sinks {
        for r in &sink.spec.data_source_refs {
            let name = r.value.as_str();
            // A datasource too broken to read was reported already; it still counts as taken.
            if set.broken_datasources.iter().any(|b| b == name) {
                referenced.insert(name);
                continue;
            }
            if nodes.contains_key(name) || doc_names.contains(name) {
                referenced.insert(name);
                continue;
            }
            let help = match did_you_mean(name, node_names.iter().copied()) {
                Some(close) => format!("did you mean `{close}`?"),
                None => "remove it, or load the datasource it names".to_string(),
            };
            diags.push(
                Diagnostic::warning(format!(
                    "sink `{}` refers to unknown datasource `{name}`",
                    sink.name.value
                ))
                .at(&r.place)
                .help(help),
            );
        }
    }
    // Kafka topic templates must give a legal topic for every datasource the sink takes.
    for sink in &set.sinks {
        let SinkSettings::Kafka(kafka) = &sink.spec.settings.value else {
            continue;
        };
        let mut reported = false;
        for ds in &set.datasources {
            let takes = sink
                .spec
                .data_source_refs
                .iter()
                .any(|r| r.value == ds.spec.name.value || r.value == ds.name.value);
            if !takes || reported {
                continue;
            }
            if let Err(problem) = resolve_topic(&kafka.topic, &ds.spec.name.value, &ds.spec.group) {
                reported = true;
                diags.push(
                    Diagnostic::error(format!("sink `{}`: {problem}", sink.name.value))
                        .at(sink.spec.place_of("topic"))
                        .help("fix the sink's `topic`"),
                );
            }
        }
    }

    // The frame duration the backend hears comes from the http sink; a loadTest simulation's
    // own `timeframe` (the original has both) should agree with it.
    for sim in &set.simulations {
        let SimulationSettings::LoadTest { timeframe_ms, .. } = sim.spec.settings.value else {
            continue;
        };
        for sink in &set.sinks {
            if let SinkSettings::Http(http) = &sink.spec.settings.value {
                if http.timeframe_ms != timeframe_ms {
                    diags.push(
                        Diagnostic::warning(format!(
                            "sink `{}` sends {} ms timeframes but simulation `{}` says `timeframe: {timeframe_ms}`",
                            sink.name.value, http.timeframe_ms, sim.name.value
                        ))
                        .at(&sink.spec.settings.place)
                        .help("frames last the sink's `timeframe`; give both the same value"),
                    );
                }
            }
        }
    }

    if !sinks || set.broken_sinks > 0 {
        // Which datasources a broken sink would take is not known: say nothing of them.
        return diags;
    }
    if set.sinks.is_empty() && !set.datasources.is_empty() {
        diags.push(
            Diagnostic::warning("no sink was loaded: the events of every datasource go nowhere")
                .help("add a document with `kind: sink`, e.g. `spec: {type: console, dataSourceRefs: [...]}`"),
        );
        return diags;
    }
    for ds in &set.datasources {
        let node = ds.spec.name.value.as_str();
        if node == START || referenced.contains(node) || referenced.contains(ds.name.value.as_str())
        {
            continue;
        }
        diags.push(
            Diagnostic::warning(format!("no sink takes the events of datasource `{node}`"))
                .at(&ds.name.place)
                .help(format!(
                    "add `{node}` to a sink's dataSourceRefs, or its events are dropped"
                )),
        );
    }
    diags
}

/// Network documents: every name they use must be a datasource or a group, and no datasource
/// may be carried by two of them (which one's effects would apply?).
fn networks(diags: &mut Diagnostics, set: &ConfigSet) {
    let real = || {
        set.datasources
            .iter()
            .filter(|d| d.spec.name.value != START)
    };
    let groups: BTreeSet<&str> = real().map(|d| d.spec.group.as_str()).collect();
    // Datasource node name → (network name, the place that matched it).
    let mut carried: HashMap<&str, (&str, &super::diagnostic::Place)> = HashMap::new();
    for net in &set.networks {
        let mut mine: Vec<(&str, &super::diagnostic::Place)> = Vec::new();
        for r in &net.spec.datasources {
            let name = r.value.as_str();
            if set.broken_datasources.iter().any(|b| b == name) {
                continue;
            }
            match real().find(|d| d.spec.name.value == name || d.name.value == name) {
                Some(ds) => mine.push((ds.spec.name.value.as_str(), &r.place)),
                None => {
                    let names = real().map(|d| d.spec.name.value.as_str());
                    let help = match did_you_mean(name, names) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => "name a loaded datasource (its node or document name)".into(),
                    };
                    diags.push(
                        Diagnostic::error(format!(
                            "network `{}` names unknown datasource `{name}`",
                            net.name.value
                        ))
                        .at(&r.place)
                        .help(help),
                    );
                }
            }
        }
        for g in &net.spec.groups {
            let group = g.value.as_str();
            if !groups.contains(group) {
                let help = match did_you_mean(group, groups.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!(
                        "name a group of the loaded datasources: {}",
                        groups.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                };
                diags.push(
                    Diagnostic::error(format!(
                        "network `{}` names unknown group `{group}`",
                        net.name.value
                    ))
                    .at(&g.place)
                    .help(help),
                );
                continue;
            }
            mine.extend(
                real()
                    .filter(|d| d.spec.group == group)
                    .map(|d| (d.spec.name.value.as_str(), &g.place)),
            );
        }
        // A datasource named twice by the same document is the same network: no conflict.
        let mut seen_here = BTreeSet::new();
        for (node, place) in mine {
            if !seen_here.insert(node) {
                continue;
            }
            match carried.get(node) {
                Some((other, first)) => diags.push(
                    Diagnostic::error(format!(
                        "datasource `{node}` is carried by two networks, `{other}` and `{}`",
                        net.name.value
                    ))
                    .at(place)
                    .help(format!(
                        "the first match is at {}:{}; let each datasource be matched by one network document",
                        first.file().display(),
                        first.loc.line
                    )),
                ),
                None => {
                    carried.insert(node, (net.name.value.as_str(), place));
                }
            }
        }
    }
}

fn duplicate_names<S>(diags: &mut Diagnostics, kind: &str, docs: &[Document<S>]) {
    let mut seen: HashMap<&str, &Document<S>> = HashMap::new();
    for doc in docs {
        let name = doc.name.value.as_str();
        match seen.get(name) {
            Some(first) => diags.push(
                Diagnostic::error(format!("duplicate {kind} name `{name}`"))
                    .at(&doc.name.place)
                    .help(format!(
                        "the first is at {}:{}; names must be unique per kind",
                        first.name.place.file().display(),
                        first.name.place.loc.line
                    )),
            ),
            None => {
                seen.insert(name, doc);
            }
        }
    }
}
