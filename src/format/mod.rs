//! Output formats: how events become bytes, apart from where the bytes go.
//!
//! An [`EventFormat`] writes into a byte buffer that a transport owns: the file and console
//! sinks write a stream of them, the http sink puts each event into a load-test frame
//! ([`crate::frame`]), the Kafka sink makes each one a record's value. A format sees the run
//! in order — [`EventFormat::begin`], every [`EventFormat::event`], [`EventFormat::end`] — and
//! each event carries the engine's fact whether it ends its case ([`Event::ends_case`]), so a
//! format that groups events by case ([`Xes`] traces) can hold a case's events and write them
//! when the case ends, and write the cases still open at `end`.
//!
//! Record formats (one event per record, no separator: [`Json`]) are for transports that
//! frame each event themselves; stream formats ([`JsonLines`], [`ConsoleLines`], [`Csv`],
//! [`Xes`], [`Ocel`]) for byte streams. The process-mining formats write every timestamp in
//! ISO 8601 with milliseconds and offset, whatever the run's `timestampFormat`, since that is
//! what their readers parse.

mod cases;
pub mod csv;
pub mod json;
pub mod ocel;
pub mod text;
pub mod xes;

pub use csv::{Csv, CsvColumns};
pub use json::{ConsoleLines, EventEncoder, Json, JsonLines};
pub use ocel::Ocel;
pub use xes::Xes;

use crate::engine::Event;

/// Turns events into bytes.
pub trait EventFormat: Send {
    /// Writes what opens an output (a header row, an XML prolog). Most formats have none.
    fn begin(&mut self, _out: &mut Vec<u8>) {}

    /// Writes one event (or, for a format that groups by case, keeps it until its case ends:
    /// `event.ends_case()`). Called on the hot path: no per-event allocation.
    fn event(&mut self, event: &Event<'_>, out: &mut Vec<u8>);

    /// Writes what closes an output, including anything still held (cases a stopped run left
    /// open).
    fn end(&mut self, _out: &mut Vec<u8>) {}

    /// Writes the next part of an ending too long to hold in memory (OCEL's objects, spilled
    /// to a temporary file during the run); `Ok(false)` when nothing is left. A transport
    /// calls it after [`EventFormat::end`] until it says so, writing `out` away between calls.
    ///
    /// # Errors
    /// The format could not keep what it spilled (a temporary file that failed to write or
    /// read): the output is incomplete.
    fn end_more(&mut self, _out: &mut Vec<u8>) -> std::io::Result<bool> {
        Ok(false)
    }

    /// True if the format groups events by case and must hear of every case that ends, also
    /// of those that end at a datasource its output does not take ([`EventFormat::case_ended`]).
    fn follows_cases(&self) -> bool {
        false
    }

    /// Case `case` ended with an event this output does not take (at another datasource):
    /// write what is held for it.
    fn case_ended(&mut self, _case: u64, _out: &mut Vec<u8>) {}

    /// Cases that were still open when the output ended, written as such by `end` (XES traces
    /// marked `def:open`).
    fn open_cases(&self) -> u64 {
        0
    }
}
