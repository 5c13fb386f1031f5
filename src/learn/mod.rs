//! `def learn`: a chain learned from a real event log — the inverse of def's semantics.
//!
//! A layer beside `analysis/`: it reads logs (`xes.rs`, `csv.rs`, `jsonl.rs`, one reader per
//! format), folds their events into counts per edge (`chain.rs`), fits each edge's durations
//! (`fit.rs`), writes the chain, a sink and a simulation as YAML (`yaml.rs`) and sums it all up
//! in a report (`report.rs`). It never prints: progress goes to a callback, problems come back
//! as [`LearnError`] values naming the file and line.
//!
//! The one idea: def emits, for a case at datasource X, the event of the `eventData` entry it
//! chose there — `{activity, node: X}` — at the case's clock plus the entry's duration, then
//! moves to the entry's `transition`. So in a log, a case's events `e1 .. en` (in time order)
//! at datasources `n1 .. nn` say: `<start>` chose `n1`; at `n_i` the entry `(activity a_i,
//! transition n_{i+1})` was chosen (`<end>` after the last event), and its duration was
//! `t_i - t_{i-1}`. The first event's duration is not in the log (when a case opened before
//! its first event is not recorded), so it is not observed; see `docs/learn.md`.

mod chain;
mod csv;
mod fit;
mod jsonl;
mod report;
mod timestamp;
mod xes;
mod yaml;

pub use chain::{ChainBuilder, DurationStats, Edge, LearnedChain, Node, Target};
pub use fit::{fit_duration, Candidate, Fit, KS_ALPHA, KS_C_ALPHA};
pub use report::{EdgeReport, Learned, LogStats, NodeReport, Report, StartReport};
pub use timestamp::parse_timestamp_ms;
pub use yaml::OutputFile;

use std::path::{Path, PathBuf};

/// The CSV column of the case id when `--case-column` is not given (pm4py's name).
pub const DEFAULT_CASE_COLUMN: &str = "case:concept:name";
/// The CSV column / XES key of the activity (pm4py's name).
pub const DEFAULT_ACTIVITY_COLUMN: &str = "concept:name";
/// The CSV column / XES key of the timestamp (pm4py's name).
pub const DEFAULT_TIMESTAMP_COLUMN: &str = "time:timestamp";
/// The attribute that names an event's datasource by default; an event without it takes its
/// activity as its datasource.
pub const DEFAULT_NODE_ATTRIBUTE: &str = "org:resource";
/// The attribute that names a datasource's group by default.
pub const DEFAULT_GROUP_ATTRIBUTE: &str = "org:group";
/// The XES trace attribute def writes on cases its run left open.
pub const OPEN_ATTRIBUTE: &str = crate::format::xes::OPEN_ATTRIBUTE;
/// Events between two progress callbacks.
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// Which attributes (XES keys, CSV columns, JSON fields) carry what.
#[derive(Clone, Debug)]
pub struct Columns {
    pub case: String,
    pub activity: String,
    pub timestamp: String,
    /// The datasource; an event without it takes its activity as its datasource.
    pub node: String,
    /// The group: an attribute of that name, or, when no event has it, the group's name.
    pub group: String,
}

impl Default for Columns {
    fn default() -> Columns {
        Columns {
            case: DEFAULT_CASE_COLUMN.to_string(),
            activity: DEFAULT_ACTIVITY_COLUMN.to_string(),
            timestamp: DEFAULT_TIMESTAMP_COLUMN.to_string(),
            node: DEFAULT_NODE_ATTRIBUTE.to_string(),
            group: DEFAULT_GROUP_ATTRIBUTE.to_string(),
        }
    }
}

/// What `learn` is asked to do.
#[derive(Clone, Debug, Default)]
pub struct LearnOptions {
    pub columns: Columns,
    /// Edges observed with a lower share of their datasource's choices are dropped (and
    /// reported); the rest are scaled to sum to 1. `0` keeps every edge.
    pub min_probability: f64,
}

