//! `verify` (re-hash every locked file; with `repair`, forget what does not match so that a
//! run fetches or makes it again) and `gc` (remove what the manifests no longer ask for).

use super::{Manifests, OpEvent, OpsError, Reporter, StateOptions};
use crate::dataset::{self, GcReport, Session};
use crate::lock::Mismatch;
use crate::manifest::Manifest;
use crate::plan::{Plan, PlanLimits};
use std::path::PathBuf;

/// What to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The manifests whose lockfiles to check, each alone.
    pub manifests: Manifests,
    /// Which lockfile, and whether to wait for a busy one.
    pub state: StateOptions,
    /// How large a plan may be.
    pub limits: PlanLimits,
    /// Forget the items whose files do not match and remove those files (a same-size
    /// corruption too); [`VerifyReport::to_repair`] then lists the manifests to run again.
    pub repair: bool,
}

/// One manifest's lockfile checked against the disk.
#[derive(Debug, Clone)]
pub struct ManifestVerify {
    /// The manifest.
    pub manifest: Manifest,
    /// Its lockfile.
    pub lockfile: PathBuf,
    /// Files the lockfile records.
    pub files: usize,
    /// Items the lockfile records.
    pub items: usize,
    /// Files missing or different.
    pub mismatches: Vec<Mismatch>,
    /// With `repair`, the items forgotten (their bad files removed).
    pub forgotten: Option<usize>,
}

/// What `verify` found, per manifest.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct VerifyReport {
    /// Each manifest, in order.
    pub manifests: Vec<ManifestVerify>,
}

impl VerifyReport {
    /// Mismatches over every manifest.
    #[must_use]
    pub fn mismatches(&self) -> usize {
        self.manifests.iter().map(|m| m.mismatches.len()).sum()
    }

    /// Whether a mismatch was found and not repaired (the CLI's exit code 1).
    #[must_use]
    pub fn unrepaired(&self) -> bool {
        self.manifests
            .iter()
            .any(|m| !m.mismatches.is_empty() && m.forgotten.is_none())
    }

    /// The manifests with forgotten items: run them to fetch or make those again.
    #[must_use]
    pub fn to_repair(&self) -> Vec<Manifest> {
        self.manifests
            .iter()
            .filter(|m| m.forgotten.is_some())
            .map(|m| m.manifest.clone())
            .collect()
    }
}

/// Re-hashes every file each manifest's lockfile records; with `repair`, forgets what does not
/// match. Each manifest is reported ([`OpEvent::Verified`]) as soon as it is checked.
///
/// # Errors
/// [`OpsError::Input`], [`OpsError::Usage`], or a runtime error of the dataset.
pub fn verify(options: &VerifyOptions, reporter: &dyn Reporter) -> Result<VerifyReport, OpsError> {
    options.state.check(options.manifests.len())?;
    let planned = super::load_and_plan_each(&options.manifests, None, &options.limits)?;
    let mut report = VerifyReport::default();
    for (m, plan) in planned {
        let mut session = open(&m, &plan, &options.state, reporter)?;
        let mismatches = dataset::verify(&session);
        let files = session.lock.entries().map(|e| e.files.len()).sum();
        let items = session.lock.len();
        let forgotten = if options.repair && !mismatches.is_empty() {
            Some(dataset::forget_mismatched(&mut session, &mismatches)?)
        } else {
            None
        };
        let checked = ManifestVerify {
            manifest: m,
            lockfile: session.paths.lock.clone(),
            files,
            items,
            mismatches,
            forgotten,
        };
        reporter.op(&OpEvent::Verified(&checked));
        report.manifests.push(checked);
    }
    Ok(report)
}

/// What to collect.
#[derive(Debug, Clone)]
pub struct GcOptions {
    /// The manifests: locked items they no longer ask for are removed, each lockfile alone.
    pub manifests: Manifests,
    /// Which lockfile, and whether to wait for a busy one.
    pub state: StateOptions,
    /// How large a plan may be.
    pub limits: PlanLimits,
    /// Only list what would be removed.
    pub dry_run: bool,
}

/// One manifest's collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestGc {
    /// Its lockfile.
    pub lockfile: PathBuf,
    /// Whether nothing was changed.
    pub dry_run: bool,
    /// What was (or would be) removed and kept.
    pub report: GcReport,
}

/// What `gc` did, per manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct GcSummary {
    /// Each manifest, in order.
    pub manifests: Vec<ManifestGc>,
}

impl GcSummary {
    /// Files removed (or, dry, to remove) over every manifest.
    #[must_use]
    pub fn removed(&self) -> usize {
        self.manifests.iter().map(|m| m.report.removed.len()).sum()
    }
}

/// Forgets the locked items each manifest no longer asks for and deletes their files, unless
/// an item still planned, or another lockfile writing into the same `data_dir`, uses them.
/// Each manifest is reported ([`OpEvent::Collected`]) when done.
///
/// # Errors
/// [`OpsError::Input`], [`OpsError::Usage`], or a runtime error of the dataset.
pub fn gc(options: &GcOptions, reporter: &dyn Reporter) -> Result<GcSummary, OpsError> {
    options.state.check(options.manifests.len())?;
    let planned = super::load_and_plan_each(&options.manifests, None, &options.limits)?;
    let mut summary = GcSummary::default();
    for (m, plan) in &planned {
        let mut session = open(m, plan, &options.state, reporter)?;
        let report = dataset::gc(&mut session, plan, options.dry_run)?;
        let done = ManifestGc {
            lockfile: session.paths.lock.clone(),
            dry_run: options.dry_run,
            report,
        };
        reporter.op(&OpEvent::Collected(&done));
        summary.manifests.push(done);
    }
    Ok(summary)
}

fn open(
    m: &Manifest,
    plan: &Plan,
    state: &StateOptions,
    reporter: &dyn Reporter,
) -> Result<Session, OpsError> {
    Ok(dataset::open(m, plan, &state.open_options(), reporter)?)
}
