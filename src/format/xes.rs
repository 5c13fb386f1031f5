//! XES (IEEE 1849-2016): one `<trace>` per case, in the order cases end.
//!
//! The log declares the concept, time, lifecycle and org extensions, the trace and event
//! attributes every trace and event has (globals) and an activity classifier. Each event is
//! written as XML when it comes and held for its case; when the case ends (its last event, or
//! word that it ended at a datasource this output does not take) the trace is written. What is
//! held is the events of the open cases, no more. Cases still open when the run stops are
//! written at the end, by case number, marked with the trace attribute `def:open` = `true`, so
//! the file is a complete, well-formed log however the run ended.
//!
//! Below the log's head, a trace is a line of its attributes, each event a line of its own
//! with its attributes side by side, and `</trace>` a line: no indentation, since every byte
//! of a long run's log goes to the disk (docs/formats.md).
//!
//! The held bytes live in one pool of fixed-size chunks, each case a linked list of them, and
//! a written case's chunks go back to the pool whole: the pool grows only when the open cases
//! together hold more than they ever did, so a long run stops allocating. (A buffer per case,
//! reused from case to case, kept growing whenever a case got a buffer smaller than it needed.)

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
    itoa: itoa::Buffer,
}

impl EventWriter {
    /// One event, one line: `<event>` and its attributes with no whitespace between them.
    /// Indenting each attribute on a line of its own cost 25 of an event's 315 bytes, and a
    /// long run's XES file is as fast as the disk that takes its bytes.
    #[inline]
    fn write(&mut self, event: &Event<'_>, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<event><string key=\"concept:name\" value=\"");
        xml_attr(event.label.as_str(), out);
        out.extend_from_slice(b"\"/><date key=\"time:timestamp\" value=\"");
        self.timestamps.write(event.timestamp_ms, out);
        out.extend_from_slice(
            b"\"/><string key=\"lifecycle:transition\" value=\"complete\"/>\
              <string key=\"org:resource\" value=\"",
        );
        xml_attr(event.node.name.as_str(), out);
        out.extend_from_slice(b"\"/><string key=\"org:group\" value=\"");
        xml_attr(event.node.group.as_str(), out);
        if let Some(at) = event.emitted_at_ms.get() {
            out.extend_from_slice(b"\"/><date key=\"def:emittedAt\" value=\"");
            self.timestamps.write(at, out);
        }
        if let Some(id) = event.event_id {
            out.extend_from_slice(b"\"/><int key=\"def:eventId\" value=\"");
            out.extend_from_slice(self.itoa.format(id.get()).as_bytes());
        }
        if let Some(at) = event.arrival_ms.get() {
            out.extend_from_slice(b"\"/><date key=\"def:arrivalTime\" value=\"");
            self.timestamps.write(at, out);
        }
        out.extend_from_slice(b"\"/></event>\n");
    }
}

/// Bytes per chunk of the held events: an event is about 290 bytes of XML, so most events go
/// into one chunk with one copy (at 256 bytes each event took a new chunk and two copies, 7%
/// more CPU time for a run), and a case wastes at most the unused part of its last chunk.
const CHUNK: usize = 1024;
/// The end of a chunk list.
const NONE: u32 = u32::MAX;

/// A case's held events: its chunks `head` .. `tail`, `len` bytes used in `tail`.
#[derive(Clone, Copy)]
struct Held {
    head: u32,
    tail: u32,
    len: u16,
}

/// Chunks of held bytes; each case a list of them, the unused ones a free list.
#[derive(Default)]
struct Chunks {
    data: Vec<[u8; CHUNK]>,
    next: Vec<u32>,
    free: Option<u32>,
}

impl Chunks {
    fn take(&mut self) -> u32 {
        match self.free {
            Some(c) => {
                let next = self.next[c as usize];
                self.free = (next != NONE).then_some(next);
                self.next[c as usize] = NONE;
                c
            }
            None => {
                self.data.push([0; CHUNK]);
                self.next.push(NONE);
                (self.data.len() - 1) as u32
            }
        }
    }

