//! The operations as a library: [`run`], [`plan`], [`verify`], [`gc`] and [`watch`], each
//! taking a typed options struct, a [`Reporter`] and (for the ones that touch the network) a
//! cancellation token, and returning a typed summary.
//!
//! This is the layer between the command line and `crate::dataset`: it loads manifests,
//! plans each one alone (each has its own lockfile), opens its state, connects to ONC (or the
//! built-in simulator) only when there is something to fetch, and reports. It never prints and
//! never reads the environment or installs signal handlers: the caller (the CLI, a test, a
//! notebook) owns those, and cancels through the token it passes in.
//!
//! Errors: [`OpsError::Input`] (bad manifests or plans) and [`OpsError::Usage`] are the
//! caller's to fix (the CLI exits 2); everything else is a runtime error (exit 1). Items that
//! fail and interruptions are not errors: they are in the summaries.

mod connect;
mod discover;
mod maintain;
mod online;
mod plan;
mod run;
mod simulate;
mod watch;

pub use connect::{Endpoint, NetOptions, NoToken};
pub use discover::{
    Coverage, CoverageOptions, CoverageTarget, DeploymentInfo, DeviceInfo, DevicesOptions,
    WindowSpan, coverage, deployments, devices,
};
pub use maintain::{
    GcOptions, GcSummary, ManifestGc, ManifestVerify, VerifyOptions, VerifyReport, gc, verify,
};
pub use online::{OnlineCheck, OutsideSpan, check_plan};
pub use plan::{PlanOptions, PlanSummary, measure, plan};
pub use run::{ItemCounts, ManifestRun, RunOptions, RunSummary, run};
pub use watch::{PlanDelta, WatchOptions, WatchSummary, watch};

use crate::dataset::DatasetError;
use crate::dataset::guard::Wait;
use crate::manifest::{Manifest, ManifestError};
use crate::plan::{Plan, PlanError, PlanLimits};
use std::path::{Path, PathBuf};

/// Receives what the operations do: the executor's [`ExecEvent`](crate::exec::ExecEvent)s
/// (submitted, polled, downloaded, item done or failed, retries, notices and warnings) through
/// the [`crate::exec::Reporter`] supertrait, and each operation's own milestones as
/// [`OpEvent`]s.
///
/// Contract: called from the operation's tasks, in the order things happen for one manifest;
/// implementations must be cheap and must not block.
pub trait Reporter: crate::exec::Reporter {
    /// Handles one milestone of an operation. The default ignores it.
    fn op(&self, event: &OpEvent<'_>) {
        let _ = event;
    }
}

/// A reporter that ignores everything.
impl Reporter for crate::exec::Silent {}

