//! Output formats: how events become bytes, apart from where the bytes go.
//!
//! An [`EventFormat`] writes into a byte buffer that a transport owns: the file and console
//! sinks write a stream of them, the http sink puts each event into a load-test frame
//! ([`crate::frame`]), the Kafka sink makes each one a record's value. A format sees the run
//! in order — [`EventFormat::begin`], every [`EventFormat::event`], [`EventFormat::end`] — and
//! each event carries the engine's fact whether it ends its case ([`Event::ends_case`]), so a
//! format that groups events by case (XES traces) can hold a case's events and write them when
//! the case ends, and write the cases still open at `end`.
//!
//! Record formats (one event per record, no separator: [`Json`]) are for transports that
//! frame each event themselves; stream formats ([`JsonLines`], [`ConsoleLines`]) for byte
//! streams.

pub mod json;

pub use json::{ConsoleLines, EventEncoder, Json, JsonLines};

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
}
