//! Every kind of bad input gives its own error, pointing at the file and line, with a fix.
//!
//! Table-driven over the small broken files in `tests/fixtures/invalid/`: each row names a
//! fixture, the severity, a piece of the message, the line, and a piece of the help text.

use def::config::{ConfigSet, Severity};
use std::path::Path;

struct Case {
    file: &'static str,
    severity: Severity,
    message: &'static str,
    line: u32,
    help: &'static str,
}

const E: Severity = Severity::Error;
const W: Severity = Severity::Warning;

const CASES: &[Case] = &[
    Case {
        file: "unknown-kind.yaml",
        severity: E,
        message: "unknown kind `datasorce`",
        line: 9,
        help: "did you mean `datasource`?",
    },
    Case {
        file: "unknown-selection.yaml",
        severity: E,
        message: "unknown selection `generic`",
        line: 13,
        help: "did you mean `genericProbability`?",
    },
    Case {
        file: "unknown-field.yaml",
        severity: E,
        message: "unknown field `eventDat`",
        line: 14,
        help: "did you mean `eventData`?",
    },
    Case {
        file: "unknown-sink-type.yaml",
        severity: E,
        message: "unknown sink type `consol`",
        line: 20,
        help: "did you mean `console`?",
    },
    Case {
        file: "unknown-duration-type.yaml",
        severity: E,
        message: "unknown duration type `gausian`",
        line: 15,
        help: "did you mean `gaussian`?",
    },
    Case {
        file: "distribution-length.yaml",
        severity: E,
        message: "`distribution` has 3 probabilities but `eventData` has 2 entries",
        line: 14,
        help: "one probability per eventData entry",
    },
    Case {
        file: "distribution-sum.yaml",
        severity: E,
        message: "`distribution` sums to 0.9, not 1",
        line: 14,
        help: "add up to 1 (tolerance 1e-6)",
    },
    Case {
        file: "negative-sigma.yaml",
        severity: E,
        message: "`sigma` is -1, below the smallest allowed value 0",
        line: 20,
        help: "at least 0",
    },
    Case {
        file: "infinite-duration.yaml",
        severity: E,
        message: "`duration` is inf",
        line: 15,
        help: "finite",
    },
    Case {
        file: "uniform-bounds.yaml",
        severity: E,
        message: "`upperBound` 2 is below `lowerBound` 5",
        line: 15,
        help: "swap the bounds",
    },
    Case {
        file: "empirical-decreasing.yaml",
        severity: E,
        message: "`quantiles[2]` is 2, below the value before it (3)",
        line: 15,
        help: "non-decreasing order",
    },
    Case {
        file: "empirical-one-quantile.yaml",
        severity: E,
        message: "`quantiles` has 1 value(s), at least 2 are needed",
        line: 15,
        help: "at least two minutes",
    },
    Case {
        file: "unknown-transition.yaml",
        severity: E,
        message: "transition to unknown datasource `Packagng`",
        line: 15,
        help: "did you mean `Packaging`?",
    },
    Case {
        file: "no-start.yaml",
        severity: E,
        message: "there is no `<start>` datasource",
        line: 0,
        help: "named `<start>`",
    },
    Case {
        file: "unknown-ref.yaml",
        severity: W,
        message: "sink `other` refers to unknown datasource `Shiping`",
        line: 21,
        help: "remove it",
    },
    Case {
        file: "duplicate-name.yaml",
        severity: E,
        message: "duplicate datasource name `A`",
        line: 18,
        help: "the first is at",
    },
    Case {
        file: "zero-steps.yaml",
        severity: E,
        message: "`steps` is 0, but must be at least 1",
        line: 27,
        help: "at least 1",
    },
    Case {
        file: "zero-steps.yaml",
        severity: E,
        message: "`maxConcurrentCases` is 0, but must be at least 1",
        line: 28,
        help: "at least 1",
    },
    Case {
        file: "load-missing-rate.yaml",
        severity: E,
        message: "the constant load is missing `load`",
        line: 28,
        help: "add `load: 1`",
    },
    Case {
        file: "bad-syntax.yaml",
        severity: E,
        message: "invalid YAML",
        line: 5,
        help: "YAML syntax",
    },
];

