//! The library API, as the original's own tests used it.

mod common;

use common::NODES;
use def::config::ConfigSet;
use def::engine::Event;
use def::simulation::RunOptions;
use def::sink::{Delivery, Sink, SinkError};
use def::EventFactory;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const REFERENCE: &str = "tests/fixtures/reference";

#[test]
fn the_originals_check_100_steps_give_exactly_100_events() {
    let report = EventFactory::new()
        .add_directory(format!("{REFERENCE}/datasource/assemblyline"))
        .add_file(format!("{REFERENCE}/simulation/countbased.yaml"))
        .add_file(format!("{REFERENCE}/sink/test-sink.yaml"))
        .run()
        .expect("the reference configs run");
    assert_eq!(report.events, 100);
    let events = report.memory["test"].events();
    assert_eq!(events.len(), 100);
    assert_eq!(report.sinks[0].delivery.delivered, 100);
    assert!(events.iter().all(|e| NODES.contains(&e.node.as_str())));
}

/// A custom sink that counts events by node index.
struct Counting(Arc<AtomicU64>);

impl Sink for Counting {
    fn write(&mut self, _event: &Event<'_>) -> Result<(), SinkError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
    fn finish(&mut self) -> Result<Delivery, SinkError> {
        Ok(Delivery::all(self.0.load(Ordering::Relaxed)))
    }
}

#[test]
fn custom_sinks_get_only_their_datasources() {
    let count = Arc::new(AtomicU64::new(0));
    let report = EventFactory::new()
        .add_str("example.yaml", def::config::ASSEMBLY_LINE_EXAMPLE)
        .add_sink("shipping-only", &["Shipping"], Counting(count.clone()))
        .memory_sink("all", &NODES)
        .options(RunOptions {
            seed: Some(3),
            steps: Some(10_000),
            ..RunOptions::default()
        })
        .run()
        .unwrap();
    let all = report.memory["all"].events();
    assert_eq!(all.len(), 10_000);
    let shipping = all.iter().filter(|e| e.node == "Shipping").count() as u64;
    assert!(shipping > 0);
    assert_eq!(count.load(Ordering::Relaxed), shipping);
}

#[test]
fn a_datasource_without_sink_is_warned_about_once() {
    let mut set = ConfigSet::new();
    set.add_directory(format!("{REFERENCE}/datasource/assemblyline"));
    set.add_file(format!("{REFERENCE}/sink/sink-ui.yaml"));
    let diags = set.validate();
    let unsunk: Vec<_> = diags
        .warnings()
        .filter(|d| d.message.starts_with("no sink takes"))
        .collect();
    // The ui sink takes 4 of the 7 datasources.
    assert_eq!(unsunk.len(), 3, "{}", diags.render());
}

#[test]
fn config_errors_come_back_as_values_not_panics() {
    let result = EventFactory::new()
        .add_str("bad.yaml", "kind: datasource\nname: x\nspec: 3\n")
        .run();
    match result {
        Err(def::simulation::RunError::Config(diags)) => {
            assert!(
                diags.render().contains("`spec` must be a mapping"),
                "{}",
                diags.render()
            )
        }
        other => panic!("expected a config error, got {:?}", other.map(|r| r.events)),
    }
}
