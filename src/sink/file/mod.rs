//! `file`: events in a file, in any [`EventFormat`] (JSON lines by default), buffered, then
//! flushed, finished and synced at the end; optionally compressed (gzip, zstd) and rotated into
//! numbered files (docs/files.md).
//!
//! We keep our own buffer rather than a `BufWriter` so an event is encoded straight into it,
//! and the file (or its compressor, [`writer`]) sees a few large writes. Rotation closes a file
//! the moment its limit is reached and opens the next one when the next event arrives (so no
//! empty file trails a run), each file a complete output of its format: the format's
//! [`EventFormat::end_file`] goes into the old file and [`EventFormat::begin`] into the new one
//! (the contract is in [`crate::format`]); files are named by [`parts`]. Every file closed is
//! synced before the next is created, so a closed file is whole on disk while the run goes on.
//!
//! When a write fails (a full disk) the sink stops taking events, closes what it can, and its
//! [`Delivery`] says which files are complete: `delivered` counts the events of the files
//! closed whole, `destinations` lists those files with their counts, `error` says what failed.

mod parts;
mod writer;

pub use parts::part_path;

use super::{Delivery, Sink, SinkError};
use crate::config::{FileOutput, Rotation};
use crate::engine::Event;
use crate::format::EventFormat;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use writer::Writer;

const BUFFER: usize = 1024 * 1024;

pub struct FileSink<F> {
    name: String,
    /// The configured path (a rotated output's files are numbered from it).
    path: PathBuf,
    output: FileOutput,
    format: F,
    buffer: Vec<u8>,
    /// The file being written, `None` once closed or failed.
    writer: Option<Writer>,
    /// Its path, and its number (0 when not rotating).
    current: PathBuf,
    part: u64,
    /// Events handed to the format, and bytes it wrote, for the current file.
    file_events: u64,
    file_bytes: u64,
    /// Something to do before the next event: open the next file (the current one reached its
    /// limit), or refuse it (the sink failed). One flag, so the hot path tests one bool.
    before_next: bool,
    events: u64,
    /// The files closed whole, with their events.
    closed: BTreeMap<String, u64>,
    closed_events: u64,
    /// What failed, once something did.
    failure: Option<String>,
}

