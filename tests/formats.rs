//! The file formats end to end through the `def` binary: CSV, XES and OCEL 2.0 as a standard
//! reader opens them.
//!
//! Each run is the assembly line with a fixed seed; the JSON lines of the same run are the
//! truth each format is held to (the same events, cases, activities, datasources and times).
//! pm4py (`scripts/pm4py.sh install`; the tests take its python from `DEF_PM4PY`, else from
//! `target/pm4py-venv`) reads every format back; without it those tests FAIL saying how to
//! install it, unless `DEF_PM4PY_SKIP=1`. XES is also parsed strictly in Rust (quick-xml), which
//! checks the marking of the cases a run leaves open, also when a SIGINT stops it.

mod common;

use assert_cmd::Command;
use common::pm4py;
use def::config::ConfigSet;
use def::model::{Chain, Target};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ASSEMBLY_LINE: &str = "tests/fixtures/reference/datasource/assemblyline";
const ALL_NODES: &str = "[GoodsDelivery, MaterialPreparation, AssemblyLineSetup, Assembling, \
                         QualityControl, Packaging, Shipping]";

fn def() -> Command {
    Command::cargo_bin("def").expect("the def binary is built")
}

/// A folder with a config per run.
struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Writes a config with one sink (`sink`: YAML of its type-specific fields) on `refs` and
    /// a count-based simulation of `steps`, and returns its path.
    fn config(&self, name: &str, sink: &str, refs: &str, steps: u64) -> PathBuf {
        let sink = sink.replace('\n', "\n  ");
        let yaml = format!(
            "kind: sink\nname: out\nspec:\n  {sink}\n  dataSourceRefs: {refs}\n---\n\
             kind: simulation\nname: sim\nspec:\n  type: countBased\n  steps: {steps}\n  \
             maxConcurrentCases: 5\n"
        );
        let path = self.path(name);
        std::fs::write(&path, yaml).unwrap();
        path
    }

    /// Runs `def run <chain> <config> --seed 7 <args>` (with ISO 8601 timestamps unless
    /// `args` say otherwise) and returns its stderr.
    fn run(&self, chain: &str, config: &Path, args: &[&str]) -> String {
        let iso: &[&str] = if args.contains(&"--timestamp-format") {
            &[]
        } else {
            &["--timestamp-format", "iso8601"]
        };
        let out = def()
            .arg("run")
            .arg(chain)
            .arg(config)
            .args(["--seed", "7"])
            .args(iso)
            .args(args)
            .assert()
            .success();
        String::from_utf8_lossy(&out.get_output().stderr).to_string()
    }

    /// The numbered files (`{stem}-000001{ext}`, ...) a rotated output wrote, in order.
    fn numbered(&self, stem: &str, ext: &str) -> Vec<PathBuf> {
        let prefix = format!("{stem}-");
        let mut parts: Vec<PathBuf> = std::fs::read_dir(self.0.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(ext))
            })
            .collect();
        parts.sort();
        parts
    }

    /// Runs the assembly line into a file of `format` and returns the file.
    fn file(&self, format: &str, refs: &str, steps: u64, args: &[&str]) -> (PathBuf, String) {
        let out = self.path(&format!("events.{format}"));
        let sink = format!("type: file\npath: {}\nformat: {format}", out.display());
        let config = self.config(&format!("{format}.yaml"), &sink, refs, steps);
        let stderr = self.run(ASSEMBLY_LINE, &config, args);
        (out, stderr)
    }

    /// The JSON lines of the same run: the truth.
    fn truth(&self, steps: u64, args: &[&str]) -> Vec<Truth> {
        let (path, _) = self.file("jsonl", ALL_NODES, steps, args);
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|line| {
                let v: Value = serde_json::from_str(line).unwrap();
                let s = |k: &str| v[k].as_str().unwrap().to_string();
                Truth {
                    case: s("caseid"),
                    activity: s("activity"),
                    timestamp: s("timestamp"),
                    node: s("node"),
                    group: s("group"),
                }
            })
            .collect()
    }
}

/// An event as the JSON lines have it (timestamps in ISO 8601, as the other formats).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Truth {
    case: String,
    activity: String,
    timestamp: String,
    node: String,
    group: String,
}

