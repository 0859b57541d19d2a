//! Batching fetch items into ONC requests: runs of contiguous windows of the same device and
//! product (with its options) that some job asked for together, at most N windows per request.
//!
//! Decisions recorded here:
//! - N for a (device, product) is the smallest batch size any job asked for it with, so a
//!   job that wants small requests (e.g. on-demand MAT resolutions) is never overridden.
//! - Two adjacent windows share a request only if one job asked for both (a range, a sample's
//!   run, one request's or one event's padded span: `Builder::joined`). Windows that merely
//!   touch, asked for by different requests of a request file or different events, are
//!   separate requests: the server processes the same files either way, but a token's slots
//!   then work on them side by side and each clip's sources arrive as soon as they are ready
//!   (20 scattered events at capacity 2: 7 requests of up to 6 files became 20 of 1 or 2,
//!   and the run 30 s, the server bound of those 7 under FIFO, became 28.5 s of a 27.5 s bound).
//! - Grouping is an execution choice: it is part of the plan, never of an id.

use super::item::FetchProduct;
use crate::domain::DeviceCode;
use crate::domain::ItemId;
use crate::time::Window5m;
use std::collections::HashMap;

/// Smallest batch size asked for each (device, product).
#[derive(Debug, Default)]
pub(crate) struct Contribution(HashMap<(u32, u32), u32>);

impl Contribution {
    pub(crate) fn note(&mut self, device: u32, product: u32, batch: u32) {
        let e = self.0.entry((device, product)).or_insert(batch);
        *e = (*e).min(batch).max(1);
    }

    fn get(&self, device: u32, product: u32) -> u32 {
        self.0
            .get(&(device, product))
            .copied()
            .unwrap_or(crate::manifest::model::DEFAULT_BATCH)
    }
}

/// One ONC request: contiguous windows of one device and product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OncRequestGroup {
    /// The device.
    pub device: DeviceCode,
    /// The product, with its options or extension preference.
    pub product: FetchProduct,
    /// The first window.
    pub first: Window5m,
    /// The last window (inclusive); the request's `dateTo` is its end.
    pub last: Window5m,
    /// The fetch items, in window order.
    pub items: Vec<ItemId>,
}

/// Groups fetch items `(device, product, window, id)`.
pub(crate) fn group(
    mut fetch: Vec<(u32, u32, Window5m, ItemId)>,
    devices: &[DeviceCode],
    products: &[FetchProduct],
    batches: &Contribution,
    joined: &foldhash::HashSet<(u32, u32, i64)>,
) -> Vec<OncRequestGroup> {
    let device_rank = ranks(devices.len(), |a, b| devices[a].cmp(&devices[b]));
    let product_rank = ranks(products.len(), |a, b| {
        order_key(&products[a]).cmp(&order_key(&products[b]))
    });
    fetch.sort_unstable_by_key(|f| (device_rank[f.0 as usize], product_rank[f.1 as usize], f.2));
    let mut out: Vec<OncRequestGroup> = Vec::new();
    let mut current: Option<(u32, u32, u32)> = None;
    for (d, p, w, id) in fetch {
        let n = batches.get(d, p) as usize;
        let extend = match (current, out.last()) {
            (Some((cd, cp, _)), Some(g)) => {
                cd == d
                    && cp == p
                    && g.last.next() == w
                    && g.items.len() < n
                    && joined.contains(&(d, p, g.last.start().unix_millis()))
            }
            _ => false,
        };
        if extend {
            if let Some(g) = out.last_mut() {
                g.last = w;
                g.items.push(id);
            }
        } else {
            out.push(OncRequestGroup {
                device: devices[d as usize].clone(),
                product: products[p as usize].clone(),
                first: w,
                last: w,
                items: vec![id],
            });
        }
        current = Some((d, p, 0));
    }
    out
}

/// The rank of each index under `cmp`.
fn ranks(n: usize, cmp: impl Fn(usize, usize) -> std::cmp::Ordering) -> Vec<u32> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| cmp(*a, *b));
    let mut rank = vec![0; n];
    for (r, i) in order.into_iter().enumerate() {
        rank[i] = u32::try_from(r).unwrap_or(u32::MAX);
    }
    rank
}

/// Orders products for display: spectrograms before audio, then by format and options.
fn order_key(p: &FetchProduct) -> (u8, String) {
    match p {
        FetchProduct::Spectrogram(s) => (0, format!("{}{:?}", s.format().as_str(), s.options())),
        FetchProduct::Audio(e) => (1, format!("{e:?}")),
    }
}
