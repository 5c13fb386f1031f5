//! `mqtt`: events to an MQTT broker as MQTT-XES, through rumqttc (feature `mqtt`).
//!
//! Each event is one PUBLISH on `{baseTopic}/{process}/{case}/{activity}` ([`super::mqtt_xes`]
//! builds and escapes the levels) whose payload is a JSON object of the event's other
//! attributes: `{"timestamp":..,"node":..,"group":..}`, plus `"emittedAt"` in stream runs that
//! record it. Consumers such as Beamline's MQTT-XES sources take the process, case and activity
//! from the topic and the payload's keys as event attributes.
//!
//! The sink is built connected: [`MqttSink::build`] connects and waits for the broker's CONNACK
//! within `connectTimeout`, retrying a refused connection until then, so a broker that is down
//! is a clear error in bounded time. A thread of its own then drives the connection (rumqttc's
//! event loop) and counts, into a [`DeliveryCounter`], every PUBACK (QoS 1) or PUBCOMP (QoS 2)
//! as delivered, or at QoS 0 every PUBLISH written to the socket. Writing an event hands a
//! PUBLISH to the client's bounded request queue; when the queue is full (the broker is slower
//! than the generator, or rumqttc's in-flight window is full of unacknowledged messages), the
//! write waits: never a dropped event.
//!
//! At the end the sink waits up to `flushTimeout` until every PUBLISH is acknowledged (or, at
//! QoS 0, written), then disconnects; what is not acknowledged by then counts as failed (not
//! acknowledged: the broker may still have it). If the connection breaks during the run, the
//! thread stops (no reconnection: messages in flight would be neither known delivered nor
//! known lost), the next write fails with the sink's name and the events delivered so far, and
//! the run ends with exit status 1.
//!
//! Unlike the Kafka sink, this one allocates per event: rumqttc's PUBLISH owns its topic and
//! payload.

