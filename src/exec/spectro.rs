//! One spectrogram group: `dataProductDelivery/request` → `run` → poll → download every file.
//!
//! Files are matched to slots by the start time in their ONC name (a file belongs to the slot
//! it starts in), never by their order; files of slots that were not asked for are skipped
//! unread. A run that ONC ends in `error` or `cancelled`, or whose files expired (410), is
//! submitted again, a bounded number of times. On cancellation the ONC job is cancelled.

use super::events::ExecEvent;
use super::job::{NOMINAL_FILE_MILLIS, SpectrogramGroup};
use super::journal::InFlight;
use super::layout::spectrogram_path;
use super::runner::{Ctx, Msg, poll_delay};
use crate::lock::LockedFile;
use crate::onc::{Downloaded, IndexOutcome, OncError, ProductRequest, RunState};
use crate::time::{UtcInstant, Window5m};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How a product request ended.
enum RunEnd {
    /// Files downloaded (per slot).
    Files(BTreeMap<Window5m, Vec<Downloaded>>),
    /// Must be submitted again (ONC ended the run, or the files expired).
    Resubmit(String),
    /// Cancelled by the user.
    Cancelled,
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
    // A covering first slot may need the file that started in the slot before.
    let reach_back = if first.cover { NOMINAL_FILE_MILLIS } else { 0 };
    let request = ProductRequest {
        device: group.device.clone(),
        product_code: "HSD".into(),
        extension: group.format.clone(),
        date_from: first.window.start().add_millis(-reach_back),
        date_to: last.window.end(),
        options: group
            .options
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    let mut reattach = ctx.previous.get(&key).copied();
    let mut last_reason = String::new();
    for _attempt in 0..=ctx.config.max_resubmits {
        let (id, state, estimate) = match start(&ctx, &key, &what, &request, reattach.take()).await
        {
            Ok(s) => s,
            Err(e) => return fail_all(&ctx, &group, &e.to_string()).await,
        };
        match follow(&ctx, &group, id, state, estimate).await {
            RunEnd::Files(files) => {
                finish(&ctx, &group, files).await;
                ctx.send(Msg::Journal(key, None)).await;
                return;
            }
            RunEnd::Cancelled => {
                // Best effort: tell ONC to stop working on it; it is no longer ours to resume.
                let _ = ctx.client.cancel(id).await;
                ctx.send(Msg::Journal(key, None)).await;
                return;
            }
            RunEnd::Resubmit(reason) => {
                ctx.report(&ExecEvent::Retrying {
                    what: what.clone(),
                    error: reason.clone(),
                });
                last_reason = reason;
            }
        }
    }
    ctx.send(Msg::Journal(key, None)).await;
    fail_all(
        &ctx,
        &group,
        &format!(
            "ONC request failed after {} attempts: {last_reason}",
            ctx.config.max_resubmits + 1
        ),
    )
    .await;
}

/// Submits the request and starts its run, or re-attaches to an earlier run's job.
async fn start(
    ctx: &Ctx,
    key: &str,
    what: &str,
    request: &ProductRequest,
    reattach: Option<InFlight>,
) -> Result<(i64, RunState, Option<std::time::Duration>), OncError> {
    if let Some(job) = reattach {
        match ctx.client.run_product(job.dp_request_id).await {
            Ok(state) if !state.is_failed() => {
                ctx.report(&ExecEvent::Submitted {
                    what: what.to_owned(),
                    dp_request_id: job.dp_request_id,
                    reattached: true,
                });
                return Ok((job.dp_request_id, state, None));
            }
            // Unknown, expired or failed: request afresh.
            Ok(_) | Err(OncError::Rejected { .. } | OncError::Gone { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let receipt = ctx.client.request_product(request).await?;
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
    let state = ctx.client.run_product(id).await?;
    ctx.send(Msg::Journal(
        key.to_owned(),
        Some(InFlight {
            dp_request_id: id,
            dp_run_id: Some(state.dp_run_id),
        }),
    ))
    .await;
    Ok((id, state, receipt.estimated_processing))
}

/// Polls until the run completes, then downloads its files.
async fn follow(
    ctx: &Ctx,
    group: &SpectrogramGroup,
    id: i64,
    mut state: RunState,
    estimate: Option<std::time::Duration>,
) -> RunEnd {
    let mut polls = 0;
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
        let delay = poll_delay(&ctx.config, estimate, polls, rand::random());
        polls += 1;
        tokio::select! {
            () = ctx.cancel.cancelled() => return RunEnd::Cancelled,
            () = tokio::time::sleep(delay) => {}
        }
        state = match ctx.client.run_product(id).await {
            Ok(s) => s,
            Err(e @ (OncError::Rejected { .. } | OncError::Gone { .. })) => {
                return RunEnd::Resubmit(e.to_string());
            }
            Err(e) => {
                ctx.report(&ExecEvent::Retrying {
                    what: format!("polling request {id}"),
                    error: e.to_string(),
                });
                continue;
            }
        };
    }
    ctx.report(&ExecEvent::Generated {
        dp_request_id: id,
        files: state.file_count,
    });
    download_all(ctx, group, state).await
}

/// Downloads every index of a complete run, bounded by the shared transfer limit.
async fn download_all(ctx: &Ctx, group: &SpectrogramGroup, state: RunState) -> RunEnd {
    let dest = |name: &str| -> Option<PathBuf> {
        let start = UtcInstant::from_file_name(name)?;
        let end = start.add_millis(NOMINAL_FILE_MILLIS);
        group.items.iter().any(|i| i.takes(start, end)).then(|| {
            ctx.data_dir
                .join(spectrogram_path(&group.device, &group.options, name))
        })
    };
    let count = u32::try_from(state.file_count.max(0)).unwrap_or(u32::MAX);
    let run_id = state.dp_run_id;
    let results: Vec<Result<IndexOutcome, OncError>> = futures::stream::iter(1..=count)
        .map(|index| download_index(ctx, run_id, index, &dest))
        .buffer_unordered(ctx.config.max_downloads.max(1))
        .collect()
        .await;
    if ctx.cancel.is_cancelled() {
        return RunEnd::Cancelled;
    }
    let mut files: BTreeMap<Window5m, Vec<Downloaded>> = BTreeMap::new();
    for r in results {
        match r {
            Ok(IndexOutcome::File(d)) => {
                if let Some(start) = UtcInstant::from_file_name(&d.name) {
                    let end = start.add_millis(NOMINAL_FILE_MILLIS);
                    for item in group.items.iter().filter(|i| i.takes(start, end)) {
                        files.entry(item.window).or_default().push(d.clone());
                    }
                }
            }
            Ok(_) => {}
            Err(e @ OncError::Gone { .. }) => return RunEnd::Resubmit(e.to_string()),
            Err(e) => return RunEnd::Resubmit(format!("download failed: {e}")),
        }
    }
    RunEnd::Files(files)
}

/// Downloads one index, waiting while ONC answers 202.
async fn download_index(
    ctx: &Ctx,
    run_id: i64,
    index: u32,
    dest: &(dyn Fn(&str) -> Option<PathBuf> + Sync),
) -> Result<IndexOutcome, OncError> {
    let mut waits = 0;
    loop {
        let outcome = {
            let Ok(_permit) = ctx.downloads.acquire().await else {
                return Ok(IndexOutcome::End);
            };
            if ctx.cancel.is_cancelled() {
                return Ok(IndexOutcome::End);
            }
            ctx.client.download_index(run_id, index, dest).await?
        };
        match outcome {
            IndexOutcome::NotReady { .. } => {
                let delay = poll_delay(&ctx.config, None, waits, rand::random());
                waits += 1;
                tokio::select! {
                    () = ctx.cancel.cancelled() => return Ok(IndexOutcome::End),
                    () = tokio::time::sleep(delay) => {}
                }
            }
            IndexOutcome::File(d) => {
                ctx.downloaded(&d);
                return Ok(IndexOutcome::File(d));
            }
            other => return Ok(other),
        }
    }
}

/// Records each slot: its files, or that ONC had none.
async fn finish(
    ctx: &Ctx,
    group: &SpectrogramGroup,
    mut files: BTreeMap<Window5m, Vec<Downloaded>>,
) {
    let product = format!("spectrogram/{}", group.format);
    for item in &group.items {
        let found = files.remove(&item.window).unwrap_or_default();
        ctx.slot_done(
            item,
            &group.device,
            product.clone(),
            &found,
            "ONC produced no spectrogram for this slot",
        )
        .await;
    }
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

async fn fail_all(ctx: &Ctx, group: &SpectrogramGroup, error: &str) {
    if ctx.cancel.is_cancelled() {
        return;
    }
    for item in &group.items {
        ctx.item_failed(&item.id, error).await;
    }
}
