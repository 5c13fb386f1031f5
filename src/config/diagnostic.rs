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
        let mut out = String::new();
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{label}: {}", self.message);
        if let Some(position) = self.position() {
            match &self.yaml_path {
                Some(path) if !path.is_empty() => {
                    let _ = writeln!(out, "  --> {position} (at `{path}`)");
                }
                _ => {
                    let _ = writeln!(out, "  --> {position}");
                }
            }
        }
        if let (Some(source), Some(loc)) = (&self.source, self.loc) {
            if let Some(line) = source.line(loc.line) {
                let number = loc.line.to_string();
                let pad = " ".repeat(number.len());
                let caret = " ".repeat(loc.col.saturating_sub(1) as usize);
                let _ = writeln!(out, "{pad} |");
                let _ = writeln!(out, "{number} | {line}");
                let _ = writeln!(out, "{pad} | {caret}^");
            }
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "  = help: {help}");
        }
        out
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
        sorted
            .iter()
            .map(|d| d.render())
            .collect::<Vec<_>>()
            .join("\n")
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
}