use super::mqtt_xes::escape_level;
use super::{Delivery, DeliveryCounter, Sink, SinkBuildError, SinkError};
use crate::config::{Diagnostic, MqttSinkSpec, Place, TimestampFormat};
use crate::engine::Event;
use crate::time::TimestampWriter;
use rumqttc::{
    Client, ConnectReturnCode, Connection, ConnectionError, Event as Notice, MqttOptions,
    NetworkOptions, Outgoing, Packet, QoS, RecvTimeoutError,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// PUBLISH requests the client queues for the connection thread before a write waits.
const REQUEST_QUEUE: usize = 1024;
/// QoS 1 messages sent and not yet acknowledged, at most (rumqttc's in-flight window). The
/// broker acknowledges each at once, so a wide window only keeps the connection busy.
const MAX_INFLIGHT_QOS1: u16 = 1000;
/// QoS 2 messages sent and not yet completed, at most. A broker holds each until its PUBREL
/// and limits how many it holds per client: Mosquitto drops a client that sends more than its
/// `max_inflight_messages` (20 by default), even over MQTT 3.1.1, which has no way to announce
/// the limit. So stay within it.
const MAX_INFLIGHT_QOS2: u16 = 20;
/// The keep-alive interval: a broker that stops answering pings is noticed within about twice
/// this.
const KEEP_ALIVE: Duration = Duration::from_secs(30);
/// The largest packet either way (MQTT's own limit is 256 MiB; events are far smaller).
const MAX_PACKET: usize = 1 << 20;
/// How long a refused connection waits before the next try, while `connectTimeout` lasts.
const RETRY_WAIT: Duration = Duration::from_millis(100);
/// How long `finish` polls the counts while it waits for acknowledgements.
const SETTLE_POLL: Duration = Duration::from_millis(1);
/// How long `finish` waits for the DISCONNECT to go out and the thread to end.
const DISCONNECT_WAIT: Duration = Duration::from_secs(2);
/// The default client id's prefix: `def-<sink name>-<process id>`.
pub const DEFAULT_CLIENT_ID_PREFIX: &str = "def-";

/// What the sink and its connection thread share.
struct Shared {
    /// One destination: the sink's topic filter `{baseTopic}/{process}/#`.
    counter: DeliveryCounter,
    /// The thread has stopped driving the connection.
    ended: AtomicBool,
    /// It stopped because the connection broke.
    lost: AtomicBool,
}

/// The MQTT sink.
pub struct MqttSink {
    name: String,
    address: String,
    client: Client,
    qos: QoS,
    /// `{baseTopic}/{process}/case_`, escaped: each topic starts with it.
    prefix: String,
    /// `{baseTopic}/{process}/#`, the destination counts are reported under.
    filter: String,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// PUBLISH requests handed to the client.
    handed: u64,
    flush_timeout: Duration,
    timestamps: TimestampWriter,
    itoa: itoa::Buffer,
}

impl MqttSink {
    /// Connects to the broker of `spec` (waiting for its CONNACK up to `connectTimeout`) and
    /// starts the thread that drives the connection. `process` is the process level when the
    /// spec names none (the simulation's name).
    ///
    /// # Errors
    ///
    /// [`SinkBuildError::Unavailable`] if the broker does not accept the connection within
    /// `connectTimeout` (placed at `host`); [`SinkBuildError::Config`] if it rejects the
    /// client id.
    pub fn build(
        name: &str,
        spec: &MqttSinkSpec,
        process: &str,
        timestamps: TimestampFormat,
        at: &dyn Fn(&str) -> Option<Place>,
    ) -> Result<MqttSink, SinkBuildError> {
        let placed = |d: Diagnostic, field: &str| match at(field) {
            Some(place) => d.at(&place),
            None => d,
        };
        let address = spec.address();
        let client_id = spec
            .client_id
            .clone()
            .unwrap_or_else(|| format!("{DEFAULT_CLIENT_ID_PREFIX}{name}-{}", std::process::id()));
        let qos = match spec.qos {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            _ => QoS::ExactlyOnce,
        };
        // rumqttc joins host and port with a `:`: an IPv6 literal needs its brackets.
        let host = if spec.host.contains(':') && !spec.host.starts_with('[') {
            format!("[{}]", spec.host)
        } else {
            spec.host.clone()
        };
        let mut options = MqttOptions::new(client_id, host, spec.port);
        options
            .set_keep_alive(KEEP_ALIVE)
            .set_clean_session(true)
            .set_inflight(if qos == QoS::ExactlyOnce {
                MAX_INFLIGHT_QOS2
            } else {
                MAX_INFLIGHT_QOS1
            })
            .set_max_packet_size(MAX_PACKET, MAX_PACKET);
        let (client, mut connection) = Client::new(options, REQUEST_QUEUE);
        let mut network = NetworkOptions::new();
        // Whole seconds: it also bounds each socket write, so a frozen broker is an error.
        network.set_connection_timeout(spec.connect_timeout_secs.ceil().max(1.0) as u64);
        connection.eventloop.set_network_options(network);

        let timeout = Duration::from_secs_f64(spec.connect_timeout_secs);
        connect(&mut connection, Instant::now() + timeout).map_err(|problem| match problem {
            ConnectProblem::Refused(ConnectReturnCode::BadClientId) => {
                SinkBuildError::Config(placed(
                    Diagnostic::error(format!(
                        "sink `{name}`: the MQTT broker at {address} rejected the client id"
                    ))
                    .help("set `clientId` to a shorter id of letters and digits"),
                    "clientId",
                ))
            }
            ConnectProblem::Refused(code) => SinkBuildError::Unavailable(placed(
                Diagnostic::error(format!(
                    "sink `{name}`: the MQTT broker at {address} refused the connection ({code:?})"
                ))
                .help(
                    "def connects anonymously with MQTT 3.1.1 and a clean session: allow that \
                     on the broker (Mosquitto: `allow_anonymous true` on the listener)",
                ),
                "host",
            )),
            ConnectProblem::NoAnswer(why) => SinkBuildError::Unavailable(placed(
                Diagnostic::error(format!(
                    "sink `{name}`: no answer from the MQTT broker at {address} within {:.1} s{}",
                    timeout.as_secs_f64(),
                    why.map(|w| format!(" ({w})")).unwrap_or_default()
                ))
                .help(
                    "start the broker or fix `host:` (and `port:`, 1883 by default); \
                     `connectTimeout` (seconds) sets how long to wait",
                ),
                "host",
            )),
        })?;

        let mut levels = String::with_capacity(spec.base_topic.len() + process.len() + 8);
        levels.push_str(&spec.base_topic);
        levels.push('/');
        escape_level(process, &mut levels);
        levels.push('/');
        let filter = format!("{levels}#");
        let prefix = format!("{levels}case_");

        let shared = Arc::new(Shared {
            counter: DeliveryCounter::new(1),
            ended: AtomicBool::new(false),
            lost: AtomicBool::new(false),
        });
        let thread = {
            let shared = Arc::clone(&shared);
            let address = address.clone();
            std::thread::Builder::new()
                .name(format!("def-mqtt-{name}"))
                .spawn(move || drive(connection, &shared, qos, &address))
                .map_err(|e| {
                    SinkBuildError::Unavailable(Diagnostic::error(format!(
                        "sink `{name}`: cannot start the MQTT connection thread: {e}"
                    )))
                })?
        };
        Ok(MqttSink {
            name: name.to_string(),
            address,
            client,
            qos,
            prefix,
            filter,
            shared,
            thread: Some(thread),
            handed: 0,
            flush_timeout: Duration::from_secs_f64(spec.flush_timeout_secs),
            timestamps: TimestampWriter::new(timestamps),
            itoa: itoa::Buffer::new(),
        })
    }

    /// `{baseTopic}/{process}/#`: the topic filter that receives this sink's events.
    pub fn topic_filter(&self) -> &str {
        &self.filter
    }

    fn ended(&self) -> bool {
        self.shared.ended.load(Ordering::Acquire)
    }

    /// The error of a connection that broke during the run.
    fn lost(&self) -> SinkError {
        let (delivered, _) = self.shared.counter.totals();
        let why = self.shared.counter.first_error().unwrap_or_else(|| {
            format!(
                "the connection to the MQTT broker at {} ended",
                self.address
            )
        });
        SinkError::Failed {
            sink: self.name.clone(),
            message: format!(
                "{why}; {delivered} of {} events were {} before that; stopping the run",
                self.handed,
                if self.qos == QoS::AtMostOnce {
                    "sent"
                } else {
                    "acknowledged"
                }
            ),
        }
    }
}

/// The PUBLISH payload: the event's attributes other than case and activity, as a JSON
/// object (`timestamp`, `node`, `group`, and `emittedAt`, `eventId` and `arrivalTime` if the
/// event has them).
fn payload(timestamps: &mut TimestampWriter, event: &Event<'_>) -> Vec<u8> {
    let (node, group) = (event.node.name.json(), event.node.group.json());
    let mut out = Vec::with_capacity(64 + node.len() + group.len());
    out.extend_from_slice(b"{\"timestamp\":\"");
    timestamps.write(event.timestamp_ms, &mut out);
    out.extend_from_slice(b"\",\"node\":");
    out.extend_from_slice(node.as_bytes());
    out.extend_from_slice(b",\"group\":");
    out.extend_from_slice(group.as_bytes());
    if let Some(at) = event.emitted_at_ms.get() {
        out.extend_from_slice(b",\"emittedAt\":\"");
        timestamps.write(at, &mut out);
        out.push(b'"');
    }
    if let Some(id) = event.event_id {
        out.extend_from_slice(b",\"eventId\":");
        out.extend_from_slice(itoa::Buffer::new().format(id.get()).as_bytes());
    }
    if let Some(at) = event.arrival_ms.get() {
        out.extend_from_slice(b",\"arrivalTime\":\"");
        timestamps.write(at, &mut out);
        out.push(b'"');
    }
    out.push(b'}');
    out
}

/// Why the connection could not be made.
enum ConnectProblem {
    /// The broker answered the CONNECT with a refusal.
    Refused(ConnectReturnCode),
    /// No CONNACK by the deadline; the last error, if there was one.
    NoAnswer(Option<String>),
}

/// Drives `connection` until the broker's CONNACK, retrying refused or failed connections
/// until `deadline`.
fn connect(connection: &mut Connection, deadline: Instant) -> Result<(), ConnectProblem> {
    let mut last = None;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(ConnectProblem::NoAnswer(last));
        }
        match connection.recv_timeout(remaining) {
            Ok(Ok(Notice::Incoming(Packet::ConnAck(_)))) => return Ok(()),
            Ok(Ok(_)) => {}
            Ok(Err(ConnectionError::ConnectionRefused(code))) => {
                return Err(ConnectProblem::Refused(code))
            }
            Ok(Err(e)) => {
                last = Some(e.to_string());
                std::thread::sleep(
                    RETRY_WAIT.min(deadline.saturating_duration_since(Instant::now())),
                );
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                return Err(ConnectProblem::NoAnswer(last))
            }
        }
    }
}

