//! Every kind of every component family, walked from its `ALL` list through parse → compile
//! → run (or analysis, where running needs a service): a kind whose reader arm is missing,
//! or that is read as another kind, fails here.
//!
//! Each kind's own `example()` is the YAML used, so adding a kind means writing its example,
//! and this test then exercises it.

use def::analysis::{self, graph::Graph};
use def::config::{
    CaseIdSpec, ClockSpec, Compression, ConfigSet, ConsoleFormat, DocumentKind, DurationType,
    FileFormat, Kind, LoadBehavior, PartitionSpec, PartitionType, SelectionType,
    SimulationSettings, SimulationType, SinkSettings, SinkType, TimestampFormat,
};
use def::sink::UiMode;
use def::EventFactory;

/// A one-datasource chain; `selection` and `duration` are YAML for `Press`.
fn chain(selection: &str, duration: &str) -> String {
    let selection = selection.replace('\n', "\n  ");
    format!(
        r#"kind: datasource
name: "<start>"
spec: {{name: "<start>", selection: uniform, eventData: [{{activity: "", transition: Press, duration: 0}}]}}
---
kind: datasource
name: Press
spec:
  name: Press
  group: metal
  {selection}
  eventData:
    - {{activity: "press", transition: Press, duration: {duration}}}
    - {{activity: "done", transition: "<end>", duration: 1}}
"#
    )
}

fn simulation(body: &str) -> String {
    let body = body.replace('\n', "\n  ");
    format!("---\nkind: simulation\nname: sim\nspec:\n  maxConcurrentCases: 3\n  {body}\n")
}

const GENERIC: &str = "selection: genericProbability\ndistribution: [0.5, 0.5]";

/// Runs `yaml` into a memory sink on `Press` and returns how many events it took.
fn run(yaml: &str, max_events: Option<u64>) -> usize {
    let options = def::simulation::RunOptions {
        seed: Some(1),
        max_events,
        ..Default::default()
    };
    let report = EventFactory::new()
        .add_str("kinds.yaml", yaml)
        .memory_sink("collected", &["Press"])
        .options(options)
        .run()
        .unwrap_or_else(|e| panic!("{yaml}\nfailed: {e:?}"));
    report.memory["collected"].len()
}

/// The generic chain into a file sink at `path` with one more `setting` (`key: value`), run for
/// 100 events.
fn into_file(path: &std::path::Path, setting: &str) -> String {
    let sink = format!(
        "---\nkind: sink\nname: out\nspec:\n  type: file\n  path: {}\n  {setting}\n  \
         dataSourceRefs: [Press]\n",
        path.display(),
    );
    chain(GENERIC, "2") + &sink + &simulation("type: countBased\nsteps: 100")
}

fn loaded(yaml: &str) -> ConfigSet {
    let mut set = ConfigSet::new();
    set.add_str("kinds.yaml", yaml);
    let diags = set.validate();
    assert!(!diags.has_errors(), "{yaml}\n{}", diags.render());
    set
}

#[test]
fn every_duration_type_is_read_as_itself_and_runs() {
    for &kind in DurationType::ALL {
        let yaml = chain(GENERIC, kind.example()) + &simulation("type: countBased\nsteps: 200");
        let set = loaded(&yaml);
        let press = &set.datasources[1].spec;
        assert_eq!(press.event_data[0].duration.duration_type(), kind);
        assert!(press.event_data[0].duration.mean() >= 0.0);
        assert_eq!(run(&yaml, None), 200, "{}", kind.name());
        let analysis = analysis::analyze(&set).unwrap();
        // Press loops with probability 1/2: two events per case on average.
        assert!((analysis.regimes[0].expected_events - 2.0).abs() < 1e-9);
    }
}

#[test]
fn every_selection_type_is_read_as_itself_and_runs() {
    for &kind in SelectionType::ALL {
        let yaml = chain(kind.example(), "2") + &simulation("type: countBased\nsteps: 200");
        let set = loaded(&yaml);
        assert_eq!(
            set.datasources[1].spec.selection.value.selection_type(),
            kind
        );
        assert_eq!(run(&yaml, None), 200, "{}", kind.name());
        assert!(analysis::analyze(&set).is_ok());
    }
}

#[test]
fn every_simulation_type_is_read_as_itself_and_runs() {
    for &kind in SimulationType::ALL {
        let yaml = chain(GENERIC, "2") + &simulation(kind.example());
        let set = loaded(&yaml);
        let settings = &set.simulations[0].spec.settings.value;
        assert_eq!(settings.simulation_type(), kind);
        // A stream runs in real time: bound it by events (its example asks for 1000/s).
        let expected = match settings {
            SimulationSettings::CountBased { steps } => *steps as usize,
            SimulationSettings::Stream { .. } => 50,
            // The example's three frames of a constant 10.
            SimulationSettings::LoadTest { .. } => 30,
        };
        let limit = (kind == SimulationType::Stream).then_some(50);
        assert_eq!(run(&yaml, limit), expected, "{}", kind.name());
    }
}

