//! `run`: each manifest's plan against its own lockfile, one manifest after another.

use super::connect::{Connection, NetOptions};
use super::{Manifests, OpEvent, OpsError, Reporter, StateOptions};
use crate::dataset::StatePaths;
use crate::exec::Failure;
use crate::manifest::Manifest;
use crate::plan::{Plan, PlanLimits};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The manifests; each is planned alone and runs against its own lockfile.
    pub manifests: Manifests,
    /// Outputs go here instead of each manifest's `data_dir`.
    pub data_dir: Option<PathBuf>,
    /// Which lockfile, and whether to wait for a busy one.
    pub state: StateOptions,
    /// How large a plan may be.
    pub limits: PlanLimits,
    /// How to reach ONC.
    pub net: NetOptions,
    /// Refuse, before anything is requested, a run whose estimate of the bytes still to
    /// download (the built-in size table, see [`crate::plan::estimate`]) is larger.
    pub max_bytes: Option<u64>,
}

/// What a run of several manifests did, in total and per manifest.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct RunSummary {
    /// Items done in this run (fetched, or ONC has no data for them).
    pub done: usize,
    /// Of those, items ONC has no data for.
    pub no_data: usize,
    /// Items that failed.
    pub failed: usize,
    /// Items already done before the run.
    pub done_before: usize,
    /// Bytes downloaded.
    pub bytes: u64,
    /// ONC product requests submitted.
    pub onc_requests: u64,
    /// Audio archive listings made (one per run of contiguous audio windows).
    pub audio_listings: u64,
    /// Files downloaded.
    pub files: u64,
    /// HTTP requests made.
    pub http_requests: u64,
    /// Whether the run was interrupted (later manifests did not run).
    pub interrupted: bool,
    /// Each manifest that ran, in order.
    pub manifests: Vec<ManifestRun>,
}

impl RunSummary {
    fn add(&mut self, m: ManifestRun) {
        self.done += m.items.fetched + m.items.no_data;
        self.no_data += m.items.no_data;
        self.failed += m.items.failed;
        self.done_before += m.items.done_before;
        self.bytes += m.bytes;
        self.onc_requests += m.onc_requests;
        self.audio_listings += m.audio_listings;
        self.files += m.files;
        self.http_requests += m.http_requests;
        self.interrupted |= m.interrupted;
        self.manifests.push(m);
    }

    /// Whether every item asked for is done.
    #[must_use]
    pub fn success(&self) -> bool {
        !self.interrupted && self.failed == 0
    }
}

/// One manifest's run (its `--json` summary).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ManifestRun {
    /// The manifest file (empty for a manifest built from arguments).
    pub manifest: String,
    /// Its lockfile.
    pub lockfile: String,
    /// The plan's hash.
    pub plan_hash: String,
    /// Item counts.
    pub items: ItemCounts,
    /// ONC product requests submitted.
    pub onc_requests: u64,
    /// Audio archive listings made (one per run of contiguous audio windows, as `plan`
    /// counts them).
    pub audio_listings: u64,
    /// Files downloaded.
    pub files: u64,
    /// HTTP requests made.
    pub http_requests: u64,
    /// Bytes downloaded.
    pub bytes: u64,
    /// Wall time.
    pub wall_seconds: f64,
    /// Whether it was interrupted.
    pub interrupted: bool,
    /// Items left for the next run (interrupted runs).
    pub remaining: usize,
    /// Rows of the `data_dir`'s index after the run.
    pub index_rows: usize,
    /// Every failed item.
    pub failures: Vec<Failure>,
}

/// Item counts of one manifest's run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ItemCounts {
    /// Items in the plan (fetch and clip).
    pub total: usize,
    /// Done before the run.
    pub done_before: usize,
    /// Fetched or made in this run.
    pub fetched: usize,
    /// ONC has no data for them.
    pub no_data: usize,
    /// Failed.
    pub failed: usize,
}