/// The chain's facts: its activities, datasources, and which (datasource, activity) end a case.
struct ChainFacts {
    activities: BTreeSet<String>,
    nodes: BTreeSet<String>,
    ends: BTreeSet<(String, String)>,
}

fn chain_facts(dir: &str) -> ChainFacts {
    let mut set = ConfigSet::new();
    set.add_directory(dir);
    let chain = Chain::compile(&set).unwrap();
    let mut facts = ChainFacts {
        activities: BTreeSet::new(),
        nodes: BTreeSet::new(),
        ends: BTreeSet::new(),
    };
    for node in &chain.nodes {
        facts.nodes.insert(node.name.as_str().to_string());
        for edge in &node.edges {
            facts.activities.insert(edge.activity.as_str().to_string());
            if edge.target == Target::End {
                facts.ends.insert((
                    node.name.as_str().to_string(),
                    edge.activity.as_str().to_string(),
                ));
            }
        }
    }
    facts
}

/// Events grouped by case, in file order, and the cases in order of their first event.
fn by_case(events: &[Truth]) -> BTreeMap<String, Vec<Truth>> {
    let mut cases: BTreeMap<String, Vec<Truth>> = BTreeMap::new();
    for e in events {
        cases.entry(e.case.clone()).or_default().push(e.clone());
    }
    cases
}

/// The cases whose last event does not end them: open when the run stopped.
fn open_cases(events: &[Truth], facts: &ChainFacts) -> BTreeSet<String> {
    by_case(events)
        .into_iter()
        .filter(|(_, events)| {
            let last = events.last().unwrap();
            !facts
                .ends
                .contains(&(last.node.clone(), last.activity.clone()))
        })
        .map(|(case, _)| case)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// XES, strictly

#[derive(Debug, Default)]
struct Trace {
    name: String,
    open: bool,
    events: Vec<Truth>,
}

/// Parses an XES log strictly (well-formed, one `log` root, the structure def writes) and
/// returns its traces with their events as `Truth`s.
fn parse_xes(xml: &str) -> Vec<Trace> {
    use quick_xml::events::{BytesStart, Event};
    // Only tab, LF and CR of the control characters are XML 1.0 characters.
    assert!(
        !xml.chars()
            .any(|c| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}'),
        "a character XML 1.0 does not allow"
    );
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let attrs = |e: &BytesStart| -> BTreeMap<String, String> {
        e.attributes()
            .map(|a| {
                let a = a.expect("a well-formed attribute");
                let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
                let value = a
                    .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                    .expect("a well-formed value")
                    .to_string();
                (key, value)
            })
            .collect()
    };
    let mut traces = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut trace: Option<Trace> = None;
    let mut event: Option<BTreeMap<String, String>> = None;
    let mut roots = 0;
    loop {
        let ev = reader.read_event().expect("well-formed XML");
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let parent = path.last().map(String::as_str);
                match (parent, name.as_str()) {
                    (None, "log") => {
                        roots += 1;
                        assert_eq!(attrs(e)["xes.version"], "1849-2016");
                    }
                    (Some("log"), "extension" | "global" | "classifier") => {}
                    (Some("global"), "string" | "date") => {}
                    (Some("log"), "trace") => {
                        assert!(trace.is_none());
                        trace = Some(Trace::default());
                    }
                    (Some("trace"), "string") => {
                        let a = attrs(e);
                        assert_eq!(a["key"], "concept:name");
                        trace.as_mut().unwrap().name = a["value"].clone();
                    }
                    (Some("trace"), "boolean") => {
                        let a = attrs(e);
                        assert_eq!(
                            (a["key"].as_str(), a["value"].as_str()),
                            ("def:open", "true")
                        );
                        trace.as_mut().unwrap().open = true;
                    }
                    (Some("trace"), "event") => event = Some(BTreeMap::new()),
                    (Some("event"), "string" | "date") => {
                        let a = attrs(e);
                        let previous = event
                            .as_mut()
                            .unwrap()
                            .insert(a["key"].clone(), a["value"].clone());
                        assert!(previous.is_none(), "{} twice", a["key"]);
                    }
                    (parent, name) => panic!("unexpected <{name}> in {parent:?}"),
                }
                if matches!(ev, Event::Start(_)) {
                    path.push(name);
                }
            }
            Event::End(e) => {
                let name = path.pop().expect("an open element");
                assert_eq!(e.name().as_ref(), name.as_bytes());
                match name.as_str() {
                    "trace" => traces.push(trace.take().unwrap()),
                    "event" => {
                        let mut a = event.take().unwrap();
                        assert_eq!(
                            a.remove("lifecycle:transition").as_deref(),
                            Some("complete")
                        );
                        let t = trace.as_mut().unwrap();
                        let mut take = |k: &str| a.remove(k).unwrap_or_else(|| panic!("no {k}"));
                        t.events.push(Truth {
                            case: t.name.clone(),
                            activity: take("concept:name"),
                            timestamp: take("time:timestamp"),
                            node: take("org:resource"),
                            group: take("org:group"),
                        });
                        assert!(a.is_empty(), "more attributes: {a:?}");
                    }
                    _ => {}
                }
            }
            Event::Text(t) => assert!(
                t.decode().unwrap().trim().is_empty(),
                "text outside attributes"
            ),
            Event::Decl(_) => {}
            Event::Eof => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(path.is_empty(), "unclosed elements: {path:?}");
    assert_eq!(roots, 1, "one root element");
    traces
}

/// The open-case count in the run's summary (0 if it says none).
fn summary_open(stderr: &str) -> usize {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("def: out: "))
        .and_then(|rest| rest.split(' ').next())
        .map_or(0, |n| n.parse().unwrap())
}

