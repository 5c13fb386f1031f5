//! OCEL 2.0 JSON: one object-centric event log document.
//!
//! Two object types: `case` (one object per case, id `case_N`) and `datasource` (one per node
//! that emitted, its `group` as an attribute); one event type per activity. Each event is
//! related to its case (qualifier `case`) and to its datasource (qualifier `datasource`).
//!
//! The document is `{"events": [...], "objects": [...], "objectTypes": [...], "eventTypes":
//! [...]}`: events stream into the output as they come; an object is written when its case or
//! datasource first shows up, into a buffer that spills to an unnamed temporary file beside
//! the output, since the objects grow with the run's cases; `end` and
//! [`EventFormat::end_more`] copy them into the output in parts and close the document with
//! the types. What is held in memory is the set of open cases (to know a case's first event)
//! and a bounded buffer.
//!
//! Rotated into several files, each file is a document of its own: `begin` starts a new object
//! table, so a case that spans files has its object in each file its events are in.

use super::cases::CaseMap;
use super::EventFormat;
use crate::engine::Event;
use crate::time::{TimestampFormat, TimestampWriter};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::Path;

/// Object bytes kept in memory before they go to the temporary file.
const SPILL_AT: usize = 64 * 1024;
/// Bytes copied back into the output per [`EventFormat::end_more`] call.
const CHUNK: usize = 256 * 1024;
/// The time of an attribute value that holds for the whole log (pm4py reads it as static).
const ALWAYS: &str = "1970-01-01T00:00:00.000+00:00";

/// Where the ending is.
enum Ending {
    Running,
    /// Copying the spilled objects back.
    Copying,
    Done,
}

/// An OCEL 2.0 JSON log.
pub struct Ocel {
    timestamps: TimestampWriter,
    itoa: itoa::Buffer,
    /// Events written, for their ids (`e1`, `e2`, ...; unique over all files of a run).
    events: u64,
    /// Events written into the current file.
    file_events: u64,
    /// Cases whose object is in the current file and whose end has not come yet.
    open: CaseMap<()>,
    /// Datasources (by node index) whose object is in the current file.
    nodes: Vec<bool>,
    /// Objects not yet spilled, as JSON, each after a comma but the first.
    objects: Vec<u8>,
    objects_written: u64,
    spill: File,
    spilled: u64,
    /// The first failure to spill: reported by `end_more`.
    error: Option<std::io::Error>,
    /// The event types: every activity of the datasources the output takes.
    activities: Vec<String>,
    emitted_at: bool,
    /// The run has a network document: events carry `eventId` and `arrivalTime`.
    network: bool,
    ending: Ending,
}

impl Ocel {
    /// A log whose objects spill into a temporary file in `dir` (the output's folder), with
    /// an event type per activity of `activities`, and an `emittedAt` event attribute if the
    /// run stamps events with it.
    ///
    /// # Errors
    /// The temporary file cannot be created in `dir`.
    pub fn create(dir: &Path, activities: &[&str], emitted_at: bool) -> std::io::Result<Ocel> {
        let mut activities: Vec<String> = activities.iter().map(|a| a.to_string()).collect();
        activities.sort_unstable();
        activities.dedup();
        Ok(Ocel {
            timestamps: TimestampWriter::new(TimestampFormat::Iso8601),
            itoa: itoa::Buffer::new(),
            events: 0,
            file_events: 0,
            open: CaseMap::default(),
            nodes: Vec::new(),
            objects: Vec::with_capacity(SPILL_AT + 1024),
            objects_written: 0,
            spill: tempfile::tempfile_in(dir)?,
            spilled: 0,
            error: None,
            activities,
            emitted_at,
            network: false,
            ending: Ending::Running,
        })
    }

    /// Declares and writes the `eventId` and `arrivalTime` event attributes of a run with a
    /// network document.
    pub fn with_network(mut self, network: bool) -> Ocel {
        self.network = network;
        self
    }

    fn object_start(&mut self) {
        if self.objects_written > 0 {
            self.objects.extend_from_slice(b",\n");
        }
        self.objects_written += 1;
    }

    fn spill(&mut self) {
        if self.error.is_none() {
            match self.spill.write_all(&self.objects) {
                Ok(()) => self.spilled += self.objects.len() as u64,
                Err(e) => self.error = Some(e),
            }
        }
        self.objects.clear();
    }

