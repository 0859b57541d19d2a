//! Resolving manifests into plan items: which windows each job needs, deduplication, clips.
//!
//! Decisions recorded here:
//! - range/audio: every window overlapping `[start, end)`.
//! - sample: the whole windows inside `[start, end)` (from the first slot starting at or
//!   after `start`) are the candidates; `ceil(total / per_request)` blocks of `per_request`
//!   consecutive windows (the last block holds the remainder, so exactly `total` windows are
//!   taken) are placed with the free slots spread evenly between them, the first block at
//!   the first slot and the last ending at the last: block `b` starts at
//!   `b·per_request + floor(b·free / (blocks − 1))`. Blocks never overlap and never pass `end`.
//! - events: the windows overlapping `[t − before, t + after)`, or the window holding `t`.
//! - requests: the windows overlapping the padded span; with `clip`, one clip item per
//!   product, cut from exactly those fetch items.
//! - Two jobs needing the same (device, product, options, window) share one fetch item.
//! - Clip outputs: `<output_tag or "clips">/<output_name or device_START_DURATIONs>.<format>`,
//!   each part sanitised (separators, `..`, leading dots, control and reserved characters
//!   become `_`). The manifest's `output_tag` and `output_name` were already checked as
//!   [`SafeName`](crate::safe_name::SafeName)s when it was read (a bad one is a plan error
//!   naming file and field), so this is a second fence.
//! - Requests that resolve to the same clip (same id: device, exact window, product, format,
//!   options, gap policy and output) are one clip item: the first one asked for keeps its
//!   place and every later one's label, description and origin are appended to its
//!   [`ClipItem::requests`]. Two *different* clips writing the same output are a plan error
//!   naming both requests.

use super::item::{
    ClipItem, ClipProduct, ClipRequest, FetchProduct, clip_canonical, fetch_id_from_prefix,
    fetch_prefix,
};
use super::{PlanError, group::Contribution};
use crate::domain::ItemId;
use crate::domain::{DeviceCode, Products};
use crate::manifest::{Job, Origin, Request, Sourced};
use crate::time::{UtcInstant, Window5m};
use foldhash::HashMap;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::hash::BuildHasher as _;

/// Fetch items under construction, deduplicated.
#[derive(Default)]
pub(crate) struct Builder {
    pub(crate) devices: Vec<DeviceCode>,
    device_index: HashMap<DeviceCode, u32>,
    pub(crate) products: Vec<FetchProduct>,
    product_index: HashMap<FetchProduct, u32>,
    /// (device, product, window start ms) → index in `fetch`.
    fetch_index: HashMap<(u32, u32, i64), usize>,
    /// (device, product) → the canonical JSON its fetch items share.
    prefixes: HashMap<(u32, u32), Vec<u8>>,
    /// Reused for each id's canonical JSON.
    buf: Vec<u8>,
    pub(crate) fetch: Vec<(u32, u32, Window5m, ItemId)>,
    /// Boxed as the plan keeps them ([`super::Item::Clip`]), so they move in without a copy
    /// of every clip alive at once.
    #[expect(clippy::vec_box, reason = "the plan's items hold them boxed")]
    pub(crate) clips: Vec<Box<ClipItem>>,
    /// The requests (not clipped) each fetch item serves.
    pub(crate) fetch_requests: std::collections::BTreeMap<ItemId, Vec<ClipRequest>>,
    pub(crate) batches: Contribution,
    /// (device, product, window start ms) of each window that some job asked for together
    /// with the next one: only such neighbours share an ONC request ([`super::group`]).
    pub(crate) joined: foldhash::HashSet<(u32, u32, i64)>,
    pub(crate) errors: Vec<PlanError>,
}

impl Builder {
    fn device(&mut self, d: &DeviceCode) -> u32 {
        if let Some(i) = self.device_index.get(d) {
            return *i;
        }
        let i = u32::try_from(self.devices.len()).unwrap_or(u32::MAX);
        self.devices.push(d.clone());
        self.device_index.insert(d.clone(), i);
        i
    }

    fn product(&mut self, p: &FetchProduct) -> u32 {
        if let Some(i) = self.product_index.get(p) {
            return *i;
        }
        let i = u32::try_from(self.products.len()).unwrap_or(u32::MAX);
        self.products.push(p.clone());
        self.product_index.insert(p.clone(), i);
        i
    }

