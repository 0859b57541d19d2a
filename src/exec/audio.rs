//! One audio group: list the device's archive files over the group's span, pick the
//! preferred extension per slot (falling back to the next for slots that have none), and
//! download each file, bounded by the shared transfer limit.
//!
//! A file belongs to the slot it starts in (taken from the listing or its name). A slot with
//! no file in any preferred extension is recorded as "no data" with the reason.
//!
//! The listing names every file of every slot, so a slot is recorded as soon as all its files
//! are on disk (a slot without files right after the listing): an interrupt keeps it. On
//! cancellation the listing and the transfers in flight are dropped at once (a partial
//! download's temporary file goes with it).
//!
//! A listing name that is not a [`SafeName`] fails the slots that file serves, naming the
//! listing field; nothing is fetched or written under it, and the other files go on.

use super::job::{AudioGroup, NOMINAL_FILE_MILLIS, WantedItem};
use super::layout::audio_path;
use super::runner::{Ctx, error_text, next_unless_cancelled};
use crate::onc::{ArchiveFile, Downloaded, OncError};
use crate::safe_name::{self, SafeName};
use crate::time::Window5m;
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};

#[expect(
    clippy::too_many_lines,
    reason = "one listing-then-download flow per group, read top to bottom"
)]
pub(crate) async fn run_group(ctx: Ctx, group: AudioGroup) {
    let (Some(first), Some(last)) = (group.items.first(), group.items.last()) else {
        return;
    };
    if ctx.cancel.is_cancelled() {
        return;
    }
    // The listing selects by overlap (ONC documents it so), so it already holds the file
    // running across the first slot's start, which a slot feeding a clip may take.
    let from = first.window.start();
    let mut open: BTreeSet<Window5m> = group.items.iter().map(|i| i.window).collect();
    // Each file once, with the slots it serves.
    let mut chosen: BTreeMap<String, (ArchiveFile, Vec<Window5m>)> = BTreeMap::new();
    for ext in &group.extensions {
        if open.is_empty() {
            break;
        }
        let listed = ctx
            .cancel
            .run_until_cancelled(ctx.client.list_archive(
                &group.device,
                from,
                last.window.end(),
                ext,
            ))
            .await;
        let listing = match listed {
            None => return,
            Some(Ok(l)) => l,
            // Nothing is downloaded yet: every slot fails, also those an earlier extension
            // served.
            Some(Err(e)) => return fail(&ctx, &group, &error_text(&e)).await,
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

    let product = format!("audio/{}", group.extensions.join("|"));
    let no_file = format!("no {} file in this slot", group.extensions.join(" or "));
    let mut slots = Slots::new(&group.items, chosen.values().map(|(_, s)| s.as_slice()));
    // Slots without any file are complete already.
    for item in slots.complete_without_files() {
        ctx.slot_done(item, &group.device, product.clone(), &[], &no_file)
            .await;
    }

    let mut downloads = futures::stream::iter(chosen.into_values())
        .map(|(f, slots)| {
            let ctx = ctx.clone();
            let device = group.device.clone();
            async move {
                let r = fetch(&ctx, &device, &f.filename, f.size).await;
                (slots, r)
            }
        })
        .buffer_unordered(ctx.config.max_downloads.max(1));
    let mut cancelled = false;
    loop {
        // Transfers that finished before a cancel still count; the rest are dropped.
        let Some(arrived) =
            next_unless_cancelled(&ctx.cancel, &mut downloads, &mut cancelled).await
        else {
            return;
        };
        let Some((windows, r)) = arrived else {
            break;
        };
        if cancelled && r.is_err() {
            return;
        }
        match r {
            Ok(d) => {
                for (item, files) in slots.file_done(&windows, &d) {
                    ctx.slot_done(item, &group.device, product.clone(), &files, &no_file)
                        .await;
                }
            }
            Err(e) => {
                let error = e.message();
                for item in slots.file_failed(&windows) {
                    ctx.item_failed(&item.id, &error).await;
                }
                // A full disk stops the run: other files would fail the same way.
                if let FetchFailure::Download { error: e, .. } = &e
                    && ctx.stop_if_disk_full(e)
                {
                    return;
                }
            }
        }
    }
}

/// Why a listed file was not fetched.
enum FetchFailure {
    /// Its name (or the device code) failed the [`SafeName`] gate: nothing was asked for.
    Refused(String),
    /// The download failed.
    Download {
        /// The file.
        name: SafeName,
        /// Why.
        error: OncError,
    },
}

impl FetchFailure {
    /// The message for the file's slots.
    fn message(&self) -> String {
        match self {
            Self::Refused(m) => m.clone(),
            Self::Download { name, error } => format!("{name}: {}", error_text(error)),
        }
    }
}

/// Downloads one listed file to `data_dir/<device>/audio/<name>`, once its name and the
/// device code pass the [`SafeName`] gate; `size` is the listing's, checked when the body
/// comes without `Content-Length`.
async fn fetch(
    ctx: &Ctx,
    device: &str,
    filename: &str,
    size: Option<u64>,
) -> Result<Downloaded, FetchFailure> {
    let name = SafeName::new(filename).map_err(|why| {
        FetchFailure::Refused(safe_name::refused(
            "archivefile listing: filename",
            filename,
            why,
        ))
    })?;
    let dev = SafeName::new(device)
        .map_err(|why| FetchFailure::Refused(safe_name::refused("device code", device, why)))?;
    let path = ctx.data_dir.join(audio_path(&dev, &name));
    let r = match ctx.downloads.acquire().await {
        Ok(_permit) => ctx.client.download_archive(&name, &path, size).await,
        Err(_) => Err(OncError::Transport {
            endpoint: "archivefile/download".into(),
            message: "the transfer limit was closed".into(),
        }),
    };
    match r {
        Ok(d) => {
            ctx.downloaded(&d);
            Ok(d)
        }
        Err(error) => Err(FetchFailure::Download { name, error }),
    }
}

/// What each slot still waits for.
struct Slots<'a> {
    items: BTreeMap<Window5m, &'a WantedItem>,
    /// Files not yet downloaded, per slot.
    missing: BTreeMap<Window5m, usize>,
    /// Files downloaded, per slot.
    got: BTreeMap<Window5m, Vec<Downloaded>>,
    /// Slots recorded or failed.
    settled: BTreeSet<Window5m>,
}

impl<'a> Slots<'a> {
    fn new<'f>(items: &'a [WantedItem], files: impl Iterator<Item = &'f [Window5m]>) -> Self {
        let mut missing: BTreeMap<Window5m, usize> = items.iter().map(|i| (i.window, 0)).collect();
        for w in files.flatten() {
            if let Some(n) = missing.get_mut(w) {
                *n += 1;
            }
        }
        Self {
            items: items.iter().map(|i| (i.window, i)).collect(),
            missing,
            got: BTreeMap::new(),
            settled: BTreeSet::new(),
        }
    }

    /// Slots that no file serves.
    fn complete_without_files(&mut self) -> Vec<&'a WantedItem> {
        let empty: Vec<Window5m> = self
            .missing
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(w, _)| *w)
            .collect();
        self.settle(&empty)
    }

    /// A file of `windows` is on disk: the slots it completes, with all their files.
    fn file_done(
        &mut self,
        windows: &[Window5m],
        d: &Downloaded,
    ) -> Vec<(&'a WantedItem, Vec<Downloaded>)> {
        let mut complete = Vec::new();
        for w in windows {
            self.got.entry(*w).or_default().push(d.clone());
            if let Some(n) = self.missing.get_mut(w) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    complete.push(*w);
                }
            }
        }
        self.settle(&complete)
            .into_iter()
            .map(|item| (item, self.got.remove(&item.window).unwrap_or_default()))
            .collect()
    }

    /// A file of `windows` failed: the slots that fail with it (each once).
    fn file_failed(&mut self, windows: &[Window5m]) -> Vec<&'a WantedItem> {
        self.settle(windows)
    }

    fn settle(&mut self, windows: &[Window5m]) -> Vec<&'a WantedItem> {
        windows
            .iter()
            .filter(|w| self.settled.insert(**w))
            .filter_map(|w| self.items.get(w).copied())
            .collect()
    }
}

