//! The original's event as JSON (docs/semantics.md): as a record ([`Json`]), as JSON lines
//! ([`JsonLines`]) and as the original console line ([`ConsoleLines`]).
//!
//! Every string an event carries was JSON-escaped once when the chain was compiled, so encoding
//! is copying bytes, two integer conversions and a cached date.

use super::EventFormat;
use crate::engine::Event;
use crate::time::{TimestampFormat, TimestampWriter};

/// Writes the event JSON object; one per output, since it caches the current day.
#[derive(Clone)]
pub struct EventEncoder {
    timestamps: TimestampWriter,
    itoa: itoa::Buffer,
}

impl EventEncoder {
    pub fn new(format: TimestampFormat) -> EventEncoder {
        EventEncoder {
            timestamps: TimestampWriter::new(format),
            itoa: itoa::Buffer::new(),
        }
    }

    /// Appends `{"timestamp":...,"activity":...,"caseid":...,"node":...,"group":...}`, then
    /// `"emittedAt"`, `"eventId"` and `"arrivalTime"` where the event has them.
    #[inline]
    pub fn json(&mut self, event: &Event<'_>, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"timestamp\":\"");
        self.timestamps.write(event.timestamp_ms, out);
        out.extend_from_slice(b"\",\"activity\":");
        out.extend_from_slice(event.label.json().as_bytes());
        out.extend_from_slice(b",\"caseid\":\"case_");
        out.extend_from_slice(self.itoa.format(event.case).as_bytes());
        out.extend_from_slice(b"\",\"node\":");
        out.extend_from_slice(event.node.name.json().as_bytes());
        out.extend_from_slice(b",\"group\":");
        out.extend_from_slice(event.node.group.json().as_bytes());
        if let Some(at) = event.emitted_at_ms.get() {
            out.extend_from_slice(b",\"emittedAt\":\"");
            self.timestamps.write(at, out);
            out.push(b'"');
        }
        if let Some(id) = event.event_id {
            out.extend_from_slice(b",\"eventId\":");
            out.extend_from_slice(self.itoa.format(id.get()).as_bytes());
        }
        if let Some(at) = event.arrival_ms.get() {
            out.extend_from_slice(b",\"arrivalTime\":\"");
            self.timestamps.write(at, out);
            out.push(b'"');
        }
        out.push(b'}');
    }

    /// Appends one JSON line.
    #[inline]
    pub fn json_line(&mut self, event: &Event<'_>, out: &mut Vec<u8>) {
        self.json(event, out);
        out.push(b'\n');
    }

    /// Appends the original console line: `<id> <node>: <event json>`.
    pub fn console_line(&mut self, id: &str, event: &Event<'_>, out: &mut Vec<u8>) {
        out.extend_from_slice(id.as_bytes());
        out.push(b' ');
        out.extend_from_slice(event.node.name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        self.json_line(event, out);
    }

    /// The case id as text, `case_N`.
    pub fn case_id(case: u64) -> String {
        format!("case_{case}")
    }
}

/// One JSON object per event, nothing between: a record format (Kafka values, frame events).
#[derive(Clone)]
pub struct Json(EventEncoder);

impl Json {
    pub fn new(timestamps: TimestampFormat) -> Json {
        Json(EventEncoder::new(timestamps))
    }
}

impl EventFormat for Json {
    #[inline]
    fn event(&mut self, event: &Event<'_>, out: &mut Vec<u8>) {
        self.0.json(event, out);
    }
}

/// One JSON object per line (`file` and `console` with `format: json`).
#[derive(Clone)]
pub struct JsonLines(EventEncoder);

impl JsonLines {
    pub fn new(timestamps: TimestampFormat) -> JsonLines {
        JsonLines(EventEncoder::new(timestamps))
    }
}

impl EventFormat for JsonLines {
    #[inline]
    fn event(&mut self, event: &Event<'_>, out: &mut Vec<u8>) {
        self.0.json_line(event, out);
    }
}

/// The original console line, `<id> <node>: <event json>`.
#[derive(Clone)]
pub struct ConsoleLines {
    id: String,
    encoder: EventEncoder,
}

impl ConsoleLines {
    pub fn new(id: &str, timestamps: TimestampFormat) -> ConsoleLines {
        ConsoleLines {
            id: id.to_string(),
            encoder: EventEncoder::new(timestamps),
        }
    }
}

impl EventFormat for ConsoleLines {
    #[inline]
    fn event(&mut self, event: &Event<'_>, out: &mut Vec<u8>) {
        self.encoder.console_line(&self.id, event, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigSet;
    use crate::engine::Engine;
    use crate::model::Chain;

    #[test]
    fn encodes_the_semantics_json_and_console_line() {
        let chain = Chain::compile(&ConfigSet::example()).unwrap();
        let mut engine = Engine::new(&chain, 5, 1_700_000_000_000, 1);
        let event = engine.next_event();
        let mut enc = EventEncoder::new(TimestampFormat::Original);
        let mut out = Vec::new();
        enc.json(&event, &mut out);
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["caseid"], "case_1");
        assert_eq!(value["node"], "GoodsDelivery");
        assert_eq!(value["group"], "factory");
        assert_eq!(value["activity"], event.activity());
        let ts = value["timestamp"].as_str().unwrap();
        assert_eq!(ts.len(), 19);
        assert!(ts.starts_with("2023-11-1"), "{ts}");
        assert_eq!(value.as_object().unwrap().len(), 5);

        let mut line = Vec::new();
        enc.console_line("Sensor", &event, &mut line);
        let line = String::from_utf8(line).unwrap();
        assert!(
            line.starts_with("Sensor GoodsDelivery: {\"timestamp\""),
            "{line}"
        );
        assert!(line.ends_with("}\n"));
    }
}