/// The connection thread: serves rumqttc's event loop and counts deliveries until the sink's
/// DISCONNECT has gone out or the connection breaks.
fn drive(mut connection: Connection, shared: &Shared, qos: QoS, address: &str) {
    for notice in connection.iter() {
        match notice {
            Ok(Notice::Incoming(Packet::PubAck(_) | Packet::PubComp(_))) => {
                shared.counter.delivered(0);
            }
            // At QoS 0 nothing comes back: a PUBLISH counts once rumqttc flushed it to the
            // socket (the notice comes after the flush).
            Ok(Notice::Outgoing(Outgoing::Publish(_))) if qos == QoS::AtMostOnce => {
                shared.counter.delivered(0);
            }
            Ok(Notice::Outgoing(Outgoing::Disconnect)) => break,
            Ok(_) => {}
            Err(e) => {
                shared.counter.remember(format_args!(
                    "the connection to the MQTT broker at {address} broke: {e}"
                ));
                shared.lost.store(true, Ordering::Release);
                break;
            }
        }
    }
    shared.ended.store(true, Ordering::Release);
}

impl Sink for MqttSink {
    fn write(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        if self.shared.lost.load(Ordering::Relaxed) {
            return Err(self.lost());
        }
        let activity = event.activity();
        let mut topic = String::with_capacity(self.prefix.len() + 21 + activity.len());
        topic.push_str(&self.prefix);
        topic.push_str(self.itoa.format(event.case));
        topic.push('/');
        escape_level(activity, &mut topic);
        let payload = payload(&mut self.timestamps, event);
        // Waits while the request queue is full; fails once the connection thread has ended.
        if self
            .client
            .publish(topic, self.qos, false, payload)
            .is_err()
        {
            return Err(self.lost());
        }
        self.handed += 1;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        // Streams call this after each batch: the connection thread sends on its own, so only
        // say whether it broke.
        if self.shared.lost.load(Ordering::Relaxed) {
            return Err(self.lost());
        }
        Ok(())
    }

