//! Placeholder for subcommands that are not built yet.

/// Arguments are accepted and ignored so that `--help` works.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Arguments for this command.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

pub(crate) fn exec(name: &str) -> anyhow::Result<super::Outcome> {
    anyhow::bail!("`hydrofetch {name}` is not yet available in this version")
}