#[test]
fn every_load_behavior_is_read_as_itself_and_runs() {
    // Load tests build frames without pacing: each behaviour's frames are counted exactly.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("load.csv"), "second,rate\n0,1000\n2,3000\n").unwrap();
    for &kind in LoadBehavior::ALL {
        let yaml = chain(GENERIC, "2")
            + &simulation(&format!(
                "type: loadTest\nsteps: 3\nload: {}",
                kind.example()
            ));
        // A trace is read relative to its config file: write the config next to load.csv.
        let file = dir.path().join(format!("{}.yaml", kind.name()));
        std::fs::write(&file, &yaml).unwrap();
        let mut set = ConfigSet::new();
        set.add_file(&file);
        assert!(!set.validate().has_errors(), "{}", set.validate().render());
        let SimulationSettings::LoadTest { load, .. } = &set.simulations[0].spec.settings.value
        else {
            panic!("{} is not read as a loadTest", kind.name());
        };
        assert_eq!(load.behavior(), kind);
        let report = EventFactory::new()
            .add_file(&file)
            .memory_sink("collected", &["Press"])
            .seed(1)
            .run()
            .unwrap();
        let expected = match kind {
            LoadBehavior::Constant => 3000,
            // 100, then 100 + 900/3, then 100 + 2·900/3.
            LoadBehavior::Gradual => 100 + 400 + 700,
            // mean + amplitude·sin(iπ/2) for i = 0, 1, 2: 1000 + 1500 + 1000.
            LoadBehavior::Sinus => 3500,
            // Two one-second steps without `repeat`: the load ends after them.
            LoadBehavior::Steps => 1000 + 2000,
            LoadBehavior::Trace => 1000 + 1000 + 3000,
        };
        assert_eq!(report.events, expected, "{}", kind.name());
        assert_eq!(report.memory["collected"].len() as u64, expected);
    }
}

#[test]
fn every_sink_type_is_read_as_itself_and_drawn_and_the_local_ones_run() {
    let dir = tempfile::tempdir().unwrap();
    for &kind in SinkType::ALL {
        let example = kind.example().replace(
            "events.jsonl",
            &dir.path().join("events.jsonl").to_string_lossy(),
        );
        let sink = format!(
            "---\nkind: sink\nname: out\nspec:\n  {}\n  dataSourceRefs: [Press]\n",
            example.replace('\n', "\n  ")
        );
        let yaml = chain(GENERIC, "2") + &sink + &simulation("type: countBased\nsteps: 100");
        let set = loaded(&yaml);
        let settings = &set.sinks[0].spec.settings.value;
        assert_eq!(settings.sink_type(), kind);
        let graph = Graph::build(&set, true);
        assert_eq!(graph.sinks[0].type_name, kind.name());
        match settings {
            // These need a service (a broker, a load backend); their own tests run them
            // against real ones.
            SinkSettings::Kafka(_) | SinkSettings::Mqtt(_) | SinkSettings::Http(_) => {}
            // `ui` records for a live view (which tests/ui.rs draws in a real terminal), or,
            // with nothing to draw on, prints console lines: both run here.
            SinkSettings::Ui => {
                for ui in [UiMode::Live, UiMode::Console] {
                    let report = EventFactory::new()
                        .add_str("kinds.yaml", &yaml)
                        .options(def::simulation::RunOptions {
                            seed: Some(1),
                            ui,
                            ..Default::default()
                        })
                        .run()
                        .unwrap_or_else(|e| panic!("ui {ui:?}: {e:?}"));
                    assert_eq!(report.sinks[0].events, 100, "ui {ui:?}");
                    assert_eq!(report.sinks[0].delivery.delivered, 100, "ui {ui:?}");
                }
            }
            SinkSettings::Console { .. }
            | SinkSettings::File { .. }
            | SinkSettings::Blackhole
            | SinkSettings::Memory => {
                let report = EventFactory::new()
                    .add_str("kinds.yaml", &yaml)
                    .seed(1)
                    .run()
                    .unwrap_or_else(|e| panic!("{}: {e:?}", kind.name()));
                assert_eq!(report.sinks[0].events, 100, "{}", kind.name());
                assert_eq!(report.sinks[0].delivery.delivered, 100, "{}", kind.name());
            }
        }
    }
    let lines = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 100);
}

