//! `hydrofetch watch MANIFEST… | DIR`: run, then re-plan and fetch only what changed whenever
//! a manifest or a request file it references changes (or, for a folder, a new manifest
//! appears in it).
//!
//! An invalid edit prints its errors, as `plan` does, and the last good plan stays in force;
//! outputs are never deleted (items removed from a manifest are reported as orphaned:
//! `hydrofetch gc` removes them when asked). Changes that arrive during a run are queued by
//! the watcher and applied after it. Only a change of content counts (see [`crate::watch`]):
//! the watch's own reads and the files its runs write (lockfile, journal, index) never start a
//! re-plan. Ctrl-C or SIGTERM during a run stops as `run` does; while idle it exits at once;
//! either way with 130.

use super::Outcome;
use super::run::{NetArgs, OutputArgs, RunCtx, StateArgs};
use crate::domain::ItemId;
use crate::manifest::Manifest;
use crate::plan::Plan;
use crate::watch::{Change, ChangeKind, FileWatcher, WatchSet};
use futures::FutureExt;
use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
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

/// The manifest files named or found in the named folders (skipping what runs write there,
/// as `outputs` knows it), and the folders.
fn manifest_paths(paths: &[PathBuf], outputs: &WatchSet) -> (Vec<PathBuf>, BTreeSet<PathBuf>) {
    let mut files = Vec::new();
    let mut folders = BTreeSet::new();
    for p in paths {
        if p.is_dir() {
            folders.insert(p.clone());
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
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

/// SIGINT and SIGTERM, listened to for the whole watch, so that a signal arriving between two
/// runs (when no run is listening) is not lost: once tokio handles a signal, its default
/// action (ending the process) is gone for good.
struct Stop {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Stop {
    fn new() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Waits for a stop signal (cancel-safe).
    async fn requested(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }

    /// Whether a stop signal has arrived and not been acted on.
    fn pending(&mut self) -> bool {
        self.requested().now_or_never().is_some()
    }
}

async fn watch(args: WatchArgs) -> anyhow::Result<Outcome> {
    let quiet = args.out.json();
    let mut stop = Stop::new()?;
    let mut watcher = FileWatcher::new(Duration::from_millis(args.debounce_ms))?;
    // What is watched, and what runs write (so that it is never taken for a manifest).
    let mut set = WatchSet::default();
    let (mut files, folders) = manifest_paths(&args.paths, &set);
    set.folders = folders;
    set.files = files.iter().cloned().collect();
    // Watch before the first load, so that an edit made while loading is not missed.
    watcher.set(&set)?;
    let mut current: Option<(Vec<Manifest>, Plan)> = load_and_plan(&files, args.limits);
    if current.is_none() && set.folders.is_empty() {
        say(
            quiet,
            "the manifests have errors; fix them and save to start",
        );
    }
    let mut outcome = Outcome::Success;
    let mut pending_run = current.is_some();
    let mut ctx = RunCtx::new(args.net.clone(), args.out, StateArgs::default());
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
            if stop.pending() {
                ctx.finish();
                return Ok(Outcome::Interrupted);
            }
            // Each manifest runs against its own lockfile; a run handles Ctrl-C and SIGTERM
            // itself (cancels ONC jobs, saves the lockfile).
            outcome = Outcome::Success;
            for m in manifests {
                let Some(plan) = super::plan::build_within(std::slice::from_ref(m), args.limits)
                else {
                    continue;
                };
                let o = ctx.run_one(m, plan).await?;
                outcome = outcome.max(o);
                if o == Outcome::Interrupted || stop.pending() {
                    ctx.finish();
                    return Ok(Outcome::Interrupted);
                }
            }
            say(
                quiet,
                &format!(
                    "up to date; watching {} files for changes (Ctrl-C to stop)",
                    set.files.len()
                ),
            );
        }
        pending_run = false;

        let changed = tokio::select! {
            c = watcher.next_change() => c,
            () = stop.requested() => {
                ctx.finish();
                return Ok(Outcome::Interrupted);
            }
        };
        let Some(changed) = changed else {
            return Ok(outcome);
        };
        (files, _) = manifest_paths(&args.paths, &set);
        let what = match load_and_plan(&files, args.limits) {
            None => "errors above; keeping the last good plan and watching".into(),
            Some((manifests, plan)) => {
                let delta = delta(current.as_ref().map(|(_, p)| p), &plan);
                pending_run = true;
                current = Some((manifests, plan));
                delta
            }
        };
        say(quiet, &format!("changed: {} ({what})", describe(&changed)));
    }
}

/// `+A items, -R`, for the items a new plan adds and removes.
fn delta(old: Option<&Plan>, new: &Plan) -> String {
    let old: HashSet<ItemId> = old
        .map(|p| p.items.iter().map(|i| *i.id()).collect())
        .unwrap_or_default();
    let new: HashSet<ItemId> = new.items.iter().map(|i| *i.id()).collect();
    let added = new.difference(&old).count();
    let removed = old.difference(&new).count();
    let note = if removed > 0 {
        "; removed items stay on disk: `hydrofetch gc` deletes them"
    } else {
        ""
    };
    format!("+{added} items, -{removed}{note}")
}

/// The changed files, relative to the current folder where they are under it.
fn describe(changes: &[Change]) -> String {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| std::fs::canonicalize(d).ok());
    let names: Vec<String> = changes
        .iter()
        .map(|c| {
            let shown = cwd
                .as_deref()
                .and_then(|d| c.path.strip_prefix(d).ok())
                .unwrap_or(&c.path)
                .display();
            match c.kind {
                ChangeKind::Edited => shown.to_string(),
                ChangeKind::Appeared => format!("{shown} (new)"),
                ChangeKind::Removed => format!("{shown} (deleted)"),
            }
        })
        .collect();
    names.join(", ")
}
