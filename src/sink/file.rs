//! `file`: events in a file, in any [`EventFormat`] (JSON lines by default), buffered, then
//! flushed and synced at the end.
//!
//! We keep our own buffer rather than a `BufWriter` so an event is encoded straight into it,
//! and the file sees a few large writes.

use super::{Delivery, Sink, SinkError};
use crate::engine::Event;
use crate::format::EventFormat;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

const BUFFER: usize = 1024 * 1024;

pub struct FileSink<F> {
    name: String,
    path: PathBuf,
    file: File,
    format: F,
    buffer: Vec<u8>,
    events: u64,
}

impl<F: EventFormat> FileSink<F> {
    /// Creates (or truncates) the file and writes the format's opening.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(name: &str, path: &Path, mut format: F) -> std::io::Result<FileSink<F>> {
        let mut buffer = Vec::with_capacity(BUFFER + 4096);
        format.begin(&mut buffer);
        Ok(FileSink {
            name: name.to_string(),
            path: path.to_path_buf(),
            file: File::create(path)?,
            format,
            buffer,
            events: 0,
        })
    }

    fn io(&self, what: &str, source: std::io::Error) -> SinkError {
        SinkError::Io {
            sink: self.name.clone(),
            context: format!("{what} {}", self.path.display()),
            source,
        }
    }
}

impl<F: EventFormat + 'static> Sink for FileSink<F> {
    #[inline]
    fn write(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        self.format.event(event, &mut self.buffer);
        self.events += 1;
        if self.buffer.len() >= BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        if let Err(e) = self.file.write_all(&self.buffer) {
            return Err(self.io("writing", e));
        }
        self.buffer.clear();
        Ok(())
    }

    fn finish(&mut self) -> Result<Delivery, SinkError> {
        self.format.end(&mut self.buffer);
        self.flush()?;
        // A long ending (OCEL's spilled objects) comes in parts.
        loop {
            match self.format.end_more(&mut self.buffer) {
                Ok(more) => {
                    self.flush()?;
                    if !more {
                        break;
                    }
                }
                Err(e) => return Err(self.io("assembling", e)),
            }
        }
        if let Err(e) = self.file.sync_all() {
            return Err(self.io("syncing", e));
        }
        Ok(Delivery {
            open_cases: self.format.open_cases(),
            ..Delivery::all(self.events)
        })
    }

    fn follows_cases(&self) -> bool {
        self.format.follows_cases()
    }

    fn case_ended(&mut self, case: u64) -> Result<(), SinkError> {
        self.format.case_ended(case, &mut self.buffer);
        if self.buffer.len() >= BUFFER {
            self.flush()?;
        }
        Ok(())
    }
}
