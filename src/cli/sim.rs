//! `hydrofetch sim`: serve the offline ONC simulator.

use super::Outcome;

/// Arguments of `hydrofetch sim`.
#[derive(Debug, clap::Args)]
pub(crate) struct SimArgs {
    /// Address to bind (loopback only unless --allow-remote).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to bind (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
}

pub(crate) fn exec(_args: SimArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`hydrofetch sim` is not yet available in this version")
}
