//! The scheduler: runs every group of a [`Job`] with bounded concurrency, owns the lockfile and
//! the resume journal, and stops cleanly when cancelled.
//!
//! Group tasks (spectrogram requests, audio listings) send [`Msg`]s to this loop, which is the
//! only code that writes the lockfile and the journal. Tasks send an item's `Done` as soon as
//! the item is provably complete, not when their group ends. The lockfile is saved at most
//! once per `lock_flush` interval while running and always at the end, so a crash loses at
//! most that much bookkeeping (the files themselves are already whole on disk and are fetched
//! again).
//!
//! On cancellation the tasks drop their calls in flight and return; the loop keeps receiving
//! until every task has dropped its sender, so every `Done` sent before the cancel is in the
//! lockfile saved at the end. [`ExecOutcome::remaining`] counts what is left for the next run.
//!
//! Local faults are local: a write that fails on our side (permission, a file where a folder
//! must be) fails its items and is never a reason to resubmit an ONC job. A full disk
//! (ENOSPC, EDQUOT, EFBIG, EROFS) stops the run early: the tasks are cancelled through a child
//! of the user's token (so the run is not "interrupted"), everything finished so far is
//! locked, and the items not done fail with the cause, so the run ends with its summary and
//! exit 1.

use super::clipper;
use super::events::{ExecEvent, Reporter};
use super::job::{ClipJob, Job};
use super::journal::{InFlight, Journal};
use super::{audio, spectro};
use crate::lock::{LockEntry, Lockfile};
use crate::onc::Client;
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Limits and timings of a run.
#[derive(Debug, Clone)]
pub struct ExecConfig {
    /// ONC product requests in flight at once.
    pub max_requests: usize,
    /// File transfers at once.
    pub max_downloads: usize,
    /// Audio listings at once.
    pub max_listings: usize,
    /// How often a failed or expired ONC run is submitted again.
    pub max_resubmits: u32,
    /// Shortest wait between two polls of one request.
    pub poll_min: Duration,
    /// Longest wait between two polls of one request.
    pub poll_max: Duration,
    /// How often the lockfile is saved while running.
    pub lock_flush: Duration,
    /// Transient failures in a row (after the client's own retries) before a poll or a
    /// download gives up and fails its items.
    pub max_failures: u32,
    /// How long one `cancel` of an ONC job may take when the run is interrupted.
    pub cancel_within: Duration,
}

impl Default for ExecConfig {
    fn default() -> Self {
        Self {
            max_requests: 8,
            max_downloads: 8,
            max_listings: 4,
            max_resubmits: 2,
            poll_min: Duration::from_secs(1),
            poll_max: Duration::from_secs(10),
            lock_flush: Duration::from_secs(1),
            max_failures: 8,
            cancel_within: Duration::from_secs(1),
        }
    }
}

/// Where a run reads and writes.
#[derive(Debug, Clone)]
pub struct RunPaths {
    /// Root of the outputs.
    pub data_dir: PathBuf,
    /// The lockfile.
    pub lock: PathBuf,
    /// The resume journal.
    pub journal: PathBuf,
}

/// An item that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Failure {
    /// Item id.
    pub item: String,
    /// What went wrong (no token in it).
    pub error: String,
}

/// How a run ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct ExecOutcome {
    /// Items fetched in this run.
    pub fetched: usize,
    /// Items for which ONC has no data.
    pub no_data: usize,
    /// Items that failed.
    pub failures: Vec<Failure>,
    /// ONC product requests submitted in this run.
    pub onc_requests: u64,
    /// Whether the run was interrupted.
    pub interrupted: bool,
    /// Items of the job neither done nor failed (fetch items and clips): what an interrupted
    /// run leaves for the next one.
    pub remaining: usize,
}

/// Errors that stop a run as a whole (bookkeeping on disk failed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// The lockfile could not be written.
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
    /// The journal could not be written.
    #[error("cannot write the resume journal {path}")]
    Journal {
        /// The journal.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Messages from group tasks to the scheduler.
#[derive(Debug)]
pub(crate) enum Msg {
    /// An item finished.
    Done(Box<LockEntry>),
    /// An item failed.
    Failed(Failure),
    /// A group's ONC job changed (or ended, with `None`).
    Journal(String, Option<InFlight>),
    /// A product request was submitted.
    Submitted,
}

/// What every group task shares.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) client: Client,
    pub(crate) data_dir: PathBuf,
    pub(crate) config: ExecConfig,
    pub(crate) downloads: Arc<Semaphore>,
    pub(crate) tx: mpsc::Sender<Msg>,
    pub(crate) cancel: CancellationToken,
    pub(crate) reporter: Arc<dyn Reporter>,
    /// Why the run stopped early (a full disk), set once.
    pub(crate) stopped: Arc<std::sync::Mutex<Option<String>>>,
    /// Jobs of an earlier run, by group key, to re-attach to.
    pub(crate) previous: Arc<std::collections::BTreeMap<String, InFlight>>,
}