/// A milestone of an operation, sent as soon as it happens (so that a front end can show each
/// manifest's result before the next one starts).
#[derive(Debug)]
#[non_exhaustive]
pub enum OpEvent<'a> {
    /// One manifest's run finished (also when interrupted).
    Ran(&'a ManifestRun),
    /// One manifest's lockfile was checked against the disk.
    Verified(&'a ManifestVerify),
    /// One manifest's orphaned items were collected (or, dry, listed).
    Collected(&'a ManifestGc),
    /// Watch: the manifests (or one manifest's plan) have errors; the last good plan stays.
    Invalid(&'a InputError),
    /// Watch: nothing to run until the manifests are fixed.
    WaitingForFix,
    /// Watch: every manifest is up to date; `files` are watched for changes.
    UpToDate {
        /// Files watched (manifests and the request files they reference).
        files: usize,
    },
    /// Watch: files changed; `delta` is what the new plan adds and removes, or `None` when the
    /// change left the manifests invalid (an [`OpEvent::Invalid`] came first).
    Changed {
        /// What changed.
        changes: &'a [crate::watch::Change],
        /// The plan's change.
        delta: Option<PlanDelta>,
    },
}

/// Input the caller has to fix: nothing was done.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Manifests that could not be loaded, every one of them.
    #[error("{} manifest{} could not be loaded", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Manifests(Vec<ManifestError>),
    /// The plan of valid manifests has errors (too large, colliding outputs...).
    #[error("the plan has {} error{}", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Plan(Vec<PlanError>),
}

/// Why an operation stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpsError {
    /// Bad manifests or plans.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Options that do not fit together, or no token when the network is needed.
    #[error("{0}")]
    Usage(String),
    /// The run's estimated download is larger than allowed (`--max-bytes`): nothing ran.
    #[error(
        "the run would download about {} (estimated), more than --max-bytes allows ({}): raise --max-bytes or narrow the manifests (`hydrofetch plan` shows the estimate)",
        crate::plan::estimate::format_bytes(*estimated),
        crate::plan::estimate::format_bytes(*allowed)
    )]
    OverBudget {
        /// Estimated bytes still to download.
        estimated: u64,
        /// The limit.
        allowed: u64,
    },
    /// The dataset's state (lockfile, guard, index) could not be read or written.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// The ONC client could not be built.
    #[error(transparent)]
    Onc(#[from] crate::onc::OncError),
    /// The built-in simulator could not be started.
    #[cfg(feature = "sim")]
    #[error(transparent)]
    Sim(#[from] crate::sim::SimError),
    /// Manifests could not be watched.
    #[error(transparent)]
    Watch(#[from] crate::watch::WatchError),
    /// A background task (the wait for a busy lockfile) died.
    #[error("a background task failed")]
    Task(#[from] tokio::task::JoinError),
}

impl OpsError {
    /// Whether the caller has to fix its input or usage (the CLI's exit code 2).
    #[must_use]
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::Input(_) | Self::Usage(_) | Self::OverBudget { .. }
        )
    }
}

/// Which manifests an operation works on.
#[derive(Debug, Clone)]
pub enum Manifests {
    /// Manifest files (TOML, YAML, JSON or CSV), loaded by the operation.
    Files(Vec<PathBuf>),
    /// Manifests already loaded (built from command-line arguments, say).
    Loaded(Vec<Manifest>),
}

impl Manifests {
    fn len(&self) -> usize {
        match self {
            Self::Files(f) => f.len(),
            Self::Loaded(m) => m.len(),
        }
    }

    /// Loads them (every file, so that every error of every file is reported).
    fn load(&self) -> Result<Vec<Manifest>, InputError> {
        match self {
            Self::Loaded(m) => Ok(m.clone()),
            Self::Files(paths) => load_files(paths),
        }
    }
}

/// Loads every file; every error of every file.
fn load_files(paths: &[PathBuf]) -> Result<Vec<Manifest>, InputError> {
    let mut loaded = Vec::with_capacity(paths.len());
    let mut errors = Vec::new();
    for path in paths {
        match crate::manifest::load(path) {
            Ok(m) => loaded.push(m),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(InputError::Manifests(errors))
    }
}

/// Which lockfile, and what to do when another process works on it.
#[derive(Debug, Clone, Default)]
pub struct StateOptions {
    /// Use this lockfile instead of the manifest's own `NAME.lock` (one manifest only).
    pub lockfile: Option<PathBuf>,
    /// Fail at once, instead of waiting, when another process holds the lockfile.
    pub no_wait: bool,
    /// Try again the items the lockfile records as having no data (a window may be archived
    /// after the first run, or a deployment's dates corrected).
    pub retry_no_data: bool,
}

impl StateOptions {
    fn open_options(&self) -> crate::dataset::OpenOptions {
        crate::dataset::OpenOptions {
            lockfile: self.lockfile.clone(),
            wait: if self.no_wait {
                Wait::NoWait
            } else {
                Wait::Block
            },
        }
    }

    /// Refuses one lockfile for several manifests.
    fn check(&self, manifests: usize) -> Result<(), OpsError> {
        if self.lockfile.is_some() && manifests > 1 {
            return Err(OpsError::Usage(
                "--lockfile names one lockfile: give it with one manifest at a time".into(),
            ));
        }
        Ok(())
    }
}

/// Plans one manifest alone, within `limits`.
fn plan_one(manifest: &Manifest, limits: &PlanLimits) -> Result<Plan, InputError> {
    Plan::build_with(std::slice::from_ref(manifest), limits).map_err(InputError::Plan)
}

/// Loads the manifests, applies the `data_dir` override, and plans each alone.
fn load_and_plan_each(
    manifests: &Manifests,
    data_dir: Option<&Path>,
    limits: &PlanLimits,
) -> Result<Vec<(Manifest, Plan)>, InputError> {
    let mut loaded = manifests.load()?;
    if let Some(d) = data_dir {
        for m in &mut loaded {
            m.data_dir = d.to_path_buf();
        }
    }
    let mut out = Vec::with_capacity(loaded.len());
    for m in loaded {
        let plan = plan_one(&m, limits)?;
        out.push((m, plan));
    }
    Ok(out)
}
