//! What the executor's tasks share: limits ([`ExecConfig`]), paths ([`RunPaths`]), the
//! messages they send to the scheduler ([`Msg`]), their context ([`Ctx`]), and how a run ends
//! ([`ExecOutcome`], [`ExecError`]). The scheduler itself is [`super::scheduler`].
//!
//! Group tasks (spectrogram requests, audio listings) send an item's `Done` as soon as the
//! item is provably complete, not when their group ends.
//!
//! Local faults are local: a write that fails on our side (permission, a file where a folder
//! must be) fails its items and is never a reason to resubmit an ONC job. A full disk
//! (ENOSPC, EDQUOT, EFBIG, EROFS) stops the run early: the tasks are cancelled through a child
//! of the user's token (so the run is not "interrupted"), everything finished so far is
//! recorded, and the items not done fail with the cause, so the run ends with its summary and
//! exit 1.

use super::events::{ExecEvent, Reporter};
use super::journal::InFlight;
use crate::lock::LockEntry;
use crate::onc::Client;
use crate::onc::RunState;
use crate::onc::wire;
use futures::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::Instant;
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
    /// Longest wait between two polls of one request while ONC gives no estimate of its
    /// processing time (with one, polls follow the run's state: see `Poller`).
    pub poll_max: Duration,
    /// How long a finished item's record line may wait for its fsync (the line itself is
    /// written at once; the lockfile is written whole only at the end).
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
    /// The record of finished items (see `super::record`).
    pub record: PathBuf,
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
    /// The record of finished items could not be written.
    #[error("cannot write the record of finished items {path}")]
    Record {
        /// The record.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
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
    /// The devices' real file boundaries, listed once per device and day for the run.
    pub(crate) boundaries: Arc<super::boundaries::Boundaries>,
    /// The token's runs seen ending, for [`Poller`].
    pub(crate) queue: TokenQueue,
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

/// What this process has seen of its token's ONC runs: how many completed, and when the last
/// one was seen complete.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Completions {
    count: u64,
    seen_at: Instant,
}

/// The token's queue as a run's group tasks see it (every group of a run uses one token): a
/// task that sees its ONC run complete says so here, and a run queued behind `k` others waits
/// for `k` completions instead of polling (the queue moves only when a run ahead ends).
#[derive(Debug, Clone)]
pub(crate) struct TokenQueue {
    tx: Arc<watch::Sender<Completions>>,
}

impl Default for TokenQueue {
    fn default() -> Self {
        Self {
            tx: Arc::new(watch::Sender::new(Completions {
                count: 0,
                seen_at: Instant::now(),
            })),
        }
    }
}

impl TokenQueue {
    /// A run of the token was seen complete by a request sent at `seen_at`.
    pub(crate) fn completed(&self, seen_at: Instant) {
        self.tx.send_modify(|c| {
            c.count += 1;
            c.seen_at = c.seen_at.max(seen_at);
        });
    }

    fn current(&self) -> Completions {
        *self.tx.borrow()
    }
}

/// Where a followed run stands, as far as its polls tell.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Queued at `position` when the token had `seen` completions.
    Queued { position: u64, seen: u64 },
    /// Running; it started no earlier than `since`.
    Running { since: Instant },
    /// A status we cannot read a schedule from.
    Unknown,
}

/// When to poll next: at `at`, or earlier once the token has seen `completions` runs end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wake {
    at: Instant,
    completions: Option<u64>,
}

/// The longest processing time an ONC estimate is believed for (a day): a larger one, from a
/// broken or hostile server, would put the next poll out of reach.
pub(crate) const MAX_TRUSTED_ESTIMATE: Duration = Duration::from_secs(24 * 3600);

