//! `def validate`: report every problem in a config, exit 0 if it is valid.

use super::{load, EXIT_CONFIG};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ValidateArgs {
    /// Config files or directories (every .yaml/.yml below them, sorted); none validates the
    /// bundled assembly-line example.
    paths: Vec<PathBuf>,
    /// Treat warnings as errors (exit 2).
    #[arg(long)]
    deny_warnings: bool,
}

pub fn validate(args: ValidateArgs) -> ExitCode {
    let set = if args.paths.is_empty() {
        def::config::ConfigSet::example()
    } else {
        load(&args.paths)
    };
    let mut diags = set.validate();
    diags.extend(def::analysis::warnings(&set));
    if !diags.is_empty() {
        say_raw!("{}", diags.render_styled(super::diagnostic_style()));
    }
    let errors = diags.errors().count();
    let warnings = diags.warnings().count();
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    // Networks are named only when there are some, so earlier configs read as before.
    let networks = match set.networks.len() {
        0 => String::new(),
        n => format!(", {n} networks"),
    };
    let summary = format!(
        "{} datasources, {} sinks, {} simulations{networks}: {errors} errors, {warnings} warnings",
        set.datasources.len(),
        set.sinks.len(),
        set.simulations.len()
    );
    if failed {
        say!("invalid: {summary}");
        ExitCode::from(EXIT_CONFIG)
    } else {
        say!("valid: {summary}");
        ExitCode::SUCCESS
    }
}
