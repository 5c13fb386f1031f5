//! Chain analysis, graph drawing and shape warnings: exact on chains solved by hand, checked
//! against long seeded simulations, and run end to end through the binary.

mod common;

use assert_cmd::Command;
use common::NODES;
use def::analysis::{self, graph::Graph, svg, Analysis, Regime, RegimeAnalysis};
use def::config::ConfigSet;
use def::engine::Engine;
use def::model::Chain;
use predicates::prelude::*;
use std::path::Path;

const FIXTURES: &str = "tests/fixtures/analysis";

fn fixture(name: &str) -> ConfigSet {
    let mut set = ConfigSet::new();
    set.add_file(Path::new(FIXTURES).join(name));
    assert!(!set.validate().has_errors(), "{}", set.validate().render());
    set
}

fn reference_assembly_line() -> ConfigSet {
    let mut set = ConfigSet::new();
    // A copy of the original's own files, kept in the repository.
    set.add_directory("tests/fixtures/reference/datasource/assemblyline");
    assert_eq!(set.datasources.len(), 8, "{}", set.diagnostics.render());
    set
}

fn visits(r: &RegimeAnalysis, name: &str) -> f64 {
    r.datasources
        .iter()
        .find(|d| d.datasource == name)
        .and_then(|d| d.expected_visits)
        .unwrap_or_else(|| panic!("no finite visits for {name}"))
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want} (tolerance {tol})"
    );
}

#[test]
fn two_node_chain_matches_the_hand_solved_fundamental_matrix_to_1e_12() {
    // Q = [[0.5, 0.3], [0.5, 0]] (Press, Paint); I - Q = [[0.5, -0.3], [-0.5, 1]], det 0.35,
    // N = (1/0.35) [[1, 0.3], [0.5, 0.5]]. Cases start at Press: visits = N's first row
    // = (20/7, 6/7). Endings: Press 20/7 * 0.2 = 4/7, Paint 6/7 * 0.5 = 3/7.
    // Mean minutes per visit: Press 0.5*2 + 0.3*4 + 0.2*1 = 2.4, Paint 0.5*10 + 0.5*6 = 8,
    // so a case lasts 20/7 * 2.4 + 6/7 * 8 = 96/7 minutes.
    let a = analysis::analyze(&fixture("two-groups.yaml")).unwrap();
    assert!(a.drifting.is_empty());
    assert_eq!(a.regimes.len(), 1);
    let r = &a.regimes[0];
    assert_eq!(r.regime, Regime::Steady);
    close(visits(r, "Press"), 20.0 / 7.0, 1e-12, "Press visits");
    close(visits(r, "Paint"), 6.0 / 7.0, 1e-12, "Paint visits");
    close(r.expected_events, 26.0 / 7.0, 1e-12, "events per case");
    close(r.mean_case_minutes, 96.0 / 7.0, 1e-12, "case minutes");
    assert_eq!(r.never_finishes, 0.0);
    close(r.datasources[0].share, 20.0 / 26.0, 1e-12, "Press share");
    let groups: Vec<(&str, f64)> = r
        .groups
        .iter()
        .map(|g| (g.group.as_str(), g.share))
        .collect();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].0, "metal");
    close(groups[0].1, 20.0 / 26.0, 1e-12, "metal share");
    assert_eq!(groups[1].0, "paint shop");
    close(groups[1].1, 6.0 / 26.0, 1e-12, "paint shop share");
    let endings: Vec<(&str, &str, usize, f64)> = r
        .endings
        .iter()
        .map(|e| {
            (
                e.datasource.as_str(),
                e.activity.as_str(),
                e.entry,
                e.probability,
            )
        })
        .collect();
    assert_eq!(endings.len(), 2);
    assert_eq!(
        (endings[0].0, endings[0].1, endings[0].2),
        ("Press", "pressed", 2)
    );
    close(endings[0].3, 4.0 / 7.0, 1e-12, "Press ending");
    assert_eq!(
        (endings[1].0, endings[1].1, endings[1].2),
        ("Paint", "painted", 1)
    );
    close(endings[1].3, 3.0 / 7.0, 1e-12, "Paint ending");
}

