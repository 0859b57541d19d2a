//! `hydrofetch watch MANIFEST… | DIR`: run, then re-plan and fetch only what changed whenever
//! a manifest or a request file it references changes (or, for a folder, a new manifest
//! appears in it).
//!
//! An invalid edit prints its errors, as `plan` does, and the last good plan stays in force;
//! outputs are never deleted (items removed from a manifest are reported as orphaned:
//! `hydrofetch gc` removes them when asked). Changes that arrive during a run are queued by
//! the watcher and applied after it. Ctrl-C during a run stops as `run` does; while idle it
//! exits at once.

use super::Outcome;
use super::run::{NetArgs, OutputArgs, execute_prepared, prepare};
use crate::manifest::Manifest;
use crate::plan::{ItemId, Plan};
use crate::watch::{FileWatcher, MANIFEST_EXTENSIONS, WatchSet};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Arguments of `hydrofetch watch`.
#[derive(Debug, clap::Args)]
pub(crate) struct WatchArgs {
    /// Manifest files, or folders whose manifest files to watch.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Quiet time before a change is acted on, in milliseconds.
    #[arg(long, default_value_t = 300)]
    debounce_ms: u64,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    limits: super::plan::LimitArgs,
}

/// `hydrofetch watch`.
pub(crate) fn exec(args: WatchArgs) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let r = runtime.block_on(watch(args));
    runtime.shutdown_timeout(Duration::from_millis(200));
    r
}

/// The manifest files named or found in the named folders, and the folders.
fn manifest_paths(paths: &[PathBuf]) -> (Vec<PathBuf>, BTreeSet<PathBuf>) {
    let mut files = Vec::new();
    let mut folders = BTreeSet::new();
    for p in paths {
        if p.is_dir() {
            folders.insert(p.clone());
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            found.retain(|f| is_manifest_file(f));
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    (files, folders)
}

fn is_manifest_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    p.is_file()
        && !name.starts_with('.')
        && name != crate::exec::STATE_FILE_NAME
        && p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| MANIFEST_EXTENSIONS.contains(&e))
}

/// Loads and plans within `limits`; errors are printed and give `None`.
fn load_and_plan(
    files: &[PathBuf],
    limits: super::plan::LimitArgs,
) -> Option<(Vec<Manifest>, Plan)> {
    let manifests = super::plan::load_all(files)?;
    let plan = super::plan::build_within(&manifests, limits)?;
    Some((manifests, plan))
}

#[expect(clippy::print_stderr, reason = "watch reports what it does")]
fn say(quiet: bool, text: &str) {
    if !quiet {
        eprintln!("watch: {text}");
    }
}

async fn watch(args: WatchArgs) -> anyhow::Result<Outcome> {
    let quiet = args.out.json();
    let mut watcher = FileWatcher::new(Duration::from_millis(args.debounce_ms))?;
    let (mut files, folders) = manifest_paths(&args.paths);
    let mut current: Option<(Vec<Manifest>, Plan)> = load_and_plan(&files, args.limits);
    if current.is_none() && folders.is_empty() {
        say(
            quiet,
            "the manifests have errors; fix them and save to start",
        );
    }
    let mut outcome = Outcome::Success;
    let mut pending_run = current.is_some();
    loop {
        // Watch the manifests and every request file they reference.
        let mut watched: BTreeSet<PathBuf> = files.iter().cloned().collect();
        if let Some((ms, _)) = &current {
            watched.extend(ms.iter().flat_map(|m| m.sources.iter().cloned()));
        }
        watcher.set(WatchSet {
            files: watched.clone(),
            folders: folders.clone(),
        })?;

        if pending_run && let Some((manifests, plan)) = &current {
            let prepared = prepare(manifests, plan.clone())?;
            outcome = execute_prepared(prepared, &args.net, args.out).await?;
            if outcome == Outcome::Interrupted {
                return Ok(outcome);
            }
            say(
                quiet,
                &format!(
                    "up to date; watching {} files for changes (Ctrl-C to stop)",
                    watched.len()
                ),
            );
        }
        pending_run = false;

        let changed = tokio::select! {
            c = watcher.next_change() => c,
            _ = tokio::signal::ctrl_c() => return Ok(Outcome::Interrupted),
        };
        let Some(changed) = changed else {
            return Ok(outcome);
        };
        let names: Vec<String> = changed.iter().map(|p| p.display().to_string()).collect();
        say(quiet, &format!("changed: {}", names.join(", ")));
        (files, _) = manifest_paths(&args.paths);
        match load_and_plan(&files, args.limits) {
            None => say(
                quiet,
                "the edit has errors (above); keeping the last good plan and watching",
            ),
            Some((manifests, plan)) => {
                let old: HashSet<ItemId> = current
                    .as_ref()
                    .map(|(_, p)| p.items.iter().map(|i| *i.id()).collect())
                    .unwrap_or_default();
                let new: HashSet<ItemId> = plan.items.iter().map(|i| *i.id()).collect();
                let added = new.difference(&old).count();
                let removed = old.difference(&new).count();
                say(
                    quiet,
                    &format!(
                        "plan delta: +{added} items, -{removed} items{}",
                        if removed > 0 {
                            " (removed items stay on disk; `hydrofetch gc` deletes them)"
                        } else {
                            ""
                        }
                    ),
                );
                pending_run = true;
                current = Some((manifests, plan));
            }
        }
    }
}