#[test]
fn every_file_format_is_read_as_itself_and_runs_into_a_file() {
    let dir = tempfile::tempdir().unwrap();
    for &format in FileFormat::ALL {
        let path = dir.path().join(format!("events.{}", format.name()));
        let yaml = into_file(&path, &format!("format: {}", format.name()));
        let set = loaded(&yaml);
        let SinkSettings::File { format: read, .. } = &set.sinks[0].spec.settings.value else {
            panic!("{} is not read as a file sink", format.name());
        };
        assert_eq!(*read, format);
        let report = EventFactory::new()
            .add_str("kinds.yaml", &yaml)
            .seed(1)
            .run()
            .unwrap_or_else(|e| panic!("{}: {e:?}", format.name()));
        assert_eq!(report.sinks[0].delivery.delivered, 100, "{}", format.name());
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(!written.is_empty(), "{}", format.name());
        // Each format's own check that a run produced a whole document.
        match format {
            FileFormat::Jsonl => assert_eq!(written.lines().count(), 100),
            FileFormat::Csv => assert_eq!(written.matches("\r\n").count(), 101),
            FileFormat::Xes => {
                assert_eq!(written.matches("<event>").count(), 100);
                assert!(written.ends_with("</log>\n"));
            }
            FileFormat::Ocel => {
                let doc: serde_json::Value = serde_json::from_str(&written).unwrap();
                assert_eq!(doc["events"].as_array().unwrap().len(), 100);
            }
        }
    }
}

#[test]
fn every_console_format_is_read_as_itself() {
    // Running prints to the test's stdout: the console formats run in tests/formats.rs.
    for &format in ConsoleFormat::ALL {
        let sink = format!(
            "---\nkind: sink\nname: out\nspec:\n  type: console\n  format: {}\n  \
             dataSourceRefs: [Press]\n",
            format.name()
        );
        let yaml = chain(GENERIC, "2") + &sink + &simulation("type: countBased\nsteps: 100");
        let set = loaded(&yaml);
        let SinkSettings::Console { format: read, .. } = &set.sinks[0].spec.settings.value else {
            panic!("{} is not read as a console sink", format.name());
        };
        assert_eq!(*read, format);
    }
}

#[test]
fn aliases_and_names_are_distinct_within_each_family() {
    fn distinct<K: Kind>() {
        let mut words = K::words();
        let n = words.len();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), n, "{} has a repeated word", K::WHAT);
    }
    distinct::<DurationType>();
    distinct::<SelectionType>();
    distinct::<SinkType>();
    distinct::<SimulationType>();
    distinct::<LoadBehavior>();
    distinct::<FileFormat>();
    distinct::<ConsoleFormat>();
    distinct::<DocumentKind>();
    distinct::<Compression>();
    distinct::<PartitionType>();
    distinct::<ClockSpec>();
    distinct::<TimestampFormat>();
    distinct::<CaseIdSpec>();
    assert_eq!(SinkType::Memory.aliases(), ["test"]);
}

#[test]
fn every_document_kind_is_read_as_itself_and_runs() {
    for &kind in DocumentKind::ALL {
        // The chain and the simulation are always there; each kind adds its own document.
        let extra = match kind {
            DocumentKind::Datasource => "kind: datasource\nname: Spare\nspec: {name: Spare, \
                 group: metal, selection: uniform, eventData: [{activity: spare, transition: \
                 \"<end>\", duration: 1}]}\n"
                .to_string(),
            DocumentKind::Sink => "kind: sink\nname: out\nspec: {type: blackhole, \
                 dataSourceRefs: [Press]}\n"
                .to_string(),
            DocumentKind::Simulation => "kind: simulation\nname: second\nspec: {type: \
                 countBased, steps: 7, maxConcurrentCases: 1}\n"
                .to_string(),
            DocumentKind::Network => "kind: network\nname: lossy\nspec: {groups: [metal], \
                 drop: 1.0}\n"
                .to_string(),
        };
        let yaml = chain(GENERIC, "2")
            + &simulation("type: countBased\nsteps: 100")
            + "---\n"
            + &format!("kind: {}\n", kind.name())
            + extra.split_once('\n').unwrap().1;
        let set = loaded(&yaml);
        let (datasources, sinks, simulations, networks) = match kind {
            DocumentKind::Datasource => (3, 0, 1, 0),
            DocumentKind::Sink => (2, 1, 1, 0),
            DocumentKind::Simulation => (2, 0, 2, 0),
            DocumentKind::Network => (2, 0, 1, 1),
        };
        assert_eq!(
            (
                set.datasources.len(),
                set.sinks.len(),
                set.simulations.len(),
                set.networks.len()
            ),
            (datasources, sinks, simulations, networks),
            "{}",
            kind.name()
        );
        let options = def::simulation::RunOptions {
            seed: Some(1),
            simulation: Some("sim".into()),
            ..Default::default()
        };
        let report = EventFactory::new()
            .add_str("kinds.yaml", &yaml)
            .memory_sink("collected", &["Press"])
            .options(options)
            .run()
            .unwrap_or_else(|e| panic!("{}: {e:?}", kind.name()));
        assert_eq!(report.events, 100, "{}", kind.name());
        // A network that drops everything delivers nothing; elsewhere all 100 arrive.
        let delivered = if kind == DocumentKind::Network {
            0
        } else {
            100
        };
        assert_eq!(
            report.memory["collected"].len(),
            delivered,
            "{}",
            kind.name()
        );
    }
}