    fn start(&mut self) -> Held {
        let c = self.take();
        Held {
            head: c,
            tail: c,
            len: 0,
        }
    }

    fn append(&mut self, held: &mut Held, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if held.len as usize == CHUNK {
                let c = self.take();
                self.next[held.tail as usize] = c;
                held.tail = c;
                held.len = 0;
            }
            let at = held.len as usize;
            let n = (CHUNK - at).min(bytes.len());
            self.data[held.tail as usize][at..at + n].copy_from_slice(&bytes[..n]);
            held.len += n as u16;
            bytes = &bytes[n..];
        }
    }

    /// Appends the held bytes to `out` and returns the chunks to the free list.
    fn drain(&mut self, held: Held, out: &mut Vec<u8>) {
        let mut c = held.head;
        while c != held.tail {
            out.extend_from_slice(&self.data[c as usize]);
            c = self.next[c as usize];
        }
        out.extend_from_slice(&self.data[c as usize][..held.len as usize]);
        self.next[held.tail as usize] = self.free.unwrap_or(NONE);
        self.free = Some(held.head);
    }
}

/// An XES log, a trace per case.
pub struct Xes {
    events: EventWriter,
    itoa: itoa::Buffer,
    /// The events of each open case, as XML, in `chunks`.
    open: CaseMap<Held>,
    chunks: Chunks,
    /// One event's XML on its way into the chunks.
    scratch: Vec<u8>,
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
                itoa: itoa::Buffer::new(),
            },
            itoa: itoa::Buffer::new(),
            open: CaseMap::default(),
            chunks: Chunks::default(),
            scratch: Vec::with_capacity(1024),
            left_open: 0,
        }
    }

    /// Writes a trace: its name, the `def:open` mark if `open`, and its held events (`last`
    /// after them, if any).
    fn trace(&mut self, case: u64, open: bool, held: Option<Held>, last: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(b"<trace><string key=\"concept:name\" value=\"case_");
        out.extend_from_slice(self.itoa.format(case).as_bytes());
        out.extend_from_slice(b"\"/>");
        if open {
            out.extend_from_slice(b"<boolean key=\"");
            out.extend_from_slice(OPEN_ATTRIBUTE.as_bytes());
            out.extend_from_slice(b"\" value=\"true\"/>");
        }
        out.push(b'\n');
        if let Some(held) = held {
            self.chunks.drain(held, out);
        }
        out.extend_from_slice(last);
        out.extend_from_slice(b"</trace>\n");
    }
}

impl EventFormat for Xes {
    fn begin(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(HEAD.as_bytes());
    }

    #[inline]
    fn event(&mut self, event: &Event<'_>, out: &mut Vec<u8>) {
        if event.ends_case() {
            // Straight into the trace, after what its case holds.
            let held = self.open.remove(&event.case);
            let mut last = std::mem::take(&mut self.scratch);
            last.clear();
            self.events.write(event, &mut last);
            self.trace(event.case, false, held, &last, out);
            self.scratch = last;
            return;
        }
        self.scratch.clear();
        self.events.write(event, &mut self.scratch);
        let chunks = &mut self.chunks;
        let held = self
            .open
            .entry(event.case)
            .or_insert_with(|| chunks.start());
        chunks.append(held, &self.scratch);
    }

    fn follows_cases(&self) -> bool {
        true
    }

    fn case_ended(&mut self, case: u64, out: &mut Vec<u8>) {
        if let Some(held) = self.open.remove(&case) {
            self.trace(case, false, Some(held), &[], out);
        }
    }

    /// One file of a rotated output ends: its log closes, and the traces of open cases wait
    /// for the file in which their case ends.
    fn end_file(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"</log>\n");
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        let mut open: Vec<(u64, Held)> = self.open.drain().collect();
        open.sort_unstable_by_key(|(case, _)| *case);
        self.left_open = open.len() as u64;
        for (case, held) in open {
            self.trace(case, true, Some(held), &[], out);
        }
        out.extend_from_slice(b"</log>\n");
    }

    fn open_cases(&self) -> u64 {
        self.left_open
    }
}
