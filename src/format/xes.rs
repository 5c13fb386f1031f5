//! XES (IEEE 1849-2016): one `<trace>` per case, in the order cases end.
//!
//! The log declares the concept, time, lifecycle and org extensions, the trace and event
//! attributes every trace and event has (globals) and an activity classifier. Each event is
//! written as XML when it comes, into a buffer held for its case; when the case ends (its last
//! event, or word that it ended at a datasource this output does not take) the trace is
//! written and the buffer goes back to a pool for the next case. What is held is the events of
//! the open cases, no more. Cases still open when the run stops are written at the end, by
//! case number, marked with the trace attribute `def:open` = `true`, so the file is a
//! complete, well-formed log however the run ended.

use super::cases::CaseMap;
use super::text::xml_attr;
use super::EventFormat;
use crate::engine::Event;
use crate::time::{TimestampFormat, TimestampWriter};

/// The log's opening: prolog, extensions, globals, classifier.
const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="" xmlns="http://www.xes-standard.org/">
	<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
	<extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
	<extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
	<extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
	<global scope="trace">
		<string key="concept:name" value="__INVALID__"/>
	</global>
	<global scope="event">
		<string key="concept:name" value="__INVALID__"/>
		<date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
		<string key="lifecycle:transition" value="complete"/>
		<string key="org:resource" value="__INVALID__"/>
		<string key="org:group" value="__INVALID__"/>
	</global>
	<classifier name="Activity" keys="concept:name"/>
"#;

/// The trace attribute that marks a case the run left open.
pub const OPEN_ATTRIBUTE: &str = "def:open";

/// Writes one event element.
#[derive(Clone)]
struct EventWriter {
    timestamps: TimestampWriter,
}

impl EventWriter {
    #[inline]
    fn write(&mut self, event: &Event<'_>, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\t\t<event>\n\t\t\t<string key=\"concept:name\" value=\"");
        xml_attr(event.edge.activity.as_str(), out);
        out.extend_from_slice(b"\"/>\n\t\t\t<date key=\"time:timestamp\" value=\"");
        self.timestamps.write(event.timestamp_ms, out);
        out.extend_from_slice(
            b"\"/>\n\t\t\t<string key=\"lifecycle:transition\" value=\"complete\"/>\
              \n\t\t\t<string key=\"org:resource\" value=\"",
        );
        xml_attr(event.node.name.as_str(), out);
        out.extend_from_slice(b"\"/>\n\t\t\t<string key=\"org:group\" value=\"");
        xml_attr(event.node.group.as_str(), out);
        if let Some(at) = event.emitted_at_ms {
            out.extend_from_slice(b"\"/>\n\t\t\t<date key=\"def:emittedAt\" value=\"");
            self.timestamps.write(at, out);
        }
        out.extend_from_slice(b"\"/>\n\t\t</event>\n");
    }
}

/// An XES log, a trace per case.
pub struct Xes {
    events: EventWriter,
    itoa: itoa::Buffer,
    /// The events of each open case, as XML.
    open: CaseMap<Vec<u8>>,
    /// Buffers of cases that ended, for the next ones.
    spare: Vec<Vec<u8>>,
    /// Cases written as open by `end`.
    left_open: u64,
}

impl Default for Xes {
    fn default() -> Xes {
        Xes::new()
    }
}

impl Xes {
    pub fn new() -> Xes {
        Xes {
            events: EventWriter {
                timestamps: TimestampWriter::new(TimestampFormat::Iso8601),
            },
            itoa: itoa::Buffer::new(),
            open: CaseMap::default(),
            spare: Vec::new(),
            left_open: 0,
        }
    }

    /// Writes a trace: its name, the `def:open` mark if `open`, and its events.
    fn trace(&mut self, case: u64, open: bool, events: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(b"\t<trace>\n\t\t<string key=\"concept:name\" value=\"case_");
        out.extend_from_slice(self.itoa.format(case).as_bytes());
        out.extend_from_slice(b"\"/>\n");
        if open {
            out.extend_from_slice(b"\t\t<boolean key=\"");
            out.extend_from_slice(OPEN_ATTRIBUTE.as_bytes());
            out.extend_from_slice(b"\" value=\"true\"/>\n");
        }
        out.extend_from_slice(events);
        out.extend_from_slice(b"\t</trace>\n");
    }

    /// Writes the trace of a case that ended and keeps its buffer.
    fn close(&mut self, case: u64, mut held: Vec<u8>, out: &mut Vec<u8>) {
        self.trace(case, false, &held, out);
        held.clear();
        self.spare.push(held);
    }
}

impl EventFormat for Xes {
    fn begin(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(HEAD.as_bytes());
    }

    #[inline]
    fn event(&mut self, event: &Event<'_>, out: &mut Vec<u8>) {
        let spare = &mut self.spare;
        let held = self
            .open
            .entry(event.case)
            .or_insert_with(|| spare.pop().unwrap_or_default());
        self.events.write(event, held);
        if event.ends_case() {
            if let Some(held) = self.open.remove(&event.case) {
                self.close(event.case, held, out);
            }
        }
    }

    fn follows_cases(&self) -> bool {
        true
    }

    fn case_ended(&mut self, case: u64, out: &mut Vec<u8>) {
        if let Some(held) = self.open.remove(&case) {
            self.close(case, held, out);
        }
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        let mut open: Vec<(u64, Vec<u8>)> = self.open.drain().collect();
        open.sort_unstable_by_key(|(case, _)| *case);
        self.left_open = open.len() as u64;
        for (case, events) in &open {
            self.trace(*case, true, events, out);
        }
        out.extend_from_slice(b"</log>\n");
    }

    fn open_cases(&self) -> u64 {
        self.left_open
    }
}
