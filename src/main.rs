//! The `def` command line. Everything it does is in the library; see `def::cli`... in `cli/`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