    /// Adds (or finds) the fetch items for these windows; returns their ids in order.
    fn windows(
        &mut self,
        device: &DeviceCode,
        product: &FetchProduct,
        windows: impl Iterator<Item = Window5m>,
        batch: u32,
        join: bool,
    ) -> Vec<ItemId> {
        let d = self.device(device);
        let p = self.product(product);
        self.batches.note(d, p, batch);
        let mut previous: Option<Window5m> = None;
        let prefix = self
            .prefixes
            .entry((d, p))
            .or_insert_with(|| fetch_prefix(device, product));
        windows
            .map(|w| {
                if join
                    && let Some(prev) = previous.replace(w)
                    && prev.next() == w
                {
                    self.joined.insert((d, p, prev.start().unix_millis()));
                }
                let key = (d, p, w.start().unix_millis());
                if let Some(&i) = self.fetch_index.get(&key) {
                    return self.fetch[i].3;
                }
                let id = fetch_id_from_prefix(prefix, w, &mut self.buf);
                self.fetch_index.insert(key, self.fetch.len());
                self.fetch.push((d, p, w, id));
                id
            })
            .collect()
    }

    fn products_of(products: &Products) -> Vec<FetchProduct> {
        let mut v = Vec::with_capacity(2);
        if let Some(s) = &products.spectrogram {
            v.push(FetchProduct::Spectrogram(s.clone()));
        }
        if let Some(a) = products.audio {
            v.push(FetchProduct::Audio(a.preference()));
        }
        v
    }

    /// Adds the fetch items of `windows`; with `join`, adjacent ones may share a request.
    fn add_all(
        &mut self,
        device: &DeviceCode,
        products: &Products,
        windows: &[Window5m],
        batch: u32,
        join: bool,
    ) {
        for p in Self::products_of(products) {
            self.windows(device, &p, windows.iter().copied(), batch, join);
        }
    }

    /// Items made so far (fetch items and clips).
    pub(crate) fn len(&self) -> usize {
        self.fetch.len() + self.clips.len()
    }

    /// Adds one job.
    pub(crate) fn add(&mut self, s: &Sourced) {
        match &s.job {
            Job::Range {
                span,
                products,
                batch,
            } => {
                let w: Vec<Window5m> = Window5m::covering(span.start, span.end).collect();
                self.add_all(&span.device, products, &w, *batch, true);
            }
            Job::Sample {
                span,
                products,
                total,
                per_request,
            } => {
                let w = sample_windows(span.start, span.end, *total, *per_request);
                self.add_all(&span.device, products, &w, *per_request, true);
            }
            Job::Events {
                device,
                times,
                pad_before_ms,
                pad_after_ms,
                products,
                per_request,
            } => {
                // Each event's padded span joins its own windows only (`windows` dedups).
                for t in times {
                    let own: Vec<Window5m> = Window5m::covering(
                        t.add_millis(-pad_before_ms),
                        t.add_millis(*pad_after_ms),
                    )
                    .collect();
                    self.add_all(device, products, &own, *per_request, true);
                }
            }
            Job::Request(r) => self.request(r, &s.origin),
        }
    }

    fn request(&mut self, r: &Request, origin: &Origin) {
        for p in Self::products_of(&r.products) {
            let ids = self.windows(
                &r.span.device,
                &p,
                Window5m::covering(r.span.start, r.span.end),
                r.batch,
                true,
            );
            let asked = ClipRequest {
                origin: origin.clone(),
                label: r.label.clone(),
                description: r.description.clone(),
                time: Some(r.time),
            };
            if !r.clip {
                for id in &ids {
                    let served = self.fetch_requests.entry(*id).or_default();
                    if !served.contains(&asked) {
                        served.push(asked.clone());
                    }
                }
                continue;
            }
            let product = match &p {
                FetchProduct::Spectrogram(s) => ClipProduct::Spectrogram(s.format()),
                FetchProduct::Audio(e) => match e.first() {
                    Some(e) => ClipProduct::Audio(*e),
                    None => continue,
                },
            };
            let output = output_path(r, product);
            let mut clip = Box::new(ClipItem {
                id: ItemId::of(b""),
                device: r.span.device.clone(),
                product,
                start: r.span.start,
                end: r.span.end,
                sources: ids,
                output,
                gap: r.gap,
                requests: vec![asked],
            });
            clip_canonical(&clip, &mut self.buf);
            clip.id = ItemId::of(&self.buf);
            self.clips.push(clip);
        }
    }

