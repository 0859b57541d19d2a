//! The `hydrofetch` binary: parse the command line, hand it to the library, map the outcome to
//! an exit code. Everything else lives in the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = hydrofetch::cli::Cli::parse();
    hydrofetch::cli::run(cli)
}
