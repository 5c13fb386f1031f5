//! CSV (RFC 4180): a header line, then one row per event, lines ended by CRLF.
//!
//! The columns are the event's fields under the XES names pm4py reads without renaming
//! (`case:concept:name`, `concept:name`, `time:timestamp`, `org:resource`, `org:group`), or
//! the names a sink's `columns:` gives them; `emittedAt` is a sixth column when the run stamps
//! it, and `eventId` and `arrivalTime` the last two in runs with a network document
//! ([`Csv::with_network`]).
//!
//! The writer is our own rather than the csv crate's: `csv::Writer` owns its destination and
//! buffers into a buffer of its own, while a format writes into the buffer its transport owns;
//! wrapping that buffer per event would cost more than the quoting, which is a table lookup
//! per byte and a copy ([`super::text::csv_field`]).

use super::text::csv_field;
use super::EventFormat;
use crate::engine::Event;
use crate::time::{TimestampFormat, TimestampWriter};

/// The column names, in row order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvColumns {
    pub caseid: String,
    pub activity: String,
    pub timestamp: String,
    pub node: String,
    pub group: String,
    /// `None` when the run does not stamp events with `emittedAt`: no such column.
    pub emitted_at: Option<String>,
}

/// One CSV row per event, after a header line.
#[derive(Clone)]
pub struct Csv {
    header: Vec<u8>,
    emitted_at: bool,
    network: bool,
    timestamps: TimestampWriter,
    itoa: itoa::Buffer,
}

impl Csv {
    pub fn new(columns: &CsvColumns) -> Csv {
        let mut header = Vec::new();
        let names = [
            &columns.caseid,
            &columns.activity,
            &columns.timestamp,
            &columns.node,
            &columns.group,
        ];
        for (i, name) in names.into_iter().chain(&columns.emitted_at).enumerate() {
            if i > 0 {
                header.push(b',');
            }
            csv_field(name, &mut header);
        }
        header.extend_from_slice(b"\r\n");
        Csv {
            header,
            emitted_at: columns.emitted_at.is_some(),
            network: false,
            timestamps: TimestampWriter::new(TimestampFormat::Iso8601),
            itoa: itoa::Buffer::new(),
        }
    }
}

/// The columns a network adds, after the others.
pub const NETWORK_COLUMNS: [&str; 2] = ["eventId", "arrivalTime"];

impl Csv {
    /// Adds the columns of a run with a network document ([`NETWORK_COLUMNS`]), empty in a
    /// row whose event lacks them.
    pub fn with_network(mut self, network: bool) -> Csv {
        if network && !self.network {
            self.header.truncate(self.header.len() - 2);
            for name in NETWORK_COLUMNS {
                self.header.push(b',');
                csv_field(name, &mut self.header);
            }
            self.header.extend_from_slice(b"\r\n");
        }
        self.network |= network;
        self
    }
}

impl EventFormat for Csv {
    fn begin(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.header);
    }

    #[inline]
    fn event(&mut self, event: &Event<'_>, out: &mut Vec<u8>) {
        out.extend_from_slice(b"case_");
        out.extend_from_slice(self.itoa.format(event.case).as_bytes());
        out.push(b',');
        csv_field(event.label.as_str(), out);
        out.push(b',');
        self.timestamps.write(event.timestamp_ms, out);
        out.push(b',');
        csv_field(event.node.name.as_str(), out);
        out.push(b',');
        csv_field(event.node.group.as_str(), out);
        if self.emitted_at {
            out.push(b',');
            if let Some(at) = event.emitted_at_ms.get() {
                self.timestamps.write(at, out);
            }
        }
        if self.network {
            out.push(b',');
            if let Some(id) = event.event_id {
                out.extend_from_slice(self.itoa.format(id.get()).as_bytes());
            }
            out.push(b',');
            if let Some(at) = event.arrival_ms.get() {
                self.timestamps.write(at, out);
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}
