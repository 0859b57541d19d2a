//! Hidden developer tools (`hydrofetch debug ...`).

use super::Outcome;

/// Developer subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum DebugCommand {
    /// Describe a WAV, FLAC, MAT or PNG file.
    Inspect {
        /// The file to inspect.
        file: std::path::PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn exec(_cmd: DebugCommand) -> anyhow::Result<Outcome> {
    anyhow::bail!("`hydrofetch debug inspect` is not yet available in this version")
}