/// Schedules the status polls of one ONC run from its state, not from a fixed ladder.
///
/// Decisions recorded here:
/// - Queued behind `k` runs (`queuePosition`), a run cannot start before `k` runs of the token
///   end, so it waits for the token's `k`-th completion seen by this process ([`TokenQueue`]),
///   or one processing time (ONC's estimate) when runs of other processes hold the queue.
/// - Running with ONC's estimate `E` of its processing time, it polls at `0.9 E`, then every
///   5 % of `max(E, elapsed)`: completion is noticed within ~5 % of the processing time, and
///   no poll comes sooner than that needs. The estimate is trusted: an estimate far too high
///   delays noticing the end (an earlier check at `E/2` cost one poll per run in the #17
///   bench for no gain on the simulator); `poll_max` does not cut it short. Beyond
///   [`MAX_TRUSTED_ESTIMATE`] it is not believed (a server's number must not stall a run).
/// - A run's start is taken as the last poll that saw it queued or, when the completion of the
///   run ahead woke it, the moment that completion was seen (the run ahead ended between its
///   last two polls; taking the later one costs at most that gap in noticing this run's end,
///   and saves the polls an earlier guess spends before the run can be done).
/// - Without an estimate (a re-attached job), the ladder of [`poll_delay`].
#[derive(Debug)]
pub(crate) struct Poller {
    estimate: Option<Duration>,
    phase: Phase,
    /// When the request of the last answer was sent.
    last_sent: Instant,
    /// A completion that woke a queued run: when it was seen.
    freed_after: Option<Instant>,
    ladder: u32,
    /// The run was seen queued or running (so it holds or awaits one of the token's slots).
    pending: bool,
}

impl Poller {
    /// A poller for a run whose `run` call was sent no earlier than `begun`.
    pub(crate) fn new(estimate: Option<Duration>, begun: Instant) -> Self {
        Self {
            estimate: estimate
                .filter(|e| !e.is_zero())
                .map(|e| e.min(MAX_TRUSTED_ESTIMATE)),
            phase: Phase::Unknown,
            last_sent: begun,
            freed_after: None,
            ladder: 0,
            pending: false,
        }
    }

    /// The run was seen complete (by the last request): if it was ever seen unfinished, the
    /// token's queue moved (a product archived already, complete at once, takes no slot).
    pub(crate) fn completed(&self, queue: &TokenQueue) {
        if self.pending {
            queue.completed(self.last_sent);
        }
    }

    /// Takes in the status the run's first `run` call answered.
    pub(crate) fn first(&mut self, state: &RunState, queue: &TokenQueue) {
        self.observe(state, self.last_sent, queue);
    }

    /// Takes in a status answered to a request sent at `sent`.
    pub(crate) fn observe(&mut self, state: &RunState, sent: Instant, queue: &TokenQueue) {
        let status = state.status.to_ascii_lowercase();
        let before = self.last_sent;
        self.phase = if status == wire::status::QUEUED {
            Phase::Queued {
                position: state
                    .queue_position
                    .and_then(|p| u64::try_from(p).ok())
                    .unwrap_or(1)
                    .max(1),
                seen: queue.current().count,
            }
        } else if state.is_complete() || state.is_failed() {
            Phase::Unknown
        } else {
            match self.phase {
                Phase::Running { since } => Phase::Running { since },
                Phase::Queued { .. } => Phase::Running {
                    since: self.freed_after.map_or(before, |f| f.max(before)),
                },
                Phase::Unknown => Phase::Running { since: before },
            }
        };
        self.last_sent = sent;
        self.pending |= !state.is_complete() && !state.is_failed();
    }

    /// When to poll next, `now` being the answer's arrival (`jitter` in `[0, 1]` spreads
    /// ladder polls only).
    pub(crate) fn plan(&mut self, config: &ExecConfig, now: Instant, jitter: f64) -> Wake {
        let min = config.poll_min;
        let mut ladder = || {
            let d = poll_delay(config, None, self.ladder, jitter);
            self.ladder += 1;
            now + d
        };
        match (self.phase, self.estimate) {
            (Phase::Queued { position, seen }, e) => Wake {
                at: e.map_or_else(ladder, |e| now + e.max(min)),
                completions: Some(seen + position),
            },
            (Phase::Running { since }, Some(e)) => {
                let elapsed = now.saturating_duration_since(since);
                let at = if elapsed < e.mul_f64(0.9) {
                    since + e.mul_f64(0.9)
                } else {
                    now + (e.max(elapsed) / 20).max(min)
                };
                Wake {
                    at,
                    completions: None,
                }
            }
            (Phase::Running { .. } | Phase::Unknown, _) => Wake {
                at: ladder(),
                completions: None,
            },
        }
    }

    /// Waits for the next poll's moment (see [`Poller::plan`]).
    pub(crate) async fn wait(&mut self, config: &ExecConfig, queue: &TokenQueue) {
        let wake = self.plan(config, Instant::now(), rand::random());
        let Some(target) = wake.completions else {
            tokio::time::sleep_until(wake.at).await;
            return;
        };
        let mut rx = queue.tx.subscribe();
        let woken = tokio::time::timeout_at(wake.at, rx.wait_for(|c| c.count >= target)).await;
        if let Ok(Ok(c)) = woken {
            self.freed_after = Some(c.seen_at);
        }
    }
}