/// Runs each manifest's plan against its own lockfile, one after another, stopping after an
/// interrupted one. Each finished manifest is reported ([`OpEvent::Ran`]) before the next
/// starts.
///
/// # Errors
/// [`OpsError::Input`] before anything ran; [`OpsError::Usage`] for `--lockfile` with several
/// manifests or a missing token; [`OpsError::OverBudget`] when the estimate passes
/// [`RunOptions::max_bytes`] (nothing ran); runtime errors (lockfile, connection) stop the run, the
/// manifests done so far having been reported.
pub async fn run(
    options: RunOptions,
    reporter: Arc<dyn Reporter>,
    cancel: CancellationToken,
) -> Result<RunSummary, OpsError> {
    options.state.check(options.manifests.len())?;
    let planned = super::load_and_plan_each(
        &options.manifests,
        options.data_dir.as_deref(),
        &options.limits,
    )?;
    if let Some(allowed) = options.max_bytes {
        let estimated = estimate_to_fetch(&planned, &options.state);
        if estimated > allowed {
            return Err(OpsError::OverBudget { estimated, allowed });
        }
    }
    let mut runner = Runner::new(options.net, options.state, reporter, cancel);
    runner.run_all(planned).await
}

/// What consecutive runs of one operation share: the connection, the reporter, the token.
pub(super) struct Runner {
    conn: Connection,
    state: StateOptions,
    reporter: Arc<dyn Reporter>,
    cancel: CancellationToken,
}

impl Runner {
    pub(super) fn new(
        net: NetOptions,
        state: StateOptions,
        reporter: Arc<dyn Reporter>,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            conn: Connection::new(net),
            state,
            reporter,
            cancel,
        }
    }

    pub(super) fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Runs each `(manifest, plan)` in turn; stops after an interrupted one.
    pub(super) async fn run_all(
        &mut self,
        planned: Vec<(Manifest, Plan)>,
    ) -> Result<RunSummary, OpsError> {
        let mut summary = RunSummary::default();
        for (m, plan) in planned {
            let Some(r) = self.run_one(&m, &plan).await? else {
                summary.interrupted = true;
                break;
            };
            let stop = r.interrupted;
            summary.add(r);
            if stop {
                break;
            }
        }
        Ok(summary)
    }

    /// Runs one manifest's plan: open its state, execute what is pending, report. `None` when
    /// cancelled while waiting for a busy lockfile (nothing ran).
    pub(super) async fn run_one(
        &mut self,
        manifest: &Manifest,
        plan: &Plan,
    ) -> Result<Option<ManifestRun>, OpsError> {
        let started = Instant::now();
        let reporter = Arc::clone(&self.reporter);
        let options = self.state.open_options();
        // Waiting for another process's guard blocks: do it off the runtime, and give up when
        // cancelled.
        let paths = StatePaths::for_manifest(manifest, options.lockfile.as_deref());
        let held = {
            let paths = paths.clone();
            let reporter = Arc::clone(&reporter);
            let wait = options.wait;
            let task = tokio::task::spawn_blocking(move || {
                crate::dataset::take_guard(&paths, wait, exec_reporter(reporter.as_ref()))
            });
            tokio::select! {
                r = task => r??,
                () = self.cancel.cancelled() => return Ok(None),
            }
        };
        let mut session = crate::dataset::open_held(
            paths,
            held,
            plan,
            &options,
            exec_reporter(reporter.as_ref()),
        )?;
        if self.state.retry_no_data {
            forget_no_data(&mut session.lock, plan);
        }
        let mut pending = crate::dataset::pending(&session, plan);
        let manifest_name = manifest
            .sources
            .first()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let fetch_ids: Vec<String> = pending
            .job
            .spectrograms
            .iter()
            .flat_map(|g| g.items.iter())
            .chain(pending.job.audio.iter().flat_map(|g| g.items.iter()))
            .map(|i| i.id.clone())
            .collect();
        let mut screened = super::online::Screened::default();
        let client = if crate::dataset::needs_network(&pending.job) {
            let client = self.conn.client().await?;
            // Before any job is submitted: unknown devices stop here, windows outside every
            // deployment are locked as no data.
            screened = super::online::screen(
                &client,
                &manifest_name,
                &mut pending.job,
                &mut session.lock,
                exec_reporter(reporter.as_ref()),
            )
            .await?;
            session.deployments = std::mem::take(&mut screened.deployments);
            Some(client)
        } else {
            None
        };
        let audio_listings = pending.job.audio.len() as u64;
        let report = crate::dataset::execute(
            &mut session,
            plan,
            pending,
            client,
            self.conn.exec_config(),
            Arc::clone(&reporter) as Arc<dyn crate::exec::Reporter>,
            self.cancel.clone(),
        )
        .await?;
        let interrupted = report.outcome.interrupted || self.cancel.is_cancelled();
        let run = ManifestRun {
            manifest: manifest_name,
            lockfile: session.paths.lock.display().to_string(),
            plan_hash: plan.hash.clone(),
            items: ItemCounts {
                total: report.total,
                done_before: report.done_before,
                fetched: report.outcome.fetched,
                no_data: report.outcome.no_data + screened.skipped,
                failed: report.outcome.failures.len(),
            },
            onc_requests: report.outcome.onc_requests,
            audio_listings,
            files: files_of(&session.lock, &fetch_ids),
            http_requests: report.http_requests,
            bytes: report.bytes,
            wall_seconds: started.elapsed().as_secs_f64(),
            interrupted,
            remaining: report.outcome.remaining,
            index_rows: report.index_rows,
            failures: report.outcome.failures,
        };
        self.reporter.op(&OpEvent::Ran(&run));
        Ok(Some(run))
    }
}