/// The assembly line's transition matrix among datasources, typed in from the YAML, with the
/// drifting GoodsDelivery at `gd_self` / `gd_next` (start 0.7/0.2, end 0.2/0.7).
fn assembly_q(gd_self: f64, gd_next: f64) -> [[f64; 7]; 7] {
    let mut q = [[0.0; 7]; 7];
    q[0][0] = gd_self;
    q[0][1] = gd_next;
    q[1][2] = 0.25;
    q[1][1] = 0.7 + 0.05; // waiting + internal error
    q[2][1] = 0.3;
    q[2][3] = 0.4 + 0.1; // set up + internal error
    q[2][2] = 0.15 + 0.05;
    q[3][4] = 0.8;
    q[3][3] = 0.02;
    q[4][3] = 0.3;
    q[4][5] = 0.6;
    q[5][6] = 1.0;
    q[6][6] = 0.8;
    q
}

/// Expected visits by value iteration, v <- e_0 + v Q, until it stops moving: an independent
/// way to get s N without solving a linear system.
fn value_iteration(q: &[[f64; 7]; 7]) -> [f64; 7] {
    let mut v = [0.0; 7];
    for _ in 0..100_000 {
        let mut next = [0.0; 7];
        next[0] = 1.0;
        for (i, row) in q.iter().enumerate() {
            for (j, p) in row.iter().enumerate() {
                next[j] += v[i] * p;
            }
        }
        let moved = next
            .iter()
            .zip(&v)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        v = next;
        if moved < 1e-15 {
            break;
        }
    }
    v
}

#[test]
fn reference_assembly_line_agrees_with_a_hand_computation_of_the_fundamental_matrix() {
    // By hand, writing v_X for the expected visits to X and solving v = s + v Q row by row:
    //   v_GD  = 1 / (1 - q_GD,GD)
    //   v_MP  = (q_GD,MP v_GD + 0.3 v_ALS) / 0.25      (MaterialPreparation leaves w.p. 0.25)
    //   v_ALS = 0.25 v_MP / 0.8                        (AssemblyLineSetup stays w.p. 0.2)
    //     => v_MP = 4 q_GD,MP v_GD / (1 - 1.2 / 3.2) = 6.4 q_GD,MP v_GD
    //   v_AS  = (0.5 v_ALS + 0.3 v_QC) / 0.98,  v_QC = 0.8 v_AS  =>  v_AS = 0.5 v_ALS / 0.74
    //   v_PK  = 0.6 v_QC,  v_SH = v_PK / 0.2
    // Start regime (GD 0.7 self, 0.2 on): v_GD = 10/3, v_MP = 64/15, v_ALS = 4/3,
    //   v_AS = 100/111, v_QC = 80/111, v_PK = 48/111, v_SH = 240/111.
    // End regime (GD 0.2 self, 0.7 on): v_GD = 5/4, v_MP = 28/5, v_ALS = 7/4,
    //   v_AS = 175/148, v_QC = 35/37, v_PK = 21/37, v_SH = 105/37.
    let by_hand = [
        (
            Regime::Start,
            [
                10.0 / 3.0,
                64.0 / 15.0,
                4.0 / 3.0,
                100.0 / 111.0,
                80.0 / 111.0,
                48.0 / 111.0,
                240.0 / 111.0,
            ],
            assembly_q(0.7, 0.2),
        ),
        (
            Regime::End,
            [
                5.0 / 4.0,
                28.0 / 5.0,
                7.0 / 4.0,
                175.0 / 148.0,
                35.0 / 37.0,
                21.0 / 37.0,
                105.0 / 37.0,
            ],
            assembly_q(0.2, 0.7),
        ),
    ];
    for set in [reference_assembly_line(), ConfigSet::example()] {
        let a: Analysis = analysis::analyze(&set).unwrap();
        assert_eq!(a.drifting, vec!["GoodsDelivery".to_string()]);
        assert_eq!(a.regimes.len(), 2);
        for ((regime, hand, q), r) in by_hand.iter().zip(&a.regimes) {
            assert_eq!(r.regime, *regime);
            let iterated = value_iteration(q);
            for (k, name) in NODES.iter().enumerate() {
                close(visits(r, name), hand[k], 1e-12, name);
                close(visits(r, name), iterated[k], 1e-9, name);
            }
            close(
                r.expected_events,
                hand.iter().sum(),
                1e-12,
                "events per case",
            );
            assert_eq!(r.never_finishes, 0.0);
            // Endings: Reject 0.1 v_GD, Overheating 0.1 v_AS, Item broke 0.08 v_AS,
            // Quality Insufficient 0.1 v_QC, Package sent 0.2 v_SH; they sum to 1.
            let want = [
                0.1 * hand[0],
                0.1 * hand[3],
                0.08 * hand[3],
                0.1 * hand[4],
                0.2 * hand[6],
            ];
            let got: Vec<f64> = r.endings.iter().map(|e| e.probability).collect();
            assert_eq!(got.len(), 5);
            for (g, w) in got.iter().zip(want) {
                close(*g, w, 1e-12, "ending");
            }
            close(got.iter().sum(), 1.0, 1e-12, "endings sum");
        }
    }
}

