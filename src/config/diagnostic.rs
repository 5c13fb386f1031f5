//! Problems found in a configuration, each pointing at a file, a line and a column.
//!
//! Loading and validation never stop at the first problem: they push [`Diagnostic`]s into a
//! [`Diagnostics`] list so that a user sees everything wrong with a config in one go. The CLI
//! renders them with the offending source line and a caret, the way rustc does.

use super::yaml::Loc;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A loaded configuration file: its path and its text (kept to quote lines in diagnostics).
#[derive(Debug)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    /// A source with no file behind it, e.g. the bundled example or a library caller's string.
    pub fn inline(name: &str, text: &str) -> Arc<Source> {
        Arc::new(Source {
            path: PathBuf::from(name),
            text: text.to_owned(),
        })
    }

    fn line(&self, number: u32) -> Option<&str> {
        self.text.lines().nth(number.checked_sub(1)? as usize)
    }
}

/// How bad a problem is. Errors stop a run; warnings do not unless `--deny-warnings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One problem in the configuration.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// The file the problem is in, if it is in one.
    pub source: Option<Arc<Source>>,
    pub loc: Option<Loc>,
    /// Where in the document, as a YAML path such as `spec.eventData[1].duration.sigma`.
    pub yaml_path: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            source: None,
            loc: None,
            yaml_path: None,
            help: None,
        }
    }

    pub fn warning(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    /// Places the problem in a file at a location and YAML path.
    pub fn at(mut self, place: &Place) -> Diagnostic {
        self.source = Some(place.source.clone());
        self.loc = Some(place.loc);
        self.yaml_path = Some(place.path.clone());
        self
    }

    pub fn in_file(mut self, source: &Arc<Source>, loc: Option<Loc>) -> Diagnostic {
        self.source = Some(source.clone());
        self.loc = loc;
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col`, or as much of it as is known.
    pub fn position(&self) -> Option<String> {
        let source = self.source.as_ref()?;
        Some(match self.loc {
            Some(loc) => format!("{}:{}:{}", source.path.display(), loc.line, loc.col),
            None => source.path.display().to_string(),
        })
    }

    /// Renders the problem with the source line and a caret under the column.
    pub fn render(&self) -> String {
        self.render_styled(Style::PLAIN)
    }

    /// Renders the problem, in colour if `style` says so. A long source line is shown as a
    /// window of [`SHOWN_LINE_CHARS`] characters around the column, with ellipses.
    pub fn render_styled(&self, style: Style) -> String {
        let mut out = String::new();
        let (label, colour) = match self.severity {
            Severity::Error => ("error", RED),
            Severity::Warning => ("warning", YELLOW),
        };
        let _ = writeln!(
            out,
            "{}: {}",
            style.paint(colour, label),
            style.paint(BOLD, &self.message)
        );
        if let Some(position) = self.position() {
            let arrow = style.paint(BLUE, "-->");
            match &self.yaml_path {
                Some(path) if !path.is_empty() => {
                    let _ = writeln!(out, "  {arrow} {position} (at `{path}`)");
                }
                _ => {
                    let _ = writeln!(out, "  {arrow} {position}");
                }
            }
        }
        if let (Some(source), Some(loc)) = (&self.source, self.loc) {
            if let Some(line) = source.line(loc.line) {
                let number = loc.line.to_string();
                let pad = " ".repeat(number.len());
                let (shown, col) = window(line, loc.col.saturating_sub(1) as usize);
                let caret = " ".repeat(col);
                let bar = style.paint(BLUE, "|");
                let _ = writeln!(out, "{pad} {bar}");
                let _ = writeln!(out, "{} {bar} {shown}", style.paint(BLUE, &number));
                let _ = writeln!(out, "{pad} {bar} {caret}{}", style.paint(colour, "^"));
            }
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "  = {}: {help}", style.paint(BOLD, "help"));
        }
        out
    }
}

/// The most characters of a source line a diagnostic shows.
pub const SHOWN_LINE_CHARS: usize = 120;
/// The most diagnostics shown per file; the rest are counted.
pub const SHOWN_PER_FILE: usize = 50;

/// The part of `line` to show around character `col`, and the column within it.
fn window(line: &str, col: usize) -> (String, usize) {
    let chars = line.chars().count();
    if chars <= SHOWN_LINE_CHARS {
        return (line.to_string(), col);
    }
    let half = SHOWN_LINE_CHARS / 2;
    let from = col.saturating_sub(half).min(chars - SHOWN_LINE_CHARS);
    let to = from + SHOWN_LINE_CHARS;
    let mut shown = String::new();
    if from > 0 {
        shown.push('…');
    }
    shown.extend(line.chars().skip(from).take(to - from));
    if to < chars {
        shown.push('…');
    }
    (shown, col - from + usize::from(from > 0))
}

/// Whether diagnostics are rendered with ANSI colours (the CLI turns it on for a terminal).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    pub colour: bool,
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";
const BOLD: &str = "\x1b[1m";

impl Style {
    pub const PLAIN: Style = Style { colour: false };
    pub const COLOUR: Style = Style { colour: true };

    fn paint(self, code: &str, text: &str) -> String {
        if self.colour {
            format!("{code}{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(position) = self.position() {
            write!(f, "{position}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// A place in a configuration file: which file, which line and column, which YAML path.
#[derive(Clone, Debug)]
pub struct Place {
    pub source: Arc<Source>,
    pub loc: Loc,
    pub path: String,
}

impl Place {
    pub fn file(&self) -> &Path {
        &self.source.path
    }
}

/// Every problem found so far.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| !d.is_error())
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Every diagnostic rendered, errors first, in file order.
    pub fn render(&self) -> String {
        self.render_styled(Style::PLAIN)
    }

    /// Every diagnostic rendered, errors first, in file order, at most [`SHOWN_PER_FILE`] per
    /// file (then a count of the rest), in colour if `style` says so.
    pub fn render_styled(&self, style: Style) -> String {
        let mut sorted: Vec<&Diagnostic> = self.items.iter().collect();
        sorted.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| {
                    let pa = a.source.as_ref().map(|s| s.path.clone());
                    let pb = b.source.as_ref().map(|s| s.path.clone());
                    pa.cmp(&pb)
                })
                .then_with(|| a.loc.cmp(&b.loc))
        });
        let file = |d: &Diagnostic| d.source.as_ref().map(|s| s.path.clone());
        let mut shown: std::collections::BTreeMap<Option<PathBuf>, usize> = Default::default();
        let mut parts = Vec::new();
        for d in &sorted {
            let count = shown.entry(file(d)).or_default();
            *count += 1;
            if *count <= SHOWN_PER_FILE {
                parts.push(d.render_styled(style));
            }
        }
        for (path, count) in shown.iter().filter(|(_, n)| **n > SHOWN_PER_FILE) {
            let name = path
                .as_ref()
                .map_or("the configuration".to_string(), |p| p.display().to_string());
            parts.push(format!(
                "... and {} more problems in {name} (the first {SHOWN_PER_FILE} are shown)\n",
                count - SHOWN_PER_FILE
            ));
        }
        parts.join("\n")
    }
}

/// The closest candidate to `word` by edit distance, if it is close enough to be a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_source_line_with_a_caret() {
        let source = Source::inline("a.yaml", "kind: sink\nspec:\n  tpye: console\n");
        let d = Diagnostic::error("unknown field `tpye`")
            .at(&Place {
                source,
                loc: Loc { line: 3, col: 3 },
                path: "spec.tpye".into(),
            })
            .help("did you mean `type`?");
        let text = d.render();
        assert!(text.contains("a.yaml:3:3 (at `spec.tpye`)"), "{text}");
        assert!(text.contains("3 |   tpye: console\n  |   ^"), "{text}");
        assert!(text.contains("help: did you mean `type`?"), "{text}");
    }

    #[test]
    fn suggests_close_names_only() {
        let names = [
            "genericProbability",
            "uniform",
            "ordered",
            "driftingProbability",
        ];
        assert_eq!(
            did_you_mean("genericProbabilty", names),
            Some("genericProbability")
        );
        assert_eq!(did_you_mean("zzz", names), None);
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_column() {
        let line = format!(
            "refs: [{}]",
            (0..5000)
                .map(|i| format!("n{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let col = line.find("n2500").unwrap();
        let source = Source::inline("a.yaml", &line);
        let d = Diagnostic::error("unknown").at(&Place {
            source,
            loc: Loc {
                line: 1,
                col: col as u32 + 1,
            },
            path: "refs[2500]".into(),
        });
        let text = d.render();
        let shown = text.lines().nth(3).unwrap();
        assert!(shown.chars().count() < SHOWN_LINE_CHARS + 10, "{shown}");
        assert!(shown.contains('…') && shown.contains("n2500"), "{shown}");
        // The caret is under the column in the window.
        let caret = text.lines().nth(4).unwrap();
        let at = caret.chars().position(|c| c == '^').unwrap();
        let shown_chars: Vec<char> = shown.chars().collect();
        let under: String = shown_chars[at..at + 5].iter().collect();
        assert_eq!(under, "n2500", "{shown}\n{caret}");
    }

    #[test]
    fn at_most_fifty_problems_per_file_are_shown() {
        let source = Source::inline("a.yaml", "x: 1\n");
        let mut diags = Diagnostics::default();
        for i in 0..20_000 {
            diags.push(
                Diagnostic::error(format!("problem {i}"))
                    .in_file(&source, Some(Loc { line: 1, col: 1 })),
            );
        }
        let text = diags.render();
        assert_eq!(text.matches("error: problem").count(), SHOWN_PER_FILE);
        assert!(
            text.contains("... and 19950 more problems in a.yaml"),
            "{}",
            &text[text.len() - 200..]
        );
        assert!(text.len() < 20_000);
    }

    #[test]
    fn colour_is_only_there_when_asked_for() {
        let d = Diagnostic::error("bad").help("fix it");
        assert!(!d.render().contains('\x1b'));
        assert!(d
            .render_styled(Style::COLOUR)
            .contains("\x1b[1;31merror\x1b[0m"));
    }
}
