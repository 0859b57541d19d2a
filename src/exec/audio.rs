//! One audio group: list the device's archive files over the group's span, pick the
//! preferred extension per slot (falling back to the next for slots that have none), and
//! download each file, bounded by the shared transfer limit.
//!
//! A file belongs to the slot it starts in (taken from the listing or its name). A slot with
//! no file in any preferred extension is recorded as "no data" with the reason.

use super::job::{AudioGroup, NOMINAL_FILE_MILLIS};
use super::layout::audio_path;
use super::runner::Ctx;
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
    // A covering first slot may need the file that started in the slot before.
    let from = first
        .window
        .start()
        .add_millis(if first.cover { -NOMINAL_FILE_MILLIS } else { 0 });
    let mut open: BTreeSet<Window5m> = group.items.iter().map(|i| i.window).collect();
    // Each file once, with the slots it serves.
    let mut chosen: BTreeMap<String, (ArchiveFile, Vec<Window5m>)> = BTreeMap::new();
    for ext in &group.extensions {
        if open.is_empty() {
            break;
        }
        let listing = match ctx
            .client
            .list_archive(&group.device, from, last.window.end(), ext)
            .await
        {
            Ok(l) => l,
            Err(e) => return fail(&ctx, &group, &open, &e.to_string()).await,
        };
        let suffix = format!(".{ext}");
        let mut found: BTreeMap<String, (ArchiveFile, Vec<Window5m>)> = BTreeMap::new();
        for f in listing
            .into_iter()
            .filter(|f| f.filename.ends_with(&suffix))
        {
            let Some(start) = f.start else { continue };
            let end = f.end.unwrap_or(start.add_millis(NOMINAL_FILE_MILLIS));
            let slots: Vec<Window5m> = group
                .items
                .iter()
                .filter(|i| open.contains(&i.window) && i.takes(start, end))
                .map(|i| i.window)
                .collect();
            if !slots.is_empty() {
                found.insert(f.filename.clone(), (f, slots));
            }
        }
        // A slot is served by this extension if any file of it was found.
        let served: BTreeSet<Window5m> = found
            .values()
            .flat_map(|(_, s)| s.iter().copied())
            .collect();
        open.retain(|w| !served.contains(w));
        chosen.extend(found);
    }

    let results: Vec<(Vec<Window5m>, String, Result<Downloaded, OncError>)> =
        futures::stream::iter(chosen.into_values())
            .map(|(f, slots)| {
                let ctx = ctx.clone();
                let device = group.device.clone();
                async move {
                    let path = ctx.data_dir.join(audio_path(&device, &f.filename));
                    let interrupted = || OncError::Transport {
                        endpoint: "archivefile/download".into(),
                        message: "interrupted".into(),
                    };
                    let Ok(_permit) = ctx.downloads.acquire().await else {
                        return (slots, f.filename, Err(interrupted()));
                    };
                    let r = tokio::select! {
                        () = ctx.cancel.cancelled() => Err(interrupted()),
                        r = ctx.client.download_archive(&f.filename, &path) => r,
                    };
                    if let Ok(d) = &r {
                        ctx.downloaded(d);
                    }
                    (slots, f.filename, r)
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
    for (slots, name, r) in results {
        for w in slots {
            match &r {
                Ok(d) => done.entry(w).or_default().push(d.clone()),
                Err(e) => {
                    errors.insert(w, format!("{name}: {e}"));
                }
            }
        }
    }
    let product = format!("audio/{}", group.extensions.join("|"));
    let no_file = format!("no {} file in this slot", group.extensions.join(" or "));
    for item in &group.items {
        if let Some(err) = errors.get(&item.window) {
            ctx.item_failed(&item.id, err).await;
            continue;
        }
        let files = done.remove(&item.window).unwrap_or_default();
        ctx.slot_done(item, &group.device, product.clone(), &files, &no_file)
            .await;
    }
}

async fn fail(ctx: &Ctx, group: &AudioGroup, open: &BTreeSet<Window5m>, error: &str) {
    if ctx.cancel.is_cancelled() {
        return;
    }
    for item in group.items.iter().filter(|i| open.contains(&i.window)) {
        ctx.item_failed(&item.id, error).await;
    }
}
