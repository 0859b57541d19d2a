//! `hydrofetch verify` (re-hash every locked file; `--repair` re-fetches or re-makes what does
//! not match) and `hydrofetch gc` (remove what the manifest no longer asks for). The work is
//! [`crate::ops`]'s.

use super::Outcome;
use super::plan::LimitArgs;
use super::progress::{CliReporter, Verbosity};
use super::run::{NetArgs, OutputArgs, StateArgs, fail, run_manifests};
use crate::ops::{self, Manifests};
use std::path::PathBuf;

/// Arguments of `hydrofetch verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    /// Manifest files whose lockfile to check.
    #[arg(required = true)]
    manifests: Vec<PathBuf>,
    /// Forget what does not match, then fetch or make it again (a same-size corruption too).
    #[arg(long)]
    repair: bool,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    state: StateArgs,
    #[command(flatten)]
    pub(super) out: OutputArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Arguments of `hydrofetch gc`.
#[derive(Debug, clap::Args)]
pub(crate) struct GcArgs {
    /// Manifest files: locked items they no longer ask for are removed.
    #[arg(required = true)]
    manifests: Vec<PathBuf>,
    /// Only list what would be removed.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    state: StateArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

/// `hydrofetch verify`: exit 0 when every locked file is present with its size and hash (or,
/// with `--repair`, when what did not match was fetched or made again).
pub(crate) fn verify(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let options = ops::VerifyOptions {
        manifests: Manifests::Files(args.manifests),
        state: args.state.options(),
        limits: args.limits.limits(),
        repair: args.repair,
    };
    // Notices (a wait for another process, a migration) as plain lines.
    let report = match ops::verify(&options, &CliReporter::new(Verbosity::Verbose)) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let worst = if report.unrepaired() {
        Outcome::ItemsFailed
    } else {
        Outcome::Success
    };
    let to_repair = report.to_repair();
    if to_repair.is_empty() {
        return Ok(worst);
    }
    let outcome = run_manifests(
        Manifests::Loaded(to_repair),
        &args.net,
        args.out,
        &args.state,
        args.limits,
    )?;
    Ok(worst.max(outcome))
}

/// `hydrofetch gc`: forget locked items the plan no longer has, and delete their files unless
/// an item still in the plan, or another manifest's lockfile in the same `data_dir`, uses them.
pub(crate) fn gc(args: GcArgs) -> anyhow::Result<Outcome> {
    let options = ops::GcOptions {
        manifests: Manifests::Files(args.manifests),
        state: args.state.options(),
        limits: args.limits.limits(),
        dry_run: args.dry_run,
    };
    // Notices as plain lines; each manifest's result on stdout as it is done.
    match ops::gc(&options, &CliReporter::new(Verbosity::Verbose)) {
        Ok(_) => Ok(Outcome::Success),
        Err(e) => fail(e),
    }
}
