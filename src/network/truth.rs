//! The ground truth of a run with a network (`def run --truth DIR`), and its replay
//! (`def truth apply DIR`).
//!
//! The stage writes two files while it runs:
//!
//! - `clean.jsonl`: every event as the engine generated it, before any effect, in generation
//!   order — the event's JSON with ISO 8601 millisecond timestamps and its `eventId`;
//! - `faults.jsonl`: one line per injected fault, `{"eventId":N,"fault":KIND,...}`, with
//!   the fault's parameters (times in ISO 8601 with milliseconds, so they are exact):
//!
//! | fault | fields | what it did |
//! | --- | --- | --- |
//! | `truncate` | `side`: `head` or `tail` | the case lost this event, its first or its last |
//! | `swap` | `with`, `timestamp`, `sent` | the event traded times with its case's next event `with`: it took `timestamp`, and both left at `sent`, when the later had happened. Unswapped (`timestamp` its own) when `with` was lost to truncation, or when the run ended first (no `with`) |
//! | `rename` | `from`, `to` | the activity written is `to` |
//! | `skew` | `skewMs`, `timestamp` | the node's clock wrote `timestamp` (true time + `skewMs`) |
//! | `drop` | | the event was lost on the link |
//! | `duplicate` | | the event was delivered twice (copies 0 and 1, the same `eventId`) |
//! | `outage` | `start`, `end` | the node's uplink was down: the event left at `end` |
//! | `delay` | `copy`, `delayMs`, `arrivalTime` | copy `copy` took `delayMs` on the link |
//!
//! [`apply`] replays them: for each clean event, a `truncate` or `drop` removes it; `swap`
//! replaces its time; `rename` its activity; `skew` gives the timestamp written (else the
//! time); `duplicate` makes two copies; each copy leaves at the time (a `swap`'s `sent`), or
//! at the `outage`'s `end`, and arrives `delayMs` later (0 without a `delay`). The copies
//! sorted by (arrival, place, copy) are exactly the stream the sinks received, written as
//! JSON lines with the run's timestamp format (from `run.json`). An event's place is its
//! `eventId`, except that the first of a swap (its `with` is the greater id) goes right after
//! its partner: the one that took the earlier time leaves first. The command line writes
//! `run.json` (seed, start time, version, command line, config hashes) and `chain.json`.

use crate::engine::Event;
use crate::format::EventEncoder;
use crate::time::{TimestampFormat, TimestampWriter};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The file of clean events.
pub const CLEAN_FILE: &str = "clean.jsonl";
/// The file of faults.
pub const FAULTS_FILE: &str = "faults.jsonl";
/// The file of the run's facts ([`RunInfo`]).
pub const RUN_FILE: &str = "run.json";
/// The file of the chain's analysis (`def analyze --json`).
pub const CHAIN_FILE: &str = "chain.json";

/// One injected fault (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault<'a> {
    Truncate {
        head: bool,
    },
    /// `with` is `None` when the run ended before the partner came.
    Swap {
        with: Option<u64>,
        timestamp_ms: i64,
        sent_ms: i64,
    },
    Rename {
        from: &'a str,
        to: &'a str,
    },
    Skew {
        skew_ms: i64,
        timestamp_ms: i64,
    },
    Drop,
    Duplicate,
    Outage {
        start_ms: i64,
        end_ms: i64,
    },
    Delay {
        copy: u8,
        delay_ms: i64,
        arrival_ms: i64,
    },
}

/// What `run.json` holds: enough to run the same run elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunInfo {
    pub seed: u64,
    /// The simulated clock's start, RFC 3339.
    pub start_time: String,
    pub def_version: String,
    pub command_line: Vec<String>,
    /// The timestamp format of the delivered events.
    pub timestamp_format: String,
    pub simulation: String,
    /// Which part of the workload the run made (`--shard K/N`; `0/1`, the whole, without
    /// one): its event ids are K+1, K+1+N, ... and its config's shares are K's.
    #[serde(default = "whole_shard")]
    pub shard: String,
    /// Every config file read, with the SHA-256 of its bytes.
    pub config_files: Vec<ConfigHash>,
}

