//! def's own JSON lines (a `file` sink's output, or console lines `<id> <node>: {...}`): one
//! event object per line with `timestamp`, `activity`, `caseid`, `node` and `group`. A
//! `--*-column` flag names another field; pm4py's default names stand for def's here. Lines
//! are read as written, cases may interleave; blank lines are skipped.

use super::chain::ChainBuilder;
use super::timestamp::parse_timestamp_ms;
use super::{
    Columns, LearnError, LogEvent, DEFAULT_ACTIVITY_COLUMN, DEFAULT_CASE_COLUMN,
    DEFAULT_GROUP_ATTRIBUTE, DEFAULT_NODE_ATTRIBUTE, DEFAULT_TIMESTAMP_COLUMN, PROGRESS_EVERY,
};
use serde_json::Value;
use std::io::BufRead;
use std::path::Path;

/// def's field for a role, unless the flag named another.
fn field<'a>(given: &'a str, pm4py_default: &str, def_name: &'a str) -> &'a str {
    if given == pm4py_default {
        def_name
    } else {
        given
    }
}

/// Reads one JSON-lines file into `builder`.
pub(super) fn read(
    path: &Path,
    mut input: impl BufRead,
    columns: &Columns,
    builder: &mut ChainBuilder,
    progress: &mut dyn FnMut(u64),
) -> Result<(), LearnError> {
    let case_field = field(&columns.case, DEFAULT_CASE_COLUMN, "caseid");
    let activity_field = field(&columns.activity, DEFAULT_ACTIVITY_COLUMN, "activity");
    let time_field = field(&columns.timestamp, DEFAULT_TIMESTAMP_COLUMN, "timestamp");
    let node_field = field(&columns.node, DEFAULT_NODE_ATTRIBUTE, "node");
    let group_field = field(&columns.group, DEFAULT_GROUP_ATTRIBUTE, "group");
    let mut text = String::new();
    let mut line: u64 = 0;
    let mut events: u64 = 0;
    loop {
        text.clear();
        line += 1;
        let read = input
            .read_line(&mut text)
            .map_err(|e| LearnError::io(path, e))?;
        if read == 0 {
            return Ok(());
        }
        let trimmed = text.trim();
        if trimmed.is_empty() {
            continue;
        }
        // A console line carries its event after `<id> <node>: `.
        let json = match trimmed.find('{') {
            Some(at) => &trimmed[at..],
            None => trimmed,
        };
        let object: Value = serde_json::from_str(json).map_err(|e| {
            LearnError::input(
                path,
                line,
                format!("not a JSON event: {e}"),
                "give one JSON object per line, as def's file sink writes",
            )
        })?;
        let get = |name: &str| -> Option<String> {
            match object.get(name)? {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }
        };
        let missing = |name: &str, flag: &str| {
            LearnError::input(
                path,
                line,
                format!("an event without `{name}`"),
                format!("give every event `{name}`, or name another field with {flag}"),
            )
        };
        let case = get(case_field).ok_or_else(|| missing(case_field, "--case-column"))?;
        let activity =
            get(activity_field).ok_or_else(|| missing(activity_field, "--activity-column"))?;
        let time = get(time_field).ok_or_else(|| missing(time_field, "--timestamp-column"))?;
        let timestamp_ms = parse_timestamp_ms(&time).map_err(|e| {
            LearnError::input(
                path,
                line,
                format!("unparsable timestamp `{time}`: {e}"),
                "write times as def does: `2026-01-01 08:00:00` (UTC) or RFC 3339",
            )
        })?;
        let node = get(node_field);
        let group = get(group_field);
        let event = LogEvent {
            activity: &activity,
            node: node.as_deref(),
            group: group.as_deref(),
            timestamp_ms,
            line,
        };
        builder.event(path, &case, &event)?;
        events += 1;
        if events % PROGRESS_EVERY == 0 {
            progress(events);
        }
    }
}
