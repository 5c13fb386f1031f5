//! `def schema` against real configs, checked by an independent JSON Schema validator (the
//! `jsonschema` crate): the schema is a valid draft-07 schema, every document of every
//! reference config and every kind's example passes it, broken documents fail it, and the
//! schema never rejects a document the reader takes (an editor must not flag a working config).

use def::config::schema::{json_schema, yaml_to_json};
use def::config::yaml::parse_documents;
use def::config::{
    ConfigSet, ConsoleFormat, DurationType, FileFormat, Kind, LoadBehavior, SelectionType,
    SimulationType, SinkType,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn validator() -> jsonschema::Validator {
    jsonschema::draft7::new(&json_schema()).expect("the schema compiles")
}

/// The documents of a YAML text, as JSON.
fn documents(text: &str) -> Vec<Value> {
    parse_documents(text)
        .expect("valid YAML")
        .iter()
        .map(yaml_to_json)
        .collect()
}

/// Every problem the validator finds with `doc`, one per line.
fn problems(validator: &jsonschema::Validator, doc: &Value) -> String {
    validator
        .iter_errors(doc)
        .map(|e| format!("  at `{}`: {e}", e.instance_path()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
}

/// The reference configs, the bundled example and the benchmark configs.
fn reference_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    yaml_files(&root.join("tests/fixtures/reference"), &mut files);
    yaml_files(&root.join("benches/configs"), &mut files);
    files.push(root.join("examples/assembly-line.yaml"));
    files
}

#[test]
fn the_schema_is_a_valid_draft_07_schema() {
    let schema = json_schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    if let Err(e) = jsonschema::draft7::meta::validate(&schema) {
        panic!("not a draft-07 schema: {e}");
    }
}

#[test]
fn every_document_of_every_reference_config_is_valid() {
    let validator = validator();
    let files = reference_files();
    assert!(files.len() >= 20, "only {} files found", files.len());
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, doc) in documents(&text).iter().enumerate() {
            assert!(
                validator.is_valid(doc),
                "{} document {i} fails the schema:\n{}",
                file.display(),
                problems(&validator, doc)
            );
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} documents checked");
}

/// A document of `kind` with `spec` (YAML, one line per field).
fn doc(kind: &str, spec: &str) -> String {
    let spec = spec.replace('\n', "\n  ");
    format!("kind: {kind}\nname: x\nspec:\n  {spec}\n")
}

fn assert_valid(validator: &jsonschema::Validator, yaml: &str) {
    for doc in documents(yaml) {
        assert!(
            validator.is_valid(&doc),
            "{yaml}\nfails the schema:\n{}",
            problems(validator, &doc)
        );
    }
}

#[test]
fn every_kind_of_every_family_passes_with_its_example() {
    let validator = validator();
    let edge = |duration: &str| {
        format!(
            "eventData:\n  - {{activity: a, transition: \"<end>\", duration: {duration}}}\n  \
             - {{activity: b, transition: \"<end>\", duration: 1}}"
        )
    };
    for kind in SelectionType::ALL {
        assert_valid(
            &validator,
            &doc("datasource", &format!("{}\n{}", kind.example(), edge("1"))),
        );
    }
    for kind in DurationType::ALL {
        let spec = format!("selection: uniform\n{}", edge(kind.example()));
        assert_valid(&validator, &doc("datasource", &spec));
    }
    for kind in SinkType::ALL {
        let spec = format!("{}\ndataSourceRefs: [A]", kind.example());
        assert_valid(&validator, &doc("sink", &spec));
    }
    for kind in SimulationType::ALL {
        assert_valid(&validator, &doc("simulation", kind.example()));
    }
    for kind in LoadBehavior::ALL {
        let spec = format!("type: stream\nload: {}", kind.example());
        assert_valid(&validator, &doc("simulation", &spec));
    }
    // Every output format, and CSV columns.
    for format in FileFormat::ALL {
        let spec = format!(
            "type: file\npath: out\nformat: {}\ndataSourceRefs: [A]",
            format.name()
        );
        assert_valid(&validator, &doc("sink", &spec));
    }
    for format in ConsoleFormat::ALL {
        let spec = format!(
            "type: console\nformat: {}\ndataSourceRefs: [A]",
            format.name()
        );
        assert_valid(&validator, &doc("sink", &spec));
    }
    for sink in ["type: file\npath: out.csv", "type: console"] {
        let spec = format!(
            "{sink}\nformat: csv\ncolumns: {{caseid: a, activity: b, timestamp: c, node: d, \
             group: e, emittedAt: f}}\ndataSourceRefs: [A]"
        );
        assert_valid(&validator, &doc("sink", &spec));
    }
    // Aliases and the legacy load word are words the reader takes.
    assert_valid(&validator, &doc("sink", "type: test\ndataSourceRefs: [A]"));
    assert_valid(
        &validator,
        &doc(
            "simulation",
            "type: stream\nload: {loadBehavior: load, load: 5}",
        ),
    );
    // Every partition type.
    for partition in [
        "{type: default}",
        "{type: constant, partition: 0}",
        "{type: case, partitionCount: 4}",
    ] {
        let spec = format!(
            "type: kafka\nbootstrapServer: b:9092\ntopic: t\npartition: {partition}\n\
             producer: {{acks: all, linger.ms: 5, enable.idempotence: true}}\ndataSourceRefs: [A]"
        );
        assert_valid(&validator, &doc("sink", &spec));
    }
}

/// `yaml` must fail the schema; returns the problems found.
fn assert_invalid(validator: &jsonschema::Validator, yaml: &str) -> String {
    let docs = documents(yaml);
    let found: Vec<String> = docs
        .iter()
        .filter(|d| !validator.is_valid(d))
        .map(|d| problems(validator, d))
        .collect();
    assert!(!found.is_empty(), "{yaml}\npasses the schema");
    found.join("\n")
}

#[test]
fn broken_documents_fail_the_schema() {
    let validator = validator();
    let broken = [
        // An unknown sink type.
        doc("sink", "type: carrierPigeon\ndataSourceRefs: [A]"),
        // No spec.
        "kind: sink\nname: x\n".to_string(),
        // A string where a number belongs.
        doc("simulation", "type: countBased\nsteps: many"),
        doc(
            "datasource",
            "selection: uniform\neventData: [{activity: a, transition: b, duration: soon}]",
        ),
        doc("simulation", "type: stream\nload: {loadBehavior: constant, load: lots}"),
        // Out of the reader's bounds.
        doc("simulation", "type: countBased\nsteps: 0"),
        doc("simulation", "type: countBased\nsteps: 1\nmaxConcurrentCases: 100000000"),
        doc("simulation", "type: stream\nload: {loadBehavior: constant, load: 2e9}"),
        doc(
            "datasource",
            "selection: uniform\neventData: [{activity: a, transition: b, duration: -1}]",
        ),
        doc(
            "datasource",
            "selection: uniform\neventData: [{activity: a, transition: b, \
             duration: {type: gaussian, mu: 1, sigma: -1}}]",
        ),
        // Unknown kinds and fields.
        "kind: datasauce\nname: x\nspec: {}\n".to_string(),
        doc("sink", "type: console\nformat: xml\ndataSourceRefs: [A]"),
        doc("sink", "type: console\ntopic: t\ndataSourceRefs: [A]"),
        doc("sink", "type: console\nformat: ocel\ndataSourceRefs: [A]"),
        doc("sink", "type: file\npath: x\nformat: csv\ncolumns: {activty: a}\ndataSourceRefs: [A]"),
        doc("sink", "type: file\npath: x\nformat: csv\ncolumns: {node: [a]}\ndataSourceRefs: [A]"),
        doc("simulation", "type: countBased\nsteps: 1\nspeed: 3"),
        doc(
            "datasource",
            "selection: uniform\neventData: [{activity: a, transition: b, duration: 1, cost: 3}]",
        ),
        // A missing field of the chosen type.
        doc("sink", "type: kafka\nbootstrapServer: b:9092\ndataSourceRefs: [A]"),
        doc("simulation", "type: stream"),
        doc("datasource", "selection: genericProbability\neventData: [{activity: a, transition: b, duration: 1}]"),
        doc("simulation", "type: stream\nload: {loadBehavior: gradual, load: 5}"),
        doc("sink", "type: kafka\nbootstrapServer: b\ntopic: t\npartition: {type: case}\ndataSourceRefs: [A]"),
        // An empty eventData.
        doc("datasource", "selection: uniform\neventData: []"),
    ];
    for yaml in &broken {
        assert_invalid(&validator, yaml);
    }
}

/// The reader's verdict on each file: whether reading it (before the checks across documents)
/// found an error.
fn reader_rejects(name: &str, text: &str) -> bool {
    let mut set = ConfigSet::new();
    set.add_str(name, text);
    set.diagnostics.has_errors()
}

#[test]
fn the_schema_rejects_only_what_the_reader_rejects() {
    // Every fixture, valid and invalid: a document the schema rejects is one the reader
    // rejects too, and a file the reader takes passes the schema whole.
    let validator = validator();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    yaml_files(&root.join("tests/fixtures"), &mut files);
    let mut rejected_by_both = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let Ok(docs) = parse_documents(&text) else {
            continue; // a syntax error: nothing for a schema to see
        };
        let schema_rejects = docs.iter().any(|d| !validator.is_valid(&yaml_to_json(d)));
        let reader_rejects = reader_rejects(&file.display().to_string(), &text);
        if schema_rejects {
            assert!(
                reader_rejects,
                "{}: the schema rejects what the reader takes",
                file.display()
            );
            rejected_by_both += 1;
        }
        if !reader_rejects {
            assert!(!schema_rejects, "{}", file.display());
        }
    }
    assert!(
        rejected_by_both >= 5,
        "only {rejected_by_both} fixtures rejected"
    );
}

