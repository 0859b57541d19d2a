//! One audio group: list the device's archive files over the group's span, pick the
//! preferred extension per slot (falling back to the next for slots that have none), and
//! download each file, bounded by the shared transfer limit.
//!
//! A file belongs to the slot it starts in (taken from the listing or its name). A slot with
//! no file in any preferred extension is recorded as "no data" with the reason.

use super::events::ExecEvent;
use super::job::AudioGroup;
use super::layout::audio_path;
use super::runner::{Ctx, Failure, Msg};
use super::spectro::locked_file;
use crate::lock::{ItemKind, LockEntry, Status};
use crate::onc::{ArchiveFile, Downloaded, OncError};
use crate::time::Window5m;
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};

pub(crate) async fn run_group(ctx: Ctx, group: AudioGroup) {
    let (Some(first), Some(last)) = (group.items.first(), group.items.last()) else {
        return;
    };
    if ctx.cancel.is_cancelled() {
        return;
    }
    let mut open: BTreeSet<Window5m> = group.items.iter().map(|i| i.window).collect();
    let mut chosen: BTreeMap<Window5m, Vec<ArchiveFile>> = BTreeMap::new();
    for ext in &group.extensions {
        if open.is_empty() {
            break;
        }
        let listing = match ctx
            .client
            .list_archive(&group.device, first.window.start(), last.window.end(), ext)
            .await
        {
            Ok(l) => l,
            Err(e) => return fail(&ctx, &group, &open, &e.to_string()).await,
        };
        let mut found: BTreeMap<Window5m, Vec<ArchiveFile>> = BTreeMap::new();
        for f in listing {
            let suffix = format!(".{ext}");
            if !f.filename.ends_with(&suffix) {
                continue;
            }
            if let Some(start) = f.start {
                let w = Window5m::floor(start);
                if open.contains(&w) {
                    found.entry(w).or_default().push(f);
                }
            }
        }
        for (w, files) in found {
            open.remove(&w);
            chosen.insert(w, files);
        }
    }

    let jobs: Vec<(Window5m, ArchiveFile)> = chosen
        .iter()
        .flat_map(|(w, fs)| fs.iter().map(move |f| (*w, f.clone())))
        .collect();
    let results: Vec<(Window5m, String, Result<Downloaded, OncError>)> = futures::stream::iter(jobs)
        .map(|(w, f)| {
            let ctx = ctx.clone();
            let device = group.device.clone();
            async move {
                let path = ctx.data_dir.join(audio_path(&device, &f.filename));
                let Ok(_permit) = ctx.downloads.acquire().await else {
                    return (w, f.filename, Err(OncError::Transport { endpoint: "archivefile/download".into(), message: "shutting down".into() }));
                };
                let r = tokio::select! {
                    () = ctx.cancel.cancelled() => Err(OncError::Transport { endpoint: "archivefile/download".into(), message: "interrupted".into() }),
                    r = ctx.client.download_archive(&f.filename, &path) => r,
                };
                if let Ok(d) = &r {
                    let rel = d.path.strip_prefix(&ctx.data_dir).unwrap_or(&d.path).to_owned();
                    ctx.report(&ExecEvent::Downloaded { path: rel, bytes: d.size });
                }
                (w, f.filename, r)
            }
        })
        .buffer_unordered(ctx.config.max_downloads.max(1))
        .collect()
        .await;
    if ctx.cancel.is_cancelled() {
        return;
    }

    let mut done: BTreeMap<Window5m, Vec<Downloaded>> = BTreeMap::new();
    let mut errors: BTreeMap<Window5m, String> = BTreeMap::new();
    for (w, name, r) in results {
        match r {
            Ok(d) => done.entry(w).or_default().push(d),
            Err(e) => {
                errors.insert(w, format!("{name}: {e}"));
            }
        }
    }
    let product = format!("audio/{}", group.extensions.join("|"));
    for item in &group.items {
        if let Some(err) = errors.get(&item.window) {
            ctx.report(&ExecEvent::ItemFailed {
                id: item.id.clone(),
                error: err.clone(),
            });
            ctx.send(Msg::Failed(Failure {
                item: item.id.clone(),
                error: err.clone(),
            }))
            .await;
            continue;
        }
        let files = done.remove(&item.window).unwrap_or_default();
        let no_data = files.is_empty();
        let entry = LockEntry {
            id: item.id.clone(),
            kind: ItemKind::Fetch,
            device: group.device.clone(),
            product: product.clone(),
            window: item.window.start().to_onc_string(),
            status: if no_data {
                Status::NoData
            } else {
                Status::Done
            },
            reason: if no_data {
                format!(
                    "no {} file starts in this slot",
                    group.extensions.join(" or ")
                )
            } else {
                String::new()
            },
            files: files.iter().map(|d| locked_file(&ctx, d)).collect(),
        };
        ctx.report(&ExecEvent::ItemDone {
            id: item.id.clone(),
            no_data,
        });
        ctx.send(Msg::Done(entry)).await;
    }
}

async fn fail(ctx: &Ctx, group: &AudioGroup, open: &BTreeSet<Window5m>, error: &str) {
    if ctx.cancel.is_cancelled() {
        return;
    }
    for item in group.items.iter().filter(|i| open.contains(&i.window)) {
        ctx.report(&ExecEvent::ItemFailed {
            id: item.id.clone(),
            error: error.to_owned(),
        });
        ctx.send(Msg::Failed(Failure {
            item: item.id.clone(),
            error: error.to_owned(),
        }))
        .await;
    }
}
