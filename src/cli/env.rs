//! Configuration by environment, for containers: every flag of `def run` and `def backend`
//! can be set by a `DEF_*` variable, named after the flag (`--max-events` → `DEF_MAX_EVENTS`).
//!
//! The variables are not written beside each flag by hand: [`with_env`] gives every flag of
//! those commands its variable by that one rule (a flag that names its own, such as
//! `--token`'s `DEF_BACKEND_TOKEN`, keeps it), so a new flag cannot be forgotten. A flag on the
//! command line overrides its variable; `--help` shows `[env: DEF_...]` beside each. Switches
//! (`--quiet`) take true/false, yes/no, on/off or 1/0 from the environment; a repeatable flag
//! (`--producer`) takes one value per line.
//!
//! Two variables are not a flag's: `DEF_CONFIG`, the config paths of `def run` when none is
//! given on the command line (separated by `:` as in `PATH`, see [`config_paths`]), and the
//! original's `LOAD`. `def env` (hidden) lists every variable the binary reads.

use clap::builder::BoolishValueParser;
use clap::{Arg, ArgAction, Args, Command};
use std::path::PathBuf;
use std::process::ExitCode;

/// Every variable is this followed by the flag's name in SCREAMING_SNAKE_CASE.
pub const PREFIX: &str = "DEF_";
/// The config paths of `def run`, when no path is given on the command line.
pub const CONFIG_VAR: &str = "DEF_CONFIG";
/// The original's variable: a constant load's rate.
pub const LOAD_VAR: &str = "LOAD";
/// The commands whose flags are read from the environment.
const COMMANDS: [&str; 2] = ["run", "backend"];

/// Variables that are read, but not by a flag: (variable, command, what it sets).
const OTHERS: [(&str, &str, &str); 3] = [
    (CONFIG_VAR, "run", "[PATHS]..."),
    (LOAD_VAR, "run", "a constant load's rate"),
    // The http sink sends the backend's token.
    ("DEF_BACKEND_TOKEN", "run", "the http sink's token"),
];

/// `def env`: lists the environment variables def reads.
#[derive(Args)]
pub struct EnvArgs {}

/// The variable of a flag: `--max-events` → `DEF_MAX_EVENTS`.
pub fn variable(long: &str) -> String {
    format!("{PREFIX}{}", long.to_uppercase().replace('-', "_"))
}

/// `cmd` with a variable on every flag of `def run` and `def backend`.
pub fn with_env(cmd: Command) -> Command {
    COMMANDS.iter().fold(cmd, |cmd, name| {
        if cmd.find_subcommand(name).is_none() {
            // `backend` is not in every build.
            return cmd;
        }
        cmd.mut_subcommand(name, |sub| sub.mut_args(flag_env))
    })
}

fn flag_env(arg: Arg) -> Arg {
    let Some(long) = arg.get_long().map(str::to_string) else {
        return arg;
    };
    let arg = match arg.get_action() {
        ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version => {
            return arg
        }
        ArgAction::SetTrue => arg.value_parser(BoolishValueParser::new()),
        // A repeatable flag (`--producer`) takes one value a line from its variable; a value
        // may hold commas or semicolons (librdkafka lists, passwords), never a newline.
        ArgAction::Append => arg.value_delimiter('\n'),
        _ => arg,
    };
    if arg.get_env().is_some() {
        return arg;
    }
    arg.env(variable(&long))
}

/// The config paths `DEF_CONFIG` names, split as `PATH` is (`:` on Unix, `;` on Windows);
/// empty if it is unset or empty.
pub fn config_paths() -> Vec<PathBuf> {
    match std::env::var_os(CONFIG_VAR) {
        Some(value) if !value.is_empty() => std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

/// Every variable def reads, a line each: `VARIABLE<TAB>COMMAND<TAB>FLAG`.
pub fn list(cmd: &Command) -> String {
    let mut lines = Vec::new();
    for name in COMMANDS {
        let Some(sub) = cmd.find_subcommand(name) else {
            continue;
        };
        for arg in sub.get_arguments() {
            if let (Some(var), Some(long)) = (arg.get_env(), arg.get_long()) {
                lines.push(format!("{}\t{name}\t--{long}", var.to_string_lossy()));
            }
        }
    }
    for (var, command, what) in OTHERS {
        if cmd.find_subcommand(command).is_some() {
            lines.push(format!("{var}\t{command}\t{what}"));
        }
    }
    lines.sort();
    lines.dedup();
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

pub fn env(_: EnvArgs) -> ExitCode {
    super::write_output(None, list(&super::command()).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_names_its_variable() {
        assert_eq!(variable("max-events"), "DEF_MAX_EVENTS");
        assert_eq!(variable("seed"), "DEF_SEED");
    }
}
