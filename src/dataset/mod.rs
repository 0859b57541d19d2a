//! The dataset operations end to end: open a manifest's state (lockfile, guard, journal),
//! diff its plan against the lockfile, execute, and keep the `data_dir`'s index true; `gc`,
//! `verify` and repair. [`crate::ops`] strings these calls into the operations (run, plan,
//! verify, gc, watch) that the CLI and tests call; everything here is testable in-process.
//!
//! # State of a manifest
//! For a manifest `dir/range.toml` (or `--lockfile dir/range.toml.lock`):
//! - `dir/range.toml.lock`: the lockfile ([`crate::lock`]), committed with the manifest;
//! - `dir/.hydrofetch/range.toml.lock.guard`: the advisory lock held by whoever works on it
//!   ([`guard`]);
//! - `dir/.hydrofetch/range.toml.lock.journal`: ONC jobs in flight, for resuming after a crash
//!   ([`crate::exec::journal`]); gone when nothing is in flight.
//! - `dir/.hydrofetch/range.toml.lock.record`: items finished by a run, one line each
//!   ([`crate::exec::record`]); folded into the lockfile at the end of the run, or when the
//!   state is next opened after a crash.
//!
//! `.hydrofetch/` folders (beside manifests and in a `data_dir`) hold local state: never commit
//! them; the lockfile is what to commit.
//!
//! A manifest given on the command line (the shortcuts) has its lockfile in its `data_dir`.
//!
//! # State of a `data_dir`
//! Several manifests may write into one `data_dir`. It lists the lockfiles that do in
//! `.hydrofetch/lockfiles.toml` ([`registry`]), guarded by `.hydrofetch/guard`; `index.csv`/`index.json` are the union of their
//! outputs, rewritten under the `data_dir`'s guard after every run, gc and repair.
//!
//! # Version-1 lockfiles
//! hydrofetch before lockfile version 2 wrote one `hydrofetch.lock` per folder, shared by every
//! manifest in it. When a manifest has no lockfile of its own yet and that file is beside it,
//! the entries of the manifest's plan are copied into its own lockfile, once, with a notice; the
//! old file is left for the folder's other manifests.

pub(crate) mod describe;
pub(crate) mod guard;
pub(crate) mod registry;
mod stamp;

use crate::exec::{ExecConfig, ExecEvent, ExecOutcome, Job, Reporter, RunPaths};
use crate::lock::{LEGACY_LOCK_FILE_NAME, LockError, LockRequest, Lockfile, Mismatch};
use crate::manifest::{Loc, Manifest};
use crate::onc::Client;
use crate::plan::Plan;
use guard::{Guard, GuardError, Wait};
use registry::Registry;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Errors of the dataset operations (all runtime errors: exit 1).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// The lockfile could not be read or written.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// Another process holds the manifest's lockfile, or the guard could not be taken.
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// The executor's bookkeeping failed.
    #[error(transparent)]
    Exec(#[from] crate::exec::ExecError),
    /// A file or folder could not be read, written or removed.
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done (`write the index in`, `remove`...).
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> DatasetError {
    let path = path.to_owned();
    move |source| DatasetError::Io {
        action,
        path,
        source,
    }
}

/// Where a manifest's state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatePaths {
    /// The lockfile.
    pub lock: PathBuf,
    /// The resume journal.
    pub journal: PathBuf,
    /// The record of finished items, not yet compacted into the lockfile.
    pub record: PathBuf,
    /// The guard file.
    pub guard: PathBuf,
}

impl StatePaths {
    /// The state files of the lockfile `lock`.
    #[must_use]
    pub(crate) fn for_lock(lock: PathBuf) -> Self {
        let name = lock
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let state = lock.with_file_name(registry::STATE_DIR);
        Self {
            journal: state.join(format!("{name}.journal")),
            record: state.join(format!("{name}.record")),
            guard: state.join(format!("{name}.guard")),
            lock,
        }
    }

    /// The lockfile as the manifest's runs left it: the file, plus the items a running or
    /// killed run recorded but has not compacted into it yet. Read-only: changes nothing on
    /// disk, takes no guard.
    ///
    /// # Errors
    /// [`LockError`] when the lockfile or the record cannot be read.
    pub(crate) fn load_lock(&self) -> Result<Lockfile, LockError> {
        let mut lock = Lockfile::load(&self.lock)?;
        let _ = crate::exec::record::fold(&self.record, &mut lock)?;
        Ok(lock)
    }