#[test]
fn every_compression_is_read_as_itself_and_writes_its_own_format() {
    let dir = tempfile::tempdir().unwrap();
    for &compression in Compression::ALL {
        let path = dir
            .path()
            .join(format!("events-{}.jsonl", compression.name()));
        let yaml = into_file(&path, &format!("compression: {}", compression.name()));
        let set = loaded(&yaml);
        let SinkSettings::File { output, .. } = &set.sinks[0].spec.settings.value else {
            panic!("{} is not read as a file sink", compression.name());
        };
        assert_eq!(output.compression, compression);
        EventFactory::new()
            .add_str("kinds.yaml", &yaml)
            .seed(1)
            .run()
            .unwrap_or_else(|e| panic!("{}: {e:?}", compression.name()));
        let bytes = std::fs::read(&path).unwrap();
        // Each compression's magic number (RFC 1952, RFC 8878), or the JSON itself.
        let magic: &[u8] = match compression {
            Compression::None => b"{",
            Compression::Gzip => &[0x1f, 0x8b],
            Compression::Zstd => &[0x28, 0xb5, 0x2f, 0xfd],
        };
        assert!(bytes.starts_with(magic), "{}", compression.name());
    }
}

#[test]
fn every_partition_type_is_read_as_itself() {
    // Running needs a broker: tests/kafka.rs sends each partitioning to a real one.
    for &kind in PartitionType::ALL {
        let partition = match kind {
            PartitionType::Constant => "{type: constant, partition: 2}",
            PartitionType::Case => "{type: case, partitionCount: 4}",
            PartitionType::Default => "{type: default}",
        };
        let sink = format!(
            "---\nkind: sink\nname: out\nspec:\n  type: kafka\n  bootstrapServer: localhost:9092\n  \
             topic: events\n  partition: {partition}\n  dataSourceRefs: [Press]\n"
        );
        let yaml = chain(GENERIC, "2") + &sink + &simulation("type: countBased\nsteps: 100");
        let set = loaded(&yaml);
        let SinkSettings::Kafka(kafka) = &set.sinks[0].spec.settings.value else {
            panic!("not read as a kafka sink");
        };
        let read = match kafka.partition {
            PartitionSpec::Default => PartitionType::Default,
            PartitionSpec::Constant(2) => PartitionType::Constant,
            PartitionSpec::Case { partition_count: 4 } => PartitionType::Case,
            ref other => panic!("{} read as {other:?}", kind.name()),
        };
        assert_eq!(read, kind);
    }
}

#[test]
fn every_clock_timestamp_format_and_case_id_is_read_as_itself_and_runs() {
    for &clock in ClockSpec::ALL {
        for &format in <TimestampFormat as Kind>::ALL {
            for &case_id in CaseIdSpec::ALL {
                let yaml = chain(GENERIC, "2")
                    + &simulation(&format!(
                        "type: stream\nload: {{loadBehavior: constant, load: 1000}}\n\
                         clock: {}\ntimestampFormat: {}\ncaseId: {}",
                        clock.name(),
                        format.name(),
                        case_id.name()
                    ));
                let set = loaded(&yaml);
                let spec = &set.simulations[0].spec;
                assert_eq!(
                    (spec.clock, spec.timestamp_format, spec.case_id),
                    (clock, format, case_id)
                );
                let report = EventFactory::new()
                    .add_str("kinds.yaml", &yaml)
                    .memory_sink("collected", &["Press"])
                    .options(def::simulation::RunOptions {
                        seed: Some(1),
                        max_events: Some(20),
                        ..Default::default()
                    })
                    .run()
                    .unwrap_or_else(|e| panic!("{yaml}\nfailed: {e:?}"));
                assert_eq!(report.memory["collected"].len(), 20);
            }
        }
    }
}