impl Ctx {
    pub(crate) async fn send(&self, m: Msg) {
        // The scheduler outlives every task; a closed channel means it is shutting down.
        let _ = self.tx.send(m).await;
    }

    pub(crate) fn report(&self, e: &ExecEvent) {
        self.reporter.event(e);
    }

    /// Records a fetched slot: its files, or (none found) that ONC has no data, and why.
    pub(crate) async fn slot_done(
        &self,
        item: &super::job::WantedItem,
        device: &str,
        product: String,
        files: &[crate::onc::Downloaded],
        no_data_reason: &str,
    ) {
        let no_data = files.is_empty();
        let entry = LockEntry {
            id: item.id.clone(),
            kind: crate::lock::ItemKind::Fetch,
            device: device.to_owned(),
            product,
            window: item.window.start().to_onc_string(),
            status: if no_data {
                crate::lock::Status::NoData
            } else {
                crate::lock::Status::Done
            },
            reason: if no_data {
                no_data_reason.to_owned()
            } else {
                String::new()
            },
            gaps: Vec::new(),
            files: files
                .iter()
                .map(|d| super::spectro::locked_file(self, d))
                .collect(),
            ..LockEntry::default()
        };
        self.report(&ExecEvent::ItemDone {
            id: item.id.clone(),
            no_data,
        });
        self.send(Msg::Done(Box::new(entry))).await;
    }

    /// Reports a file written under `data_dir`.
    pub(crate) fn downloaded(&self, d: &crate::onc::Downloaded) {
        let path = d
            .path
            .strip_prefix(&self.data_dir)
            .unwrap_or(&d.path)
            .to_owned();
        self.report(&ExecEvent::Downloaded {
            path,
            bytes: d.size,
        });
    }

    /// Stops the run early for `e` if it is a full disk (or a read-only one): every task is
    /// cancelled, nothing new is submitted. Returns whether it did.
    pub(crate) fn stop_if_disk_full(&self, e: &crate::onc::OncError) -> bool {
        if !is_disk_full(e) {
            return false;
        }
        if let Ok(mut s) = self.stopped.lock() {
            s.get_or_insert_with(|| error_text(e));
        }
        self.cancel.cancel();
        true
    }

    /// Records a failed item.
    pub(crate) async fn item_failed(&self, id: &str, error: &str) {
        self.report(&ExecEvent::ItemFailed {
            id: id.to_owned(),
            error: error.to_owned(),
        });
        self.send(Msg::Failed(Failure {
            item: id.to_owned(),
            error: error.to_owned(),
        }))
        .await;
    }
}

/// Whether `e` is a local write that failed because the disk is full (or read-only, or the
/// file over a size limit): trying other files would fail the same way.
pub(crate) fn is_disk_full(e: &crate::onc::OncError) -> bool {
    use std::io::ErrorKind as K;
    matches!(e, crate::onc::OncError::Io { source, .. }
        if matches!(source.kind(), K::StorageFull | K::QuotaExceeded | K::FileTooLarge | K::ReadOnlyFilesystem))
}

/// An error with its causes, `: `-joined (an I/O failure shows the OS's reason).
pub(crate) fn error_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let more = s.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        src = s.source();
    }
    text
}

