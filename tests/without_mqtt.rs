//! A build without the `mqtt` feature (`--no-default-features`): configs with an `mqtt` sink
//! still parse and validate, and running one fails clearly at the sink's `type:` line, saying
//! how to get a build with MQTT support.
#![cfg(not(feature = "mqtt"))]

use assert_cmd::Command;

const SINK: &str = "kind: sink
name: mq
spec:
  type: mqtt
  host: localhost
  baseTopic: def
  dataSourceRefs: [GoodsDelivery]
";

fn config() -> (tempfile::TempDir, [String; 3]) {
    let dir = tempfile::tempdir().unwrap();
    let sink = dir.path().join("mqtt-sink.yaml");
    std::fs::write(&sink, SINK).unwrap();
    let files = [
        "tests/fixtures/reference/datasource/assemblyline".to_string(),
        sink.display().to_string(),
        "tests/fixtures/reference/simulation/countbased.yaml".to_string(),
    ];
    (dir, files)
}

fn def() -> Command {
    Command::cargo_bin("def").expect("the def binary is built")
}

#[test]
fn an_mqtt_sink_validates() {
    let (_dir, files) = config();
    def().arg("validate").args(&files).assert().success();
}

#[test]
fn running_an_mqtt_sink_says_the_build_lacks_mqtt() {
    let (_dir, files) = config();
    let output = def().arg("run").args(&files).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // A configuration this build cannot run: exit 2, like the `ui` sink.
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("sink `mq` has type `mqtt`, but this build of def has no MQTT support"),
        "{stderr}"
    );
    // Pointing at `  type: mqtt`, line 4 of the sink's file.
    assert!(stderr.contains("mqtt-sink.yaml:4:"), "{stderr}");
    assert!(stderr.contains("--features mqtt"), "{stderr}");
}
