//! `hydrofetch verify` (re-hash every locked file; `--repair` re-fetches or re-makes what does
//! not match) and `hydrofetch gc` (remove what the manifest no longer asks for). The work is
//! [`crate::dataset`]'s.

use super::Outcome;
use super::plan::LimitArgs;
use super::progress::{CliReporter, Verbosity};
use super::run::{NetArgs, OutputArgs, RunCtx, StateArgs};
use crate::dataset::{self, Session};
use crate::lock::Mismatch;
use crate::manifest::Manifest;
use crate::plan::Plan;
use std::io::Write as _;
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
    out: OutputArgs,
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

/// Loads and plans each manifest alone; `None` after printing errors.
fn load(
    paths: &[PathBuf],
    state: &StateArgs,
    limits: LimitArgs,
) -> anyhow::Result<Option<Vec<(Manifest, Plan)>>> {
    state.check(paths.len())?;
    let Some(manifests) = super::plan::load_all(paths) else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(manifests.len());
    for m in manifests {
        let Some(plan) = super::plan::build_within(std::slice::from_ref(&m), limits) else {
            return Ok(None);
        };
        out.push((m, plan));
    }
    Ok(Some(out))
}

fn open(m: &Manifest, plan: &Plan, state: &StateArgs) -> anyhow::Result<Session> {
    // Notices (a wait for another process, a migration) as plain lines.
    let reporter = CliReporter::new(Verbosity::Verbose);
    Ok(dataset::open(m, plan, &state.open_options(), &reporter)?)
}

/// `hydrofetch verify`: exit 0 when every locked file is present with its size and hash.
pub(crate) fn verify(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let Some(loaded) = load(&args.manifests, &args.state, args.limits)? else {
        return Ok(Outcome::BadInput);
    };
    let mut worst = Outcome::Success;
    let mut to_repair = Vec::new();
    {
        let mut out = std::io::stdout().lock();
        for (m, plan) in &loaded {
            let mut session = open(m, plan, &args.state)?;
            let mismatches = dataset::verify(&session);
            let files: usize = session.lock.entries().map(|e| e.files.len()).sum();
            for mm in &mismatches {
                let (Mismatch::Missing { id, .. } | Mismatch::Changed { id, .. }) = mm;
                writeln!(out, "MISMATCH {mm} (item {})", &id[..id.len().min(12)])?;
            }
            writeln!(
                out,
                "{} files in {} locked items checked against {}: {} mismatches",
                files,
                session.lock.len(),
                session.paths.lock.display(),
                mismatches.len()
            )?;
            if mismatches.is_empty() {
                continue;
            }
            if args.repair {
                let forgotten = dataset::forget_mismatched(&mut session, &mismatches)?;
                writeln!(
                    out,
                    "repair: {forgotten} items forgotten and their bad files removed; fetching them again"
                )?;
                to_repair.push((m.clone(), plan.clone()));
            } else {
                worst = worst.max(Outcome::ItemsFailed);
            }
        }
    }
    if to_repair.is_empty() {
        return Ok(worst);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let mut ctx = RunCtx::new(args.net.clone(), args.out, args.state.clone());
        let mut worst = worst;
        for (m, plan) in to_repair {
            let o = ctx.run_one(&m, plan).await?;
            worst = worst.max(o);
            if o == Outcome::Interrupted {
                break;
            }
        }
        ctx.finish();
        anyhow::Ok(worst)
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    result
}

/// `hydrofetch gc`: forget locked items the plan no longer has, and delete their files unless
/// an item still in the plan, or another manifest's lockfile in the same `data_dir`, uses them.
pub(crate) fn gc(args: GcArgs) -> anyhow::Result<Outcome> {
    let Some(loaded) = load(&args.manifests, &args.state, args.limits)? else {
        return Ok(Outcome::BadInput);
    };
    let mut out = std::io::stdout().lock();
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    for (m, plan) in &loaded {
        let mut session = open(m, plan, &args.state)?;
        let report = dataset::gc(&mut session, plan, args.dry_run)?;
        for p in &report.removed {
            writeln!(out, "{verb} {p}")?;
        }
        for p in &report.kept_for_others {
            writeln!(
                out,
                "kept {p} (another lockfile in this data_dir records it)"
            )?;
        }
        writeln!(
            out,
            "{}: {} orphaned items, {} files {verb}",
            session.paths.lock.display(),
            report.orphans,
            report.removed.len()
        )?;
    }
    Ok(Outcome::Success)
}
