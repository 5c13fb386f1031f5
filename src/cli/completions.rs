//! `def completions SHELL` and `def man`: generated at run time from the command line's own
//! clap definition, so they always match the binary that prints them (and no build script has
//! to compile the command line a second time).

use super::{write_output, EXIT_CONFIG, EXIT_RUNTIME};
use clap::Args;
use clap_complete::Shell;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Args)]
pub struct ManArgs {
    /// A command whose page to print (def-COMMAND(1)); none prints def(1).
    command: Option<String>,
    /// Write def.1 and a def-COMMAND.1 per command into DIR instead of printing.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    dir: Option<PathBuf>,
}

/// The command line's definition, as completions and man pages describe it.
fn definition() -> clap::Command {
    let mut cmd = super::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

pub fn completions(args: CompletionsArgs) -> ExitCode {
    let mut cmd = definition();
    let name = cmd.get_name().to_string();
    // Into memory first: the generators panic on a write error, and stdout may be closed.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, name, &mut script);
    write_output(None, &script)
}

pub fn man(args: ManArgs) -> ExitCode {
    let cmd = definition();
    if let Some(dir) = args.dir {
        let pages = std::iter::once(cmd.clone())
            .chain(cmd.get_subcommands().filter(|c| !c.is_hide_set()).cloned());
        for page in pages {
            let file = dir.join(format!("{}.1", display_name(&page)));
            let written = render(page).and_then(|roff| std::fs::write(&file, roff));
            if let Err(e) = written {
                say!("error: cannot write {}: {e}", file.display());
                return ExitCode::from(EXIT_RUNTIME);
            }
        }
        return ExitCode::SUCCESS;
    }
    let page = match args.command {
        None => cmd,
        Some(name) => match cmd.find_subcommand(&name) {
            Some(sub) => sub.clone(),
            None => {
                let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
                say!(
                    "error: def has no command `{name}`\n  = help: the commands are: {}",
                    names.join(", ")
                );
                return ExitCode::from(EXIT_CONFIG);
            }
        },
    };
    match render(page) {
        Ok(roff) => write_output(None, &roff),
        Err(e) => {
            say!("error: cannot render the man page: {e}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// `def`, or `def-run` for a command (as clap names it once built).
fn display_name(cmd: &clap::Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string()
}

/// One page as roff, its `.TH` title line first: where man(7) and the tools that index pages
/// (lexgrog, whatis) look for it. The roff writer puts its string definitions (`.ie`/`.el`,
/// for the apostrophe) before the title; they work as well after it.
fn render(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd).source(format!("def {}", env!("CARGO_PKG_VERSION")));
    let mut roff = Vec::new();
    man.render(&mut roff)?;
    let text = String::from_utf8_lossy(&roff);
    let mut lines: Vec<&str> = text.lines().collect();
    if let Some(at) = lines.iter().position(|l| l.starts_with(".TH ")) {
        let title = lines.remove(at);
        lines.insert(0, title);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out.into_bytes())
}