#[test]
fn assembly_line_analysis_matches_a_simulation_seed_2024_200k_cases() {
    // One case at a time (maxConcurrentCases 1), so a case's events are consecutive. The first
    // 2,000 cases are a warm-up: by then GoodsDelivery has made over 1,000 selections, so its
    // drift is complete and every later case runs in the `end` regime. Over the next 200,000
    // finished cases, each mean (events, visits per datasource, duration, ending shares) must
    // lie within 5 standard errors of the analysis, the standard error estimated from the
    // sample itself (a false failure has probability below 1e-6 per quantity).
    let set = ConfigSet::example();
    let chain = Chain::compile(&set).unwrap();
    let end = analysis::analyze(&set)
        .unwrap()
        .regimes
        .into_iter()
        .find(|r| r.regime == Regime::End)
        .unwrap();
    let mut engine = Engine::new(&chain, 2024, 0, 1);
    let (warm_up, cases) = (2_000u64, 200_000u64);
    let n = chain.nodes.len();
    // Sums and sums of squares per case: events, visits per node, duration (minutes).
    let mut sum = vec![0.0f64; n + 2];
    let mut sq = vec![0.0f64; n + 2];
    let mut endings = vec![0u64; end.endings.len()];
    let mut counts = vec![0u64; n];
    let mut opened_ms = 0i64;
    let mut done = 0u64;
    while done < warm_up + cases {
        let e = engine.next_event();
        counts[e.node.index as usize] += 1;
        if !e.ends_case() {
            continue;
        }
        done += 1;
        if done > warm_up {
            let events: u64 = counts.iter().sum();
            let minutes = (e.timestamp_ms - opened_ms) as f64 / 60_000.0;
            let values = counts
                .iter()
                .map(|&c| c as f64)
                .chain([events as f64, minutes]);
            for (k, x) in values.enumerate() {
                sum[k] += x;
                sq[k] += x * x;
            }
            let ending = end
                .endings
                .iter()
                .position(|x| x.datasource == e.node.name.as_str() && x.activity == e.activity())
                .expect("the final edge is one of the endings");
            endings[ending] += 1;
        }
        counts.iter_mut().for_each(|c| *c = 0);
        opened_ms = e.timestamp_ms;
    }
    let m = cases as f64;
    let check = |k: usize, want: f64, what: &str| {
        let mean = sum[k] / m;
        let se = ((sq[k] / m - mean * mean) / (m - 1.0)).sqrt();
        assert!(
            (mean - want).abs() < 5.0 * se,
            "{what}: simulated {mean} ± {se}, analysed {want}"
        );
    };
    for (k, name) in NODES.iter().enumerate() {
        check(k, visits(&end, name), name);
    }
    check(n, end.expected_events, "events per case");
    check(n + 1, end.mean_case_minutes, "case minutes");
    for (count, e) in endings.iter().zip(&end.endings) {
        let share = *count as f64 / m;
        let se = (e.probability * (1.0 - e.probability) / m).sqrt();
        assert!(
            (share - e.probability).abs() < 5.0 * se,
            "ending {} {}: simulated {share}, analysed {}",
            e.datasource,
            e.activity,
            e.probability
        );
    }
}

