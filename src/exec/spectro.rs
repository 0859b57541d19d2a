//! One spectrogram group: `dataProductDelivery/request` → `run` → poll → download every file.
//!
//! Files are matched to slots by the start time in their ONC name (a file belongs to the slot
//! it starts in), never by their order; files of slots that were not asked for are skipped
//! unread.
//!
//! Decisions recorded here:
//! - A slot is recorded (sent to the lockfile) as soon as it is provably complete, not when
//!   the whole run is in, so an interrupt keeps it. ONC numbers a run's files in time order
//!   (the archive's order; the simulator builds a run from the time-ordered archive listing,
//!   `sim::delivery`), so once the contiguous prefix of indices `1..=k` is in and holds a file
//!   starting at or after a slot's end, no later index can belong to that slot (the file a
//!   covering slot takes from the slot before starts earlier still). If a run's names are
//!   ever seen out of time order, early recording stops for that run and its remaining slots
//!   are recorded when every index is in.
//! - Which files ONC puts in a product for `dateFrom..dateTo` is unconfirmed (files
//!   overlapping `[dateFrom, dateTo)`, or files starting in `[dateFrom, dateTo]`; issue #16,
//!   `sim::delivery`), so requests are shaped to be right under both and to cost ONC no file
//!   the group skips: from the real start of the first file the group needs to 1 ms past the
//!   start of the last, learnt from the device's archive listing (one per device and day,
//!   shared by the run: `exec::boundaries`; [`request_span`]). A slot feeding a clip needs
//!   the file running across its start only when that file reaches the clip's window.
//! - After a run, a slot feeding a clip checks its files against the listing; archived files
//!   ONC left out are asked for once, exactly (`dateFrom` = their start, `dateTo` 1 ms on),
//!   before the slot is recorded, so a server with a stricter rule than either reading still
//!   gives whole clips (`drop_first` fault in the simulator). What is still missing then
//!   reaches the clip, which reports the gap.
//! - Polls and downloads give up ([`FailureStreak`]): a permanent error (400, 401, 403, 404)
//!   fails the group's open slots at once, a transient one after `max_failures` in a row
//!   (each after the client's own retries). A run that ONC ends in `error` or `cancelled`, or
//!   whose files expired (410), is submitted again, a bounded number of times. A group that
//!   gives up keeps its ONC job in the resume journal, so the next run re-attaches to it.
//! - On cancellation every call in flight is dropped at once (a partial download's temporary
//!   file goes with it) and the ONC job is cancelled with one call bounded in time.
//! - A run file whose `Content-Disposition` name is not a [`SafeName`] fails the run's open
//!   slots (which slot it belongs to cannot be trusted from that name); nothing is written.

use super::boundaries::FileSpan;
use super::events::ExecEvent;
use super::job::{NOMINAL_FILE_MILLIS, SpectrogramGroup, WantedItem};
use super::journal::InFlight;
use super::layout::spectrogram_path;
use super::runner::{
    Ctx, Msg, Poller, error_text, is_disk_full, next_unless_cancelled, poll_delay,
};
use crate::lock::LockedFile;
use crate::onc::{Downloaded, FailureStreak, IndexOutcome, OncError, ProductRequest, RunState};
use crate::safe_name::{self, SafeName};
use crate::time::{UtcInstant, Window5m};
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

/// How a product request ended.
enum RunEnd {
    /// Every slot is recorded.
    Complete,
    /// Must be submitted again (ONC ended the run, or the files expired).
    Resubmit(String),
    /// Given up: the open slots fail with this reason.
    Failed(String),
    /// Our disk is full: the open slots fail with this reason and the whole run stops.
    DiskFull(String, OncError),
    /// Cancelled by the user.
    Cancelled,
}

/// How submitting (or re-attaching) ended.
enum Begun {
    /// A run to follow: request id, its state, ONC's estimate.
    Run(i64, RunState, Option<Duration>),
    /// ONC refused, or the client gave up.
    Failed(OncError),
    /// Cancelled by the user, with the ONC job if one was submitted.
    Cancelled(Option<i64>),
}

