//! The librdkafka configuration of def's producer: def's defaults, then the user's map.

use crate::config::KafkaSinkSpec;
use rdkafka::config::ClientConfig;

/// librdkafka settings def uses unless the `producer:` map says otherwise.
///
/// - `acks=all` with `enable.idempotence=true`: an acknowledged event is on every in-sync
///   replica, and librdkafka's retries can neither duplicate nor reorder a partition's events,
///   so "delivered N" means exactly N records, in order per case.
/// - `linger.ms=10`, `batch.num.messages=10000`, `batch.size=1000000`: fill large batches; the
///   generator is far faster than a network round trip, so waiting 10 ms costs no throughput.
/// - `compression.type=lz4`: event JSON repeats its keys and names, lz4 shrinks it several-fold
///   for little CPU (set `none` when the broker is on the same machine and CPU is scarce).
/// - `queue.buffering.max.messages=1000000`: room for bursts before the sender has to wait.
/// - `message.timeout.ms=30000`: an event that cannot be delivered fails (and is counted) in
///   30 s rather than librdkafka's default 5 minutes.
pub const PRODUCER_DEFAULTS: &[(&str, &str)] = &[
    ("acks", "all"),
    ("enable.idempotence", "true"),
    ("linger.ms", "10"),
    ("batch.num.messages", "10000"),
    ("batch.size", "1000000"),
    ("compression.type", "lz4"),
    ("queue.buffering.max.messages", "1000000"),
    ("message.timeout.ms", "30000"),
];

/// The client id when the config gives none.
const DEFAULT_CLIENT_ID: &str = "def";

/// Our defaults, then the user's `producer:` map, then the keys that have their own place in
/// the spec (so they win over the same keys in the map).
pub(super) fn client_config(spec: &KafkaSinkSpec) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (key, value) in PRODUCER_DEFAULTS {
        config.set(*key, *value);
    }
    for (key, value) in &spec.producer {
        config.set(key, value);
    }
    config.set("bootstrap.servers", &spec.bootstrap_server);
    config.set(
        "client.id",
        spec.client_id.as_deref().unwrap_or(DEFAULT_CLIENT_ID),
    );
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PartitionSpec;

    #[test]
    fn user_settings_override_the_defaults() {
        let spec = KafkaSinkSpec {
            bootstrap_server: "127.0.0.1:1".into(),
            client_id: None,
            topic: "t".into(),
            partition: PartitionSpec::Default,
            producer: [("compression.type".to_string(), "none".to_string())]
                .into_iter()
                .collect(),
            connect_timeout_secs: 1.0,
            flush_timeout_secs: 1.0,
        };
        let config = client_config(&spec);
        assert_eq!(config.get("compression.type"), Some("none"));
        assert_eq!(config.get("acks"), Some("all"));
        assert_eq!(config.get("client.id"), Some("def"));
        assert_eq!(config.get("bootstrap.servers"), Some("127.0.0.1:1"));
    }
}
