//! The ground truth on the command line: `def run --truth DIR` writes `run.json` and
//! `chain.json` beside the stage's `clean.jsonl` and `faults.jsonl`; `def truth apply DIR`
//! replays the faults on the clean events and prints the delivered stream
//! ([`def::network::truth`]).

use super::EXIT_RUNTIME;
use clap::{Args, Subcommand};
use def::config::ConfigSet;
use def::network::truth::{self, ConfigHash, RunInfo, CHAIN_FILE, RUN_FILE};
use def::simulation::Run;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct TruthArgs {
    #[command(subcommand)]
    command: TruthCommand,
}

#[derive(Subcommand)]
enum TruthCommand {
    /// Apply faults.jsonl to clean.jsonl: print the stream the sinks received (as JSON lines).
    Apply {
        /// The folder `def run --truth` wrote.
        dir: PathBuf,
        /// Write here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

pub fn truth(args: TruthArgs) -> ExitCode {
    match args.command {
        TruthCommand::Apply { dir, output } => match truth::apply(&dir) {
            Ok(bytes) => super::write_output(output.as_deref(), &bytes),
            Err(e) => {
                say!("error: {e}");
                ExitCode::from(EXIT_RUNTIME)
            }
        },
    }
}

/// Writes `run.json` and `chain.json` of a prepared run into `dir`.
///
/// # Errors
/// A file cannot be written, or the chain cannot be analysed; the message says which.
pub fn write_run_files(set: &ConfigSet, run: &Run, dir: &Path) -> Result<(), String> {
    let start = jiff::Timestamp::from_millisecond(run.start_ms)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let info = RunInfo {
        seed: run.seed,
        start_time: start,
        def_version: env!("CARGO_PKG_VERSION").to_string(),
        command_line: std::env::args().collect(),
        timestamp_format: run.spec.timestamp_format.name().to_string(),
        simulation: run.simulation.clone(),
        shard: run.options.shard.to_string(),
        config_files: set
            .sources
            .iter()
            .map(|source| ConfigHash {
                path: source.path.display().to_string(),
                sha256: sha256_hex(source.text.as_bytes()),
            })
            .collect(),
    };
    let write = |name: &str, json: String| {
        let path = dir.join(name);
        std::fs::write(&path, json + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(
        RUN_FILE,
        serde_json::to_string_pretty(&info).map_err(|e| e.to_string())?,
    )?;
    let analysis = def::analysis::analyze(set).map_err(|d| d.message.clone())?;
    write(
        CHAIN_FILE,
        serde_json::to_string_pretty(&analysis).map_err(|e| e.to_string())?,
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}