#[test]
fn xes_holds_each_case_as_a_trace_and_marks_the_cases_max_events_cut() {
    let dir = Dir::new();
    let facts = chain_facts(ASSEMBLY_LINE);
    let limit = ["--max-events", "3000"];
    let truth = dir.truth(100_000, &limit);
    assert_eq!(truth.len(), 3000);
    let (xes, stderr) = dir.file("xes", ALL_NODES, 100_000, &limit);
    let traces = parse_xes(&std::fs::read_to_string(&xes).unwrap());

    // Every case is one trace, holding its events in order, exactly as the JSON lines do.
    let cases = by_case(&truth);
    assert_eq!(traces.len(), cases.len());
    for trace in &traces {
        assert_eq!(trace.events, cases[&trace.name], "{}", trace.name);
    }
    // The cases the limit cut, and only they, are marked; the summary counts them.
    let open: BTreeSet<String> = traces
        .iter()
        .filter(|t| t.open)
        .map(|t| t.name.clone())
        .collect();
    let expected = open_cases(&truth, &facts);
    assert!(!expected.is_empty());
    assert_eq!(open, expected);
    assert_eq!(summary_open(&stderr), expected.len(), "{stderr}");
    // Finished traces come in the order their cases ended; open ones last.
    let first_open = traces.iter().position(|t| t.open).unwrap();
    assert!(traces[first_open..].iter().all(|t| t.open));
}

#[test]
fn an_xes_sink_on_some_datasources_hears_of_cases_that_end_elsewhere() {
    // Cases end at several datasources; this sink takes two. A case that ends elsewhere is
    // written when it ends (not held to the end of the run, nor marked open).
    let dir = Dir::new();
    let facts = chain_facts(ASSEMBLY_LINE);
    let limit = ["--max-events", "3000"];
    let truth = dir.truth(100_000, &limit);
    let (xes, stderr) = dir.file(
        "xes",
        "[GoodsDelivery, MaterialPreparation]",
        100_000,
        &limit,
    );
    let traces = parse_xes(&std::fs::read_to_string(&xes).unwrap());
    let taken = |e: &Truth| e.node == "GoodsDelivery" || e.node == "MaterialPreparation";
    let seen: Vec<Truth> = truth.iter().filter(|e| taken(e)).cloned().collect();
    let cases = by_case(&seen);
    assert_eq!(traces.len(), cases.len());
    let still_open = open_cases(&truth, &facts);
    for trace in &traces {
        assert_eq!(trace.events, cases[&trace.name]);
        assert_eq!(
            trace.open,
            still_open.contains(&trace.name),
            "{}",
            trace.name
        );
    }
    let marked = traces.iter().filter(|t| t.open).count();
    assert!(marked < traces.len() / 2, "{marked} of {}", traces.len());
    assert_eq!(summary_open(&stderr), marked);
}