    /// The state of a manifest: `NAME.lock` beside its file, `lockfile` when given, or
    /// `data_dir/hydrofetch.lock` for a manifest built from the command line.
    #[must_use]
    pub(crate) fn for_manifest(manifest: &Manifest, lockfile: Option<&Path>) -> Self {
        let lock = match (lockfile, manifest.sources.first()) {
            (Some(l), _) => l.to_path_buf(),
            (None, Some(file)) => crate::lock::lock_path_for(file),
            (None, None) => manifest.data_dir.join(LEGACY_LOCK_FILE_NAME),
        };
        Self::for_lock(lock)
    }
}

/// How to open a manifest's state.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpenOptions {
    /// `--lockfile`: use this lockfile instead of the manifest's own.
    pub lockfile: Option<PathBuf>,
    /// Wait for, or refuse, a busy lockfile.
    pub wait: Wait,
}

/// A manifest's state, held exclusively: its lockfile loaded, its guard taken.
#[derive(Debug)]
pub(crate) struct Session {
    /// Where the state lives.
    pub paths: StatePaths,
    /// Where outputs go.
    pub data_dir: PathBuf,
    /// The lockfile, as loaded (and migrated, annotated).
    pub lock: Lockfile,
    /// The deployments ONC gave for the devices of this run (the online checks read them),
    /// recorded on the items that finish ([`describe::fill_deployments`]).
    pub deployments: describe::Deployments,
    _guard: Guard,
}

/// Says something to the user through a reporter.
fn notice(reporter: &dyn Reporter, message: String) {
    reporter.event(&ExecEvent::Notice { message });
}

/// Opens the state of `manifest` for `plan` (the plan of this manifest alone): takes its guard
/// (waiting, with a notice, or failing with `--no-wait`), loads its lockfile, migrates entries
/// from a version-1 `hydrofetch.lock` beside it, removes temporary files of killed runs, and
/// brings the lockfile's descriptive fields up to date with the plan.
///
/// # Errors
/// [`DatasetError`].
pub(crate) fn open(
    manifest: &Manifest,
    plan: &Plan,
    options: &OpenOptions,
    reporter: &dyn Reporter,
) -> Result<Session, DatasetError> {
    let paths = StatePaths::for_manifest(manifest, options.lockfile.as_deref());
    let held = take_guard(&paths, options.wait, reporter)?;
    open_held(paths, held, plan, options, reporter)
}

/// Takes the guard of a manifest's state: waits (with a notice) while another process holds
/// it, or fails with [`Wait::NoWait`]. The only step of [`open`] that may block for long, so
/// that an async caller can run it on a blocking thread alone.
///
/// # Errors
/// [`DatasetError::Guard`].
pub(crate) fn take_guard(
    paths: &StatePaths,
    wait: Wait,
    reporter: &dyn Reporter,
) -> Result<Guard, DatasetError> {
    let what = paths.lock.display().to_string();
    Ok(guard::acquire(&paths.guard, &what, wait, |holder| {
        notice(
            reporter,
            format!("waiting for process {holder}, which is working on {what}"),
        );
    })?)
}

