//! `watch`: run, then re-plan and fetch only what changed whenever a manifest or a request
//! file it references changes (or, for a folder, a new manifest appears in it), until the
//! cancellation token fires or the watcher stops.
//!
//! An invalid edit is reported ([`OpEvent::Invalid`]) and the last good plan stays in force;
//! outputs are never deleted (items removed from a manifest are only counted in the
//! [`PlanDelta`]: `gc` removes them when asked). Changes that arrive during a run are queued by
//! the watcher and applied after it. Only a change of content counts (see [`crate::watch`]):
//! the watch's own reads and the files its runs write (lockfile, journal, index) never start a
//! re-plan. Cancelling during a run stops it as [`super::run`] stops; while idle, at once.

use super::connect::NetOptions;
use super::run::{ManifestRun, Runner};
use super::{InputError, Manifests, OpEvent, OpsError, Reporter, StateOptions};
use crate::domain::ItemId;
use crate::manifest::Manifest;
use crate::plan::{Plan, PlanLimits};
use crate::watch::{FileWatcher, WatchSet};
use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What to watch.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Manifest files, or folders whose manifest files to watch.
    pub paths: Vec<PathBuf>,
    /// Quiet time before a change is acted on.
    pub debounce: Duration,
    /// How large a plan may be.
    pub limits: PlanLimits,
    /// How to reach ONC.
    pub net: NetOptions,
}

/// What a new plan adds and removes, compared with the last good one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanDelta {
    /// Items the new plan has and the old one had not.
    pub added: usize,
    /// Items the old plan had and the new one has not (their outputs stay on disk).
    pub removed: usize,
}

/// What a watch did until it stopped.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct WatchSummary {
    /// Every manifest run, in order.
    pub runs: Vec<ManifestRun>,
    /// Valid re-plans triggered by changes.
    pub replans: usize,
    /// Whether it stopped because it was cancelled.
    pub interrupted: bool,
    /// Whether an item failed in the last round of runs.
    pub last_failed: bool,
}

/// Watches and runs until `cancel` fires (or the file watcher stops).
///
/// # Errors
/// [`OpsError::Watch`] when the files cannot be watched; runtime errors of a run. Invalid
/// manifests are reported, not returned.
#[expect(
    clippy::too_many_lines,
    reason = "the watch loop: wait, re-plan, run, report, in one place"
)]
pub async fn watch(
    options: WatchOptions,
    reporter: Arc<dyn Reporter>,
    cancel: CancellationToken,
) -> Result<WatchSummary, OpsError> {
    let WatchOptions {
        paths,
        debounce,
        limits,
        net,
    } = options;
    let mut summary = WatchSummary::default();
    let mut watcher = FileWatcher::new(debounce)?;
    // What is watched, and what runs write (so that it is never taken for a manifest).
    let mut set = WatchSet::default();
    let (mut files, folders) = manifest_paths(&paths, &set);
    set.folders = folders;
    set.files = files.iter().cloned().collect();
    // Watch before the first load, so that an edit made while loading is not missed.
    watcher.set(&set)?;
    let mut current = load_and_plan(&files, &limits, reporter.as_ref());
    if current.is_none() && set.folders.is_empty() {
        reporter.op(&OpEvent::WaitingForFix);
    }
    let mut pending_run = current.is_some();
    let mut runner = Runner::new(
        net,
        StateOptions::default(),
        Arc::clone(&reporter),
        cancel.clone(),
    );
    loop {
        // Watch the manifests and every request file they reference.
        set.files = files.iter().cloned().collect();
        if let Some((ms, _)) = &current {
            set.files
                .extend(ms.iter().flat_map(|m| m.sources.iter().cloned()));
            set.data_dirs = ms.iter().map(|m| m.data_dir.clone()).collect();
        }
        let run_now = match &current {
            Some((manifests, _)) if pending_run => {
                for m in manifests {
                    let paths = crate::dataset::StatePaths::for_manifest(m, None);
                    set.written.extend([paths.lock, paths.journal, paths.guard]);
                }
                true
            }
            _ => false,
        };
        watcher.set(&set)?;

        if run_now && let Some((manifests, _)) = &current {
            if runner.cancelled() {
                summary.interrupted = true;
                return Ok(summary);
            }
            // Each manifest runs against its own lockfile.
            summary.last_failed = false;
            for m in manifests {
                let plan = match super::plan_one(m, &limits) {
                    Ok(p) => p,
                    Err(e) => {
                        reporter.op(&OpEvent::Invalid(&e));
                        continue;
                    }
                };
                let Some(r) = runner.run_one(m, &plan).await? else {
                    summary.interrupted = true;
                    return Ok(summary);
                };
                let stop = r.interrupted;
                summary.last_failed |= r.items.failed > 0;
                summary.runs.push(r);
                if stop || runner.cancelled() {
                    summary.interrupted = true;
                    return Ok(summary);
                }
            }
            reporter.op(&OpEvent::UpToDate {
                files: set.files.len(),
            });
        }
        pending_run = false;

        let changed = tokio::select! {
            c = watcher.next_change() => c,
            () = cancel.cancelled() => {
                summary.interrupted = true;
                return Ok(summary);
            }
        };
        let Some(changed) = changed else {
            return Ok(summary);
        };
        (files, _) = manifest_paths(&paths, &set);
        let delta = match load_and_plan(&files, &limits, reporter.as_ref()) {
            None => None,
            Some((manifests, plan)) => {
                let delta = delta(current.as_ref().map(|(_, p)| p), &plan);
                pending_run = true;
                summary.replans += 1;
                current = Some((manifests, plan));
                Some(delta)
            }
        };
        reporter.op(&OpEvent::Changed {
            changes: &changed,
            delta,
        });
    }
}

/// The manifest files named or found in the named folders (skipping what runs write there,
/// as `outputs` knows it), and the folders.
fn manifest_paths(paths: &[PathBuf], outputs: &WatchSet) -> (Vec<PathBuf>, BTreeSet<PathBuf>) {
    let mut files = Vec::new();
    let mut folders = BTreeSet::new();
    for p in paths {
        if p.is_dir() {
            folders.insert(p.clone());
            let mut found: Vec<PathBuf> = fs_err::read_dir(p)
                .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            found.retain(|f| f.is_file() && outputs.may_be_manifest(f));
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    (files, folders)
}

/// Loads and plans together within `limits`; errors are reported and give `None`.
fn load_and_plan(
    files: &[PathBuf],
    limits: &PlanLimits,
    reporter: &dyn Reporter,
) -> Option<(Vec<Manifest>, Plan)> {
    let planned = Manifests::Files(files.to_vec())
        .load()
        .and_then(|manifests| {
            Plan::build_with(&manifests, limits)
                .map(|plan| (manifests, plan))
                .map_err(InputError::Plan)
        });
    match planned {
        Ok(p) => Some(p),
        Err(e) => {
            reporter.op(&OpEvent::Invalid(&e));
            None
        }
    }
}

/// The items a new plan adds and removes.
fn delta(old: Option<&Plan>, new: &Plan) -> PlanDelta {
    let old: HashSet<ItemId> = old
        .map(|p| p.items.iter().map(|i| *i.id()).collect())
        .unwrap_or_default();
    let new: HashSet<ItemId> = new.items.iter().map(|i| *i.id()).collect();
    PlanDelta {
        added: new.difference(&old).count(),
        removed: old.difference(&new).count(),
    }
}