/// Runs a job: every group, bounded, recording each finished item in `lock` (saved to
/// `paths.lock`). Returns when everything is done or, after `cancel`, when in-flight ONC jobs
/// have been cancelled.
///
/// # Errors
/// [`ExecError`] when the lockfile or journal cannot be written; item failures are not errors
/// but part of the [`ExecOutcome`].
pub async fn execute(
    client: Client,
    job: Job,
    paths: &RunPaths,
    lock: &mut Lockfile,
    config: ExecConfig,
    reporter: Arc<dyn Reporter>,
    cancel: CancellationToken,
) -> Result<ExecOutcome, ExecError> {
    let mut journal = Journal::load(&paths.journal);
    let previous: std::collections::BTreeMap<_, _> =
        journal.jobs().map(|(k, v)| (k.clone(), *v)).collect();
    let (tx, mut rx) = mpsc::channel::<Msg>(1024);
    let stopped = Arc::new(std::sync::Mutex::new(None));
    let ctx = Ctx {
        client,
        data_dir: paths.data_dir.clone(),
        downloads: Arc::new(Semaphore::new(config.max_downloads.max(1))),
        config: config.clone(),
        tx,
        // A child: a full disk stops the tasks without the run counting as interrupted.
        cancel: cancel.child_token(),
        reporter: Arc::clone(&reporter),
        stopped: Arc::clone(&stopped),
        previous: Arc::new(previous),
    };

    // Every item of the job until it is done or failed.
    let mut open: HashSet<String> = job
        .spectrograms
        .iter()
        .flat_map(|g| g.items.iter())
        .chain(job.audio.iter().flat_map(|g| g.items.iter()))
        .map(|i| i.id.clone())
        .chain(job.clips.iter().map(|c| c.id.clone()))
        .collect();
    let Job {
        spectrograms: spectrogram_groups,
        audio: audio_groups,
        clips: clip_jobs,
    } = job;
    let spec_ctx = ctx.clone();
    let spectrograms = futures::stream::iter(spectrogram_groups)
        .map(move |g| spectro::run_group(spec_ctx.clone(), g))
        .buffer_unordered(config.max_requests.max(1))
        .collect::<Vec<()>>();
    let audio_ctx = ctx.clone();
    let audio = futures::stream::iter(audio_groups)
        .map(move |g| audio::run_group(audio_ctx.clone(), g))
        .buffer_unordered(config.max_listings.max(1))
        .collect::<Vec<()>>();
    let ctx_reporter = reporter;
    let ctx_for_end = ctx.clone();
    drop(ctx);
    let workers = tokio::spawn(async move {
        futures::join!(spectrograms, audio);
        drop(ctx_for_end);
    });

    let mut outcome = ExecOutcome::default();
    let mut last_flush = Instant::now();
    let mut dirty = false;
    let mut clips = ClipQueue::new(clip_jobs, lock, &paths.data_dir);
    let mut running: JoinSet<(String, Result<LockEntry, String>)> = JoinSet::new();
    for c in clips.take_ready() {
        spawn_clip(&mut running, c, lock, &paths.data_dir);
    }
    let mut rx_open = true;
    loop {
        tokio::select! {
            msg = rx.recv(), if rx_open => {
                let Some(msg) = msg else {
                    rx_open = false;
                    continue;
                };
                match msg {
                    Msg::Done(entry) => {
                        if entry.status == crate::lock::Status::NoData {
                            outcome.no_data += 1;
                        } else {
                            outcome.fetched += 1;
                        }
                        let id = entry.id.clone();
                        open.remove(&id);
                        lock.insert(*entry);
                        dirty = true;
                        clips.source_done(&id);
                        if !cancel.is_cancelled() {
                            for c in clips.take_ready() {
                                spawn_clip(&mut running, c, lock, &paths.data_dir);
                            }
                        }
                    }
                    Msg::Failed(f) => {
                        open.remove(&f.item);
                        for c in clips.source_failed(&f.item) {
                            open.remove(&c.id);
                            outcome.failures.push(Failure { item: c.id, error: format!("a source failed: {}", f.error) });
                        }
                        outcome.failures.push(f);
                    }
                    Msg::Journal(key, job) => {
                        let r = match job {
                            Some(job) => journal.record(&key, job),
                            None => journal.forget(&key),
                        };
                        r.map_err(|source| ExecError::Journal { path: paths.journal.clone(), source })?;
                    }
                    Msg::Submitted => outcome.onc_requests += 1,
                }
            }
            Some(joined) = running.join_next(), if !running.is_empty() => {
                match joined {
                    Ok((_, Ok(entry))) => {
                        ctx_reporter.event(&ExecEvent::ItemDone { id: entry.id.clone(), no_data: false });
                        outcome.fetched += 1;
                        open.remove(&entry.id);
                        lock.insert(entry);
                        dirty = true;
                    }
                    Ok((id, Err(error))) => {
                        open.remove(&id);
                        ctx_reporter.event(&ExecEvent::ItemFailed { id: id.clone(), error: error.clone() });
                        outcome.failures.push(Failure { item: id, error });
                    }
                    Err(e) => outcome.failures.push(Failure { item: String::new(), error: format!("clip task failed: {e}") }),
                }
            }
            else => break,
        }
        if dirty && last_flush.elapsed() >= config.lock_flush {
            lock.save(&paths.lock)?;
            last_flush = Instant::now();
            dirty = false;
        }
    }
    // The channel closes only when every task has finished.
    let _ = workers.await;
    lock.save(&paths.lock)?;
    let stop_reason = stopped.lock().ok().and_then(|s| s.clone());
    if let Some(reason) = stop_reason.filter(|_| !cancel.is_cancelled()) {
        let error = format!("not done: the run stopped early: {reason}");
        for id in &open {
            outcome.failures.push(Failure {
                item: id.clone(),
                error: error.clone(),
            });
        }
    }
    outcome.failures.sort_by(|a, b| a.item.cmp(&b.item));
    outcome.interrupted = cancel.is_cancelled();
    outcome.remaining = open.len();
    Ok(outcome)
}

