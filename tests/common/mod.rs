//! Helpers shared by the integration tests: the assembly line's datasource names, and for the
//! tests that talk to the real Kafka-compatible broker (`tests/kafka.rs`, `tests/backend.rs`):
//! finding the broker, naming and creating topics, and reading a topic back by assigning its
//! partitions (Tansu, the test broker, does not complete consumer-group joins).

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

// Creating and reading topics needs rdkafka, which only builds with the `kafka` feature.
#[cfg(feature = "kafka")]
pub mod topics;

use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const DEFAULT_BOOTSTRAP: &str = "127.0.0.1:19092";
/// How long no further record must come before a topic counts as read to its end.
pub const QUIET: Duration = Duration::from_millis(1500);
pub const NODES: [&str; 7] = [
    "GoodsDelivery",
    "MaterialPreparation",
    "AssemblyLineSetup",
    "Assembling",
    "QualityControl",
    "Packaging",
    "Shipping",
];

/// The broker's address, or `None` if the tests were asked to skip; panics if there is no
/// broker and nobody asked to skip.
pub fn broker() -> Option<String> {
    let address = std::env::var("DEF_KAFKA_BOOTSTRAP").unwrap_or(DEFAULT_BOOTSTRAP.to_string());
    let answers = address
        .to_socket_addrs()
        .map(|mut addrs| {
            addrs.any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
        })
        .unwrap_or(false);
    if answers {
        return Some(address);
    }
    if std::env::var("DEF_KAFKA_SKIP").is_ok_and(|v| v == "1") {
        eprintln!("skipped: no Kafka broker at {address} and DEF_KAFKA_SKIP=1");
        return None;
    }
    panic!(
        "no Kafka broker answers at {address}: run `scripts/broker.sh start` (or point \
         DEF_KAFKA_BOOTSTRAP at a broker), or set DEF_KAFKA_SKIP=1 to skip the Kafka tests"
    );
}

/// A topic-name prefix no other test or earlier run has used on this broker.
pub fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("deftest.{name}.{}.{nanos}", std::process::id())
}

/// The python of a virtualenv with pm4py: `DEF_PM4PY`, else `target/pm4py-venv` if it is
/// there; `None` if neither is and `DEF_PM4PY_SKIP=1`, else a panic saying how to get one.
pub fn pm4py() -> Option<PathBuf> {
    if let Ok(python) = std::env::var("DEF_PM4PY") {
        return Some(python.into());
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pm4py-venv/bin/python");
    if venv.exists() {
        return Some(venv);
    }
    if std::env::var("DEF_PM4PY_SKIP").is_ok_and(|v| v == "1") {
        eprintln!("skipped: no pm4py (DEF_PM4PY unset, no target/pm4py-venv) and DEF_PM4PY_SKIP=1");
        return None;
    }
    panic!(
        "no pm4py to read the formats back: run `scripts/pm4py.sh install` (it creates \
         target/pm4py-venv; or point DEF_PM4PY at a python with pm4py 2.7), or set \
         DEF_PM4PY_SKIP=1 to skip the pm4py checks"
    );
}

/// Every environment variable the binary reads (`DEF_*` and the original's `LOAD`), as the
/// hidden `def env` lists them (a line each: `VARIABLE<TAB>COMMAND<TAB>FLAG`). A test that
/// checks a manifest's or a script's variables against the binary takes them from here.
pub fn env_variables() -> std::collections::BTreeSet<String> {
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("def"))
        .arg("env")
        .output()
        .expect("def runs");
    assert!(out.status.success(), "def env failed");
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .filter_map(|line| line.split('\t').next())
        .map(str::to_string)
        .collect()
}