/// [`open`] once its guard is held.
///
/// # Errors
/// [`DatasetError`].
pub(crate) fn open_held(
    paths: StatePaths,
    held: Guard,
    plan: &Plan,
    options: &OpenOptions,
    reporter: &dyn Reporter,
) -> Result<Session, DatasetError> {
    let data_dir = plan.context.data_dir.clone();
    let mut lock = Lockfile::load(&paths.lock)?;
    let existed = paths.lock.exists();
    // Items a killed run finished but did not compact.
    let folded = crate::exec::record::fold(&paths.record, &mut lock)?;
    if folded.items + folded.skipped > 0 {
        notice(
            reporter,
            format!(
                "recovered {} finished items of an interrupted run from {}{}",
                folded.items,
                paths.record.display(),
                match folded.skipped {
                    0 => String::new(),
                    n => format!(" ({n} damaged lines skipped)"),
                }
            ),
        );
    }
    if !existed && options.lockfile.is_none() {
        migrate_legacy(&paths, plan, &mut lock, reporter)?;
    }
    sweep_leftovers(&paths, &data_dir, reporter);
    annotate(&mut lock, plan, &paths.lock);
    // A lockfile from before the media fields gets them from its files, offline.
    let _ = describe::fill_media(&mut lock, &data_dir);
    let _ = describe::fill_deployments(&mut lock, &describe::Deployments::new());
    if let Some(dir) = paths.lock.parent() {
        let base = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        lock.set_data_dir(
            registry::relative(&data_dir, base).map_err(io_err("resolve", &data_dir))?,
        );
    }
    if existed || !lock.is_empty() {
        lock.save(&paths.lock)?;
    }
    crate::exec::record::remove(&paths.record)?;
    Ok(Session {
        paths,
        data_dir,
        lock,
        deployments: describe::Deployments::new(),
        _guard: held,
    })
}

/// Copies the plan's entries from a version-1 `hydrofetch.lock` beside the lockfile.
fn migrate_legacy(
    paths: &StatePaths,
    plan: &Plan,
    lock: &mut Lockfile,
    reporter: &dyn Reporter,
) -> Result<(), DatasetError> {
    let legacy = paths.lock.with_file_name(LEGACY_LOCK_FILE_NAME);
    if legacy == paths.lock || !legacy.exists() {
        return Ok(());
    }
    let old = Lockfile::load(&legacy)?;
    let mut moved = 0;
    for item in &plan.items {
        if let Some(e) = old.get(item.id().hex().as_str()) {
            lock.insert(e.clone());
            moved += 1;
        }
    }
    if moved > 0 {
        notice(
            reporter,
            format!(
                "migrated {moved} of {} items from {} (shared by the manifests of that folder) into {}; \
                 {LEGACY_LOCK_FILE_NAME} stays for the folder's other manifests: delete it once each has run",
                old.len(),
                legacy.display(),
                paths.lock.display()
            ),
        );
    }
    Ok(())
}

/// Fills each locked item's descriptive fields from the plan (labels may change without
/// changing an item's identity): a clip's window, and every request it serves (request file
/// relative to the lockfile's folder, row or line, the request's own time, label,
/// description); its `label` and `description` are the first request's. A fetch item asked
/// for by requests that are not clipped (request files) gets those requests the same way, so
/// its whole-file rows in the index carry them too.
fn annotate(lock: &mut Lockfile, plan: &Plan, lock_path: &Path) {
    let base = match lock_path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // A plan names a handful of request files: resolve each once.
    let mut files: std::collections::HashMap<std::sync::Arc<Path>, String> =
        std::collections::HashMap::new();
    let mut locked = |requests: &[crate::plan::ClipRequest]| -> Vec<LockRequest> {
        requests
            .iter()
            .map(|r| LockRequest {
                file: files
                    .entry(std::sync::Arc::clone(&r.origin.file))
                    .or_insert_with(|| {
                        registry::relative(&r.origin.file, base)
                            .unwrap_or_else(|_| r.origin.file.display().to_string())
                    })
                    .clone(),
                row: match r.origin.loc {
                    Loc::Row(n) => n,
                    Loc::Pos { line, .. } => u64::from(line),
                    Loc::Unknown => 0,
                },
                time: r
                    .time
                    .map(crate::time::UtcInstant::to_onc_string)
                    .unwrap_or_default(),
                label: r.label.clone().unwrap_or_default(),
                description: r.description.clone().unwrap_or_default(),
            })
            .collect()
    };
    // `modify`: a lockfile whose items already say all this is not changed (nor written).
    for c in plan.clip_items() {
        if lock.get(c.id.hex().as_str()).is_none() {
            continue;
        }
        let first = c.requests.first();
        let requests = locked(&c.requests);
        lock.modify(c.id.hex().as_str(), |e| {
            e.label = first.and_then(|r| r.label.clone()).unwrap_or_default();
            e.description = first
                .and_then(|r| r.description.clone())
                .unwrap_or_default();
            e.start = c.start.to_onc_string();
            e.end = c.end.to_onc_string();
            e.window.clear();
            e.requests = requests;
        });
    }
    for (id, requests) in &plan.fetch_requests {
        if lock.get(id.hex().as_str()).is_none() {
            continue;
        }
        let first = requests.first();
        let locked = locked(requests);
        lock.modify(id.hex().as_str(), |e| {
            e.label = first.and_then(|r| r.label.clone()).unwrap_or_default();
            e.description = first
                .and_then(|r| r.description.clone())
                .unwrap_or_default();
            e.requests = locked;
        });
    }
}