fn whole_shard() -> String {
    "0/1".to_string()
}

/// A config file and the SHA-256 of its text.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConfigHash {
    pub path: String,
    pub sha256: String,
}

/// Writes `clean.jsonl` and `faults.jsonl`. A write error is kept and returned by
/// [`Truth::close`]: the run goes on, its truth is reported incomplete.
pub struct Truth {
    clean: BufWriter<File>,
    faults: BufWriter<File>,
    encoder: EventEncoder,
    times: TimestampWriter,
    itoa: itoa::Buffer,
    line: Vec<u8>,
    error: Option<std::io::Error>,
}

impl Truth {
    /// Creates `dir` (if needed) and its two truth files.
    ///
    /// # Errors
    /// The folder or a file cannot be created.
    pub fn create(dir: &Path) -> std::io::Result<Truth> {
        std::fs::create_dir_all(dir)?;
        let open = |name: &str| File::create(dir.join(name)).map(BufWriter::new);
        Ok(Truth {
            clean: open(CLEAN_FILE)?,
            faults: open(FAULTS_FILE)?,
            encoder: EventEncoder::new(TimestampFormat::Iso8601),
            times: TimestampWriter::new(TimestampFormat::Iso8601),
            itoa: itoa::Buffer::new(),
            line: Vec::with_capacity(256),
            error: None,
        })
    }

    /// Writes a generated event.
    pub fn clean(&mut self, event: &Event<'_>) {
        self.line.clear();
        self.encoder.json_line(event, &mut self.line);
        if let Err(e) = self.clean.write_all(&self.line) {
            self.error.get_or_insert(e);
        }
    }

    /// Writes a fault of event `id`.
    pub fn fault(&mut self, id: u64, fault: &Fault<'_>) {
        let out = &mut self.line;
        out.clear();
        out.extend_from_slice(b"{\"eventId\":");
        out.extend_from_slice(self.itoa.format(id).as_bytes());
        out.extend_from_slice(b",\"fault\":\"");
        let times = &mut self.times;
        let mut time = |key: &str, ms: i64, out: &mut Vec<u8>| {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"\":\"");
            times.write(ms, out);
            out.push(b'"');
        };
        let int = |key: &str, n: i64, out: &mut Vec<u8>| {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"\":");
            out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        };
        match *fault {
            Fault::Truncate { head } => {
                out.extend_from_slice(b"truncate\",\"side\":\"");
                out.extend_from_slice(if head { b"head\"" } else { b"tail\"" });
            }
            Fault::Swap {
                with,
                timestamp_ms,
                sent_ms,
            } => {
                out.extend_from_slice(b"swap\"");
                if let Some(with) = with {
                    int("with", with as i64, out);
                }
                time("timestamp", timestamp_ms, out);
                time("sent", sent_ms, out);
            }
            Fault::Rename { from, to } => {
                out.extend_from_slice(b"rename\",\"from\":");
                out.extend_from_slice(json_string(from).as_bytes());
                out.extend_from_slice(b",\"to\":");
                out.extend_from_slice(json_string(to).as_bytes());
            }
            Fault::Skew {
                skew_ms,
                timestamp_ms,
            } => {
                out.extend_from_slice(b"skew\"");
                int("skewMs", skew_ms, out);
                time("timestamp", timestamp_ms, out);
            }
            Fault::Drop => out.extend_from_slice(b"drop\""),
            Fault::Duplicate => out.extend_from_slice(b"duplicate\""),
            Fault::Outage { start_ms, end_ms } => {
                out.extend_from_slice(b"outage\"");
                time("start", start_ms, out);
                time("end", end_ms, out);
            }
            Fault::Delay {
                copy,
                delay_ms,
                arrival_ms,
            } => {
                out.extend_from_slice(b"delay\"");
                int("copy", copy as i64, out);
                int("delayMs", delay_ms, out);
                time("arrivalTime", arrival_ms, out);
            }
        }
        out.extend_from_slice(b"}\n");
        if let Err(e) = self.faults.write_all(out) {
            self.error.get_or_insert(e);
        }
    }

    /// Flushes both files.
    ///
    /// # Errors
    /// A write failed during the run or now.
    pub fn close(mut self) -> std::io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.clean.flush()?;
        self.faults.flush()
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// A line of `clean.jsonl`.
#[derive(Debug, serde::Deserialize)]
struct Clean {
    timestamp: String,
    activity: String,
    caseid: String,
    node: String,
    group: String,
    #[serde(rename = "eventId")]
    event_id: u64,
}