#[test]
fn fields_a_type_does_not_read_are_allowed_as_the_reader_allows_them() {
    // The reader takes every simulation field on every type and other selections' fields on a
    // datasource (with a warning), without reading them.
    let validator = validator();
    let lenient = [
        doc(
            "simulation",
            "type: countBased\nsteps: 5\nload: 7\ntimeframe: soon",
        ),
        doc(
            "datasource",
            "selection: uniform\ndistribution: whatever\n\
             eventData: [{activity: a, transition: b, duration: 1}]",
        ),
    ];
    for yaml in &lenient {
        assert!(!reader_rejects("lenient.yaml", yaml), "{yaml}");
        assert_valid(&validator, yaml);
    }
}

#[test]
fn the_command_prints_the_schema_and_writes_it_with_dash_o() {
    let out = assert_cmd::Command::cargo_bin("def")
        .unwrap()
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(printed, json_schema());

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("def.schema.json");
    assert_cmd::Command::cargo_bin("def")
        .unwrap()
        .args(["schema", "-o"])
        .arg(&file)
        .assert()
        .success()
        .stdout("");
    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written, json!(json_schema()));
}

/// A value of YAML as JSON (the examples are YAML snippets).
fn yaml_value(yaml: &str) -> Value {
    yaml_to_json(&parse_documents(yaml).unwrap()[0])
}

