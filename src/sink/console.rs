//! `console`: events on standard output in any [`EventFormat`]: the original's
//! `<id> <node>: <event>` lines, JSON lines (`format: json`), CSV or XES.

use super::{Delivery, Sink, SinkError};
use crate::engine::Event;
use crate::format::EventFormat;
use std::io::Write;

/// Bytes buffered before a write to stdout.
const BUFFER: usize = 64 * 1024;

pub struct ConsoleSink<F> {
    name: String,
    format: F,
    buffer: Vec<u8>,
    written: u64,
    buffered: u64,
    closed: bool,
}

impl<F: EventFormat> ConsoleSink<F> {
    pub fn new(name: &str, mut format: F) -> ConsoleSink<F> {
        let mut buffer = Vec::with_capacity(BUFFER + 1024);
        format.begin(&mut buffer);
        ConsoleSink {
            name: name.to_string(),
            format,
            buffer,
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

impl<F: EventFormat + 'static> Sink for ConsoleSink<F> {
    #[inline]
    fn write(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        self.format.event(event, &mut self.buffer);
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
        if !self.closed {
            self.format.end(&mut self.buffer);
            while !self.closed {
                self.flush()?;
                let more = self
                    .format
                    .end_more(&mut self.buffer)
                    .map_err(|e| SinkError::Io {
                        sink: self.name.clone(),
                        context: "assembling the output".into(),
                        source: e,
                    })?;
                if !more {
                    break;
                }
            }
        }
        self.flush()?;
        Ok(Delivery {
            open_cases: self.format.open_cases(),
            ..Delivery::all(self.written)
        })
    }

    fn follows_cases(&self) -> bool {
        self.format.follows_cases()
    }

    fn case_ended(&mut self, case: u64) -> Result<(), SinkError> {
        self.format.case_ended(case, &mut self.buffer);
        if self.buffer.len() >= BUFFER {
            self.drain()?;
        }
        Ok(())
    }
}
