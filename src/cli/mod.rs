//! The command-line front end: clap definitions and dispatch.
//!
//! Each subcommand lives in its own file with an `Args` struct and an `exec` function that
//! returns a [`Outcome`]. Only this layer reads environment variables, prints, and turns errors
//! into exit codes (0 done, 1 some items failed or a runtime error, 2 bad input or usage, 130
//! interrupted; see `error.rs`).

mod debug;
mod discover;
mod error;
mod plan;
mod progress;
mod run;
mod shortcuts;
#[cfg(feature = "sim")]
mod sim;
mod summary;
mod token;
mod verify;
mod watch;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit status of a finished command, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[must_use]
pub enum Outcome {
    /// Everything asked for was done.
    Success,
    /// The command ran, but some items failed (or verify found a mismatch).
    ItemsFailed,
    /// Bad input or usage: nothing was done.
    BadInput,
    /// Interrupted by the user (Ctrl-C).
    Interrupted,
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        ExitCode::from(match o {
            Outcome::Success => 0,
            Outcome::ItemsFailed => 1,
            Outcome::BadInput => 2,
            Outcome::Interrupted => 130,
        })
    }
}

/// hydrofetch: reproducible datasets of Ocean Networks Canada hydrophone data.
#[derive(Debug, Parser)]
#[command(name = "hydrofetch", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fetch everything a manifest asks for, recording it in the lockfile.
    Run(run::RunArgs),
    /// Show what a run would fetch, without touching the network.
    Plan(plan::PlanArgs),
    /// Run, then watch manifests and fetch only what changed.
    Watch(watch::WatchArgs),
    /// Re-hash every locked file and report mismatches.
    Verify(verify::VerifyArgs),
    /// Remove outputs of items no manifest asks for any more.
    Gc(verify::GcArgs),
    /// Serve the offline ONC simulator on a loopback address.
    #[cfg(feature = "sim")]
    Sim(sim::SimArgs),
    /// Every spectrogram in a date range (no manifest needed).
    Range(shortcuts::RangeArgs),
    /// A uniform sample of spectrograms across a range.
    Sample(shortcuts::SampleArgs),
    /// Spectrograms for the windows holding given instants.
    Events(shortcuts::EventsArgs),
    /// Audio files over a range.
    Audio(shortcuts::AudioArgs),
    /// Run a request file (JSON or CSV).
    Requests(shortcuts::RequestsArgs),
    /// List ONC's devices (hydrophones by default).
    Devices(discover::DevicesArgs),
    /// List a device's deployments: begin/end, location, coordinates and depth.
    Deployments(discover::DeploymentsArgs),
    /// Which 5-minute windows of a device (or a manifest's devices) hold archived files.
    Coverage(discover::CoverageArgs),
    /// Developer tools.
    #[command(hide = true, subcommand)]
    Debug(debug::DebugCommand),
}

/// Runs a parsed command line and returns the process exit code.
#[must_use]
pub fn run(cli: Cli) -> ExitCode {
    init_logging(cli.command.verbose());
    let result = match cli.command {
        Command::Plan(args) => plan::exec(args),
        Command::Run(args) => run::exec(args),
        Command::Watch(args) => watch::exec(args),
        Command::Verify(args) => verify::verify(args),
        Command::Gc(args) => verify::gc(args),
        #[cfg(feature = "sim")]
        Command::Sim(args) => sim::exec(args),
        Command::Debug(cmd) => debug::exec(cmd),
        Command::Range(args) => shortcuts::range(args),
        Command::Sample(args) => shortcuts::sample(args),
        Command::Events(args) => shortcuts::events(args),
        Command::Audio(args) => shortcuts::audio(args),
        Command::Requests(args) => shortcuts::requests(args),
        Command::Devices(args) => discover::devices(args),
        Command::Deployments(args) => discover::deployments(args),
        Command::Coverage(args) => discover::coverage(args),
    };
    match result {
        Ok(outcome) => outcome.into(),
        Err(err) => {
            let code = error::exit_code(&err);
            if error::classify(&err) != error::ErrorKind::BrokenPipe {
                report(&err);
            }
            ExitCode::from(code)
        }
    }
}

impl Command {
    /// How many times `-v` was given (commands without `-v`: none).
    fn verbose(&self) -> u8 {
        match self {
            Self::Run(a) => a.out.verbose(),
            Self::Watch(a) => a.out.verbose(),
            Self::Verify(a) => a.out.verbose(),
            Self::Range(a) => a.common.out.verbose(),
            Self::Sample(a) => a.common.out.verbose(),
            Self::Events(a) => a.common.out.verbose(),
            Self::Audio(a) => a.common.out.verbose(),
            Self::Requests(a) => a.common.out.verbose(),
            #[cfg(feature = "sim")]
            Self::Sim(_) => 0,
            Self::Plan(_)
            | Self::Gc(_)
            | Self::Debug(_)
            | Self::Devices(_)
            | Self::Deployments(_)
            | Self::Coverage(_) => 0,
        }
    }
}

/// Logs (the library's `tracing` calls) go to stderr: warnings and errors by default, debug
/// (retries and their causes, decisions) with `-v`, everything with `-vv`. `HYDROFETCH_LOG`,
/// else `RUST_LOG`, replaces the filter (`RUST_LOG=hydrofetch=debug`).
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("HYDROFETCH_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| {
            EnvFilter::new(match verbose {
                0 => "warn",
                1 => "warn,hydrofetch=debug",
                _ => "debug,hydrofetch=trace",
            })
        });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Prints an error and its causes the one way hydrofetch prints errors.
#[expect(
    clippy::print_stderr,
    reason = "the CLI layer is where errors are printed"
)]
fn report(err: &anyhow::Error) {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