async fn fail(ctx: &Ctx, group: &AudioGroup, error: &str) {
    if ctx.cancel.is_cancelled() {
        return;
    }
    for item in &group.items {
        ctx.item_failed(&item.id, error).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::UtcInstant;

    fn items(n: i64) -> Vec<WantedItem> {
        let w = Window5m::floor(UtcInstant::parse("2024-04-01T12:00:00Z").unwrap());
        (0..n)
            .map(|k| WantedItem {
                id: format!("item{k}"),
                window: w.offset(k),
                clip_from: None,
            })
            .collect()
    }

    fn file(name: &str) -> Downloaded {
        Downloaded {
            name: name.into(),
            path: name.into(),
            size: 1,
            sha256: String::new(),
        }
    }

    #[test]
    fn a_slot_is_complete_when_its_last_file_is_in_and_settles_once() {
        let items = items(4);
        let w: Vec<Window5m> = items.iter().map(|i| i.window).collect();
        // Slot 0: one file; slot 1: two files, one shared with slot 2; slot 3: none.
        let served = [vec![w[0]], vec![w[1]], vec![w[1], w[2]]];
        let mut s = Slots::new(&items, served.iter().map(Vec::as_slice));
        let empty: Vec<&str> = s
            .complete_without_files()
            .iter()
            .map(|i| i.id.as_str())
            .collect();
        assert_eq!(empty, ["item3"]);

        let done = s.file_done(&[w[1], w[2]], &file("b"));
        assert_eq!(done.len(), 1, "slot 1 still waits for its other file");
        assert_eq!((done[0].0.id.as_str(), done[0].1.len()), ("item2", 1));
        let done = s.file_done(&[w[1]], &file("a"));
        assert_eq!((done[0].0.id.as_str(), done[0].1.len()), ("item1", 2));

        // A failed file fails its slot once; a settled slot is never reported again.
        let failed: Vec<&str> = s
            .file_failed(&[w[0]])
            .iter()
            .map(|i| i.id.as_str())
            .collect();
        assert_eq!(failed, ["item0"]);
        assert!(s.file_failed(&[w[0], w[1]]).is_empty());
        assert!(s.file_done(&[w[0]], &file("c")).is_empty());
    }
}