    /// Waits up to `flushTimeout` for the outstanding acknowledgements, disconnects, and
    /// counts: what was not acknowledged (QoS 0: not written) counts as failed.
    fn finish(&mut self) -> Result<Delivery, SinkError> {
        let deadline = Instant::now() + self.flush_timeout;
        while !self.ended()
            && self.shared.counter.totals().0 < self.handed
            && Instant::now() < deadline
        {
            std::thread::sleep(SETTLE_POLL);
        }
        if !self.ended() {
            // Queued after every PUBLISH, so at QoS 0 it also waits for them to be written. If
            // the queue is full the broker is stuck: the thread ends on its own timeouts.
            let _ = self.client.try_disconnect();
        }
        let until = Instant::now() + DISCONNECT_WAIT;
        while !self.ended() && Instant::now() < until {
            std::thread::sleep(SETTLE_POLL);
        }
        if let Some(thread) = self.thread.take() {
            if self.ended() {
                let _ = thread.join();
            }
        }
        let timeout = self.flush_timeout.as_secs_f64();
        let acknowledged = self.qos != QoS::AtMostOnce;
        let delivery =
            self.shared
                .counter
                .tally(std::slice::from_ref(&self.filter), self.handed, || {
                    if acknowledged {
                        format!("not acknowledged within {timeout:.1} s")
                    } else {
                        format!("not written to the connection within {timeout:.1} s")
                    }
                });
        Ok(Delivery {
            acknowledged,
            ..delivery
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigSet;
    use crate::engine::Engine;
    use crate::model::Chain;

    fn spec(port: u16) -> MqttSinkSpec {
        MqttSinkSpec {
            host: "127.0.0.1".into(),
            port,
            client_id: None,
            qos: 1,
            base_topic: "def".into(),
            process: None,
            connect_timeout_secs: 0.5,
            flush_timeout_secs: 1.0,
        }
    }

    #[test]
    fn the_payload_holds_the_attributes_the_topic_does_not() {
        let chain = Chain::compile(&ConfigSet::example()).unwrap();
        let mut engine = Engine::new(&chain, 5, 1_700_000_000_000, 1);
        let mut event = engine.next_event();
        let mut timestamps = TimestampWriter::new(TimestampFormat::Original);
        let value: serde_json::Value =
            serde_json::from_slice(&payload(&mut timestamps, &event)).unwrap();
        let object = value.as_object().unwrap();
        assert_eq!(
            object.keys().map(String::as_str).collect::<Vec<_>>(),
            ["group", "node", "timestamp"]
        );
        assert_eq!(value["node"], event.node.name.as_str());
        assert_eq!(value["group"], "factory");
        assert_eq!(value["timestamp"].as_str().unwrap().len(), 19);

        event.emitted_at_ms = crate::engine::MaybeMs::some(1_700_000_000_123);
        let value: serde_json::Value =
            serde_json::from_slice(&payload(&mut timestamps, &event)).unwrap();
        assert_eq!(value.as_object().unwrap().len(), 4);
        assert!(value["emittedAt"].is_string());
    }

    /// Nothing listens: `Unavailable` at `host`, naming the address, within the timeout and a
    /// margin (the refused connection is retried until then).
    #[test]
    fn a_closed_port_is_unavailable_within_the_connect_timeout() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let started = Instant::now();
        let error = MqttSink::build("m", &spec(port), "p", TimestampFormat::Original, &|_| None)
            .err()
            .unwrap();
        let elapsed = started.elapsed();
        let SinkBuildError::Unavailable(d) = error else {
            panic!("expected Unavailable, got {error:?}")
        };
        assert!(
            d.message.starts_with(&format!(
                "sink `m`: no answer from the MQTT broker at 127.0.0.1:{port} within 0.5 s"
            )),
            "{}",
            d.message
        );
        assert!(elapsed >= Duration::from_millis(500), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    }

    #[test]
    fn addresses_bracket_ipv6_hosts() {
        assert_eq!(spec(1883).address(), "127.0.0.1:1883");
        let v6 = MqttSinkSpec {
            host: "::1".into(),
            ..spec(1883)
        };
        assert_eq!(v6.address(), "[::1]:1883");
    }
}