#[test]
fn two_groups_event_shares_match_an_interleaved_simulation_seed_7_1m_events() {
    // Eight cases interleave; the share of each group in 1,000,000 events must match the
    // analysed share. Events within a case are correlated, so the tolerance (0.005) is wide:
    // about 10 times the binomial standard error of 0.00042.
    let set = fixture("two-groups.yaml");
    let chain = Chain::compile(&set).unwrap();
    let r = &analysis::analyze(&set).unwrap().regimes[0];
    let mut engine = Engine::new(&chain, 7, 0, 8);
    let total = 1_000_000;
    let mut metal = 0u64;
    for _ in 0..total {
        if engine.next_event().node.group.as_str() == "metal" {
            metal += 1;
        }
    }
    let share = metal as f64 / total as f64;
    close(share, r.groups[0].share, 0.005, "metal share");
}

#[test]
fn stuck_cases_are_reported_not_a_panic() {
    // Gate ends half the cases; the other half enter Ping <-> Pong for ever.
    let set = fixture("stuck.yaml");
    let r = &analysis::analyze(&set).unwrap().regimes[0];
    close(r.never_finishes, 0.5, 1e-12, "never finishes");
    close(visits(r, "Gate"), 1.0, 1e-12, "Gate visits");
    assert!(r.datasources[1].expected_visits.is_none());
    assert!(r.datasources[2].expected_visits.is_none());
    close(
        r.expected_events,
        1.0,
        1e-12,
        "events counted before getting stuck",
    );
}

/// Messages of the analysis warnings and the line each points at.
fn warnings_of(name: &str) -> Vec<(String, u32)> {
    analysis::warnings(&fixture(name))
        .items
        .iter()
        .map(|d| {
            assert!(!d.is_error());
            assert!(d.help.is_some(), "{d}");
            assert!(d.source.is_some(), "{d}");
            (d.message.clone(), d.loc.map_or(0, |l| l.line))
        })
        .collect()
}

#[test]
fn each_warning_on_its_fixture() {
    assert_eq!(
        warnings_of("stuck.yaml"),
        vec![
            (
                "datasource `Ping` cannot reach `<end>`: cases that get there never finish"
                    .to_string(),
                18
            ),
            (
                "datasource `Pong` cannot reach `<end>`: cases that get there never finish"
                    .to_string(),
                22
            ),
        ]
    );
    assert_eq!(
        warnings_of("unreachable.yaml"),
        vec![(
            "datasource `Orphan` is unreachable from `<start>`: it never emits an event"
                .to_string(),
            18
        )]
    );
    assert_eq!(
        warnings_of("self-loop.yaml"),
        vec![(
            "datasource `Spin` loops to itself with probability 0.995: a case stays there for \
             200 events on average"
                .to_string(),
            7
        )]
    );
    // No sink: reported once, by validation, not again by the analysis.
    assert!(warnings_of("no-sink.yaml").is_empty());
    let set = fixture("no-sink.yaml");
    let sinkless: Vec<String> = set
        .validate()
        .warnings()
        .map(|d| d.message.clone())
        .collect();
    // The fixture has no sink document at all: one warning says so (a run refuses it).
    assert_eq!(
        sinkless,
        vec!["no sink was loaded: the events of every datasource go nowhere".to_string()]
    );
    assert!(warnings_of("two-groups.yaml").is_empty());
    assert!(analysis::warnings(&ConfigSet::example()).is_empty());
}

