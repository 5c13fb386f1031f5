//! `console`: events on standard output, as the original's `<id> <node>: <event>` lines or
//! as JSON lines (`format: json`).

use super::{Delivery, EventEncoder, Sink, SinkError};
use crate::config::{ConsoleFormat, TimestampFormat};
use crate::engine::Event;
use std::io::Write;

/// Bytes buffered before a write to stdout.
const BUFFER: usize = 64 * 1024;

pub struct ConsoleSink {
    name: String,
    id: String,
    format: ConsoleFormat,
    encoder: EventEncoder,
    buffer: Vec<u8>,
    written: u64,
    buffered: u64,
    /// The reader went away: nothing more can be written.
    closed: bool,
}

impl ConsoleSink {
    pub fn new(
        name: &str,
        id: &str,
        format: ConsoleFormat,
        timestamps: TimestampFormat,
    ) -> ConsoleSink {
        ConsoleSink {
            name: name.to_string(),
            id: id.to_string(),
            format,
            encoder: EventEncoder::new(timestamps),
            buffer: Vec::with_capacity(BUFFER + 1024),
            written: 0,
            buffered: 0,
            closed: false,
        }
    }

    fn drain(&mut self) -> Result<(), SinkError> {
        let mut out = std::io::stdout().lock();
        let result = out.write_all(&self.buffer).and_then(|_| out.flush());
        self.buffer.clear();
        match result {
            Ok(()) => {
                self.written += self.buffered;
                self.buffered = 0;
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Err(SinkError::Closed {
                    sink: self.name.clone(),
                })
            }
            Err(e) => Err(SinkError::Io {
                sink: self.name.clone(),
                context: "writing to standard output".into(),
                source: e,
            }),
        }
    }
}

impl Sink for ConsoleSink {
    #[inline]
    fn write(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        match self.format {
            ConsoleFormat::Original => self.encoder.console_line(&self.id, event, &mut self.buffer),
            ConsoleFormat::Json => self.encoder.json_line(event, &mut self.buffer),
        }
        self.buffered += 1;
        if self.buffer.len() >= BUFFER {
            self.drain()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        if self.buffer.is_empty() || self.closed {
            return Ok(());
        }
        self.drain()
    }

    /// Reports the events written out in full; after the reader went away (`def run | head`)
    /// that is what was written before, and the rest is not counted as a failure.
    fn finish(&mut self) -> Result<Delivery, SinkError> {
        self.flush()?;
        Ok(Delivery::all(self.written))
    }
}
