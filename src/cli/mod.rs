//! The command line: argument parsing, rendering of diagnostics and reports, exit codes.
//!
//! Exit codes: 0 success, 1 a runtime failure (a sink could not deliver), 2 a configuration
//! error (with `--deny-warnings`, also a warning).

/// `eprintln!` that never panics: with a full or closed stderr (`2>/dev/full`) the message is
/// lost, not the run. Every message of the command line goes through `say!` and `say_raw!`.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!` that never panics (see `say!`).
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

mod analyze;
#[cfg(feature = "backend")]
mod backend;
mod completions;
mod dashboard;
mod env;
mod graph;
mod learn;
mod metrics;
mod progress;
mod run;
mod schema;
mod signals;
mod truth;
mod validate;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

pub const EXIT_RUNTIME: u8 = 1;
pub const EXIT_CONFIG: u8 = 2;

#[derive(Parser)]
#[command(
    name = "def",
    version,
    about = "Distributed Event Factory: realistic, distributed process-mining event streams",
    long_about = "Distributed Event Factory: realistic, distributed process-mining event streams.\n\n\
        A Markov chain of datasources (sensors, machines, sites) emits events \
        {timestamp, activity, caseid, node, group}; cases walk the chain and interleave. \
        Configs are the original DEF's YAML files: kind datasource, sink and simulation.",
    after_help = "Examples:\n  \
        def run                                   run the bundled assembly-line example\n  \
        def run configs/                          run every .yaml/.yml file below configs/\n  \
        def run configs/ --seed 42 --steps 1000   a reproducible run of 1000 events\n  \
        def validate configs/ --deny-warnings     check a config without running it\n  \
        def graph configs/ -o chain.svg           draw the chain (also .dot, .mmd)\n  \
        def analyze configs/                      expected events per case, load per datasource\n  \
        def schema -o def.schema.json             a JSON Schema of the config, for editors\n  \
        def learn log.xes -o learned/             a chain learned from an event log\n  \
        LOAD=5000 def run stream.yaml --duration 60   a real-time stream at 5000 events/s\n  \
        def run configs/ --seed 7 --shard 0/3     the first of three shards of one workload\n  \
        DEF_CONFIG=configs/ DEF_SEED=7 def run    the same flags from the environment\n  \
        def backend --output file:events.jsonl    the load backend, for loadTest runs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a simulation (with no paths: the bundled assembly-line example).
    Run(run::RunArgs),
    /// Check configuration files and report every problem with its file, line and column.
    Validate(validate::ValidateArgs),
    /// Draw the chain as SVG, Graphviz DOT or Mermaid (-o chain.svg).
    Graph(graph::GraphArgs),
    /// Predict events per case, load per datasource and group, case duration and endings.
    Analyze(analyze::AnalyzeArgs),
    /// Run the load backend: take timeframes over HTTP, emit them at an exact pace.
    #[cfg(feature = "backend")]
    Backend(backend::BackendArgs),
    /// Learn a chain from event logs (XES, CSV, JSON lines) into a config.
    Learn(learn::LearnArgs),
    /// Print the JSON Schema of config documents, for editors (yaml-language-server).
    Schema(schema::SchemaArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff), of def or of one of its commands.
    Man(completions::ManArgs),
    /// The ground truth of a run with a network (`def run --truth DIR`): replay it.
    Truth(truth::TruthArgs),
    /// List the environment variables def reads: VARIABLE, command and flag, tab-separated.
    #[command(hide = true)]
    Env(env::EnvArgs),
}

/// The command line's definition: the derived one, with a `DEF_*` variable on every flag of
/// `run` and `backend` (see [`env`]).
pub fn command() -> clap::Command {
    env::with_env(Cli::command())
}

pub fn main() -> ExitCode {
    let cli = Cli::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit());
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Validate(args) => validate::validate(args),
        Command::Graph(args) => graph::graph(args),
        Command::Analyze(args) => analyze::analyze(args),
        #[cfg(feature = "backend")]
        Command::Backend(args) => backend::backend(args),
        Command::Learn(args) => learn::learn(args),
        Command::Schema(args) => schema::schema(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
        Command::Truth(args) => truth::truth(args),
        Command::Env(args) => env::env(args),
    }
}

/// How diagnostics are drawn on stderr: in colour on a terminal, unless `NO_COLOR` is set.
pub fn diagnostic_style() -> def::config::diagnostic::Style {
    use std::io::IsTerminal;
    def::config::diagnostic::Style {
        colour: std::io::stderr().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// Loads the given paths (files or directories) into a config set.
pub fn load(paths: &[std::path::PathBuf]) -> def::config::ConfigSet {
    let mut set = def::config::ConfigSet::new();
    for path in paths {
        set.add_path(path);
    }
    set
}

/// Writes a command's output to `path`, or to stdout when there is none or it is `-`. A file
/// that cannot be written, or a closed stdout, is reported and exits 1; nothing panics.
pub fn write_output(path: Option<&std::path::Path>, bytes: &[u8]) -> ExitCode {
    use std::io::Write as _;
    let written = match path {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::write(path, bytes).map_err(|e| (path.display().to_string(), e))
        }
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .map_err(|e| ("<stdout>".to_string(), e))
        }
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err((path, e)) => {
            say!("error: cannot write {path}: {e}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}
