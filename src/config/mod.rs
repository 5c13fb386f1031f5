//! Configuration: YAML files in, typed and validated specs out. The bottom layer but for
//! [`crate::time`]: it imports nothing else of the crate.
//!
//! A [`ConfigSet`] collects documents from files, directories (their `.yaml`/`.yml` files in
//! sorted order) and strings. [`yaml`] parses text into a tree that keeps every node's line
//! and column; [`document`] dispatches each document to its component family's reader —
//! [`datasource`] (with [`selection`] and [`duration`]), [`sink`], [`simulation`] (with
//! [`load`]), [`network`] — each holding that family's spec types, its `Copy` kind enum (the names, fields
//! and examples of its types) and its defaults, and reading with the toolkit in [`read`].
//! Problems are collected as [`Diagnostic`]s that point at a file, line and column.
//! [`ConfigSet::validate`] adds the checks that span documents (transitions, references,
//! duplicates). Nothing here runs anything: [`crate::model`] compiles the specs.

pub mod datasource;
pub mod diagnostic;
pub mod document;
pub mod duration;
pub mod file_output;
pub mod load;
pub mod network;
pub mod read;
pub mod schema;
pub mod selection;
pub mod simulation;
pub mod sink;
mod validate;
pub mod yaml;

pub use crate::time::TimestampFormat;
pub use datasource::{DatasourceSpec, EdgeSpec, END, START};
pub use diagnostic::{Diagnostic, Diagnostics, Place, Severity, Source};
pub use document::{At, Document, DocumentKind, FieldPlaces};
pub use duration::{DurationSpec, DurationType};
pub use file_output::{Compression, FileOutput, Rotation};
pub use load::{LoadBehavior, LoadSpec, RateStep, MAX_RATE};
pub use network::NetworkSpec;
pub use read::Kind;
pub use selection::{SelectionSpec, SelectionType};
pub use simulation::{
    CaseIdSpec, ClockSpec, SimulationSettings, SimulationSpec, SimulationType, MAX_CONCURRENT_CASES,
};
pub use sink::MqttSinkSpec;
pub use sink::{
    resolve_topic, ConsoleFormat, FileFormat, HttpSinkSpec, KafkaSinkSpec, PartitionSpec,
    PartitionType, SinkSettings, SinkSpec, SinkType,
};

use document::AnyDocument;
use read::Reader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The bundled example: the original's assembly line, count-based, to the console.
pub const ASSEMBLY_LINE_EXAMPLE: &str = include_str!("../../examples/assembly-line.yaml");

/// Every document loaded so far, and the problems found reading them.
#[derive(Clone, Debug, Default)]
pub struct ConfigSet {
    pub sources: Vec<Arc<Source>>,
    pub datasources: Vec<Document<DatasourceSpec>>,
    pub sinks: Vec<Document<SinkSpec>>,
    pub simulations: Vec<Document<SimulationSpec>>,
    /// `kind: network` documents: what the network does to some datasources' events.
    pub networks: Vec<Document<NetworkSpec>>,
    /// Problems found while reading (syntax, shape, single-document checks).
    pub diagnostics: Diagnostics,
    /// Names of datasource documents too broken to read, already reported; references to
    /// them are not reported again.
    pub broken_datasources: Vec<String>,
    /// Sink documents too broken to read, already reported: until they are fixed, which
    /// datasources go unrouted is not known, so that is not reported.
    pub broken_sinks: usize,
}

impl ConfigSet {
    pub fn new() -> ConfigSet {
        ConfigSet::default()
    }

    /// The bundled assembly-line example.
    pub fn example() -> ConfigSet {
        let mut set = ConfigSet::new();
        set.add_str(
            "<bundled example: assembly-line.yaml>",
            ASSEMBLY_LINE_EXAMPLE,
        );
        set
    }

    /// Adds a file, or every `.yaml`/`.yml` file below a directory (sorted, recursively).
    pub fn add_path(&mut self, path: impl AsRef<Path>) -> &mut ConfigSet {
        let path = path.as_ref();
        if path.is_dir() {
            self.add_directory(path)
        } else {
            self.add_file(path)
        }
    }

    /// Adds every `.yaml`/`.yml` file below `dir`, in sorted order.
    pub fn add_directory(&mut self, dir: impl AsRef<Path>) -> &mut ConfigSet {
        let dir = dir.as_ref();
        let mut files = Vec::new();
        if let Err(e) = collect_yaml(dir, &mut files, &mut Default::default()) {
            self.diagnostics.push(
                Diagnostic::error(format!("cannot read directory {}: {e}", dir.display()))
                    .help("check the path and its permissions"),
            );
            return self;
        }
        if files.is_empty() {
            self.diagnostics.push(
                Diagnostic::warning(format!(
                    "directory {} has no .yaml or .yml files",
                    dir.display()
                ))
                .help("point at the folder that holds the config files"),
            );
        }
        files.sort();
        for file in files {
            self.add_file(file);
        }
        self
    }