/// A line of `faults.jsonl`, every field any fault has.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct FaultLine {
    event_id: u64,
    fault: String,
    side: Option<String>,
    with: Option<u64>,
    timestamp: Option<String>,
    sent: Option<String>,
    to: Option<String>,
    end: Option<String>,
    copy: Option<u8>,
    delay_ms: Option<i64>,
}

/// Why the truth could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Bad {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// A clean event being replayed.
struct Replayed {
    clean: Clean,
    time_ms: i64,
    written_ms: Option<i64>,
    lost: bool,
    copies: u8,
    leaves_ms: Option<i64>,
    /// Where it goes among copies arriving at the same instant: `eventId * 2`, or its swap
    /// partner's plus 1 when it is the first of the pair.
    place: u64,
    delays: [i64; 2],
}

/// Replays the truth in `dir` (see the module docs): the delivered stream as JSON lines.
///
/// # Errors
/// A file is missing or has a line that is not what the stage writes.
pub fn apply(dir: &Path) -> Result<Vec<u8>, ApplyError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|source| ApplyError::Read { path, source })
    };
    let bad = |name: &str, line: usize, message: String| ApplyError::Bad {
        path: dir.join(name),
        line,
        message,
    };
    let info: RunInfo = serde_json::from_str(&read(RUN_FILE)?)
        .map_err(|e| bad(RUN_FILE, e.line(), e.to_string()))?;
    let format = TimestampFormat::ALL
        .into_iter()
        .find(|f| f.name() == info.timestamp_format)
        .ok_or_else(|| {
            bad(
                RUN_FILE,
                1,
                format!("unknown timestampFormat `{}`", info.timestamp_format),
            )
        })?;
    // Event ids rise through clean.jsonl (1, 2, 3, ... or, for a shard K of N, K+1, K+1+N,
    // ...), so a fault finds its event by binary search.
    let mut events: Vec<Replayed> = Vec::new();
    for (i, line) in read(CLEAN_FILE)?.lines().enumerate() {
        let clean: Clean =
            serde_json::from_str(line).map_err(|e| bad(CLEAN_FILE, i + 1, e.to_string()))?;
        let time_ms = ms(&clean.timestamp).map_err(|e| bad(CLEAN_FILE, i + 1, e))?;
        let last = events.last().map_or(0, |e| e.clean.event_id);
        if clean.event_id <= last {
            return Err(bad(
                CLEAN_FILE,
                i + 1,
                format!("eventId {} out of sequence", clean.event_id),
            ));
        }
        let place = clean.event_id * 2;
        events.push(Replayed {
            clean,
            time_ms,
            written_ms: None,
            lost: false,
            copies: 1,
            leaves_ms: None,
            place,
            delays: [0; 2],
        });
    }
    for (i, line) in read(FAULTS_FILE)?.lines().enumerate() {
        let fault: FaultLine =
            serde_json::from_str(line).map_err(|e| bad(FAULTS_FILE, i + 1, e.to_string()))?;
        let at = |ms_of: Option<&String>| -> Result<i64, ApplyError> {
            let text = ms_of.ok_or_else(|| bad(FAULTS_FILE, i + 1, "a time is missing".into()))?;
            ms(text).map_err(|e| bad(FAULTS_FILE, i + 1, e))
        };
        let found = events.binary_search_by_key(&fault.event_id, |e| e.clean.event_id);
        let Some(event) = found.ok().map(|n| &mut events[n]) else {
            return Err(bad(
                FAULTS_FILE,
                i + 1,
                format!("no clean event {}", fault.event_id),
            ));
        };
        match fault.fault.as_str() {
            "truncate" if !matches!(fault.side.as_deref(), Some("head" | "tail")) => {
                return Err(bad(
                    FAULTS_FILE,
                    i + 1,
                    "a truncate needs `side`: head or tail".into(),
                ))
            }
            "truncate" | "drop" => event.lost = true,
            "swap" => {
                event.time_ms = at(fault.timestamp.as_ref())?;
                let sent = at(fault.sent.as_ref())?;
                event.leaves_ms = Some(event.leaves_ms.map_or(sent, |l| l.max(sent)));
                if let Some(with) = fault.with.filter(|&w| w > fault.event_id) {
                    event.place = with * 2 + 1;
                }
            }
            "rename" => {
                event.clean.activity = fault
                    .to
                    .ok_or_else(|| bad(FAULTS_FILE, i + 1, "`to` is missing".into()))?
            }
            "skew" => event.written_ms = Some(at(fault.timestamp.as_ref())?),
            "duplicate" => event.copies = 2,
            "outage" => {
                let end = at(fault.end.as_ref())?;
                event.leaves_ms = Some(event.leaves_ms.map_or(end, |l| l.max(end)));
            }
            "delay" => {
                let copy = fault.copy.unwrap_or(0).min(1) as usize;
                event.delays[copy] = fault.delay_ms.unwrap_or(0);
            }
            other => return Err(bad(FAULTS_FILE, i + 1, format!("unknown fault `{other}`"))),
        }
    }
    let mut copies: Vec<(i64, u64, u8, usize)> = Vec::new();
    for (n, event) in events.iter().enumerate() {
        if event.lost {
            continue;
        }
        let leaves = event.leaves_ms.unwrap_or(event.time_ms);
        for copy in 0..event.copies {
            let arrival = leaves + event.delays[copy as usize];
            copies.push((arrival, event.place, copy, n));
        }
    }
    copies.sort_unstable();
    let mut times = TimestampWriter::new(format);
    let mut out = Vec::new();
    for (arrival, _, _, n) in copies {
        let event = &events[n];
        let c = &event.clean;
        out.extend_from_slice(b"{\"timestamp\":\"");
        times.write(event.written_ms.unwrap_or(event.time_ms), &mut out);
        out.extend_from_slice(b"\",\"activity\":");
        out.extend_from_slice(json_string(&c.activity).as_bytes());
        out.extend_from_slice(b",\"caseid\":");
        out.extend_from_slice(json_string(&c.caseid).as_bytes());
        out.extend_from_slice(b",\"node\":");
        out.extend_from_slice(json_string(&c.node).as_bytes());
        out.extend_from_slice(b",\"group\":");
        out.extend_from_slice(json_string(&c.group).as_bytes());
        out.extend_from_slice(b",\"eventId\":");
        out.extend_from_slice(itoa::Buffer::new().format(c.event_id).as_bytes());
        out.extend_from_slice(b",\"arrivalTime\":\"");
        times.write(arrival, &mut out);
        out.extend_from_slice(b"\"}\n");
    }
    Ok(out)
}

/// Milliseconds since the epoch of an RFC 3339 time.
fn ms(text: &str) -> Result<i64, String> {
    text.parse::<jiff::Timestamp>()
        .map(crate::time::millis)
        .map_err(|e| format!("`{text}` is not a time: {e}"))
}
