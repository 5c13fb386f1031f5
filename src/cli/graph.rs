//! `def graph`: draw the chain as SVG, Graphviz DOT or Mermaid.

use super::{load, EXIT_CONFIG, EXIT_RUNTIME};
use clap::{Args, ValueEnum};
use def::analysis::{graph::Graph, svg};
use def::config::ConfigSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct GraphArgs {
    /// Config files or directories; none draws the bundled assembly-line example.
    paths: Vec<PathBuf>,
    /// Where to write: the format follows the extension (.svg, .dot/.gv, .mmd); `-` is stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The format (default: from the -o extension, else dot).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Also show the sinks and the datasources each takes.
    #[arg(long)]
    sinks: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum Format {
    /// Graphviz DOT (render with `dot -Tpng`).
    Dot,
    /// A Mermaid flowchart (GitHub renders it in ```mermaid blocks).
    Mermaid,
    /// A standalone SVG image, laid out by def itself.
    Svg,
}

pub fn graph(args: GraphArgs) -> ExitCode {
    let to_stdout = args.output.as_ref().is_none_or(|p| p.as_os_str() == "-");
    let format = match (args.format, &args.output) {
        (Some(f), _) => f,
        (None, Some(path)) if !to_stdout => {
            match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
                "svg" => Format::Svg,
                "dot" | "gv" => Format::Dot,
                "mmd" | "mermaid" => Format::Mermaid,
                other => {
                    say!(
                        "error: cannot tell the format of {} from its extension `{other}`\n  = help: use .svg, .dot or .mmd, or say --format dot|mermaid|svg",
                        path.display()
                    );
                    return ExitCode::from(EXIT_CONFIG);
                }
            }
        }
        _ => Format::Dot,
    };
    let set = if args.paths.is_empty() {
        ConfigSet::example()
    } else {
        load(&args.paths)
    };
    let diags = if args.sinks {
        set.validate()
    } else {
        set.validate_chain()
    };
    if diags.has_errors() {
        say_raw!("{}", diags.render_styled(super::diagnostic_style()));
        say!("def graph: the config has errors; nothing was drawn");
        return ExitCode::from(EXIT_CONFIG);
    }
    let graph = Graph::build(&set, args.sinks);
    let text = match format {
        Format::Dot => graph.to_dot(&set),
        Format::Mermaid => graph.to_mermaid(&set),
        Format::Svg => svg::render(&graph),
    };
    let written = match &args.output {
        Some(path) if !to_stdout => std::fs::write(path, text).map_err(|e| (path.clone(), e)),
        _ => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(|e| (PathBuf::from("<stdout>"), e)),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err((path, e)) => {
            say!("error: cannot write {}: {e}", path.display());
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}