    /// Adds every document of one YAML file.
    pub fn add_file(&mut self, file: impl AsRef<Path>) -> &mut ConfigSet {
        let file = file.as_ref();
        match read_text_file(file) {
            Ok(text) => self.add_source(Arc::new(Source {
                path: file.to_path_buf(),
                text,
            })),
            Err(e) => self.diagnostics.push(
                Diagnostic::error(format!("cannot read {}: {e}", file.display()))
                    .help("check the path; `def run` takes files and directories"),
            ),
        }
        self
    }

    /// Adds every document of a YAML text; `name` stands for the file in messages.
    pub fn add_str(&mut self, name: &str, text: &str) -> &mut ConfigSet {
        self.add_source(Source::inline(name, text));
        self
    }

    fn add_source(&mut self, source: Arc<Source>) {
        self.sources.push(source.clone());
        let docs = match yaml::parse_documents(&source.text) {
            Ok(docs) => docs,
            Err(e) => {
                self.diagnostics.push(
                    Diagnostic::error(format!("invalid YAML: {}", e.message))
                        .in_file(&source, e.loc)
                        .help("fix the YAML syntax (indentation, quotes, colons)"),
                );
                return;
            }
        };
        let mut reader = Reader {
            source,
            diags: &mut self.diagnostics,
            unknown: Vec::new(),
        };
        for node in &docs {
            let broken = document::Broken {
                datasources: &mut self.broken_datasources,
                sinks: &mut self.broken_sinks,
            };
            match document::read(&mut reader, node, broken) {
                Some(AnyDocument::Datasource(d)) => self.datasources.push(d),
                Some(AnyDocument::Sink(d)) => self.sinks.push(d),
                Some(AnyDocument::Simulation(d)) => self.simulations.push(d),
                Some(AnyDocument::Network(d)) => self.networks.push(d),
                None => {}
            }
        }
    }

    /// Every problem: those found reading plus the checks across documents.
    pub fn validate(&self) -> Diagnostics {
        let mut all = self.diagnostics.clone();
        all.extend(validate::check(self, true));
        all
    }

    /// The problems that matter for the chain alone (for `def analyze` and `def graph`):
    /// [`ConfigSet::validate`] without the warnings about routing events to sinks.
    pub fn validate_chain(&self) -> Diagnostics {
        let mut all = self.diagnostics.clone();
        all.extend(validate::check(self, false));
        all
    }

    /// The simulation to run: the one named, or the only one.
    ///
    /// # Errors
    /// No simulation has that name; none was loaded; several were and none was named.
    pub fn simulation(&self, name: Option<&str>) -> Result<&Document<SimulationSpec>, Diagnostic> {
        let names = || {
            self.simulations
                .iter()
                .map(|s| s.name.value.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            Some(name) => self
                .simulations
                .iter()
                .find(|s| s.name.value == name)
                .ok_or_else(|| {
                    Diagnostic::error(format!("no simulation named `{name}`"))
                        .help(format!("the loaded simulations are: {}", names()))
                }),
            None => match self.simulations.as_slice() {
                [only] => Ok(only),
                [] => Err(Diagnostic::error("no simulation document was loaded").help(
                    "add a file with `kind: simulation`, e.g. `spec: {type: countBased, steps: 100}`",
                )),
                _ => Err(Diagnostic::error(format!(
                    "{} simulations were loaded: {}",
                    self.simulations.len(),
                    names()
                ))
                .help("choose one with --simulation NAME")),
            },
        }
    }
}

/// The largest config or trace file def reads (64 MiB): far above any real configuration, and a
/// bound on what a wrong path (`/dev/zero`, a huge log) can cost.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Reads a regular text file of at most [`MAX_FILE_BYTES`].
///
/// # Errors
/// The path is not a regular file (a directory, a FIFO, a device), is larger than the cap, or
/// cannot be read as UTF-8 text; the message says which.
pub fn read_text_file(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file (a directory, a pipe or a device)".into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{} bytes, more than the {} MiB def reads",
            meta.len(),
            MAX_FILE_BYTES >> 20
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut text = String::new();
    // A file that grows while it is read is still cut at the cap.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "more than the {} MiB def reads",
            MAX_FILE_BYTES >> 20
        ));
    }
    Ok(text)
}

/// The identity of a directory, so that a symlink loop is walked once.
#[cfg(unix)]
fn dir_id(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn dir_id(_meta: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// Collects the `.yaml`/`.yml` regular files below `dir`, following symlinks but entering each
/// directory once (by device and inode), so a symlink loop ends.
fn collect_yaml(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    seen: &mut std::collections::HashSet<(u64, u64)>,
) -> std::io::Result<()> {
    let meta = std::fs::metadata(dir)?;
    if cfg!(unix) && !seen.insert(dir_id(&meta)) {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        // A dangling symlink or an unreadable entry is skipped, not fatal.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            collect_yaml(&path, out, seen)?;
        } else if meta.is_file()
            && matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            )
        {
            out.push(path);
        }
    }
    Ok(())
}
