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
use futures::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
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
