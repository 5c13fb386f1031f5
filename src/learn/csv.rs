//! CSV logs: one event per row, columns named by the header (pm4py's names by default,
//! `--case-column` and friends otherwise). Rows are read as written, cases may interleave;
//! each case is held as its last event until the file ends.
//!
//! The case, activity and timestamp columns must exist; without a node column every event's
//! datasource is its activity, and an empty node cell falls back the same way (counted in the
//! report). Fields are comma-separated with RFC 4180 quoting (the `csv` crate).

use super::chain::ChainBuilder;
use super::timestamp::parse_timestamp_ms;
use super::{Columns, LearnError, LogEvent, PROGRESS_EVERY};
use std::io::Read;
use std::path::Path;

/// Reads one CSV file into `builder`.
pub(super) fn read(
    path: &Path,
    input: impl Read,
    columns: &Columns,
    builder: &mut ChainBuilder,
    progress: &mut dyn FnMut(u64),
) -> Result<(), LearnError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(input);
    let headers = reader.headers().map_err(|e| csv_error(path, 1, e))?.clone();
    let find = |name: &str| headers.iter().position(|h| h.trim() == name);
    let required = |name: &str, flag: &str| {
        find(name).ok_or_else(|| {
            let known: Vec<&str> = headers.iter().collect();
            LearnError::input(
                path,
                1,
                format!(
                    "no column `{name}` in the header (columns: {})",
                    known.join(", ")
                ),
                format!("name the column with {flag}"),
            )
        })
    };
    let case = required(&columns.case, "--case-column")?;
    let activity = required(&columns.activity, "--activity-column")?;
    let timestamp = required(&columns.timestamp, "--timestamp-column")?;
    let node = find(&columns.node);
    let group = find(&columns.group);
    let mut record = ::csv::StringRecord::new();
    let mut events: u64 = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => return Err(csv_error(path, record_line(&record), e)),
        }
        let line = record_line(&record);
        let cell = |i: usize| record.get(i).filter(|s| !s.is_empty());
        let missing = |what: &str, flag: &str| {
            LearnError::input(
                path,
                line,
                format!("an event without {what}"),
                format!("fill the cell, or name another column with {flag}"),
            )
        };
        let case_id = cell(case).ok_or_else(|| missing("a case id", "--case-column"))?;
        let activity = cell(activity).ok_or_else(|| missing("an activity", "--activity-column"))?;
        let time = cell(timestamp).ok_or_else(|| missing("a timestamp", "--timestamp-column"))?;
        let timestamp_ms = parse_timestamp_ms(time).map_err(|e| {
            LearnError::input(
                path,
                line,
                format!("unparsable timestamp `{time}`: {e}"),
                "write times as RFC 3339 (2026-01-01T08:00:00+00:00) or `2026-01-01 08:00:00` (UTC)",
            )
        })?;
        let event = LogEvent {
            activity,
            node: node.and_then(cell),
            group: group.and_then(cell),
            timestamp_ms,
            line,
        };
        builder.event(path, case_id, &event)?;
        events += 1;
        if events % PROGRESS_EVERY == 0 {
            progress(events);
        }
    }
}

fn record_line(record: &::csv::StringRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}

fn csv_error(path: &Path, line: u64, e: ::csv::Error) -> LearnError {
    let line = match e.position() {
        Some(p) => p.line(),
        None => line,
    };
    LearnError::input(
        path,
        line,
        format!("not readable as CSV: {e}"),
        "check the quoting and that the file is UTF-8 with a header row",
    )
}