/// Clips waiting for their sources.
struct ClipQueue {
    waiting: Vec<Option<ClipJob>>,
    missing: Vec<usize>,
    by_source: HashMap<String, Vec<usize>>,
}

impl ClipQueue {
    fn new(clips: Vec<ClipJob>, lock: &Lockfile, data_dir: &std::path::Path) -> Self {
        let mut q = Self {
            waiting: Vec::new(),
            missing: Vec::new(),
            by_source: HashMap::new(),
        };
        for (i, c) in clips.into_iter().enumerate() {
            let mut missing = 0;
            for s in &c.sources {
                if !lock.is_satisfied(s, data_dir) {
                    missing += 1;
                    q.by_source.entry(s.clone()).or_default().push(i);
                }
            }
            q.waiting.push(Some(c));
            q.missing.push(missing);
        }
        q
    }

    fn source_done(&mut self, id: &str) {
        for i in self.by_source.remove(id).unwrap_or_default() {
            self.missing[i] = self.missing[i].saturating_sub(1);
        }
    }

    /// Clips whose sources failed: they cannot be made.
    fn source_failed(&mut self, id: &str) -> Vec<ClipJob> {
        self.by_source
            .remove(id)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| self.waiting[i].take())
            .collect()
    }

    fn take_ready(&mut self) -> Vec<ClipJob> {
        (0..self.waiting.len())
            .filter(|&i| self.missing[i] == 0)
            .filter_map(|i| self.waiting[i].take())
            .collect()
    }
}

fn spawn_clip(
    set: &mut JoinSet<(String, Result<LockEntry, String>)>,
    job: ClipJob,
    lock: &Lockfile,
    data_dir: &std::path::Path,
) {
    let sources = clipper::source_files(&job, lock, data_dir);
    let data_dir = data_dir.to_path_buf();
    set.spawn_blocking(move || {
        let r = clipper::make_clip(&job, &sources, &data_dir);
        (job.id, r)
    });
}

/// The next item of a stream of transfers, honouring cancellation: before the cancel, waits
/// for it; once `cancel` fires (recorded in `cancelled`), takes only what is ready, so that
/// transfers that finished before the cancel still count and dropping the stream drops only
/// what is still in flight. `Some(None)`: the stream ended; `None`: stop now.
pub(crate) async fn next_unless_cancelled<S: futures::Stream + Unpin>(
    cancel: &CancellationToken,
    stream: &mut S,
    cancelled: &mut bool,
) -> Option<Option<S::Item>> {
    use futures::FutureExt as _;
    if !*cancelled {
        match cancel.run_until_cancelled(stream.next()).await {
            Some(item) => return Some(item),
            None => *cancelled = true,
        }
    }
    stream.next().now_or_never()
}

/// The wait before the next poll of a request: first the ONC estimate (bounded), then a tenth
/// of it, growing by half each time, always within `[poll_min, poll_max]`, with ±20 % jitter so
/// that many requests do not poll in step.
pub(crate) fn poll_delay(
    config: &ExecConfig,
    estimate: Option<Duration>,
    polls: u32,
    jitter: f64,
) -> Duration {
    let base = match (estimate, polls) {
        (Some(e), 0) => e,
        (Some(e), n) => {
            (e / 10).mul_f64(1.5_f64.powi(i32::try_from(n - 1).unwrap_or(i32::MAX).min(20)))
        }
        (None, n) => config
            .poll_min
            .mul_f64(1.5_f64.powi(i32::try_from(n).unwrap_or(i32::MAX).min(20))),
    };
    let bounded = base.clamp(config.poll_min, config.poll_max.max(config.poll_min));
    bounded.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_follow_the_estimate_and_stay_bounded() {
        let c = ExecConfig {
            poll_min: Duration::from_millis(100),
            poll_max: Duration::from_secs(5),
            ..ExecConfig::default()
        };
        let est = Some(Duration::from_secs(20));
        assert_eq!(poll_delay(&c, est, 0, 0.5), Duration::from_secs(5));
        assert_eq!(
            poll_delay(&c, Some(Duration::from_secs(2)), 0, 0.5),
            Duration::from_secs(2)
        );
        assert_eq!(
            poll_delay(&c, Some(Duration::from_secs(2)), 1, 0.5),
            Duration::from_millis(200)
        );
        assert_eq!(poll_delay(&c, None, 0, 0.5), Duration::from_millis(100));
        assert_eq!(poll_delay(&c, None, 50, 0.5), Duration::from_secs(5));
        assert!(poll_delay(&c, None, 0, 0.0) >= Duration::from_millis(80));
    }
}
