//! From a plan and a lockfile to the [`Job`] still to do.
//!
//! A fetch item is done when the lockfile has it and its files are on disk with their recorded
//! sizes. The plan's ONC request groups are kept; pending items of a group are split into runs
//! of contiguous windows, so a partly done group asks ONC only for what is missing.

use super::job::{AudioGroup, ClipJob, ClipKind, Job, SpectrogramGroup, WantedItem};
use crate::clip::audio::AudioFormat;
use crate::domain::ItemId;
use crate::domain::{AudioExtension, SpectrogramFormat};
use crate::lock::Lockfile;
use crate::plan::ClipProduct;
use crate::plan::{FetchProduct, OncRequestGroup, Plan};
use crate::time::Window5m;
use std::collections::HashMap;
use std::path::Path;

/// The work left, and how many fetch items were already done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pending {
    /// What to fetch.
    pub job: Job,
    /// Items of the plan (fetch and clip).
    pub total: usize,
    /// Items already done.
    pub done_before: usize,
}

/// For each fetch item feeding a clip, the earliest instant of its slot a clip needs
/// ([`WantedItem::clip_from`]).
pub(crate) fn clip_starts(
    plan: &Plan,
    windows: &HashMap<ItemId, Window5m>,
) -> HashMap<ItemId, crate::time::UtcInstant> {
    let mut out: HashMap<ItemId, crate::time::UtcInstant> = HashMap::new();
    for c in plan.clip_items() {
        for id in &c.sources {
            let Some(w) = windows.get(id) else { continue };
            let from = c.start.max(w.start());
            out.entry(*id)
                .and_modify(|f| *f = (*f).min(from))
                .or_insert(from);
        }
    }
    out
}

/// The pending items of one request group, split into runs of contiguous windows (each one ONC
/// request's worth: a partly done group asks only for what is missing), each with what clips
/// need of its slot. `done` is asked once per item.
pub(crate) fn wanted_runs(
    group: &OncRequestGroup,
    windows: &HashMap<ItemId, Window5m>,
    clip_from: &HashMap<ItemId, crate::time::UtcInstant>,
    mut done: impl FnMut(&ItemId) -> bool,
) -> Vec<Vec<(ItemId, WantedItem)>> {
    let mut runs: Vec<Vec<(ItemId, WantedItem)>> = Vec::new();
    for id in &group.items {
        if done(id) {
            continue;
        }
        let Some(&window) = windows.get(id) else {
            continue;
        };
        let item = WantedItem {
            id: id.to_string(),
            window,
            clip_from: clip_from.get(id).copied(),
        };
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|(_, l)| l.window.next() == window) => {
                run.push((*id, item));
            }
            _ => runs.push(vec![(*id, item)]),
        }
    }
    runs
}

/// Computes what of `plan` is not yet done according to `lock` and `data_dir`.
#[must_use]
pub fn pending(plan: &Plan, lock: &Lockfile, data_dir: &Path) -> Pending {
    let windows: HashMap<ItemId, Window5m> = plan.fetch_items().map(|f| (f.id, f.window)).collect();
    let clip_from = clip_starts(plan, &windows);
    let hexes: Vec<_> = plan
        .requests
        .iter()
        .flat_map(|g| g.items.iter())
        .map(ItemId::hex)
        .chain(plan.clip_items().map(|c| c.id.hex()))
        .collect();
    let ids: Vec<&str> = hexes.iter().map(crate::domain::HexId::as_str).collect();
    let done: std::collections::HashSet<ItemId> = plan
        .requests
        .iter()
        .flat_map(|g| g.items.iter().copied())
        .chain(plan.clip_items().map(|c| c.id))
        .zip(lock.satisfied(&ids, data_dir))
        .filter_map(|(id, satisfied)| satisfied.then_some(id))
        .collect();
    let mut out = Pending {
        total: windows.len(),
        ..Pending::default()
    };
    for group in &plan.requests {
        let runs = wanted_runs(group, &windows, &clip_from, |id| {
            let d = done.contains(id);
            out.done_before += usize::from(d);
            d
        });
        for run in runs {
            let items: Vec<WantedItem> = run.into_iter().map(|(_, item)| item).collect();
            match &group.product {
                FetchProduct::Spectrogram(p) => out.job.spectrograms.push(SpectrogramGroup {
                    device: group.device.as_str().to_owned(),
                    format: p.format().as_str().to_owned(),
                    options: p.options().clone(),
                    items,
                }),
                FetchProduct::Audio(exts) => out.job.audio.push(AudioGroup {
                    device: group.device.as_str().to_owned(),
                    extensions: exts.iter().map(|e| e.as_str().to_owned()).collect(),
                    items,
                }),
            }
        }
    }
    for c in plan.clip_items() {
        out.total += 1;
        if done.contains(&c.id) {
            out.done_before += 1;
            continue;
        }
        let kind = match c.product {
            ClipProduct::Audio(AudioExtension::Flac) => ClipKind::Audio(AudioFormat::Flac),
            ClipProduct::Audio(AudioExtension::Wav) => ClipKind::Audio(AudioFormat::Wav),
            ClipProduct::Spectrogram(SpectrogramFormat::Mat) => ClipKind::Mat,
            ClipProduct::Spectrogram(SpectrogramFormat::Png) => ClipKind::Png,
        };
        out.job.clips.push(ClipJob {
            id: c.id.to_string(),
            device: c.device.as_str().to_owned(),
            kind,
            start: c.start,
            end: c.end,
            sources: c.sources.iter().map(ToString::to_string).collect(),
            output: c.output.clone(),
            gap: c.gap,
        });
    }
    out
}