/// How far reading has come, for a progress display.
#[derive(Clone, Copy, Debug)]
pub struct Progress<'a> {
    pub file: &'a Path,
    pub events: u64,
}

/// The log formats `learn` reads, by file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Xes,
    Csv,
    JsonLines,
}

impl LogFormat {
    /// The format of a file, from its extension (`.xes`, `.xes.gz`, `.csv`, `.csv.gz`,
    /// `.jsonl`, `.json`, `.ndjson`, each also gzipped).
    pub fn of(path: &Path) -> Option<(LogFormat, bool)> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let (stem, gz) = match name.strip_suffix(".gz") {
            Some(stem) => (stem.to_string(), true),
            None => (name, false),
        };
        let format = if stem.ends_with(".xes") {
            LogFormat::Xes
        } else if stem.ends_with(".csv") {
            LogFormat::Csv
        } else if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") || stem.ends_with(".json") {
            LogFormat::JsonLines
        } else {
            return None;
        };
        Some((format, gz))
    }
}

/// Why a log could not be learned. Each names the file (and line, where there is one) and
/// says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error("{file}: {source}")]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}\n  help: {fix}", location(file, *line))]
    Input {
        file: PathBuf,
        /// 1-based; 0 when the problem is the file as a whole.
        line: u64,
        message: String,
        fix: String,
    },
    #[error("{files}: no events\n  help: {fix}")]
    Empty { files: String, fix: String },
}

fn location(file: &Path, line: u64) -> String {
    if line == 0 {
        file.display().to_string()
    } else {
        format!("{}:{line}", file.display())
    }
}

impl LearnError {
    pub(crate) fn input(
        file: &Path,
        line: u64,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> LearnError {
        LearnError::Input {
            file: file.to_path_buf(),
            line,
            message: message.into(),
            fix: fix.into(),
        }
    }

    pub(crate) fn io(file: &Path, source: std::io::Error) -> LearnError {
        LearnError::Io {
            file: file.to_path_buf(),
            source,
        }
    }
}

/// One event as a reader hands it over: borrowed text, a timestamp in ms since the epoch, the
/// line it started on.
#[derive(Clone, Copy, Debug)]
pub struct LogEvent<'a> {
    pub activity: &'a str,
    pub node: Option<&'a str>,
    pub group: Option<&'a str>,
    pub timestamp_ms: i64,
    pub line: u64,
}

/// Reads every log into one chain and fits it: the library side of `def learn`.
///
/// # Errors
/// A file that cannot be read or has an unknown extension, an event without activity, case
/// or timestamp, an unparsable timestamp, a case whose events go back in time (CSV and JSON
/// lines), or no events at all: see [`LearnError`].
pub fn learn(
    paths: &[PathBuf],
    options: &LearnOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<LearnedChain, LearnError> {
    let mut builder = ChainBuilder::new();
    for path in paths {
        let Some((format, gz)) = LogFormat::of(path) else {
            return Err(LearnError::input(
                path,
                0,
                "not a log def reads (by its extension)",
                "name it .xes, .csv or .jsonl (each also .gz)",
            ));
        };
        let file = std::fs::File::open(path).map_err(|e| LearnError::io(path, e))?;
        let raw: Box<dyn std::io::Read> = if gz {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        };
        let input = std::io::BufReader::with_capacity(1 << 16, raw);
        let mut tick = |events| progress(Progress { file: path, events });
        match format {
            LogFormat::Xes => xes::read(path, input, &options.columns, &mut builder, &mut tick)?,
            LogFormat::Csv => csv::read(path, input, &options.columns, &mut builder, &mut tick)?,
            LogFormat::JsonLines => {
                jsonl::read(path, input, &options.columns, &mut builder, &mut tick)?
            }
        }
        builder.end_file();
    }
    let sources: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    builder.finish(&sources.join(", "), options)
}