/// The ladder of polls when nothing better is known ([`Poller`] uses it without an
/// estimate): first the ONC estimate (bounded), then a tenth of it, growing by half each time,
/// always within `[poll_min, poll_max]`, with ±20 % jitter so that many requests do not poll
/// in step.
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
    #![allow(
        clippy::many_single_char_names,
        reason = "short names for times in tests"
    )]
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

    fn state(status: &str, queue_position: Option<i64>) -> RunState {
        RunState {
            dp_run_id: 1,
            status: status.into(),
            file_count: 0,
            queue_position,
        }
    }

    fn config() -> ExecConfig {
        ExecConfig {
            poll_min: Duration::from_millis(10),
            poll_max: Duration::from_millis(100),
            ..ExecConfig::default()
        }
    }

    #[test]
    fn a_running_run_polls_at_nine_tenths_of_the_estimate_then_every_twentieth() {
        let (c, q, t0) = (config(), TokenQueue::default(), Instant::now());
        let s = Duration::from_secs;
        let mut p = Poller::new(Some(s(10)), t0);
        p.first(&state(wire::status::RUNNING, None), &q);
        // `poll_max` (100 ms) does not cut the estimate's schedule short.
        assert_eq!(p.plan(&c, t0, 0.5).at, t0 + s(9));
        p.observe(&state(wire::status::RUNNING, None), t0 + s(5), &q);
        assert_eq!(p.plan(&c, t0 + s(5), 0.5).at, t0 + s(9));
        assert_eq!(
            p.plan(&c, t0 + s(9), 0.5).at,
            t0 + s(9) + Duration::from_millis(500)
        );
        // Overdue: every twentieth of the time it has taken so far.
        assert_eq!(p.plan(&c, t0 + s(40), 0.5).at, t0 + s(42));
        let w = p.plan(&c, t0 + s(40), 0.5);
        assert_eq!(w.completions, None);
        // Completion moves the token's queue, once, for a run that was seen unfinished.
        p.completed(&q);
        assert_eq!(q.current().count, 1);
        let archived = Poller::new(None, t0);
        archived.completed(&q);
        assert_eq!(q.current().count, 1, "a run complete at once held no slot");
    }

    #[test]
    fn a_queued_run_waits_for_the_runs_ahead_and_starts_its_clock_when_freed() {
        let (c, q, t0) = (config(), TokenQueue::default(), Instant::now());
        let s = Duration::from_secs;
        q.completed(t0);
        let mut p = Poller::new(Some(s(10)), t0);
        p.first(&state(wire::status::QUEUED, Some(3)), &q);
        let w = p.plan(&c, t0, 0.5);
        // Three runs ahead: three more completions (one was seen before), or one estimate.
        assert_eq!(w.completions, Some(4));
        assert_eq!(w.at, t0 + s(10));
        // Woken by the run ahead, last seen unfinished at t0 + 12 s: the clock starts there.
        p.freed_after = Some(t0 + s(12));
        p.observe(&state(wire::status::RUNNING, None), t0 + s(13), &q);
        assert_eq!(p.plan(&c, t0 + s(13), 0.5).at, t0 + s(21));
    }

    #[test]
    fn an_absurd_estimate_neither_panics_nor_stalls_the_run() {
        let (c, q, t0) = (config(), TokenQueue::default(), Instant::now());
        // What a hostile server could make `parse_processing_time` return.
        let huge = Duration::from_secs(u64::MAX / 4);
        for status in [wire::status::RUNNING, wire::status::QUEUED] {
            let mut p = Poller::new(Some(huge), t0);
            p.first(&state(status, Some(1)), &q);
            let w = p.plan(&c, t0, 0.5);
            assert!(w.at <= t0 + MAX_TRUSTED_ESTIMATE, "{status}: {w:?}");
            let later = p.plan(&c, t0 + Duration::from_secs(86_400), 0.5);
            assert!(later.at > t0, "{status}: {later:?}");
        }
    }

    #[test]
    fn without_an_estimate_the_ladder_stays_within_its_bounds() {
        let (c, q, t0) = (config(), TokenQueue::default(), Instant::now());
        let mut p = Poller::new(None, t0);
        p.first(&state(wire::status::RUNNING, None), &q);
        for _ in 0..20 {
            let w = p.plan(&c, t0, 0.5);
            assert!(w.at >= t0 + c.poll_min && w.at <= t0 + c.poll_max, "{w:?}");
        }
    }
}
