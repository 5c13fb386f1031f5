//! The names of a rotated output's files: the configured path with `-NNNNNN` (the file's
//! number from 1, six digits, more past 999,999) between its stem and its extensions, where
//! the extensions are the format's (the last one before a compression's) and the compression's:
//!
//! | `path:` | files |
//! | --- | --- |
//! | `events.jsonl` | `events-000001.jsonl`, `events-000002.jsonl`, ... |
//! | `events.jsonl.gz` | `events-000001.jsonl.gz`, ... |
//! | `out/my.events.xes.zst` | `out/my.events-000001.xes.zst`, ... |
//! | `events` | `events-000001`, ... |
//!
//! So the files sort in the order they were written (up to 999,999 of them), keep the
//! extensions tools recognise them by, and a rotated run never writes the path itself.

use crate::config::{Compression, Kind};
use std::path::{Path, PathBuf};

/// The path of file number `part` (from 1) of a rotated output at `path`.
pub fn part_path(path: &Path, part: u64) -> PathBuf {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        // Not UTF-8 (or no file name): the number goes at the end.
        let mut name = path.as_os_str().to_os_string();
        name.push(format!("-{part:06}"));
        return PathBuf::from(name);
    };
    let compressed = Compression::ALL
        .iter()
        .filter_map(|c| c.extension())
        .map(|ext| format!(".{ext}"))
        .find(|ext| name.len() > ext.len() && name.ends_with(ext.as_str()));
    let (rest, compression) = match &compressed {
        Some(ext) => name.split_at(name.len() - ext.len()),
        None => (name, ""),
    };
    // The format's extension: from the last dot, unless that dot starts the name (`.events`).
    let (stem, extension) = match rest.rfind('.') {
        Some(dot) if dot > 0 => rest.split_at(dot),
        _ => (rest, ""),
    };
    path.with_file_name(format!("{stem}-{part:06}{extension}{compression}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(path: &str, n: u64) -> String {
        part_path(Path::new(path), n).display().to_string()
    }

    #[test]
    fn the_number_goes_between_the_stem_and_the_extensions() {
        assert_eq!(part("events.jsonl", 1), "events-000001.jsonl");
        assert_eq!(part("events.jsonl", 2), "events-000002.jsonl");
        assert_eq!(part("events.jsonl.gz", 1), "events-000001.jsonl.gz");
        assert_eq!(part("events.jsonl.zst", 12), "events-000012.jsonl.zst");
        assert_eq!(
            part("out/my.events.xes.zst", 3),
            "out/my.events-000003.xes.zst"
        );
        assert_eq!(part("events", 1), "events-000001");
        assert_eq!(part("events.gz", 1), "events-000001.gz");
        assert_eq!(part(".events", 1), ".events-000001");
        assert_eq!(part("/tmp/.gz", 1), "/tmp/.gz-000001");
        assert_eq!(part("events.jsonl", 1_234_567), "events-1234567.jsonl");
    }
}