#[test]
fn each_bad_input_gives_its_error_with_file_line_and_fix() {
    for case in CASES {
        let path = Path::new("tests/fixtures/invalid").join(case.file);
        let mut set = ConfigSet::new();
        set.add_file(&path);
        let diags = set.validate();
        let found = diags
            .items
            .iter()
            .find(|d| d.message.contains(case.message))
            .unwrap_or_else(|| {
                panic!(
                    "{}: no diagnostic with `{}`; got:\n{}",
                    case.file,
                    case.message,
                    diags.render()
                )
            });
        assert_eq!(found.severity, case.severity, "{}: severity", case.file);
        if case.line > 0 {
            let source = found
                .source
                .as_ref()
                .expect("a diagnostic with a line names its file");
            assert_eq!(source.path, path, "{}: file", case.file);
            assert_eq!(
                found.loc.map(|l| l.line),
                Some(case.line),
                "{}: line of `{}`",
                case.file,
                found.message
            );
        }
        let help = found.help.as_deref().unwrap_or_default();
        assert!(
            help.contains(case.help),
            "{}: help `{help}` lacks `{}`",
            case.file,
            case.help
        );
        // Only the planted problem: no cascade of follow-on errors.
        let errors: Vec<_> = diags.errors().map(|d| d.message.clone()).collect();
        let planted = CASES
            .iter()
            .filter(|c| c.file == case.file && c.severity == E)
            .count();
        assert_eq!(
            errors.len(),
            planted,
            "{}: unexpected errors {errors:?}",
            case.file
        );
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let mut set = ConfigSet::new();
    set.add_str(
        "many.yaml",
        "kind: datasource\nname: A\nspec:\n  name: A\n  selection: genericProbability\n  distribution: [0.5, 0.6]\n  colour: red\n  eventData:\n    - {activity: a, transition: \"<end>\", duration: -1}\n    - {activity: b, transition: Nowhere, duration: {type: exponential, mean: 1}}\n",
    );
    let diags = set.validate();
    let messages: Vec<&str> = diags.errors().map(|d| d.message.as_str()).collect();
    for want in [
        "sums to 1.1",
        "unknown field `colour`",
        "`duration` is -1",
        "no `<start>`",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(want)),
            "missing `{want}` in {messages:?}"
        );
    }
}

#[test]
fn every_reference_config_parses_unchanged() {
    let mut set = ConfigSet::new();
    set.add_directory("tests/fixtures/reference");
    assert!(set.diagnostics.is_empty(), "{}", set.diagnostics.render());
    assert_eq!(set.datasources.len(), 8);
    assert_eq!(set.sinks.len(), 5);
    assert_eq!(set.simulations.len(), 3);
    let diags = set.validate();
    assert!(!diags.has_errors(), "{}", diags.render());
    // The original's console sink names datasources A..E that its assembly line lacks.
    assert_eq!(diags.warnings().count(), 5, "{}", diags.render());
}

#[test]
fn directories_load_in_sorted_order_and_only_yaml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("b.yml"),
        "kind: sink\nname: b\nspec: {type: blackhole, dataSourceRefs: []}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "kind: sink\nname: a\nspec: {type: blackhole, dataSourceRefs: []}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not yaml: [").unwrap();
    let mut set = ConfigSet::new();
    set.add_directory(dir.path());
    assert!(set.diagnostics.is_empty(), "{}", set.diagnostics.render());
    let names: Vec<&str> = set.sinks.iter().map(|s| s.name.value.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn a_load_test_timeframe_that_disagrees_with_the_http_sink_is_warned_about() {
    let mut set = ConfigSet::new();
    set.add_directory("tests/fixtures/reference/datasource/assemblyline");
    set.add_file("tests/fixtures/reference/sink/loadtest-sink.yaml");
    set.add_str(
        "sim.yaml",
        "kind: simulation\nname: lt\nspec: {type: loadTest, timeframe: 500, load: {loadBehavior: constant, load: 10}}\n",
    );
    let diags = set.validate();
    let found: Vec<_> = diags
        .warnings()
        .filter(|d| d.message.contains("1000 ms timeframes"))
        .collect();
    assert_eq!(found.len(), 1, "{}", diags.render());
    assert!(found[0].message.contains("`timeframe: 500`"));
}

#[test]
fn kafka_topic_templates_are_checked_before_anything_runs() {
    for (topic, problem) in [
        ("rv.{nodes}", "unknown placeholder `{nodes}`"),
        ("bad topic!", "is not a legal Kafka topic name"),
    ] {
        let mut set = ConfigSet::new();
        set.add_directory("tests/fixtures/reference/datasource/assemblyline");
        set.add_str(
            "kafka.yaml",
            &format!(
                "kind: sink\nname: k\nspec:\n  type: kafka\n  bootstrapServer: 127.0.0.1:1\n  topic: \"{topic}\"\n  dataSourceRefs: [Packaging]\n"
            ),
        );
        let diags = set.validate();
        let errors: Vec<_> = diags.errors().collect();
        assert_eq!(errors.len(), 1, "{}", diags.render());
        assert!(errors[0].message.contains(problem), "{}", errors[0].message);
        assert_eq!(errors[0].loc.map(|l| l.line), Some(6));
    }
}
