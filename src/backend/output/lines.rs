//! One event's JSON per line, to a file or stdout.

use crate::sink::Delivery;
use std::io::Write;

/// Lines to a writer; a file is synced at the end.
pub struct LineOutput {
    writer: std::io::BufWriter<Box<dyn Write + Send>>,
    /// The file again, to sync it at the end.
    sync: Option<std::fs::File>,
    /// Lines handed to the writer and flushed.
    written: u64,
    pending: u64,
    error: Option<String>,
}

impl LineOutput {
    pub(super) fn new(out: Box<dyn Write + Send>, sync: Option<std::fs::File>) -> LineOutput {
        LineOutput {
            writer: std::io::BufWriter::with_capacity(1 << 16, out),
            sync,
            written: 0,
            pending: 0,
            error: None,
        }
    }

    #[inline]
    pub(super) fn write(&mut self, value: &[u8]) -> Result<(), String> {
        let result = self
            .writer
            .write_all(value)
            .and_then(|()| self.writer.write_all(b"\n"));
        self.pending += 1;
        result.map_err(|e| self.fail(e))
    }

    pub(super) fn flush(&mut self) -> Result<(), String> {
        self.writer.flush().map_err(|e| self.fail(e))?;
        self.written += self.pending;
        self.pending = 0;
        Ok(())
    }

    pub(super) fn progress(&self) -> (u64, u64) {
        (self.written, 0)
    }

    fn fail(&mut self, e: std::io::Error) -> String {
        let message = format!("cannot write events: {e}");
        self.error.get_or_insert(message.clone());
        message
    }

    pub(super) fn finish(mut self) -> Delivery {
        let mut result = self.flush();
        if let (Ok(()), Some(file)) = (&result, &self.sync) {
            result = file
                .sync_all()
                .map_err(|e| format!("cannot sync the file: {e}"));
        }
        let failed = if result.is_err() { self.pending } else { 0 };
        Delivery {
            delivered: self.written,
            failed,
            error: result.err().or(self.error),
            ..Delivery::default()
        }
    }
}
