//! `def schema`: the JSON Schema of a config document, for editors.

use super::{write_output, EXIT_RUNTIME};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct SchemaArgs {
    /// Write the schema to FILE instead of stdout (`-` is stdout).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn schema(args: SchemaArgs) -> ExitCode {
    let schema = def::config::schema::json_schema();
    let mut text = match serde_json::to_string_pretty(&schema) {
        Ok(text) => text,
        Err(e) => {
            say!("error: cannot write the schema: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    text.push('\n');
    write_output(args.output.as_deref(), text.as_bytes())
}
