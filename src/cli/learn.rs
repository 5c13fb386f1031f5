//! `def learn LOG... -o DIR`: a chain learned from event logs (the library's `learn` module),
//! written as YAML with a report on the terminal or as JSON. A spinner counts events on a
//! terminal; the library only reports them.

use super::{EXIT_CONFIG, EXIT_RUNTIME};
use clap::Args;
use def::analysis::fmt_number;
use def::learn::{self, Columns, LearnError, LearnOptions, Report};
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct LearnArgs {
    /// Event logs: .xes, .csv or .jsonl (def's JSON lines), each also .gz.
    #[arg(required = true)]
    logs: Vec<PathBuf>,
    /// The directory to write the chain, a sink and a simulation into.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// Overwrite files of an earlier `def learn` in DIR.
    #[arg(long)]
    force: bool,
    /// The CSV column (JSON field) of the case id.
    #[arg(long, default_value = learn::DEFAULT_CASE_COLUMN)]
    case_column: String,
    /// The attribute (CSV column, JSON field) of the activity.
    #[arg(long, default_value = learn::DEFAULT_ACTIVITY_COLUMN)]
    activity_column: String,
    /// The attribute (CSV column, JSON field) of the timestamp.
    #[arg(long, default_value = learn::DEFAULT_TIMESTAMP_COLUMN)]
    timestamp_column: String,
    /// The attribute naming an event's datasource; events without it are at a datasource
    /// named by their activity.
    #[arg(long, alias = "node-column", value_name = "ATTR", default_value = learn::DEFAULT_NODE_ATTRIBUTE)]
    node_from: String,
    /// The attribute naming a datasource's group, or, when no event has it, the group itself.
    #[arg(long, value_name = "ATTR|NAME", default_value = learn::DEFAULT_GROUP_ATTRIBUTE)]
    group: String,
    /// Drop edges taken less often than this share of their datasource's choices.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    min_probability: f64,
    /// Print the report as JSON instead of tables.
    #[arg(long)]
    json: bool,
}

pub fn learn(args: LearnArgs) -> ExitCode {
    if !(0.0..=1.0).contains(&args.min_probability) {
        say!(
            "error: --min-probability {} is not a probability\n  help: give a number from 0 to 1",
            args.min_probability
        );
        return ExitCode::from(EXIT_CONFIG);
    }
    let options = LearnOptions {
        columns: Columns {
            case: args.case_column.clone(),
            activity: args.activity_column.clone(),
            timestamp: args.timestamp_column.clone(),
            node: args.node_from.clone(),
            group: args.group.clone(),
        },
        min_probability: args.min_probability,
    };
    let spinner = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    });
    let learned = learn::learn(&args.logs, &options, &mut |p| {
        if let Some(bar) = &spinner {
            bar.set_message(format!("{}: {} events", p.file.display(), p.events));
            bar.tick();
        }
    });
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    let learned = match learned {
        Ok(chain) => chain.into_output(),
        Err(e) => {
            say!("error: {e}");
            let code = match e {
                LearnError::Io { .. } => EXIT_RUNTIME,
                LearnError::Input { .. } | LearnError::Empty { .. } => EXIT_CONFIG,
            };
            return ExitCode::from(code);
        }
    };
    if let Err(code) = write_files(&args, &learned.files) {
        return code;
    }
    let text = if args.json {
        match serde_json::to_string_pretty(&learned.report) {
            Ok(json) => json + "\n",
            Err(e) => {
                say!("error: cannot write the report as JSON: {e}");
                return ExitCode::from(EXIT_RUNTIME);
            }
        }
    } else {
        tables(&learned.report, &args.output)
    };
    print!("{text}");
    for problem in &learned.report.validation {
        say_raw!("{problem}");
    }
    if !learned.report.validation.is_empty() {
        say!("def learn: `def validate --deny-warnings` finds the problems above in the output");
        return ExitCode::from(EXIT_CONFIG);
    }
    ExitCode::SUCCESS
}