#[test]
fn xes_stays_well_formed_when_sigint_stops_the_run() {
    let dir = Dir::new();
    let out = dir.path("events.xes");
    let sink = format!("type: file\npath: {}\nformat: xes", out.display());
    let config = dir.config("xes.yaml", &sink, ALL_NODES, 1_000_000_000);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("def"))
        .arg("run")
        .arg(ASSEMBLY_LINE)
        .arg(&config)
        .args(["--seed", "7"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("def starts");
    // Until events reach the file (the sink writes a megabyte at a time).
    let started = Instant::now();
    while std::fs::metadata(&out).map_or(0, |m| m.len()) < 1 << 20 {
        assert!(started.elapsed() < Duration::from_secs(30), "no events");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out_put = child.wait_with_output().expect("def exits");
    let stderr = String::from_utf8_lossy(&out_put.stderr);
    assert!(out_put.status.success(), "{stderr}");
    assert!(stderr.contains("stopped early"), "{stderr}");
    let xml = std::fs::read_to_string(&out).unwrap();
    assert!(xml.ends_with("</log>\n"));
    let traces = parse_xes(&xml);
    let open = traces.iter().filter(|t| t.open).count();
    assert!(open > 0 && open <= 5, "{open} open (maxConcurrentCases 5)");
    assert_eq!(summary_open(&stderr), open);
    let events: usize = traces.iter().map(|t| t.events.len()).sum();
    let reported: usize = stderr
        .lines()
        .find(|l| l.contains(" events in "))
        .and_then(|l| l.strip_prefix("def: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the summary's count");
    assert_eq!(events, reported);
}

// ---------------------------------------------------------------------------------------------
// CSV and the console

/// Splits RFC 4180 CSV into records of fields; every record must end with CRLF.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                assert!(field.is_empty(), "a quote inside an unquoted field");
                quoted = true;
            }
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            '\n' => panic!("a record ended by a bare LF"),
            c => field.push(c),
        }
    }
    assert!(!quoted, "an unclosed quote");
    assert!(
        field.is_empty() && record.is_empty(),
        "the last record lacks its CRLF"
    );
    records
}

#[test]
fn csv_has_a_header_and_a_row_per_event_and_columns_renames_them() {
    let dir = Dir::new();
    let truth = dir.truth(2000, &[]);
    let (csv, _) = dir.file("csv", ALL_NODES, 2000, &[]);
    let records = parse_csv(&std::fs::read_to_string(&csv).unwrap());
    assert_eq!(
        records[0],
        [
            "case:concept:name",
            "concept:name",
            "time:timestamp",
            "org:resource",
            "org:group"
        ]
    );
    let rows: Vec<Truth> = records[1..]
        .iter()
        .map(|r| Truth {
            case: r[0].clone(),
            activity: r[1].clone(),
            timestamp: r[2].clone(),
            node: r[3].clone(),
            group: r[4].clone(),
        })
        .collect();
    assert_eq!(rows, truth);

    let renamed = dir.path("renamed.csv");
    let sink = format!(
        "type: file\npath: {}\nformat: csv\ncolumns: {{caseid: caseid, activity: activity, \
         timestamp: timestamp, node: node, group: group}}",
        renamed.display()
    );
    let config = dir.config("renamed.yaml", &sink, ALL_NODES, 10);
    dir.run(ASSEMBLY_LINE, &config, &[]);
    let text = std::fs::read_to_string(&renamed).unwrap();
    assert!(
        text.starts_with("caseid,activity,timestamp,node,group\r\n"),
        "{text}"
    );
    // Whatever the run's timestamp format, CSV's are ISO 8601 with milliseconds and offset.
    dir.run(ASSEMBLY_LINE, &config, &["--timestamp-format", "original"]);
    let second = std::fs::read_to_string(&renamed).unwrap();
    assert_eq!(second, text);
    assert!(parse_csv(&text)[1][2].ends_with("+00:00"), "{text}");
}