    /// `],"objectTypes":[...],"eventTypes":[...]}`.
    fn tail(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(
            b"\n],\n\"objectTypes\":[{\"name\":\"case\",\"attributes\":[]},\
              {\"name\":\"datasource\",\"attributes\":[{\"name\":\"group\",\"type\":\"string\"}]}],\
              \n\"eventTypes\":[",
        );
        let attributes: &[u8] = match (self.emitted_at, self.network) {
            (false, false) => b"[]",
            (true, false) => b"[{\"name\":\"emittedAt\",\"type\":\"time\"}]",
            (false, true) => b"[{\"name\":\"eventId\",\"type\":\"integer\"},{\"name\":\"arrivalTime\",\"type\":\"time\"}]",
            (true, true) => b"[{\"name\":\"emittedAt\",\"type\":\"time\"},{\"name\":\"eventId\",\"type\":\"integer\"},{\"name\":\"arrivalTime\",\"type\":\"time\"}]",
        };
        for (i, activity) in self.activities.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"\n{\"name\":");
            let name = serde_json::to_string(activity).unwrap_or_else(|_| "\"\"".into());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b",\"attributes\":");
            out.extend_from_slice(attributes);
            out.push(b'}');
        }
        out.extend_from_slice(b"\n]}\n");
    }
}

impl EventFormat for Ocel {
    /// Starts a document, with an empty object table (a rotated output's next file needs the
    /// objects of its own events).
    fn begin(&mut self, out: &mut Vec<u8>) {
        self.open.clear();
        self.nodes.iter_mut().for_each(|seen| *seen = false);
        self.objects.clear();
        self.objects_written = 0;
        self.file_events = 0;
        if self.spilled > 0 {
            let reset = self.spill.set_len(0).and_then(|()| self.spill.rewind());
            if let Err(e) = reset {
                self.error.get_or_insert(e);
            }
            self.spilled = 0;
        }
        self.ending = Ending::Running;
        out.extend_from_slice(b"{\"events\":[");
    }

    #[inline]
    fn event(&mut self, event: &Event<'_>, out: &mut Vec<u8>) {
        // The case's object, at its first event here.
        let first = if event.ends_case() {
            self.open.remove(&event.case).is_none()
        } else {
            self.open.insert(event.case, ()).is_none()
        };
        if first {
            self.object_start();
            self.objects.extend_from_slice(b"{\"id\":\"case_");
            self.objects
                .extend_from_slice(self.itoa.format(event.case).as_bytes());
            self.objects
                .extend_from_slice(b"\",\"type\":\"case\",\"attributes\":[],\"relationships\":[]}");
        }
        let node = event.node.index as usize;
        if self.nodes.get(node) != Some(&true) {
            if self.nodes.len() <= node {
                self.nodes.resize(node + 1, false);
            }
            self.nodes[node] = true;
            self.object_start();
            self.objects.extend_from_slice(b"{\"id\":");
            self.objects
                .extend_from_slice(event.node.name.json().as_bytes());
            self.objects.extend_from_slice(
                b",\"type\":\"datasource\",\"attributes\":[{\"name\":\"group\",\"time\":\"",
            );
            self.objects.extend_from_slice(ALWAYS.as_bytes());
            self.objects.extend_from_slice(b"\",\"value\":");
            self.objects
                .extend_from_slice(event.node.group.json().as_bytes());
            self.objects.extend_from_slice(b"}],\"relationships\":[]}");
        }
        if self.objects.len() >= SPILL_AT {
            self.spill();
        }

        self.events += 1;
        self.file_events += 1;
        out.extend_from_slice(if self.file_events == 1 { b"\n" } else { b",\n" });
        out.extend_from_slice(b"{\"id\":\"e");
        out.extend_from_slice(self.itoa.format(self.events).as_bytes());
        out.extend_from_slice(b"\",\"type\":");
        out.extend_from_slice(event.label.json().as_bytes());
        out.extend_from_slice(b",\"time\":\"");
        self.timestamps.write(event.timestamp_ms, out);
        out.extend_from_slice(b"\",\"attributes\":[");
        if let Some(at) = event.emitted_at_ms.get() {
            out.extend_from_slice(b"{\"name\":\"emittedAt\",\"value\":\"");
            self.timestamps.write(at, out);
            out.extend_from_slice(b"\"}");
        }
        if let Some(id) = event.event_id {
            if event.emitted_at_ms.is_some() {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"name\":\"eventId\",\"value\":");
            out.extend_from_slice(self.itoa.format(id.get()).as_bytes());
            out.push(b'}');
        }
        if let Some(at) = event.arrival_ms.get() {
            if event.emitted_at_ms.is_some() || event.event_id.is_some() {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"name\":\"arrivalTime\",\"value\":\"");
            self.timestamps.write(at, out);
            out.extend_from_slice(b"\"}");
        }
        out.extend_from_slice(b"],\"relationships\":[{\"objectId\":\"case_");
        out.extend_from_slice(self.itoa.format(event.case).as_bytes());
        out.extend_from_slice(b"\",\"qualifier\":\"case\"},{\"objectId\":");
        out.extend_from_slice(event.node.name.json().as_bytes());
        out.extend_from_slice(b",\"qualifier\":\"datasource\"}]}");
    }