pub(crate) async fn run_group(ctx: Ctx, group: SpectrogramGroup) {
    let (Some(first), Some(last)) = (group.items.first(), group.items.last()) else {
        return;
    };
    if ctx.cancel.is_cancelled() {
        return;
    }
    let key = group.key();
    let what = format!(
        "{} spectrogram/{} {}–{}",
        group.device,
        group.format,
        first.window.start(),
        last.window.end()
    );
    let Some((date_from, date_to, listing)) = ctx
        .cancel
        .run_until_cancelled(request_span(&ctx, &group, (first, last)))
        .await
    else {
        return;
    };
    if let Some(files) = &listing
        && !files
            .iter()
            .any(|f| group.items.iter().any(|i| i.takes(f.start, f.end)))
    {
        // The archive has no source file for any of these slots: nothing for ONC to do.
        for item in &group.items {
            ctx.slot_done(
                item,
                &group.device,
                format!("spectrogram/{}", group.format),
                &[],
                NOT_ARCHIVED,
            )
            .await;
        }
        return;
    }
    let mut request = ProductRequest {
        device: group.device.clone(),
        product_code: "HSD".into(),
        extension: group.format.clone(),
        date_from,
        date_to,
        options: group
            .options
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    let mut fetched = Fetched {
        listing: listing.map(std::sync::Arc::from),
        ..Fetched::default()
    };
    let mut reattach = ctx.previous.get(&key).copied();
    loop {
        if !submit_and_follow(
            &ctx,
            &group,
            (&key, &what),
            &request,
            reattach.take(),
            &mut fetched,
        )
        .await
        {
            return;
        }
        let (Some(&from), Some(&to)) = (fetched.missing.first(), fetched.missing.last()) else {
            return;
        };
        // ONC left out archived files a clip needs: ask once for exactly those.
        ctx.report(&ExecEvent::Retrying {
            what: what.clone(),
            error: format!(
                "ONC's files leave {} archived source file(s) out (first {from}): asking for them",
                fetched.missing.len()
            ),
        });
        fetched.patched = true;
        fetched.missing.clear();
        request.date_from = from;
        request.date_to = to.add_millis(1);
    }
}

/// Why a slot without files has none, when the archive listing shows no source file for it.
const NOT_ARCHIVED: &str = "no archived source files in this slot (archive listing)";

/// What a group has fetched so far, across its ONC requests.
#[derive(Debug, Default)]
struct Fetched {
    /// The device's real files over the group's span, when the archive listing told (shared:
    /// each ONC run of the group reads it while `Fetched` changes).
    listing: Option<std::sync::Arc<[FileSpan]>>,
    /// Slots already sent to the lockfile, across resubmissions.
    recorded: BTreeSet<Window5m>,
    /// Files already downloaded for slots that wait for more (see `missing`).
    carry: Vec<(UtcInstant, Downloaded)>,
    /// Starts of archived files a clip needs that ONC's files left out.
    missing: BTreeSet<UtcInstant>,
    /// Whether the request for missing files was made: slots no longer wait for more.
    patched: bool,
}

/// Submits `request` (resubmitting a bounded number of times) and follows it until every
/// open slot is recorded or waits for missing files: `true`. `false` when the group ended
/// otherwise (failed, cancelled, disk full: reported and journalled here).
async fn submit_and_follow(
    ctx: &Ctx,
    group: &SpectrogramGroup,
    (key, what): (&str, &str),
    request: &ProductRequest,
    mut reattach: Option<InFlight>,
    fetched: &mut Fetched,
) -> bool {
    let mut last_reason = String::new();
    for _attempt in 0..=ctx.config.max_resubmits {
        let begun = tokio::time::Instant::now();
        let (id, state, estimate) = match start(ctx, key, what, request, reattach.take()).await {
            Begun::Run(id, state, estimate) => (id, state, estimate),
            Begun::Failed(e) => {
                fail_open(ctx, group, &fetched.recorded, &error_text(&e)).await;
                return false;
            }
            Begun::Cancelled(job) => {
                if let Some(id) = job {
                    cancel_job(ctx, id).await;
                }
                ctx.send(Msg::Journal(key.to_owned(), None)).await;
                return false;
            }
        };
        let poller = Poller::new(estimate, begun);
        match follow(ctx, group, id, state, poller, fetched).await {
            RunEnd::Complete => {
                ctx.send(Msg::Journal(key.to_owned(), None)).await;
                return true;
            }
            RunEnd::Cancelled => {
                // Tell ONC to stop working on it; it is no longer ours to resume.
                cancel_job(ctx, id).await;
                ctx.send(Msg::Journal(key.to_owned(), None)).await;
                return false;
            }
            RunEnd::Failed(reason) => {
                // The job stays in the journal: ONC may finish it, and the next run re-attaches.
                fail_open(ctx, group, &fetched.recorded, &reason).await;
                return false;
            }
            RunEnd::DiskFull(reason, e) => {
                // A local fault, not ONC's: the job stays in the journal for the next run.
                fail_open(ctx, group, &fetched.recorded, &reason).await;
                let _ = ctx.stop_if_disk_full(&e);
                return false;
            }
            RunEnd::Resubmit(reason) => {
                ctx.report(&ExecEvent::Retrying {
                    what: what.to_owned(),
                    error: reason.clone(),
                });
                last_reason = reason;
            }
        }
    }
    ctx.send(Msg::Journal(key.to_owned(), None)).await;
    fail_open(
        ctx,
        group,
        &fetched.recorded,
        &format!(
            "ONC request failed after {} attempts: {last_reason}",
            ctx.config.max_resubmits + 1
        ),
    )
    .await;
    false
}

/// The span `dateFrom..dateTo` of a group's request, and the device's real files over it
/// when the archive listing told them ([`Boundaries`]).
///
/// With the real files known, the request runs from the start of the first file the group
/// needs to 1 ms past the start of the last: under either reading of a product request
/// (files overlapping `[dateFrom, dateTo)`, or files starting in `[dateFrom, dateTo]`;
/// `sim::delivery`) that selects exactly those files, so ONC processes nothing the group
/// skips. A slot needs the files starting inside it, and a slot feeding a clip also the file
/// running across its start when that file reaches the clip ([`WantedItem::takes`]).
/// Without a listing (an error, or no audio archived) the request covers the slots, reaching
/// back one nominal file length for a first slot that feeds a clip: right for 5-minute
/// files under both readings, at the cost of files the group then skips.
async fn request_span(
    ctx: &Ctx,
    group: &SpectrogramGroup,
    (first, last): (&WantedItem, &WantedItem),
) -> (UtcInstant, UtcInstant, Option<Vec<FileSpan>>) {
    let start = first.window.start();
    let nominal_from = if first.clip_from.is_some() {
        start.add_millis(-NOMINAL_FILE_MILLIS)
    } else {
        start
    };
    let nominal = (nominal_from, last.window.end());
    let listing = ctx
        .boundaries
        .files(
            &ctx.client,
            &group.device,
            start.add_millis(-NOMINAL_FILE_MILLIS),
            last.window.end(),
        )
        .await;
    let Some(files) = listing else {
        return (nominal.0, nominal.1, None);
    };
    let needed = |f: &&FileSpan| group.items.iter().any(|i| i.takes(f.start, f.end));
    let (from, to) = match (files.iter().find(needed), files.iter().rev().find(needed)) {
        (Some(a), Some(b)) => (a.start, b.start.add_millis(1)),
        // Nothing archived for these slots: ask anyway, ONC answers what it has.
        _ => nominal,
    };
    (from, to, Some(files))
}

/// Cancels an ONC job with one bounded call; a failure only leaves ONC to finish a job
/// nobody downloads.
async fn cancel_job(ctx: &Ctx, id: i64) {
    if let Err(e) = ctx.client.cancel(id, ctx.config.cancel_within).await {
        tracing::debug!(dp_request_id = id, error = %e, "cancel not confirmed");
    }
}

/// Submits the request and starts its run, or re-attaches to an earlier run's job.
async fn start(
    ctx: &Ctx,
    key: &str,
    what: &str,
    request: &ProductRequest,
    reattach: Option<InFlight>,
) -> Begun {
    if let Some(job) = reattach {
        let Some(polled) = ctx
            .cancel
            .run_until_cancelled(ctx.client.run_product(job.dp_request_id))
            .await
        else {
            return Begun::Cancelled(Some(job.dp_request_id));
        };
        match polled {
            Ok(state) if !state.is_failed() => {
                ctx.report(&ExecEvent::Submitted {
                    what: what.to_owned(),
                    dp_request_id: job.dp_request_id,
                    reattached: true,
                });
                return Begun::Run(job.dp_request_id, state, None);
            }
            // Unknown, expired or failed: request afresh.
            Ok(_) | Err(OncError::Rejected { .. } | OncError::Gone { .. }) => {}
            Err(e) => return Begun::Failed(e),
        }
    }
    let receipt = match ctx
        .cancel
        .run_until_cancelled(ctx.client.request_product(request))
        .await
    {
        None => return Begun::Cancelled(None),
        Some(Err(e)) => return Begun::Failed(e),
        Some(Ok(r)) => r,
    };
    ctx.send(Msg::Submitted).await;
    let id = receipt.dp_request_id;
    ctx.send(Msg::Journal(
        key.to_owned(),
        Some(InFlight {
            dp_request_id: id,
            dp_run_id: None,
        }),
    ))
    .await;
    ctx.report(&ExecEvent::Submitted {
        what: what.to_owned(),
        dp_request_id: id,
        reattached: false,
    });
    let state = match ctx
        .cancel
        .run_until_cancelled(ctx.client.run_product(id))
        .await
    {
        None => return Begun::Cancelled(Some(id)),
        Some(Err(e)) => return Begun::Failed(e),
        Some(Ok(s)) => s,
    };
    ctx.send(Msg::Journal(
        key.to_owned(),
        Some(InFlight {
            dp_request_id: id,
            dp_run_id: Some(state.dp_run_id),
        }),
    ))
    .await;
    Begun::Run(id, state, receipt.estimated_processing)
}

/// Why a poll or download gave up on `e`.
fn give_up(ctx: &Ctx, what: &str, e: &OncError) -> String {
    let is_retryable = e.is_retryable();
    let e = error_text(e);
    if is_retryable {
        format!(
            "{what}: gave up after {} failures in a row: {e}",
            ctx.config.max_failures.max(1)
        )
    } else {
        format!("{what}: {e}")
    }
}

/// Polls until the run completes, then downloads its files.
async fn follow(
    ctx: &Ctx,
    group: &SpectrogramGroup,
    id: i64,
    mut state: RunState,
    mut poller: Poller,
    fetched: &mut Fetched,
) -> RunEnd {
    poller.first(&state, &ctx.queue);
    let mut streak = FailureStreak::new(ctx.config.max_failures);
    while !state.is_complete() {
        if state.is_failed() {
            return RunEnd::Resubmit(format!(
                "ONC run {} ended `{}`",
                state.dp_run_id, state.status
            ));
        }
        ctx.report(&ExecEvent::Progress {
            dp_request_id: id,
            status: state.status.clone(),
            queue_position: state.queue_position,
        });
        let Some((sent, answer)) = ctx
            .cancel
            .run_until_cancelled(async {
                poller.wait(&ctx.config, &ctx.queue).await;
                let sent = tokio::time::Instant::now();
                (sent, ctx.client.run_product(id).await)
            })
            .await
        else {
            return RunEnd::Cancelled;
        };
        state = match answer {
            Ok(s) => {
                streak.success();
                poller.observe(&s, sent, &ctx.queue);
                s
            }
            Err(e @ OncError::Gone { .. }) => return RunEnd::Resubmit(e.to_string()),
            Err(e) if streak.retry_after_failure(&e) => {
                ctx.report(&ExecEvent::Retrying {
                    what: format!("polling request {id}"),
                    error: e.to_string(),
                });
                continue;
            }
            Err(e) => {
                return RunEnd::Failed(give_up(ctx, &format!("polling ONC request {id}"), &e));
            }
        };
    }
    poller.completed(&ctx.queue);
    ctx.report(&ExecEvent::Generated {
        dp_request_id: id,
        files: state.file_count,
    });
    download_all(ctx, group, &state, fetched).await
}

/// Downloads every index of a complete run, bounded by the shared transfer limit, recording
/// each slot as soon as it is complete.
async fn download_all(
    ctx: &Ctx,
    group: &SpectrogramGroup,
    state: &RunState,
    fetched: &mut Fetched,
) -> RunEnd {
    // The slots still to record, in time order.
    let open: Vec<&WantedItem> = group
        .items
        .iter()
        .filter(|i| !fetched.recorded.contains(&i.window))
        .collect();
    let listing = fetched.listing.clone(); // an `Arc`: no copy of the spans
    let end_of = |start: UtcInstant| file_end(listing.as_deref(), start);
    let device = match SafeName::new(&group.device) {
        Ok(d) => d,
        Err(why) => {
            return RunEnd::Failed(safe_name::refused("device code", &group.device, why));
        }
    };
    let dest = |name: &SafeName| -> Option<PathBuf> {
        let start = UtcInstant::from_file_name(name.as_str())?;
        let end = end_of(start);
        open.iter().any(|i| i.takes(start, end)).then(|| {
            ctx.data_dir
                .join(spectrogram_path(&device, &group.options, name))
        })
    };
    let dest = &dest;
    let count = u32::try_from(state.file_count.max(0)).unwrap_or(u32::MAX);
    let run_id = state.dp_run_id;
    let mut downloads = futures::stream::iter(1..=count)
        .map(|index| async move { (index, download_index(ctx, run_id, index, dest).await) })
        .buffer_unordered(ctx.config.max_downloads.max(1));
    let mut prefix = Prefix::default();
    // This run's files for the open slots, with their starts.
    let mut files: Vec<(UtcInstant, Downloaded)> = Vec::new();
    let mut next = 0;
    let mut cancelled = false;
    let mut ended = false;
    loop {
        // Transfers that finished before a cancel still count (their files are on disk).
        let Some(arrived) =
            next_unless_cancelled(&ctx.cancel, &mut downloads, &mut cancelled).await
        else {
            break;
        };
        let Some((index, result)) = arrived else {
            ended = true;
            break;
        };
        if cancelled
            && !matches!(
                result,
                Ok(IndexOutcome::File(_) | IndexOutcome::Skipped { .. })
            )
        {
            break;
        }
        let start = match result {
            Ok(IndexOutcome::File(d)) => {
                let start = UtcInstant::from_file_name(&d.name);
                if let Some(s) = start {
                    files.push((s, d));
                }
                start
            }
            Ok(IndexOutcome::Skipped { name }) => UtcInstant::from_file_name(&name),
            // The run names a file unsafely: its slot cannot be told, so the run's open slots
            // fail (the job stays in the journal like any failed run).
            Ok(IndexOutcome::Unsafe { message }) => {
                return RunEnd::Failed(format!("file {index} of ONC run {run_id}: {message}"));
            }
            Ok(_) => None,
            Err(e @ OncError::Gone { .. }) => return RunEnd::Resubmit(e.to_string()),
            Err(e) => {
                let reason = give_up(
                    ctx,
                    &format!("downloading file {index} of ONC run {run_id}"),
                    &e,
                );
                return if is_disk_full(&e) {
                    RunEnd::DiskFull(reason, e)
                } else {
                    RunEnd::Failed(reason)
                };
            }
        };
        prefix.add(index, start);
        let Some(frontier) = prefix.frontier() else {
            continue;
        };
        while let Some(item) = open.get(next).filter(|i| i.window.end() <= frontier) {
            record(ctx, group, item, &files, fetched).await;
            next += 1;
        }
    }
    if cancelled && !ended {
        // Dropping the stream drops every transfer still in flight (and its temporary file).
        return RunEnd::Cancelled;
    }
    // Every index is in: every slot is complete.
    for item in open.iter().skip(next) {
        record(ctx, group, item, &files, fetched).await;
    }
    RunEnd::Complete
}

/// Which indices of a run are in, and how far in time their contiguous prefix reaches.
#[derive(Debug, Default)]
struct Prefix {
    /// Indices `1..=len` are all in.
    len: u32,
    /// Indices in beyond the prefix, with their files' starts.
    ahead: BTreeMap<u32, Option<UtcInstant>>,
    /// The latest file start in the prefix.
    latest: Option<UtcInstant>,
    /// A file in the prefix started before an earlier index's file.
    out_of_order: bool,
}

impl Prefix {
    /// Index `index` is in; `start` is its file's start, if it named a file.
    fn add(&mut self, index: u32, start: Option<UtcInstant>) {
        self.ahead.insert(index, start);
        while let Some(start) = self.ahead.remove(&(self.len + 1)) {
            self.len += 1;
            if let Some(s) = start {
                if self.latest.is_some_and(|l| s < l) {
                    tracing::debug!("ONC run files out of time order: slots wait for the run");
                    self.out_of_order = true;
                }
                self.latest = self.latest.max(Some(s));
            }
        }
    }

    /// An instant before which every file of the run is in (while the run's files come in
    /// time order), or `None` when nothing can be said yet.
    fn frontier(&self) -> Option<UtcInstant> {
        if self.out_of_order { None } else { self.latest }
    }
}

/// Downloads one index, waiting while ONC answers 202, giving up like a poll does.
async fn download_index(
    ctx: &Ctx,
    run_id: i64,
    index: u32,
    dest: &(dyn Fn(&SafeName) -> Option<PathBuf> + Sync),
) -> Result<IndexOutcome, OncError> {
    let mut waits = 0;
    let mut streak = FailureStreak::new(ctx.config.max_failures);
    loop {
        let outcome = {
            let Ok(_permit) = ctx.downloads.acquire().await else {
                return Ok(IndexOutcome::End);
            };
            ctx.client.download_index(run_id, index, dest).await
        };
        let delay = match outcome {
            Ok(IndexOutcome::NotReady { .. }) => {
                streak.success();
                let d = poll_delay(&ctx.config, None, waits, rand::random());
                waits += 1;
                d
            }
            Ok(IndexOutcome::File(d)) => {
                ctx.downloaded(&d);
                return Ok(IndexOutcome::File(d));
            }
            Ok(other) => return Ok(other),
            Err(e) if !matches!(e, OncError::Gone { .. }) && streak.retry_after_failure(&e) => {
                ctx.report(&ExecEvent::Retrying {
                    what: format!("file {index} of run {run_id}"),
                    error: e.to_string(),
                });
                poll_delay(&ctx.config, None, streak.count(), rand::random())
            }
            Err(e) => return Err(e),
        };
        tokio::time::sleep(delay).await;
    }
}

/// The end of the file starting at `start`: the listing's, else one nominal file length on.
fn file_end(listing: Option<&[FileSpan]>, start: UtcInstant) -> UtcInstant {
    listing
        .and_then(|l| l.iter().find(|f| same_file(f.start, start)))
        .map_or(start.add_millis(NOMINAL_FILE_MILLIS), |f| f.end)
}

/// Whether two starts name the same source file (ONC's names carry whole seconds).
fn same_file(a: UtcInstant, b: UtcInstant) -> bool {
    (a.unix_millis() - b.unix_millis()).abs() < 1_000
}

/// Records a complete slot: its files, or that ONC had none. A slot feeding a clip first
/// checks its files against the archive listing: when ONC left out a file the clip needs
/// and no request for missing files was made yet, the slot waits for it (its files so far
/// are kept in `fetched.carry`, the missing start in `fetched.missing`).
async fn record(
    ctx: &Ctx,
    group: &SpectrogramGroup,
    item: &WantedItem,
    files: &[(UtcInstant, Downloaded)],
    fetched: &mut Fetched,
) {
    let listing = fetched.listing.as_deref();
    let mine = |(s, _): &&(UtcInstant, Downloaded)| item.takes(*s, file_end(listing, *s));
    let found: Vec<(UtcInstant, Downloaded)> = files
        .iter()
        .chain(fetched.carry.iter())
        .filter(mine)
        .cloned()
        .collect();
    if item.clip_from.is_some() && !fetched.patched {
        let missing: Vec<UtcInstant> = listing
            .unwrap_or_default()
            .iter()
            .filter(|f| item.takes(f.start, f.end))
            .filter(|f| !found.iter().any(|(s, _)| same_file(*s, f.start)))
            .map(|f| f.start)
            .collect();
        if !missing.is_empty() {
            tracing::debug!(slot = %item.window, ?missing, "archived files missing from ONC's run");
            fetched.missing.extend(missing);
            fetched.carry.extend(files.iter().filter(mine).cloned());
            return;
        }
    }
    let mut found: Vec<Downloaded> = found.into_iter().map(|(_, d)| d).collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found.dedup_by(|a, b| a.name == b.name);
    fetched.recorded.insert(item.window);
    let archived = listing.is_none_or(|l| l.iter().any(|f| item.takes(f.start, f.end)));
    ctx.slot_done(
        item,
        &group.device,
        format!("spectrogram/{}", group.format),
        &found,
        if archived {
            "ONC produced no spectrogram for this slot"
        } else {
            NOT_ARCHIVED
        },
    )
    .await;
}

pub(crate) fn locked_file(ctx: &Ctx, d: &Downloaded) -> LockedFile {
    let rel = d.path.strip_prefix(&ctx.data_dir).unwrap_or(&d.path);
    let path = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    LockedFile {
        path,
        size: d.size,
        sha256: d.sha256.clone(),
        source: d.name.clone(),
        ..LockedFile::default()
    }
}

/// Fails the group's slots not yet recorded (nothing, when the run was cancelled).
async fn fail_open(
    ctx: &Ctx,
    group: &SpectrogramGroup,
    recorded: &BTreeSet<Window5m>,
    error: &str,
) {
    if ctx.cancel.is_cancelled() {
        return;
    }
    for item in group.items.iter().filter(|i| !recorded.contains(&i.window)) {
        ctx.item_failed(&item.id, error).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::pedantic,
        clippy::print_stderr,
        reason = "test code: casts and formatting on small fixed inputs"
    )]
    use super::*;

    fn at(s: &str) -> Option<UtcInstant> {
        Some(UtcInstant::parse(s).unwrap())
    }

    #[test]
    fn the_frontier_follows_the_contiguous_prefix_only() {
        let mut p = Prefix::default();
        assert_eq!(p.frontier(), None);
        // Index 2 first: index 1 may still hold an earlier file, nothing is proven.
        p.add(2, at("2024-04-01T12:05:03Z"));
        assert_eq!(p.frontier(), None);
        p.add(1, at("2024-04-01T12:00:03Z"));
        assert_eq!(p.frontier(), at("2024-04-01T12:05:03Z"));
        // A gap at 3 holds the frontier back, whatever arrives after it.
        p.add(4, at("2024-04-01T12:15:03Z"));
        assert_eq!(p.frontier(), at("2024-04-01T12:05:03Z"));
        // An index without a file (204, 404) fills the gap without moving the frontier.
        p.add(3, None);
        assert_eq!(p.frontier(), at("2024-04-01T12:15:03Z"));
    }

    #[test]
    fn files_out_of_time_order_stop_early_recording() {
        let mut p = Prefix::default();
        p.add(1, at("2024-04-01T12:10:03Z"));
        assert!(p.frontier().is_some());
        p.add(2, at("2024-04-01T12:05:03Z"));
        assert_eq!(p.frontier(), None);
        p.add(3, at("2024-04-01T12:20:03Z"));
        assert_eq!(
            p.frontier(),
            None,
            "once out of order, the run decides alone"
        );
    }
}
