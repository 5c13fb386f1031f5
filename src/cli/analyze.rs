//! `def analyze`: what a config will produce, from the chain's fundamental matrix.

use super::{load, EXIT_CONFIG, EXIT_RUNTIME};
use clap::Args;
use def::analysis::{self, fmt_number, human_minutes, Analysis, Regime};
use def::config::ConfigSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Config files or directories; none analyses the bundled assembly-line example.
    paths: Vec<PathBuf>,
    /// Print the numbers as JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Treat warnings as errors (exit 2).
    #[arg(long)]
    deny_warnings: bool,
}

pub fn analyze(args: AnalyzeArgs) -> ExitCode {
    let set = if args.paths.is_empty() {
        ConfigSet::example()
    } else {
        load(&args.paths)
    };
    let mut diags = set.validate_chain();
    diags.extend(analysis::warnings(&set));
    if !diags.is_empty() {
        say_raw!("{}", diags.render_styled(super::diagnostic_style()));
    }
    if diags.has_errors() {
        say!("def analyze: the config has errors; nothing was analysed");
        return ExitCode::from(EXIT_CONFIG);
    }
    let result = match analysis::analyze(&set) {
        Ok(result) => result,
        Err(d) => {
            say_raw!("{}", d.render_styled(super::diagnostic_style()));
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let text = if args.json {
        match serde_json::to_string_pretty(&result) {
            Ok(json) => json + "\n",
            Err(e) => {
                say!("error: cannot write the analysis as JSON: {e}");
                return ExitCode::from(EXIT_RUNTIME);
            }
        }
    } else {
        tables(&result)
    };
    print!("{text}");
    let warnings = diags.warnings().count();
    if args.deny_warnings && warnings > 0 {
        say!("def analyze: {warnings} warnings, denied by --deny-warnings");
        return ExitCode::from(EXIT_CONFIG);
    }
    ExitCode::SUCCESS
}

/// The analysis as plain-text tables, one column set per regime.
pub fn tables(a: &Analysis) -> String {
    let mut out = String::new();
    let regimes: Vec<Regime> = a.regimes.iter().map(|r| r.regime).collect();
    let steady = regimes == [Regime::Steady];
    let title = |what: &str, r: Regime| {
        if steady {
            what.to_string()
        } else {
            format!("{what} ({})", r.name())
        }
    };
    if !steady {
        let _ = writeln!(
            out,
            "Drifting selections ({}) are analysed twice: `start` has every drifting\n\
             datasource at its startDistribution, `end` at its endDistribution.\n",
            a.drifting.join(", ")
        );
    }

    let mut header = vec!["per case".to_string()];
    header.extend(regimes.iter().map(|&r| title("expected", r)));
    let mut rows = vec![
        row(
            "events",
            a.regimes.iter().map(|r| fmt_number(r.expected_events)),
        ),
        row(
            "duration (min)",
            a.regimes.iter().map(|r| fmt_number(r.mean_case_minutes)),
        ),
        row(
            "duration",
            a.regimes.iter().map(|r| human_minutes(r.mean_case_minutes)),
        ),
    ];
    if a.regimes
        .iter()
        .any(|r| r.expected_delivered_events.is_some())
    {
        rows.push(row(
            "delivered events",
            a.regimes.iter().map(|r| {
                r.expected_delivered_events
                    .map_or_else(String::new, fmt_number)
            }),
        ));
    }
    if a.regimes.iter().any(|r| r.never_finishes > 0.0) {
        rows.push(row(
            "never finishes",
            a.regimes.iter().map(|r| percent(r.never_finishes)),
        ));
    }
    out.push_str(&table(&header, &rows, 1));

    let mut header = vec!["datasource".to_string(), "group".to_string()];
    for &r in &regimes {
        header.push(title("visits", r));
        header.push(title("share", r));
    }
    let rows: Vec<Vec<String>> = (0..a.regimes[0].datasources.len())
        .map(|i| {
            let first = &a.regimes[0].datasources[i];
            let mut cells = vec![first.datasource.clone(), first.group.clone()];
            for r in &a.regimes {
                let d = &r.datasources[i];
                cells.push(match d.expected_visits {
                    Some(v) => fmt_number(v),
                    None => "stuck".to_string(),
                });
                cells.push(percent(d.share));
            }
            cells
        })
        .collect();
    out.push('\n');
    out.push_str(&table(&header, &rows, 2));

    let mut header = vec!["group".to_string()];
    for &r in &regimes {
        header.push(title("visits", r));
        header.push(title("share", r));
    }
    let rows: Vec<Vec<String>> = (0..a.regimes[0].groups.len())
        .map(|i| {
            let mut cells = vec![a.regimes[0].groups[i].group.clone()];
            for r in &a.regimes {
                cells.push(fmt_number(r.groups[i].expected_visits));
                cells.push(percent(r.groups[i].share));
            }
            cells
        })
        .collect();
    out.push('\n');
    out.push_str(&table(&header, &rows, 1));

    let mut header = vec!["ends at".to_string(), "activity".to_string()];
    header.extend(regimes.iter().map(|&r| title("probability", r)));
    let rows: Vec<Vec<String>> = (0..a.regimes[0].endings.len())
        .map(|i| {
            let first = &a.regimes[0].endings[i];
            let mut cells = vec![first.datasource.clone(), first.activity.clone()];
            cells.extend(
                a.regimes
                    .iter()
                    .map(|r| fmt_number(r.endings[i].probability)),
            );
            cells
        })
        .collect();
    out.push('\n');
    out.push_str(&table(&header, &rows, 2));
    if let Some(n) = &a.network {
        let _ = writeln!(
            out,
            "\nBehind the networks (Monte Carlo: {} events, seed {}, maxConcurrentCases {}):\n  \
             deliveries per generated event  {}\n  \
             arriving after a later event    {} (± {})\n  \
             ... of their own case           {}",
            n.events,
            n.seed,
            n.max_concurrent_cases,
            fmt_number(n.delivered_per_event),
            percent(n.out_of_order),
            percent(n.standard_error),
            percent(n.out_of_order_in_case),
        );
    }
    out
}

fn row(name: &str, values: impl Iterator<Item = String>) -> Vec<String> {
    std::iter::once(name.to_string()).chain(values).collect()
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Aligned columns: the first `text_columns` to the left, numbers to the right.
fn table(header: &[String], rows: &[Vec<String>], text_columns: usize) -> String {
    let width = |c: usize| {
        rows.iter()
            .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
            .chain([header[c].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (c, cell) in cells.iter().enumerate() {
            if c > 0 {
                s.push_str("  ");
            }
            let pad = widths[c].saturating_sub(cell.chars().count());
            if c < text_columns {
                s.push_str(cell);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header);
    out.push_str(&line(
        &widths.iter().map(|&w| "-".repeat(w)).collect::<Vec<_>>(),
    ));
    for r in rows {
        out.push_str(&line(r));
    }
    out
}