    fn follows_cases(&self) -> bool {
        true
    }

    fn case_ended(&mut self, case: u64, _out: &mut Vec<u8>) {
        self.open.remove(&case);
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\n],\n\"objects\":[\n");
        if self.spilled == 0 && self.error.is_none() {
            // Everything is still in memory.
            out.extend_from_slice(&self.objects);
            self.objects.clear();
            self.tail(out);
            self.ending = Ending::Done;
            return;
        }
        self.spill();
        if self.error.is_none() {
            if let Err(e) = self.spill.rewind() {
                self.error = Some(e);
            }
        }
        self.ending = Ending::Copying;
    }

    fn end_more(&mut self, out: &mut Vec<u8>) -> std::io::Result<bool> {
        if let Some(e) = self.error.take() {
            self.ending = Ending::Done;
            return Err(e);
        }
        match self.ending {
            Ending::Running | Ending::Done => Ok(false),
            Ending::Copying => {
                let start = out.len();
                out.resize(start + CHUNK, 0);
                let read = self.spill.read(&mut out[start..]);
                let n = *read.as_ref().unwrap_or(&0);
                out.truncate(start + n);
                let n = read?;
                if n == 0 {
                    self.tail(out);
                    self.ending = Ending::Done;
                    return Ok(false);
                }
                Ok(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigSet;
    use crate::engine::Engine;
    use crate::model::Chain;
    use std::collections::BTreeSet;

    /// Runs `n` events of the example through an OCEL log, ending it in parts as a transport
    /// does, and parses the document.
    fn log(n: usize) -> (serde_json::Value, Ocel, BTreeSet<u64>) {
        let chain = Chain::compile(&ConfigSet::example()).unwrap();
        let activities: Vec<&str> = chain
            .nodes
            .iter()
            .flat_map(|n| n.edges.iter().map(|e| e.activity.as_str()))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let mut ocel = Ocel::create(dir.path(), &activities, false).unwrap();
        let mut engine = Engine::new(&chain, 3, 1_700_000_000_000, 20);
        let mut out = Vec::new();
        let mut cases = BTreeSet::new();
        ocel.begin(&mut out);
        for _ in 0..n {
            let event = engine.next_event();
            cases.insert(event.case);
            ocel.event(&event, &mut out);
        }
        ocel.end(&mut out);
        let mut parts = 0;
        while ocel.end_more(&mut out).unwrap() {
            parts += 1;
        }
        assert!(parts <= ocel.spilled as usize / CHUNK + 1);
        (serde_json::from_slice(&out).unwrap(), ocel, cases)
    }

    #[test]
    fn objects_spill_to_a_file_and_come_back_in_one_document() {
        for n in [0, 10, 60_000] {
            let (doc, ocel, cases) = log(n);
            if n == 60_000 {
                assert!(
                    ocel.spilled > 2 * SPILL_AT as u64,
                    "{} spilled",
                    ocel.spilled
                );
            }
            let events = doc["events"].as_array().unwrap();
            assert_eq!(events.len(), n);
            let objects = doc["objects"].as_array().unwrap();
            let case_objects: BTreeSet<u64> = objects
                .iter()
                .filter(|o| o["type"] == "case")
                .map(|o| o["id"].as_str().unwrap()[5..].parse().unwrap())
                .collect();
            assert_eq!(case_objects, cases);
            // Each object once.
            let ids: BTreeSet<&str> = objects.iter().map(|o| o["id"].as_str().unwrap()).collect();
            assert_eq!(ids.len(), objects.len());
            assert_eq!(doc["objectTypes"].as_array().unwrap().len(), 2);
            assert!(!doc["eventTypes"].as_array().unwrap().is_empty());
        }
    }
}
