//! A build without the `kafka` feature (`--no-default-features`): configs with a `kafka` sink
//! still parse and validate, and running one fails clearly at the sink's `type:` line, saying
//! how to get a build with Kafka support.
#![cfg(not(feature = "kafka"))]

use assert_cmd::Command;

const CONFIG: [&str; 3] = [
    "tests/fixtures/reference/datasource/assemblyline",
    "tests/fixtures/reference/sink/kafka-sink.yaml",
    "tests/fixtures/reference/simulation/countbased.yaml",
];

fn def() -> Command {
    Command::cargo_bin("def").expect("the def binary is built")
}

#[test]
fn a_kafka_sink_validates() {
    def().arg("validate").args(CONFIG).assert().success();
}

#[test]
fn running_a_kafka_sink_says_the_build_lacks_kafka() {
    let output = def().arg("run").args(CONFIG).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // A configuration this build cannot run: exit 2, like the `ui` sink.
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "sink `kafka-sink` has type `kafka`, but this build of def has no Kafka support"
        ),
        "{stderr}"
    );
    // Pointing at `  type: kafka`, line 4 of the sink's file.
    assert!(
        stderr.contains("tests/fixtures/reference/sink/kafka-sink.yaml:4:"),
        "{stderr}"
    );
    assert!(stderr.contains("--features kafka"), "{stderr}");
}