    /// Frees the lookup tables once every job is in.
    pub(crate) fn finish_lookups(&mut self) {
        self.fetch_index = HashMap::default();
        self.prefixes = HashMap::default();
        self.product_index = HashMap::default();
        self.device_index = HashMap::default();
        self.buf = Vec::new();
    }

    /// Merges identical clips and reports different clips that would write the same output
    /// (the plan then fails). Done once at the end by sorting hashes of the outputs, which is
    /// much cheaper than keeping a map of a million output paths.
    ///
    /// Among the clips of one output, the earliest is kept and each later clip with the same id
    /// (the same content, see [`super::item`]) gives it its requests and is dropped. A later
    /// clip with another id is an error against the earliest clip of that output. Returns the
    /// number of clips merged away.
    pub(crate) fn merge_clips(&mut self) -> usize {
        let state = foldhash::fast::FixedState::default();
        let mut keys: Vec<(u64, u32)> = self
            .clips
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                (state.hash_one(c.output.as_str()), i)
            })
            .collect();
        keys.sort_unstable();
        let mut found: Vec<(u32, PlanError)> = Vec::new();
        // (later clip, the earlier clip it merges into), both indices in `clips`.
        let mut merges: Vec<(u32, u32)> = Vec::new();
        for run in keys.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
            // Equal hashes: compare the paths themselves. The earliest clip with a path keeps
            // it; a later one is merged into the earliest with its id, or is an error.
            for (k, &(_, second)) in run.iter().enumerate().skip(1) {
                let later = &self.clips[second as usize];
                let mut same_path = run[..k]
                    .iter()
                    .map(|&(_, f)| f)
                    .filter(|&f| self.clips[f as usize].output == later.output);
                let Some(first) = same_path.next() else {
                    continue;
                };
                if self.clips[first as usize].id == later.id {
                    merges.push((second, first));
                } else if let Some(same) =
                    same_path.find(|&f| self.clips[f as usize].id == later.id)
                {
                    merges.push((second, same));
                } else {
                    let origin = |i: u32| {
                        self.clips[i as usize]
                            .requests
                            .first()
                            .map(|r| r.origin.to_string())
                            .unwrap_or_default()
                    };
                    found.push((
                        second,
                        PlanError::OutputCollision {
                            output: later.output.clone(),
                            first: origin(first),
                            second: origin(second),
                        },
                    ));
                }
            }
        }
        found.sort_by_key(|(i, _)| *i);
        self.errors.extend(found.into_iter().map(|(_, e)| e));
        if merges.is_empty() {
            return 0;
        }
        // Each later clip merges into an earlier one that is itself never merged away (the
        // earliest of its id), so requests are appended in the order they were given.
        merges.sort_unstable();
        let mut dropped = vec![false; self.clips.len()];
        for &(later, into) in &merges {
            let moved = std::mem::take(&mut self.clips[later as usize].requests);
            self.clips[into as usize].requests.extend(moved);
            dropped[later as usize] = true;
        }
        let mut i = 0;
        self.clips.retain(|_| {
            let keep = !dropped[i];
            i += 1;
            keep
        });
        merges.len()
    }
}

/// The sampled windows (see the module docs).
pub(crate) fn sample_windows(
    start: UtcInstant,
    end: UtcInstant,
    total: u32,
    per: u32,
) -> Vec<Window5m> {
    let first = Window5m::ceil(start);
    let available = first.slots_until(Window5m::floor(end)).max(0);
    let total = i64::from(total).min(available);
    let per = i64::from(per.max(1));
    if total == 0 {
        return Vec::new();
    }
    let blocks = (total + per - 1) / per;
    let free = available - total;
    let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for b in 0..blocks {
        let size = per.min(total - b * per);
        let offset = if blocks > 1 {
            b * per + (b * free) / (blocks - 1)
        } else {
            0
        };
        out.extend((0..size).map(|k| first.offset(offset + k)));
    }
    out
}