#[test]
fn the_tables_say_which_fields_the_reader_requires() {
    use def::config::read::Field;
    use def::config::{datasource, document, duration, load, simulation, sink, PartitionType};
    // Each case: a document the reader takes, where in it a mapping is, and the tables of that
    // mapping's fields. Each field present is removed in turn: the reader must then report it
    // missing if its table says it is required, and take the document if not.
    let two_edges = json!([
        {"activity": "a", "transition": "<end>", "duration": 1},
        {"activity": "b", "transition": "<end>", "duration": 1},
    ]);
    let datasource_with = |spec: Value| json!({"kind": "datasource", "name": "d", "spec": spec});
    let mut cases: Vec<(Value, &str, Vec<&'static [Field]>)> = Vec::new();
    for kind in SelectionType::ALL {
        let mut spec = yaml_value(kind.example());
        spec["eventData"] = two_edges.clone();
        cases.push((
            datasource_with(spec),
            "/spec",
            vec![datasource::FIELDS, kind.field_table()],
        ));
    }
    for kind in DurationType::ALL {
        let mut edges = two_edges.clone();
        edges[0]["duration"] = yaml_value(kind.example());
        let doc = datasource_with(json!({"selection": "uniform", "eventData": edges}));
        cases.push((
            doc,
            "/spec/eventData/0/duration",
            vec![duration::COMMON_FIELDS, kind.field_table()],
        ));
    }
    cases.push((
        datasource_with(json!({"selection": "uniform", "eventData": two_edges.clone()})),
        "/spec/eventData/0",
        vec![datasource::EDGE_FIELDS],
    ));
    for kind in SinkType::ALL {
        let mut spec = yaml_value(kind.example());
        spec["dataSourceRefs"] = json!(["A"]);
        spec["id"] = json!("label");
        let doc = json!({"kind": "sink", "name": "s", "spec": spec});
        cases.push((doc, "/spec", vec![sink::COMMON_FIELDS, kind.field_table()]));
    }
    let columns = json!({"caseid": "a", "activity": "b", "timestamp": "c", "node": "d",
                         "group": "e", "emittedAt": "f"});
    cases.push((
        json!({"kind": "sink", "name": "s", "spec": {"type": "file", "path": "out.csv",
               "format": "csv", "columns": columns, "dataSourceRefs": ["A"]}}),
        "/spec/columns",
        vec![sink::COLUMN_FIELDS],
    ));
    cases.push((
        json!({"kind": "sink", "name": "s", "spec": {"type": "blackhole", "dataSourceRefs": []}}),
        "",
        vec![document::DOCUMENT_FIELDS],
    ));
    for kind in PartitionType::ALL {
        let partition = match kind {
            PartitionType::Constant => json!({"type": "constant", "partition": 0}),
            PartitionType::Case => json!({"type": "case", "partitionCount": 4}),
            PartitionType::Default => json!({"type": "default"}),
        };
        let mut spec = yaml_value(SinkType::Kafka.example());
        spec["dataSourceRefs"] = json!(["A"]);
        spec["partition"] = partition;
        cases.push((
            json!({"kind": "sink", "name": "s", "spec": spec}),
            "/spec/partition",
            vec![sink::PARTITION_COMMON_FIELDS, kind.field_table()],
        ));
    }
    for kind in SimulationType::ALL {
        let doc = json!({"kind": "simulation", "name": "sim", "spec": yaml_value(kind.example())});
        cases.push((
            doc,
            "/spec",
            vec![simulation::COMMON_FIELDS, kind.field_table()],
        ));
    }
    for kind in LoadBehavior::ALL {
        let spec = json!({"type": "stream", "load": yaml_value(kind.example())});
        cases.push((
            json!({"kind": "simulation", "name": "sim", "spec": spec}),
            "/spec/load",
            vec![load::COMMON_FIELDS, kind.field_table()],
        ));
    }
    let steps = yaml_value(LoadBehavior::Steps.example());
    cases.push((
        json!({"kind": "simulation", "name": "sim", "spec": {"type": "stream", "load": steps}}),
        "/spec/load/steps/0",
        vec![load::STEP_FIELDS],
    ));

    // A trace example names `load.csv` beside the config: the configs are files in a folder
    // that has one. JSON is YAML, so each document is written as JSON.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("load.csv"), "0,10\n1,20\n").unwrap();
    let read = |doc: &Value| {
        let file = dir.path().join("config.yaml");
        std::fs::write(&file, serde_json::to_string_pretty(doc).unwrap()).unwrap();
        let mut set = ConfigSet::new();
        set.add_file(&file);
        set.diagnostics
    };
    let mut removed = 0;
    for (doc, at, tables) in cases {
        let diags = read(&doc);
        assert!(!diags.has_errors(), "{doc}\n{}", diags.render());
        for field in tables.iter().flat_map(|t| t.iter()) {
            let mut without = doc.clone();
            let Some(Value::Object(map)) = without.pointer_mut(at) else {
                panic!("{doc} has no mapping at {at}");
            };
            if map.remove(field.name).is_none() {
                assert!(
                    !field.required,
                    "{doc}: required `{}` not at {at}",
                    field.name
                );
                continue;
            }
            removed += 1;
            let diags = read(&without);
            let missing = format!("missing `{}`", field.name);
            if field.required {
                assert!(
                    diags.errors().any(|d| d.message.contains(&missing)),
                    "{without}: no `{missing}` error, though the table requires it\n{}",
                    diags.render()
                );
            } else {
                assert!(
                    !diags.has_errors(),
                    "{without}: optional `{}` removed, yet\n{}",
                    field.name,
                    diags.render()
                );
            }
        }
    }
    assert!(removed > 50, "only {removed} removals");
}

#[test]
fn network_documents_pass_and_broken_ones_fail() {
    let validator = validator();
    assert_valid(&validator, &doc("network", def::config::network::EXAMPLE));
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/network");
    for file in [
        "every-effect.yaml",
        "invalid/matched-twice.yaml",
        "invalid/unknown-names.yaml",
    ] {
        // Names and overlaps are for `def validate`; the shapes are the schema's.
        assert_valid(
            &validator,
            &std::fs::read_to_string(fixtures.join(file)).unwrap(),
        );
    }
    let broken = std::fs::read_to_string(fixtures.join("invalid/bad-values.yaml")).unwrap();
    let problems = assert_invalid(&validator, &broken);
    assert!(problems.contains("1.5"), "{problems}");
    assert_invalid(
        &validator,
        &doc("network", "{groups: [g], outage: {every: 10}}"),
    );
    assert_invalid(
        &validator,
        &doc("network", "{groups: [g], clock: {skew: 1}}"),
    );
}