/// Removes temporary files that killed runs left in `data_dir` and beside the lockfile.
fn sweep_leftovers(paths: &StatePaths, data_dir: &Path, reporter: &dyn Reporter) {
    let mut removed = crate::atomic::sweep_stale(data_dir, true);
    if let Some(dir) = paths.lock.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        removed += crate::atomic::sweep_stale(dir, false);
    }
    if removed > 0 {
        notice(
            reporter,
            format!("removed {removed} temporary files left by an interrupted run"),
        );
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
#[must_use]
pub(crate) struct RunReport {
    /// Items of the plan (fetch and clip).
    pub total: usize,
    /// Items already done before the run.
    pub done_before: usize,
    /// What the executor did.
    pub outcome: ExecOutcome,
    /// HTTP requests made.
    pub http_requests: u64,
    /// Bytes downloaded.
    pub bytes: u64,
    /// Rows of the `data_dir`'s index after the run.
    pub index_rows: usize,
}

/// The work a session still has for a plan.
#[must_use]
pub(crate) fn pending(session: &Session, plan: &Plan) -> crate::exec::Pending {
    crate::exec::pending(plan, &session.lock, &session.data_dir)
}

/// Whether a job needs the network (it has fetches; clips alone are made from disk).
#[must_use]
pub(crate) fn needs_network(job: &Job) -> bool {
    !job.spectrograms.is_empty() || !job.audio.is_empty()
}

/// Executes `pending` for the session: fetches (with `client`, required when the job needs the
/// network; a clips-only job needs none), makes clips (also when every source was already done), records every finished
/// item in the lockfile, and rewrites the `data_dir`'s index, also when nothing was to do.
///
/// # Errors
/// [`DatasetError`] when bookkeeping fails; item failures are in the report.
pub(crate) async fn execute(
    session: &mut Session,
    plan: &Plan,
    pending: crate::exec::Pending,
    client: Option<Client>,
    config: ExecConfig,
    reporter: Arc<dyn Reporter>,
    cancel: CancellationToken,
) -> Result<RunReport, DatasetError> {
    let crate::exec::Pending {
        job,
        total,
        done_before,
    } = pending;
    let mut report = RunReport {
        total,
        done_before,
        ..RunReport::default()
    };
    if job.item_count() + job.clips.len() > 0 {
        reporter.event(&ExecEvent::Started {
            total,
            done_before,
            requests: job.spectrograms.len(),
            listings: job.audio.len(),
        });
        report.outcome = crate::exec::execute(
            client.clone(),
            job,
            &run_paths(session),
            &mut session.lock,
            config,
            Arc::clone(&reporter),
            cancel,
        )
        .await?;
        if let Some(stats) = client.as_ref().map(Client::stats) {
            report.http_requests = stats
                .http_requests
                .load(std::sync::atomic::Ordering::Relaxed);
            report.bytes = stats.bytes.load(std::sync::atomic::Ordering::Relaxed);
        }
    }
    annotate(&mut session.lock, plan, &session.paths.lock);
    let _ = describe::fill_media(&mut session.lock, &session.data_dir);
    let _ = describe::fill_deployments(&mut session.lock, &session.deployments);
    let paths = run_paths(session);
    crate::exec::compact(&mut session.lock, &paths)?;
    report.index_rows = refresh_index(&session.data_dir, &session.paths.lock, &session.lock)?;
    Ok(report)
}

fn run_paths(session: &Session) -> RunPaths {
    RunPaths {
        data_dir: session.data_dir.clone(),
        lock: session.paths.lock.clone(),
        journal: session.paths.journal.clone(),
        record: session.paths.record.clone(),
    }
}

/// Registers `own_path` in the `data_dir` and rewrites its index from every registered
/// lockfile (`own` in memory, the others from disk), under the `data_dir`'s guard. Returns the
/// number of index rows.
///
/// # Errors
/// [`DatasetError`] when the guard, the registry or the index cannot be written.
pub(crate) fn refresh_index(
    data_dir: &Path,
    own_path: &Path,
    own: &Lockfile,
) -> Result<usize, DatasetError> {
    let view = DataDirView::take_registry(data_dir, own_path)?;
    // Nothing changed since the index was written (a run with nothing to do): leave it, and
    // read none of the other lockfiles.
    if own.is_saved_at(own_path)
        && let Some(rows) = stamp::unchanged(data_dir, &view.reg)
    {
        return Ok(rows);
    }
    view.read_others(data_dir).write(data_dir, own)
}

/// A `data_dir`'s registry and the other lockfiles writing into it, read under its guard,
/// which is held until the view is dropped (so that what gc decides from it still holds when
/// the index is written).
struct DataDirView {
    _held: Guard,
    reg: Registry,
    own_rel: String,
    others: Vec<(String, Lockfile)>,
}

impl DataDirView {
    /// Takes the guard, registers `own_path` and reads the other registered lockfiles.
    fn take(data_dir: &Path, own_path: &Path) -> Result<Self, DatasetError> {
        Ok(Self::take_registry(data_dir, own_path)?.read_others(data_dir))
    }

    /// Takes the guard and registers `own_path` (in memory), reading no other lockfile yet.
    fn take_registry(data_dir: &Path, own_path: &Path) -> Result<Self, DatasetError> {
        fs_err::create_dir_all(data_dir).map_err(io_err("create", data_dir))?;
        let held = data_dir_guard(data_dir)?;
        let mut reg = Registry::load(data_dir);
        let own_rel =
            registry::relative(own_path, data_dir).map_err(io_err("resolve", own_path))?;
        reg.lockfiles.insert(own_rel.clone());
        Ok(Self {
            _held: held,
            reg,
            own_rel,
            others: Vec::new(),
        })
    }

    /// Reads the other registered lockfiles (dropping stale registrations).
    fn read_others(mut self, data_dir: &Path) -> Self {
        self.others = other_lockfiles(data_dir, &mut self.reg, &self.own_rel);
        self
    }

    /// Every file the other lockfiles record.
    fn others_files(&self) -> HashSet<String> {
        self.others
            .iter()
            .flat_map(|(_, l)| {
                l.entries()
                    .flat_map(|e| e.files.iter().map(|f| f.path.clone()))
            })
            .collect()
    }

    /// Writes the index (`own` and the others) and the registry; returns the index's rows.
    fn write(self, data_dir: &Path, own: &Lockfile) -> Result<usize, DatasetError> {
        let mut rows =
            crate::index::union(std::iter::once(own).chain(self.others.iter().map(|(_, l)| l)));
        stamp::clear(data_dir);
        crate::index::write_index(data_dir, &mut rows)
            .map_err(io_err("write the index in", data_dir))?;
        self.reg
            .save(data_dir)
            .map_err(io_err("write the registry in", data_dir))?;
        stamp::record(data_dir, &self.reg, rows.len());
        Ok(rows.len())
    }
}

/// The other lockfiles registered in `data_dir` that still write into it; entries whose
/// lockfile is gone or now writes elsewhere are dropped from `reg`. An unreadable lockfile
/// stays registered and is skipped.
fn other_lockfiles(data_dir: &Path, reg: &mut Registry, own_rel: &str) -> Vec<(String, Lockfile)> {
    let here = registry::absolute_clean(data_dir).ok();
    let mut keep = BTreeSet::new();
    let mut out = Vec::new();
    for (rel, abs) in reg.resolved(data_dir) {
        if rel == own_rel {
            keep.insert(rel.clone());
            continue;
        }
        if !abs.is_file() {
            continue;
        }
        let Ok(lock) = Lockfile::load(&abs) else {
            keep.insert(rel.clone());
            continue;
        };
        let base = abs.parent().unwrap_or(Path::new("."));
        let theirs = registry::absolute_clean(&base.join(lock.data_dir())).ok();
        if lock.data_dir().is_empty() || theirs != here {
            continue;
        }
        keep.insert(rel.clone());
        out.push((rel.clone(), lock));
    }
    reg.lockfiles = keep;
    out
}

/// Takes the `data_dir`'s guard (held briefly: registry and index updates).
fn data_dir_guard(data_dir: &Path) -> Result<Guard, DatasetError> {
    Ok(guard::acquire(
        &registry::guard_path(data_dir),
        &data_dir.display().to_string(),
        Wait::Block,
        |_| {},
    )?)
}

/// What `gc` removed (or, dry, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct GcReport {
    /// Locked items the plan no longer has.
    pub orphans: usize,
    /// Files removed (paths relative to `data_dir`), sorted.
    pub removed: Vec<String>,
    /// Files of orphaned items kept because another lockfile records them.
    pub kept_for_others: Vec<String>,
}

