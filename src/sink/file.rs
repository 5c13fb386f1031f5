//! `file`: events as JSON lines in a file, buffered, then flushed and synced at the end.
//!
//! We keep our own buffer rather than a `BufWriter` so an event is encoded straight into it,
//! and the file sees a few large writes.

use super::{Delivery, EventEncoder, Sink, SinkError};
use crate::config::TimestampFormat;
use crate::engine::Event;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

const BUFFER: usize = 1024 * 1024;

pub struct FileSink {
    name: String,
    path: PathBuf,
    file: File,
    encoder: EventEncoder,
    buffer: Vec<u8>,
    events: u64,
}

impl FileSink {
    /// Creates (truncates) the file.
    pub fn create(
        name: &str,
        path: &Path,
        timestamps: TimestampFormat,
    ) -> std::io::Result<FileSink> {
        Ok(FileSink {
            name: name.to_string(),
            path: path.to_path_buf(),
            file: File::create(path)?,
            encoder: EventEncoder::new(timestamps),
            buffer: Vec::with_capacity(BUFFER + 4096),
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

impl Sink for FileSink {
    #[inline]
    fn write(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        self.encoder.json_line(event, &mut self.buffer);
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
        self.flush()?;
        if let Err(e) = self.file.sync_all() {
            return Err(self.io("syncing", e));
        }
        Ok(Delivery::all(self.events))
    }
}
