//! One open output file, plain or compressed: the file sink hands it its buffer in large
//! writes and, at the end of the file, [`Writer::finish`] ends the compressed stream (the gzip
//! trailer, the end of the zstd frame); the sink then syncs the file.
//!
//! gzip is zlib-rs (a pure-Rust zlib, through flate2); zstd the reference C library (bundled
//! by the `zstd` crate), one frame per file with its content checksum, as the `zstd` tool
//! writes. Each compressor buffers some output of its own, so a compressed file on disk lags
//! behind the events handed to it until it is closed.

use crate::config::Compression;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

pub(super) enum Writer {
    Plain(File),
    Gzip(flate2::write::GzEncoder<File>),
    Zstd(zstd::stream::write::Encoder<'static, File>),
}

impl Writer {
    /// Creates (or truncates) the file at `path` and starts its compressed stream.
    ///
    /// # Errors
    /// The file cannot be created, or the compressor refuses the level.
    pub fn create(path: &Path, compression: Compression, level: u32) -> io::Result<Writer> {
        let file = File::create(path)?;
        Ok(match compression {
            Compression::None => Writer::Plain(file),
            Compression::Gzip => Writer::Gzip(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::new(level),
            )),
            Compression::Zstd => {
                let mut encoder = zstd::stream::write::Encoder::new(file, level as i32)?;
                encoder.include_checksum(true)?;
                Writer::Zstd(encoder)
            }
        })
    }

    /// Writes (compresses) all of `bytes`.
    ///
    /// # Errors
    /// The file refused a write (a full disk).
    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Writer::Plain(file) => file.write_all(bytes),
            Writer::Gzip(encoder) => encoder.write_all(bytes),
            Writer::Zstd(encoder) => encoder.write_all(bytes),
        }
    }

    /// Ends the compressed stream (for a plain file, nothing to do) and gives the file back,
    /// for syncing.
    ///
    /// # Errors
    /// The file refused the last writes.
    pub fn finish(self) -> io::Result<File> {
        match self {
            Writer::Plain(file) => Ok(file),
            Writer::Gzip(encoder) => encoder.finish(),
            Writer::Zstd(encoder) => encoder.finish(),
        }
    }
}