/// Forgets the session's locked items that `plan` no longer has and removes their files,
/// unless an item still planned or another lockfile writing into the same `data_dir` records
/// them. With `dry_run`, changes nothing. The index is rewritten afterwards.
///
/// # Errors
/// [`DatasetError`].
pub(crate) fn gc(
    session: &mut Session,
    plan: &Plan,
    dry_run: bool,
) -> Result<GcReport, DatasetError> {
    let wanted: HashSet<String> = plan.items.iter().map(|i| i.id().to_string()).collect();
    let orphans: Vec<String> = session
        .lock
        .entries()
        .filter(|e| !wanted.contains(e.id.as_str()))
        .map(|e| e.id.clone())
        .collect();
    let kept: HashSet<String> = session
        .lock
        .entries()
        .filter(|e| wanted.contains(e.id.as_str()))
        .flat_map(|e| e.files.iter().map(|f| f.path.clone()))
        .collect();
    // The data_dir's guard is held from here to the index rewrite: no other manifest can
    // record a file between the decision and the removal.
    let view = DataDirView::take(&session.data_dir, &session.paths.lock)?;
    let others = view.others_files();
    let mut report = GcReport {
        orphans: orphans.len(),
        ..GcReport::default()
    };
    let mut doomed = BTreeSet::new();
    let mut shared = BTreeSet::new();
    for id in &orphans {
        for f in session
            .lock
            .get(id)
            .map(|e| e.files.clone())
            .unwrap_or_default()
        {
            if kept.contains(&f.path) {
                continue;
            }
            if others.contains(&f.path) {
                shared.insert(f.path);
            } else {
                doomed.insert(f.path);
            }
        }
    }
    report.kept_for_others = shared.into_iter().collect();
    if !dry_run {
        for p in &doomed {
            remove_if_present(&session.data_dir.join(p))?;
        }
        for id in &orphans {
            let _ = session.lock.remove(id);
        }
        session.lock.save(&session.paths.lock)?;
        view.write(&session.data_dir, &session.lock)?;
    }
    report.removed = doomed.into_iter().collect();
    Ok(report)
}

/// Removes a file; one already gone is fine.
fn remove_if_present(path: &Path) -> Result<(), DatasetError> {
    match fs_err::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err("remove", path)(e)),
        _ => Ok(()),
    }
}

/// Re-hashes every file the session's lockfile records.
#[must_use]
pub(crate) fn verify(session: &Session) -> Vec<Mismatch> {
    session.lock.verify(&session.data_dir)
}

/// Forgets the items whose files do not match (so the next execution fetches or makes them
/// again; a same-size corruption included) and removes the bad files. Returns how many items
/// were forgotten.
///
/// # Errors
/// [`DatasetError`].
pub(crate) fn forget_mismatched(
    session: &mut Session,
    mismatches: &[Mismatch],
) -> Result<usize, DatasetError> {
    let mut ids = BTreeSet::new();
    for m in mismatches {
        let (Mismatch::Missing { id, path } | Mismatch::Changed { id, path, .. }) = m;
        ids.insert(id.clone());
        remove_if_present(&session.data_dir.join(path))?;
    }
    for id in &ids {
        let _ = session.lock.remove(id);
    }
    session.lock.save(&session.paths.lock)?;
    Ok(ids.len())
}
