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
mod saved;
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
    #[command(
        after_help = "Examples:\n  hydrofetch run --simulate manifests/quickstart.toml\n  hydrofetch run events.toml            # ONC_TOKEN from the environment or .env\n  hydrofetch run -v range.toml          # one line per event, retries with their cause"
    )]
    Run(run::RunArgs),
    /// Show what a run would fetch, without touching the network.
    #[command(
        after_help = "Examples:\n  hydrofetch plan manifests/quickstart.toml\n  hydrofetch plan --json manifests/quickstart.toml | jq .plan_hash\n  hydrofetch plan --online --simulate manifests/quickstart.toml"
    )]
    Plan(plan::PlanArgs),
    /// Run, then watch manifests and fetch only what changed.
    #[command(after_help = "Examples:\n  hydrofetch watch --simulate manifests/quickstart.toml")]
    Watch(watch::WatchArgs),
    /// Re-hash every locked file and report mismatches.
    #[command(
        after_help = "Examples:\n  hydrofetch verify manifests/quickstart.toml\n  hydrofetch verify --repair --simulate manifests/quickstart.toml"
    )]
    Verify(verify::VerifyArgs),
    /// Remove outputs of items no manifest asks for any more.
    #[command(
        after_help = "Examples:\n  hydrofetch gc --dry-run manifests/quickstart.toml\n  hydrofetch gc manifests/quickstart.toml"
    )]
    Gc(verify::GcArgs),
    /// Serve the offline ONC simulator on a loopback address.
    #[cfg(feature = "sim")]
    #[command(
        after_help = "Examples:\n  hydrofetch sim --port 8080 --token test\n  ONC_URL=http://127.0.0.1:8080/ ONC_TOKEN=test hydrofetch run manifests/quickstart.toml"
    )]
    Sim(sim::SimArgs),
    /// Every spectrogram in a date range (no manifest needed).
    #[command(
        after_help = "Examples:\n  hydrofetch range --simulate --device ICLISTENHF6324 --start 2024-04-01T12:00:00Z \\\n      --end 2024-04-01T13:00:00Z --per-batch 6 --audio\n  hydrofetch range --device ICLISTENHF6324 --start 2024-04-01T12:00:00Z --end 2024-04-01T13:00:00Z --print-manifest\n  (writes hydrofetch-range.toml beside the data folder; repeat with `hydrofetch run hydrofetch-range.toml`)"
    )]
    Range(shortcuts::RangeArgs),
    /// A uniform sample of spectrograms across a range.
    #[command(
        after_help = "Examples:\n  hydrofetch sample --simulate --device ICLISTENHF6324 --start 2024-04-01T00:00:00Z \\\n      --end 2024-04-08T00:00:00Z --total 24 --per-request 6"
    )]
    Sample(shortcuts::SampleArgs),
    /// Spectrograms for the windows holding given instants.
    #[command(
        after_help = "Examples:\n  hydrofetch events --simulate --device ICLISTENHF6324 2024-04-01T12:05:00Z 2024-04-01T13:25:00Z\n  hydrofetch events --simulate --device ICLISTENHF6324 --clip --pad 15 --audio --no-spectrograms \\\n      2024-04-01T12:34:50Z"
    )]
    Events(shortcuts::EventsArgs),
    /// Audio files over a range.
    #[command(
        after_help = "Examples:\n  hydrofetch audio --simulate --device ICLISTENHF6324 --start 2024-04-01T12:00:00Z \\\n      --end 2024-04-01T12:30:00Z --data-dir audio-data"
    )]
    Audio(shortcuts::AudioArgs),
    /// Run a request file (JSON or CSV).
    #[command(
        after_help = "Examples:\n  hydrofetch requests --simulate manifests/requests-seed.csv --default-pad-seconds 10 --download-audio\n  hydrofetch requests manifests/requests-seed.json --plan --data-dir data"
    )]
    Requests(shortcuts::RequestsArgs),
    /// List ONC's devices (hydrophones by default).
    #[command(
        after_help = "Examples:\n  hydrofetch devices --simulate\n  hydrofetch devices --search iclisten --json"
    )]
    Devices(discover::DevicesArgs),
    /// List a device's deployments: begin/end, location, coordinates and depth.
    #[command(after_help = "Examples:\n  hydrofetch deployments --simulate ICLISTENHF6324")]
    Deployments(discover::DeploymentsArgs),
    /// Which 5-minute windows of a device (or a manifest's devices) hold archived files.
    #[command(
        after_help = "Examples:\n  hydrofetch coverage --simulate ICLISTENHF6324 --from 2024-04-01T00:00:00Z --to 2024-04-02T00:00:00Z\n  hydrofetch coverage --simulate manifests/quickstart.toml"
    )]
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