/// Writes the files into the output directory; refuses to overwrite without `--force`.
fn write_files(args: &LearnArgs, files: &[learn::OutputFile]) -> Result<(), ExitCode> {
    let dir = &args.output;
    if let Err(e) = std::fs::create_dir_all(dir) {
        say!("error: cannot create {}: {e}", dir.display());
        return Err(ExitCode::from(EXIT_RUNTIME));
    }
    if !args.force {
        if let Some(existing) = files.iter().map(|f| dir.join(f.name)).find(|p| p.exists()) {
            say!(
                "error: {} exists\n  help: pass --force to overwrite it, or choose another -o directory",
                existing.display()
            );
            return Err(ExitCode::from(EXIT_CONFIG));
        }
    }
    for file in files {
        let path = dir.join(file.name);
        if let Err(e) = std::fs::write(&path, &file.text) {
            say!("error: cannot write {}: {e}", path.display());
            return Err(ExitCode::from(EXIT_RUNTIME));
        }
    }
    Ok(())
}

fn opt(x: Option<f64>) -> String {
    x.map_or("-".to_string(), fmt_number)
}

/// The report as plain-text tables.
pub fn tables(r: &Report, dir: &std::path::Path) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Learned from {}: {} events, {} cases ({} complete, {} left open, {} with one event)",
        r.source,
        r.log.events,
        r.log.cases,
        r.log.complete_cases,
        r.log.open_cases,
        r.log.single_event_cases
    );
    let _ = writeln!(
        out,
        "{} to {} ({} min): {} events/s, {} cases open on average",
        r.first_timestamp,
        r.last_timestamp,
        fmt_number(r.span_minutes),
        fmt_number(r.events_per_second),
        fmt_number(r.mean_open_cases)
    );
    if r.log.events_without_node > 0 {
        let _ = writeln!(
            out,
            "{} events had no datasource attribute: their activity names their datasource",
            r.log.events_without_node
        );
    }
    let _ = writeln!(out, "\n{:<28} {:>14} {:>14}", "", "log", "learned chain");
    let _ = writeln!(
        out,
        "{:<28} {:>14} {:>14}",
        "events per case",
        fmt_number(r.log_events_per_case),
        opt(r.expected_events_per_case)
    );
    let _ = writeln!(
        out,
        "{:<28} {:>14} {:>14}",
        "case minutes (first..last)",
        fmt_number(r.log_case_minutes),
        opt(r.expected_case_minutes_first_to_last)
    );
    let _ = writeln!(out, "\n<start>");
    for s in &r.start {
        let _ = writeln!(
            out,
            "  -> {:<30} {:>10} {:>10}",
            s.datasource,
            s.count,
            fmt_number(s.probability)
        );
    }
    for node in &r.datasources {
        let _ = writeln!(
            out,
            "\n{} (group {:?}, {} events)",
            node.name, node.group, node.events
        );
        for e in &node.edges {
            let fit = match (e.ks, e.ks_critical) {
                (Some(ks), Some(c)) => format!("{} KS {:.4}/{:.4}", e.chosen_by, ks, c),
                _ => e.chosen_by.to_string(),
            };
            let _ = writeln!(
                out,
                "  {:<24} -> {:<20} {:>8} p {:<8} {} ({})",
                e.activity,
                e.transition,
                e.count,
                fmt_number(e.probability),
                e.duration,
                fit
            );
        }
        for e in &node.pruned {
            let _ = writeln!(
                out,
                "  pruned: {} -> {} ({} times, p {})",
                e.activity,
                e.transition,
                e.count,
                fmt_number(e.observed_probability)
            );
        }
    }
    let _ = writeln!(
        out,
        "\nWrote datasources.yaml, sink.yaml, simulation.yaml into {} (maxConcurrentCases {}, load {} events/s)",
        dir.display(),
        r.max_concurrent_cases,
        fmt_number(r.load)
    );
    out
}
