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
//! frame each event themselves; stream formats ([`JsonLines`], [`ConsoleLines`]) for byte
//! streams.
//!
//! # Several files from one run (rotation)
//!
//! A file sink with `rotate:` (docs/files.md) splits one run's output into numbered files, each
//! a complete output of its format on its own. It drives one format object through them all:
//!
//! ```text
//! begin, event*, end_file,  begin, event*, end_file,  ...,  begin, event*, end
//! └──── file 1 ─────────┘   └──── file 2 ─────────┘         └─── last file ──┘
//! ```
//!
//! so every format keeps this contract:
//!
//! - **`begin` starts a file afresh**, also after [`EventFormat::end_file`]: it writes the
//!   opening again (a header row, an XML prolog and log element) and resets what the format
//!   keeps about the file it writes into (a "first record written" flag, a per-file table of
//!   the objects the file's events refer to). Nothing written into one file is assumed to be
//!   in the next.
//! - **`end_file` closes a file, not the run**: it writes what closes a file (a footer, the
//!   closing tags, a per-file summary such as OCEL's objects of that file's events) but keeps
//!   the events it holds for cases still open. Those are written into the file where their case
//!   ends — for XES, a trace goes whole into the file that is open when its case's last event
//!   arrives, however many files its case spans — or, if the run stops first, into the last
//!   file at `end`. The default calls [`EventFormat::end`], which is right for formats that
//!   hold nothing between events (JSON lines, CSV); **a format that holds events must override
//!   it**.
//! - **`end` is called once**, at the end of the run, after the last file's `begin`: it writes
//!   everything still held, then the closing.
//!
//! Rotation counts what the sink hands the format while a file is open: `rotate: {events: N}`
//! starts the next file after N calls of `event` (so a format that holds events until their
//! case ends may put more or fewer than N events into a file), `rotate: {bytes: N}` once the
//! bytes the format wrote for the file (opening included, before compression) reach N.
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

pub use cases::CaseMap;
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
    /// open). Called once, at the end of the run.
    fn end(&mut self, _out: &mut Vec<u8>) {}

    /// Closes one file of a rotated output (see the module docs): writes what closes a file,
    /// but keeps the events of cases still open for a later file. `begin` follows, for the
    /// next file. The default is [`EventFormat::end`]: override it if the format holds events.
    fn end_file(&mut self, out: &mut Vec<u8>) {
        self.end(out);
    }

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