#[test]
fn a_drift_that_closes_the_exit_is_named_in_the_warning() {
    let mut set = ConfigSet::new();
    set.add_str(
        "drift.yaml",
        r#"
kind: datasource
name: "<start>"
spec: {name: "<start>", selection: uniform, eventData: [{activity: "", transition: Loop, duration: 0}]}
---
kind: datasource
name: Loop
spec:
  name: Loop
  group: g
  selection: driftingProbability
  startDistribution: [0.5, 0.5]
  endDistribution: [0.0, 1.0]
  steps: 10
  eventData:
    - {activity: out, transition: "<end>", duration: 1}
    - {activity: again, transition: Loop, duration: 1}
"#,
    );
    let messages: Vec<String> = analysis::warnings(&set)
        .items
        .into_iter()
        .map(|d| d.message)
        .collect();
    assert_eq!(
        messages,
        vec![
            "datasource `Loop` cannot reach `<end>` once drifting selections reach their end \
             distributions: cases that get there never finish"
                .to_string(),
            "datasource `Loop` loops to itself with probability 1: a case never leaves".to_string(),
        ]
    );
    // The start regime still finishes every case; the end regime finishes none.
    let a = analysis::analyze(&set).unwrap();
    close(
        a.regimes[0].expected_events,
        2.0,
        1e-12,
        "start regime events",
    );
    close(a.regimes[1].never_finishes, 1.0, 1e-12, "end regime");
}