/// Makes one path component safe: no separators, no `..`, no leading dot, no control or
/// reserved characters, never empty.
pub(crate) fn sanitise(part: &str) -> Cow<'_, str> {
    let bad = |c: char| {
        c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
    };
    let clean = !part.is_empty()
        && !part.starts_with('.')
        && !part.contains("..")
        && part.trim().len() == part.len()
        && !part.chars().any(bad);
    if clean {
        return Cow::Borrowed(part);
    }
    let mut s: String = part.chars().map(|c| if bad(c) { '_' } else { c }).collect();
    while s.contains("..") {
        s = s.replace("..", "_");
    }
    if s.starts_with('.') {
        s.replace_range(..1, "_");
    }
    let s = s.trim().to_owned();
    Cow::Owned(if s.is_empty() { "_".to_owned() } else { s })
}

fn output_path(r: &Request, product: ClipProduct) -> String {
    let tag = sanitise(r.output_tag.as_deref().unwrap_or("clips"));
    let ext = product.format();
    let mut out = String::with_capacity(tag.len() + 48);
    out.push_str(&tag);
    out.push('/');
    if let Some(n) = &r.output_name {
        let n = sanitise(n);
        let lower = n.to_ascii_lowercase();
        match lower.strip_suffix(ext) {
            Some(stem) if stem.ends_with('.') && stem.len() > 1 => {
                out.push_str(&n[..stem.len() - 1]);
            }
            _ => out.push_str(&n),
        }
    } else {
        let ms = r.span.end.millis_since(r.span.start);
        let _ = write!(
            out,
            "{}_{}_{}",
            sanitise(r.span.device.as_str()),
            r.span.start.to_file_stamp(),
            ms / 1000
        );
        if ms % 1000 != 0 {
            let frac = format!("{:03}", (ms % 1000).abs());
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        out.push('s');
    }
    out.push('.');
    out.push_str(ext);
    out
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::pedantic,
        clippy::print_stderr,
        reason = "test code: casts and formatting on small fixed inputs"
    )]
    use super::*;

    fn t(s: &str) -> UtcInstant {
        UtcInstant::parse(s).unwrap()
    }

    #[test]
    fn sample_blocks_spread_without_overlap() {
        let w = sample_windows(t("2024-04-01T00:00:00Z"), t("2024-04-08T00:00:00Z"), 24, 6);
        assert_eq!(w.len(), 24);
        let mut sorted = w.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), 24);
        assert_eq!(w[0].start(), t("2024-04-01T00:00:00Z"));
        assert!(w.last().unwrap().end() <= t("2024-04-08T00:00:00Z"));
        // Four blocks of six consecutive windows.
        for b in 0..4 {
            for k in 1..6 {
                assert_eq!(w[b * 6 + k], w[b * 6].offset(k as i64));
            }
        }
        // Spread: the last block ends near the end of the week.
        assert_eq!(w[23].end(), t("2024-04-08T00:00:00Z"));
        // A remainder block and a full range.
        let w = sample_windows(t("2024-04-01T00:00:01Z"), t("2024-04-01T01:00:00Z"), 11, 4);
        assert_eq!(w.len(), 11);
        assert_eq!(w[0].start(), t("2024-04-01T00:05:00Z"));
        let mut d = w.clone();
        d.dedup();
        assert_eq!(d.len(), 11);
        assert!(w.windows(2).all(|p| p[0] < p[1]));
    }

    #[test]
    fn sanitises_output_parts() {
        assert_eq!(sanitise("../../etc/passwd"), "____etc_passwd");
        assert_eq!(sanitise("/abs"), "_abs");
        assert_eq!(sanitise(".hidden"), "_hidden");
        assert_eq!(sanitise("a..b"), "a_b");
        assert_eq!(sanitise("whale call 1"), "whale call 1");
        assert_eq!(sanitise(" padded "), "padded");
        assert_eq!(sanitise(""), "_");
        assert!(matches!(sanitise("ICLISTENHF6324"), Cow::Borrowed(_)));
    }
}
