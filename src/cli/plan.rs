//! `hydrofetch plan`: show what a run would fetch.

use super::Outcome;

/// Arguments of `hydrofetch plan`.
#[derive(Debug, clap::Args)]
pub(crate) struct PlanArgs {
    /// Manifest files (TOML, YAML, JSON or CSV).
    manifests: Vec<std::path::PathBuf>,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn exec(_args: PlanArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`hydrofetch plan` is not yet available in this version")
}