/// Parses an SVG strictly and returns the text of every `<text>` element.
fn svg_texts(svg: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut texts = Vec::new();
    let mut current: Option<String> = None;
    let mut depth = 0i32;
    let mut roots = 0;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                if depth == 0 {
                    roots += 1;
                    assert_eq!(e.name().as_ref(), b"svg");
                }
                depth += 1;
                for attr in e.attributes() {
                    attr.expect("well-formed attribute");
                }
                if e.name().as_ref() == b"text" {
                    current = Some(String::new());
                }
            }
            Event::Empty(e) => {
                for attr in e.attributes() {
                    attr.expect("well-formed attribute");
                }
            }
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t.decode().unwrap());
                }
            }
            Event::GeneralRef(r) => {
                let name = r.decode().unwrap();
                let c = match name.as_ref() {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "quot" => '"',
                    "apos" => '\'',
                    other => panic!("undeclared entity &{other};"),
                };
                if let Some(s) = current.as_mut() {
                    s.push(c);
                }
            }
            Event::End(e) => {
                depth -= 1;
                if e.name().as_ref() == b"text" {
                    texts.extend(current.take());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unclosed elements");
    assert_eq!(roots, 1, "one root element");
    texts
}

#[test]
fn svg_is_well_formed_xml_naming_every_datasource() {
    let set = ConfigSet::example();
    let texts = svg_texts(&svg::render(&Graph::build(&set, true)));
    for name in NODES.iter().chain(&["<start>", "<end>", "factory"]) {
        assert!(texts.iter().any(|t| t == name), "{name} missing: {texts:?}");
    }
    assert!(texts.contains(&"0.7 → 0.2 · Store · N(720, 120) min".to_string()));
    assert!(texts.contains(&"sink console-sink (console)".to_string()));

    // Names with XML's special characters survive escaping.
    let set = fixture("two-groups.yaml");
    let texts = svg_texts(&svg::render(&Graph::build(&set, false)));
    for name in ["Press", "Paint", "metal", "paint shop"] {
        assert!(texts.iter().any(|t| t == name), "{name} missing: {texts:?}");
    }
    assert!(
        texts.contains(&"0.5 · repaint & press · 10 min".to_string()),
        "{texts:?}"
    );
}

#[test]
fn dot_and_mermaid_have_every_vertex_edge_and_cluster() {
    let set = ConfigSet::example();
    let g = Graph::build(&set, true);
    let dot = g.to_dot(&set);
    assert!(dot.starts_with("digraph chain {"));
    assert_eq!(
        dot.matches(" -> ").count(),
        22 + 7,
        "22 entries + 7 sink refs"
    );
    assert_eq!(dot.matches("subgraph cluster_").count(), 1);
    assert!(dot.contains(r#"v1 -> v1 [label="0.7 → 0.2 · Store · N(720, 120) min"];"#));
    let mermaid = g.to_mermaid(&set);
    assert!(mermaid.starts_with("flowchart TD\n"));
    assert_eq!(mermaid.matches(" -->|").count(), 22);
    assert_eq!(mermaid.matches(" -.-> ").count(), 7);
    assert!(mermaid.contains("v0((\"#lt;start#gt;\"))"));
}

fn def() -> Command {
    Command::cargo_bin("def").unwrap()
}

#[test]
fn def_graph_writes_each_format_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    for (file, start) in [
        ("chain.svg", "<svg xmlns"),
        ("chain.dot", "digraph chain {"),
        ("chain.mmd", "flowchart TD"),
    ] {
        let path = dir.path().join(file);
        def()
            .args(["graph", "examples/assembly-line.yaml", "-o"])
            .arg(&path)
            .assert()
            .success();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(start),
            "{file}: {}",
            &text[..40.min(text.len())]
        );
    }
    let svg = std::fs::read_to_string(dir.path().join("chain.svg")).unwrap();
    svg_texts(&svg);
    def()
        .args([
            "graph",
            "examples/assembly-line.yaml",
            "--format",
            "mermaid",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("flowchart TD\n"));
    def()
        .args(["graph", "examples/assembly-line.yaml", "-o", "-", "--sinks"])
        .assert()
        .success()
        .stdout(predicate::str::contains("shape=note"));
    def()
        .args(["graph", "examples/assembly-line.yaml", "-o"])
        .arg(dir.path().join("chain.png"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("use .svg, .dot or .mmd"));
}

#[test]
fn def_analyze_prints_tables_and_json_with_the_same_numbers() {
    let out = def()
        .args(["analyze", "tests/fixtures/analysis/two-groups.yaml"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(out).unwrap();
    // Lines with their column padding collapsed to one space.
    let lines: Vec<String> = table
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    // 26/7 events, 96/7 minutes, visits 20/7 and 6/7, endings 4/7 and 3/7.
    for want in [
        "events 3.7143",
        "duration (min) 13.7143",
        "duration 13.7 min",
        "Press metal 2.8571 76.9%",
        "Paint paint shop 0.8571 23.1%",
        "metal 2.8571 76.9%",
        "Press pressed 0.5714",
        "Paint painted 0.4286",
    ] {
        assert!(
            lines.iter().any(|l| l == want),
            "missing {want:?} in\n{table}"
        );
    }
    let out = def()
        .args([
            "analyze",
            "tests/fixtures/analysis/two-groups.yaml",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let r = &json["regimes"][0];
    assert_eq!(r["regime"], "steady");
    close(
        r["expectedEvents"].as_f64().unwrap(),
        26.0 / 7.0,
        1e-12,
        "json events",
    );
    close(
        r["datasources"][1]["expectedVisits"].as_f64().unwrap(),
        6.0 / 7.0,
        1e-12,
        "json Paint visits",
    );
    // Drifting: both regimes, side by side.
    def()
        .args(["analyze", "examples/assembly-line.yaml"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("visits (start)")
                .and(predicate::str::contains("visits (end)"))
                .and(predicate::str::contains("GoodsDelivery")),
        );
}

#[test]
fn warnings_show_in_analyze_and_validate_and_deny_warnings_exits_2() {
    for fixture in ["stuck.yaml", "unreachable.yaml", "self-loop.yaml"] {
        let path = format!("{FIXTURES}/{fixture}");
        def()
            .args(["analyze", &path])
            .assert()
            .success()
            .stderr(predicate::str::contains("warning: datasource"));
        def()
            .args(["analyze", &path, "--deny-warnings"])
            .assert()
            .code(2);
        def()
            .args(["validate", &path])
            .assert()
            .success()
            .stderr(predicate::str::contains("warning: datasource"));
        def()
            .args(["validate", &path, "--deny-warnings"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("invalid:"));
    }
    def()
        .args(["analyze", "tests/fixtures/analysis/stuck.yaml"])
        .assert()
        .stdout(predicate::str::contains("never finishes").and(predicate::str::contains("stuck")));
    def()
        .args([
            "validate",
            "tests/fixtures/analysis/two-groups.yaml",
            "--deny-warnings",
        ])
        .assert()
        .success();
}

#[test]
fn config_errors_stop_graph_and_analyze_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "kind: datasource\nname: \"<start>\"\nspec: {name: \"<start>\", selection: uniform, \
         eventData: [{activity: \"\", transition: Nowhere, duration: 0}]}\n",
    )
    .unwrap();
    for cmd in ["analyze", "graph"] {
        def()
            .arg(cmd)
            .arg(&bad)
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(
                "error: transition to unknown datasource `Nowhere`",
            ));
    }
}