#[test]
fn a_stream_that_stamps_emitted_at_gets_a_csv_column_for_it() {
    let dir = Dir::new();
    let out = dir.path("events.csv");
    let yaml = format!(
        "kind: sink\nname: out\nspec:\n  type: file\n  path: {}\n  format: csv\n  \
         columns: {{emittedAt: sent}}\n  dataSourceRefs: {ALL_NODES}\n---\n\
         kind: simulation\nname: sim\nspec:\n  type: stream\n  emittedAt: true\n  \
         load: {{loadBehavior: constant, load: 5000}}\n",
        out.display()
    );
    let config = dir.path("stream.yaml");
    std::fs::write(&config, yaml).unwrap();
    dir.run(ASSEMBLY_LINE, &config, &["--max-events", "200"]);
    let records = parse_csv(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(records[0][5], "sent");
    assert_eq!(records.len(), 201);
    assert!(records[1..]
        .iter()
        .all(|r| r.len() == 6 && r[5].len() == 29));
}

/// YAML of a one-datasource chain whose names need quoting and escaping in every format.
const AWKWARD: &str = r#"kind: datasource
name: "<start>"
spec: {name: "<start>", selection: uniform, eventData: [{activity: "", transition: "Press <1> & \"Co\"", duration: 0}]}
---
kind: datasource
name: Press
spec:
  name: "Press <1> & \"Co\""
  group: "métal, 'heavy'"
  selection: uniform
  eventData:
    - {activity: "say \"hi\", then <leave> & go", transition: "Press <1> & \"Co\"", duration: 1}
    - {activity: "zwei\nZeilen\r\tund Tab", transition: "Press <1> & \"Co\"", duration: 1}
    - {activity: "naïve ☃ 'quoted' \u0007bell", transition: "Press <1> & \"Co\"", duration: 1}
    - {activity: "done", transition: "<end>", duration: 1}
"#;

fn awkward(dir: &Dir) -> String {
    let chain = dir.path("awkward");
    std::fs::create_dir_all(&chain).unwrap();
    std::fs::write(chain.join("chain.yaml"), AWKWARD).unwrap();
    chain.to_string_lossy().to_string()
}

#[test]
fn commas_quotes_line_breaks_markup_and_non_ascii_survive_csv_xes_and_ocel() {
    let dir = Dir::new();
    let chain = awkward(&dir);
    let facts = chain_facts(&chain);
    let node = "Press <1> & \"Co\"";
    let group = "métal, 'heavy'";
    for format in ["csv", "xes", "ocel", "jsonl"] {
        let out = dir.path(&format!("awkward.{format}"));
        let sink = format!("type: file\npath: {}\nformat: {format}", out.display());
        let config = dir.config(&format!("{format}.yaml"), &sink, "[Press]", 400);
        dir.run(&chain, &config, &[]);
    }
    let truth: Vec<Value> = std::fs::read_to_string(dir.path("awkward.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The bell is no XML character: XES writes U+FFFD for it; CSV and OCEL keep it.
    let activities = |xml: bool| -> BTreeSet<String> {
        truth
            .iter()
            .map(|e| {
                let a = e["activity"].as_str().unwrap();
                if xml {
                    a.replace('\u{7}', "\u{FFFD}")
                } else {
                    a.to_string()
                }
            })
            .collect()
    };
    assert_eq!(activities(false), facts.activities);

    let csv = parse_csv(&std::fs::read_to_string(dir.path("awkward.csv")).unwrap());
    assert_eq!(csv.len(), 401);
    assert!(csv[1..]
        .iter()
        .all(|r| r.len() == 5 && r[3] == node && r[4] == group));
    let csv_activities: BTreeSet<String> = csv[1..].iter().map(|r| r[1].clone()).collect();
    assert_eq!(csv_activities, activities(false));

    let traces = parse_xes(&std::fs::read_to_string(dir.path("awkward.xes")).unwrap());
    let events: Vec<&Truth> = traces.iter().flat_map(|t| &t.events).collect();
    assert_eq!(events.len(), 400);
    assert!(events.iter().all(|e| e.node == node && e.group == group));
    let xes_activities: BTreeSet<String> = events.iter().map(|e| e.activity.clone()).collect();
    assert_eq!(xes_activities, activities(true));

    let ocel: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path("awkward.ocel")).unwrap()).unwrap();
    let ocel_activities: BTreeSet<String> = ocel["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ocel_activities, activities(false));
    let datasource = ocel["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["type"] == "datasource")
        .unwrap();
    assert_eq!(datasource["id"], node);
    assert_eq!(datasource["attributes"][0]["value"], group);

    if let Some(python) = pm4py() {
        let read = pm4py_read(
            &python,
            &[
                ("csv", dir.path("awkward.csv")),
                ("xes", dir.path("awkward.xes")),
                ("ocel", dir.path("awkward.ocel")),
            ],
        );
        for (format, xml) in [("csv", false), ("xes", true), ("ocel", false)] {
            let got = &read[format];
            assert_eq!(got["events"], 400, "{format}");
            assert_eq!(set_of(&got["activities"]), activities(xml), "{format}");
            assert_eq!(
                set_of(&got["resources"]),
                BTreeSet::from([node.to_string()])
            );
        }
    }
}

#[test]
fn the_console_writes_csv_and_xes_and_refuses_ocel_by_name() {
    let dir = Dir::new();
    let config = dir.config("csv.yaml", "type: console\nformat: csv", ALL_NODES, 50);
    let out = def()
        .args(["run", ASSEMBLY_LINE])
        .arg(&config)
        .args(["--seed", "7", "--quiet"])
        .assert()
        .success();
    let records = parse_csv(&String::from_utf8(out.get_output().stdout.clone()).unwrap());
    assert_eq!(records.len(), 51);
    assert_eq!(records[0][0], "case:concept:name");

    let config = dir.config("xes.yaml", "type: console\nformat: xes", ALL_NODES, 50);
    let out = def()
        .args(["run", ASSEMBLY_LINE])
        .arg(&config)
        .args(["--seed", "7", "--quiet"])
        .assert()
        .success();
    let traces = parse_xes(&String::from_utf8(out.get_output().stdout.clone()).unwrap());
    assert_eq!(traces.iter().map(|t| t.events.len()).sum::<usize>(), 50);

    let config = dir.config("ocel.yaml", "type: console\nformat: ocel", ALL_NODES, 50);
    let out = def()
        .args(["validate", ASSEMBLY_LINE])
        .arg(&config)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(
        stderr.contains("the console cannot write `ocel`"),
        "{stderr}"
    );
    assert!(stderr.contains("ocel.yaml:5:11"), "{stderr}");
    assert!(
        stderr.contains("the console writes original, json, csv, xes"),
        "{stderr}"
    );
}

#[test]
fn columns_naming_an_unknown_field_is_a_located_config_error_with_a_suggestion() {
    let dir = Dir::new();
    let config = dir.config(
        "columns.yaml",
        "type: file\npath: out.csv\nformat: csv\ncolumns: {caseid: id, activty: what}",
        ALL_NODES,
        10,
    );
    let out = def()
        .args(["validate", ASSEMBLY_LINE])
        .arg(&config)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(
        stderr.contains("unknown field `activty` in `columns`"),
        "{stderr}"
    );
    assert!(stderr.contains("columns.yaml:7:25"), "{stderr}");
    assert!(stderr.contains("did you mean `activity`?"), "{stderr}");

    // `columns` on another format, and two fields in one column.
    for (sink, message) in [
        (
            "type: file\npath: out.xes\nformat: xes\ncolumns: {caseid: id}",
            "`columns` names CSV columns, but this sink writes `xes`",
        ),
        (
            "type: file\npath: out.csv\nformat: csv\ncolumns: {node: concept:name}",
            "`activity` and `node` both go to the column `concept:name`",
        ),
    ] {
        let config = dir.config("columns.yaml", sink, ALL_NODES, 10);
        let out = def()
            .args(["validate", ASSEMBLY_LINE])
            .arg(&config)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr);
        assert!(stderr.contains(message), "{stderr}");
    }
}

// ---------------------------------------------------------------------------------------------
// pm4py

/// Reads each (format, file) with pm4py and says, per format: events, cases, the activity and
/// resource sets, whether every timestamp parsed and each case's are in order (in file order),
/// the first and last time (ms since the epoch), and the open-case marks (XES) or the objects
/// per type and each datasource's group (OCEL).
const READ_BACK: &str = r#"
import json, sys, warnings
warnings.filterwarnings("ignore")
import pandas as pd
import pm4py

def summary(df, case, act, ts, res):
    times = df[ts]
    return {
        "events": int(len(df)),
        "cases": int(df[case].nunique()),
        "activities": sorted(df[act].unique().tolist()),
        "resources": sorted(df[res].unique().tolist()),
        "parsed": bool(pd.api.types.is_datetime64_any_dtype(times) and times.notna().all()),
        "ordered": bool(df.groupby(case, sort=False)[ts].apply(lambda s: s.is_monotonic_increasing).all()),
        "first_ms": int(times.min().value // 10**6),
        "last_ms": int(times.max().value // 10**6),
    }

out = {}
args = sys.argv[1:]
for kind, path in zip(args[::2], args[1::2]):
    if kind == "xes":
        df = pm4py.read_xes(path)
        r = summary(df, "case:concept:name", "concept:name", "time:timestamp", "org:resource")
        marks = df.groupby("case:concept:name")["case:def:open"].first() if "case:def:open" in df else pd.Series([], dtype=object)
        r["open"] = int(marks.fillna(False).astype(bool).sum())
    elif kind == "csv":
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        raw["time:timestamp"] = pd.to_datetime(raw["time:timestamp"], format="ISO8601", utc=True)
        r = summary(raw, "case:concept:name", "concept:name", "time:timestamp", "org:resource")
        df = pm4py.format_dataframe(raw, case_id="case:concept:name", activity_key="concept:name", timestamp_key="time:timestamp")
        r["pm4py_events"] = int(len(df))
        r["pm4py_cases"] = int(df["case:concept:name"].nunique())
    elif kind == "ocel":
        ocel = pm4py.read_ocel2_json(path)
        ev, rel, obj = ocel.events, ocel.relations, ocel.objects
        cases = rel[rel["ocel:type"] == "case"][["ocel:eid", "ocel:oid"]].rename(columns={"ocel:oid": "case"})
        nodes = rel[rel["ocel:type"] == "datasource"][["ocel:eid", "ocel:oid"]].rename(columns={"ocel:oid": "node"})
        df = ev.merge(cases, on="ocel:eid").merge(nodes, on="ocel:eid")
        r = summary(df, "case", "ocel:activity", "ocel:timestamp", "node")
        r["objects"] = {k: int(v) for k, v in obj["ocel:type"].value_counts().items()}
        ds = obj[obj["ocel:type"] == "datasource"]
        r["groups"] = dict(zip(ds["ocel:oid"], ds["group"]))
        r["event_types"] = sorted(ocel.events["ocel:activity"].unique().tolist())
    out[kind] = r
print(json.dumps(out))
"#;

fn pm4py_read(python: &Path, files: &[(&str, PathBuf)]) -> Value {
    let mut cmd = std::process::Command::new(python);
    cmd.arg("-c").arg(READ_BACK);
    for (format, path) in files {
        cmd.arg(format).arg(path);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pm4py failed ({}):\n{}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn set_of(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn ms(iso: &str) -> i64 {
    iso.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

#[test]
fn pm4py_reads_csv_xes_and_ocel_with_the_runs_cases_events_activities_and_datasources() {
    let Some(python) = pm4py() else { return };
    const STEPS: u64 = 20_000;
    let dir = Dir::new();
    let facts = chain_facts(ASSEMBLY_LINE);
    let truth = dir.truth(STEPS, &[]);
    let cases = by_case(&truth);
    let open = open_cases(&truth, &facts);
    let activities: BTreeSet<String> = truth.iter().map(|e| e.activity.clone()).collect();
    let first = truth.iter().map(|e| ms(&e.timestamp)).min().unwrap();
    let last = truth.iter().map(|e| ms(&e.timestamp)).max().unwrap();
    assert_eq!(
        activities, facts.activities,
        "a run long enough to see every activity"
    );

    let files: Vec<(&str, PathBuf)> = ["csv", "xes", "ocel"]
        .into_iter()
        .map(|f| (f, dir.file(f, ALL_NODES, STEPS, &[]).0))
        .collect();
    let read = pm4py_read(&python, &files);
    eprintln!(
        "pm4py read {STEPS} events in {} cases ({} open) from each format",
        cases.len(),
        open.len()
    );
    for format in ["csv", "xes", "ocel"] {
        let got = &read[format];
        assert_eq!(got["events"], STEPS, "{format}");
        assert_eq!(got["cases"], cases.len(), "{format}");
        assert_eq!(set_of(&got["activities"]), facts.activities, "{format}");
        assert_eq!(set_of(&got["resources"]), facts.nodes, "{format}");
        assert_eq!(got["parsed"], true, "{format}: timestamps");
        assert_eq!(got["ordered"], true, "{format}: order within cases");
        assert_eq!(got["first_ms"], first, "{format}");
        assert_eq!(got["last_ms"], last, "{format}");
    }
    assert_eq!(read["csv"]["pm4py_events"], STEPS);
    assert_eq!(read["csv"]["pm4py_cases"], cases.len());
    assert_eq!(read["xes"]["open"], open.len());
    let ocel = &read["ocel"];
    assert_eq!(ocel["objects"]["case"], cases.len());
    assert_eq!(ocel["objects"]["datasource"], facts.nodes.len());
    assert_eq!(set_of(&ocel["event_types"]), facts.activities);
    for node in &facts.nodes {
        assert_eq!(ocel["groups"][node], "factory");
    }
}

/// A gzip-compressed XES file and an XES output rotated into numbered files read back through
/// pm4py: the same events and cases as the run, every file a complete log on its own, each
/// trace whole in one file (the file where its case ended).
#[test]
fn pm4py_reads_a_gzip_and_a_rotated_xes_output() {
    let Some(python) = pm4py() else { return };
    const STEPS: u64 = 5_000;
    let dir = Dir::new();
    let truth = dir.truth(STEPS, &[]);
    let cases = by_case(&truth);

    let gz = dir.path("events.xes.gz");
    let sink = format!("type: file\npath: {}\nformat: xes", gz.display());
    let config = dir.config("gz.yaml", &sink, ALL_NODES, STEPS);
    dir.run(ASSEMBLY_LINE, &config, &[]);

    let rotated = dir.path("rotated.xes");
    let sink = format!(
        "type: file\npath: {}\nformat: xes\nrotate: {{events: 1500}}",
        rotated.display()
    );
    let config = dir.config("rotated.yaml", &sink, ALL_NODES, STEPS);
    dir.run(ASSEMBLY_LINE, &config, &[]);
    let parts = dir.numbered("rotated", ".xes");
    assert!(parts.len() >= 3, "{parts:?}");

    let mut files = vec![("xes", gz)];
    files.extend(parts.iter().map(|p| ("xes", p.clone())));
    // The reader keeps one result per format name: read the parts one by one.
    let whole = pm4py_read(&python, &files[..1]);
    assert_eq!(whole["xes"]["events"], STEPS);
    assert_eq!(whole["xes"]["cases"], cases.len());
    assert_eq!(whole["xes"]["ordered"], true);
    let (mut events, mut traces) = (0u64, 0u64);
    for part in &files[1..] {
        let got = pm4py_read(&python, std::slice::from_ref(part));
        assert_eq!(got["xes"]["parsed"], true, "{part:?}");
        assert_eq!(got["xes"]["ordered"], true, "{part:?}");
        events += got["xes"]["events"].as_u64().unwrap();
        traces += got["xes"]["cases"].as_u64().unwrap();
    }
    assert_eq!(events, STEPS, "every event in exactly one rotated file");
    assert_eq!(traces, cases.len() as u64, "every trace whole in one file");
}

/// OCEL rotated into numbered files: each file a document of its own that pm4py reads, with
/// the object of every case and datasource its events refer to; the events add up to the run.
#[test]
fn pm4py_reads_each_file_of_a_rotated_ocel_output_whole() {
    let Some(python) = pm4py() else { return };
    const STEPS: u64 = 4_000;
    let dir = Dir::new();
    let rotated = dir.path("rotated.ocel");
    let sink = format!(
        "type: file\npath: {}\nformat: ocel\nrotate: {{events: 1000}}",
        rotated.display()
    );
    let config = dir.config("rotated.yaml", &sink, ALL_NODES, STEPS);
    dir.run(ASSEMBLY_LINE, &config, &[]);
    let parts = dir.numbered("rotated", ".ocel");
    assert_eq!(parts.len(), 4, "{parts:?}");
    let mut events = 0;
    for part in &parts {
        let got = pm4py_read(&python, &[("ocel", part.clone())]);
        let ocel = &got["ocel"];
        assert_eq!(ocel["events"], 1000, "{part:?}");
        // Every case its events refer to has its object in this file.
        assert_eq!(ocel["objects"]["case"], ocel["cases"], "{part:?}");
        assert_eq!(ocel["parsed"], true, "{part:?}");
        events += ocel["events"].as_u64().unwrap();
    }
    assert_eq!(events, STEPS);
}