/// The distinct files the lockfile records for `ids`.
fn files_of(lock: &crate::lock::Lockfile, ids: &[String]) -> u64 {
    let files: std::collections::HashSet<&str> = ids
        .iter()
        .filter_map(|id| lock.get(id))
        .flat_map(|e| e.files.iter().map(|f| f.path.as_str()))
        .collect();
    files.len() as u64
}

/// The estimated bytes still to download for every manifest, from its lockfile as it is now
/// (read only; a missing or unreadable lockfile counts as empty, as the run will find it).
fn estimate_to_fetch(planned: &[(Manifest, Plan)], state: &super::StateOptions) -> u64 {
    planned
        .iter()
        .map(|(m, plan)| {
            let lock = StatePaths::for_manifest(m, state.lockfile.as_deref())
                .load_lock()
                .unwrap_or_default();
            let data_dir = &plan.context.data_dir;
            let done: std::collections::HashSet<crate::domain::ItemId> = plan
                .fetch_items()
                .map(|f| f.id)
                .filter(|id| {
                    let hex = id.hex();
                    lock.is_satisfied(hex.as_str(), data_dir)
                        && !(state.retry_no_data
                            && lock
                                .get(hex.as_str())
                                .is_some_and(|e| e.status == crate::lock::Status::NoData))
                })
                .collect();
            crate::plan::estimate::estimate(
                plan,
                &done,
                &std::collections::HashSet::new(),
                None::<&std::collections::HashMap<_, _>>,
            )
            .totals
            .bytes
        })
        .sum()
}

/// Forgets the lockfile's no-data records of the plan's items, so that they run again.
fn forget_no_data(lock: &mut crate::lock::Lockfile, plan: &Plan) {
    let ids: Vec<String> = plan
        .items
        .iter()
        .map(|i| i.id().hex().as_str().to_owned())
        .filter(|id| {
            lock.get(id)
                .is_some_and(|e| e.status == crate::lock::Status::NoData)
        })
        .collect();
    for id in ids {
        let _ = lock.remove(&id);
    }
}

/// The executor's view of a reporter.
fn exec_reporter(r: &dyn Reporter) -> &dyn crate::exec::Reporter {
    r
}