/// A file that could not be created.
#[derive(Debug, thiserror::Error)]
#[error("cannot create {}: {source}", path.display())]
pub struct CreateError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl<F: EventFormat> FileSink<F> {
    /// Creates (or truncates) the file at `path` — with rotation, the first numbered file —
    /// and writes the format's opening.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(
        name: &str,
        path: &Path,
        output: &FileOutput,
        format: F,
    ) -> Result<FileSink<F>, CreateError> {
        let mut sink = FileSink {
            name: name.to_string(),
            path: path.to_path_buf(),
            output: *output,
            format,
            buffer: Vec::with_capacity(BUFFER + 4096),
            writer: None,
            current: PathBuf::new(),
            part: 0,
            file_events: 0,
            file_bytes: 0,
            before_next: false,
            events: 0,
            closed: BTreeMap::new(),
            closed_events: 0,
            failure: None,
        };
        sink.open_next()
            .map_err(|(path, source)| CreateError { path, source })?;
        Ok(sink)
    }

    /// Opens the next file (the first, at creation) and writes the format's opening into the
    /// buffer.
    fn open_next(&mut self) -> Result<(), (PathBuf, std::io::Error)> {
        let path = match self.output.rotate {
            None => self.path.clone(),
            Some(_) => {
                self.part += 1;
                part_path(&self.path, self.part)
            }
        };
        match Writer::create(&path, self.output.compression, self.output.level) {
            Ok(writer) => self.writer = Some(writer),
            Err(e) => return Err((path, e)),
        }
        self.current = path;
        debug_assert!(self.buffer.is_empty());
        self.format.begin(&mut self.buffer);
        self.file_events = 0;
        self.file_bytes = self.buffer.len() as u64;
        // Every file gets an event, even if its opening alone reaches a bytes limit.
        self.before_next = false;
        Ok(())
    }

    #[inline]
    fn limit_reached(&self) -> bool {
        match self.output.rotate {
            None => false,
            Some(Rotation::Events(n)) => self.file_events >= n,
            Some(Rotation::Bytes(n)) => self.file_bytes >= n,
        }
    }

    /// Closes the current file (the buffer written, the stream finished, the file synced) and
    /// counts it whole.
    fn close_current(&mut self) -> Result<(), SinkError> {
        self.write_buffer()?;
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let file = writer.finish().map_err(|e| self.fail("finishing", e))?;
        file.sync_all().map_err(|e| self.fail("syncing", e))?;
        self.closed
            .insert(self.current.display().to_string(), self.file_events);
        self.closed_events += self.file_events;
        Ok(())
    }

    /// Ends the current file and opens the next; after a failure, the failure again.
    #[cold]
    fn rotate(&mut self) -> Result<(), SinkError> {
        if let Some(error) = self.failed() {
            return Err(error);
        }
        self.format.end_file(&mut self.buffer);
        self.write_ending()?;
        self.close_current()?;
        self.open_next()
            .map_err(|(path, e)| self.fail_at("creating", &path, e))
    }

    /// Writes the rest of a long ending (OCEL's spilled objects), part by part.
    fn write_ending(&mut self) -> Result<(), SinkError> {
        loop {
            self.write_buffer()?;
            match self.format.end_more(&mut self.buffer) {
                Ok(true) => {}
                Ok(false) => return self.write_buffer(),
                Err(e) => return Err(self.fail("assembling", e)),
            }
        }
    }

    /// The error to give once the sink has failed.
    fn failed(&self) -> Option<SinkError> {
        self.failure.as_ref().map(|failure| SinkError::Failed {
            sink: self.name.clone(),
            message: failure.clone(),
        })
    }

    fn write_buffer(&mut self) -> Result<(), SinkError> {
        if let Some(error) = self.failed() {
            return Err(error);
        }
        if let Some(writer) = &mut self.writer {
            if let Err(e) = writer.write_all(&self.buffer) {
                return Err(self.fail("writing", e));
            }
        }
        self.buffer.clear();
        Ok(())
    }

    fn fail(&mut self, what: &str, source: std::io::Error) -> SinkError {
        let path = self.current.clone();
        self.fail_at(what, &path, source)
    }

    /// Records the first failure and makes the error for it.
    fn fail_at(&mut self, what: &str, path: &Path, source: std::io::Error) -> SinkError {
        let context = format!("{what} {}", path.display());
        if self.failure.is_none() {
            self.failure = Some(format!("{context}: {source}"));
        }
        self.before_next = true;
        SinkError::Io {
            sink: self.name.clone(),
            context,
            source,
        }
    }

    /// After a failure: the current file is left as far as it got (a compressed one is
    /// finished if the disk still takes it, so it decompresses up to where it stopped).
    fn abandon_current(&mut self) {
        self.buffer.clear();
        if let Some(writer) = self.writer.take() {
            if let Ok(file) = writer.finish() {
                let _ = file.sync_all();
            }
        }
    }

    fn delivery(&self) -> Delivery {
        Delivery {
            delivered: self.closed_events,
            failed: self.events - self.closed_events,
            destinations: self.closed.clone(),
            error: self.failure.clone(),
            acknowledged: false,
            open_cases: self.format.open_cases(),
        }
    }
}

impl<F: EventFormat + 'static> Sink for FileSink<F> {
    #[inline]
    fn write(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        if self.before_next {
            self.rotate()?;
        }
        let before = self.buffer.len();
        self.format.event(event, &mut self.buffer);
        self.file_events += 1;
        self.file_bytes += (self.buffer.len() - before) as u64;
        self.before_next = self.limit_reached();
        if self.buffer.len() >= BUFFER {
            self.write_buffer()?;
        }
        // An event whose write fails is not taken (as the router counts it).
        self.events += 1;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.write_buffer()
    }

    fn follows_cases(&self) -> bool {
        self.format.follows_cases()
    }

    fn case_ended(&mut self, case: u64) -> Result<(), SinkError> {
        self.format.case_ended(case, &mut self.buffer);
        if self.buffer.len() >= BUFFER {
            self.write_buffer()?;
        }
        Ok(())
    }

    /// Ends the last file and closes it. A write that failed is not an `Err` here but in the
    /// delivery (`failed`, `error`), so that the files closed whole are still reported.
    fn finish(&mut self) -> Result<Delivery, SinkError> {
        if self.failure.is_none() && self.writer.is_some() {
            self.format.end(&mut self.buffer);
            // A failure is recorded in `self.failure`, reported below.
            if self.write_ending().is_ok() {
                let _ = self.close_current();
            }
        }
        if self.failure.is_some() {
            self.abandon_current();
        }
        Ok(self.delivery())
    }
}
