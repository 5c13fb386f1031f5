//! Configuration: YAML files in, typed and validated specs out. The bottom layer but for
//! [`crate::time`]: it imports nothing else of the crate.
//!
//! A [`ConfigSet`] collects documents from files, directories (their `.yaml`/`.yml` files in
//! sorted order) and strings. [`yaml`] parses text into a tree that keeps every node's line
//! and column; [`document`] dispatches each document to its component family's reader —
//! [`datasource`] (with [`selection`] and [`duration`]), [`sink`], [`simulation`] (with
//! [`load`]) — each holding that family's spec types, its `Copy` kind enum (the names, fields
//! and examples of its types) and its defaults, and reading with the toolkit in [`read`].
//! Problems are collected as [`Diagnostic`]s that point at a file, line and column.
//! [`ConfigSet::validate`] adds the checks that span documents (transitions, references,
//! duplicates). Nothing here runs anything: [`crate::model`] compiles the specs.

pub mod datasource;
pub mod diagnostic;
pub mod document;
pub mod duration;
pub mod load;
pub mod read;
pub mod selection;
pub mod simulation;
pub mod sink;
mod validate;
pub mod yaml;

pub use crate::time::TimestampFormat;
pub use datasource::{DatasourceSpec, EdgeSpec, END, START};
pub use diagnostic::{Diagnostic, Diagnostics, Place, Severity, Source};
pub use document::{At, Document, DocumentKind};
pub use duration::{DurationSpec, DurationType};
pub use load::{LoadBehavior, LoadSpec, RateStep, MAX_RATE};
pub use read::Kind;
pub use selection::{SelectionSpec, SelectionType};
pub use simulation::{
    CaseIdSpec, ClockSpec, SimulationSettings, SimulationSpec, SimulationType, MAX_CONCURRENT_CASES,
};
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
    /// Problems found while reading (syntax, shape, single-document checks).
    pub diagnostics: Diagnostics,
    /// Names of datasource documents too broken to read, already reported; references to
    /// them are not reported again.
    pub broken_datasources: Vec<String>,
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
        if let Err(e) = collect_yaml(dir, &mut files) {
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
        match std::fs::read_to_string(file) {
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
            match document::read(&mut reader, node, &mut self.broken_datasources) {
                Some(AnyDocument::Datasource(d)) => self.datasources.push(d),
                Some(AnyDocument::Sink(d)) => self.sinks.push(d),
                Some(AnyDocument::Simulation(d)) => self.simulations.push(d),
                None => {}
            }
        }
    }

    /// Every problem: those found reading plus the checks across documents.
    pub fn validate(&self) -> Diagnostics {
        let mut all = self.diagnostics.clone();
        all.extend(validate::check(self));
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

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_yaml(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}
