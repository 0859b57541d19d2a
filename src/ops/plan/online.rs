//! `plan --online`'s sizes: ONC's archive listing of each run of windows still to fetch, the
//! listed files assigned to the plan's items the way the executor assigns them (a file belongs
//! to the slot it starts in; a slot that feeds a clip also takes the file running into it).
//!
//! Only `archivefile/device` listings are made: nothing is submitted to
//! `dataProductDelivery`. Audio sizes are the listing's; spectrogram sizes are the built-in
//! table's, scaled by each listed file's duration (see [`crate::plan::estimate`]).

use crate::domain::ItemId;
use crate::exec::WantedItem;
use crate::exec::job::NOMINAL_FILE_MILLIS as FILE_MILLIS;
use crate::onc::{ArchiveFile, Client, OncError};
use crate::ops::OpsError;
use crate::ops::connect::{Connection, NetOptions};
use crate::plan::estimate::{Listed, typical_file_bytes};
use crate::plan::{FetchProduct, Plan};
use crate::time::Window5m;
use futures::StreamExt;
use std::collections::{HashMap, HashSet};

/// Listings at once.
const CONCURRENT_LISTINGS: usize = 4;

/// One run of windows to list: device, product, its items in window order.
struct Run<'a> {
    device: &'a str,
    product: &'a FetchProduct,
    items: Vec<(ItemId, WantedItem)>,
}

/// Connects to ONC, lists every run of windows of `plan` not in `done`, and returns what each
/// item would download (an item missing from the answer has no files).
///
/// # Errors
/// [`OpsError`] when ONC cannot be reached or a listing fails.
pub async fn measure<S: std::hash::BuildHasher>(
    plan: &Plan,
    done: &HashSet<ItemId, S>,
    net: NetOptions,
) -> Result<HashMap<ItemId, Listed>, OpsError> {
    let mut conn = Connection::new(net);
    let client = conn.client().await?;
    Ok(list_all(plan, done, &client).await?)
}

async fn list_all<S: std::hash::BuildHasher>(
    plan: &Plan,
    done: &HashSet<ItemId, S>,
    client: &Client,
) -> Result<HashMap<ItemId, Listed>, OncError> {
    let windows: HashMap<ItemId, Window5m> = plan.fetch_items().map(|f| (f.id, f.window)).collect();
    let clip_from = crate::exec::prepare::clip_starts(plan, &windows);
    let mut runs: Vec<Run<'_>> = Vec::new();
    for g in &plan.requests {
        for items in
            crate::exec::prepare::wanted_runs(g, &windows, &clip_from, |id| done.contains(id))
        {
            runs.push(Run {
                device: g.device.as_str(),
                product: &g.product,
                items,
            });
        }
    }
    let mut out = HashMap::new();
    let mut listed = futures::stream::iter(runs.iter().map(|r| list_run(client, r)))
        .buffer_unordered(CONCURRENT_LISTINGS);
    while let Some(found) = listed.next().await {
        out.extend(found?);
    }
    Ok(out)
}

/// Lists one run: audio in each preferred extension until every slot has files, spectrograms
/// in their format.
async fn list_run(client: &Client, run: &Run<'_>) -> Result<Vec<(ItemId, Listed)>, OncError> {
    let (Some((_, first)), Some((_, last))) = (run.items.first(), run.items.last()) else {
        return Ok(Vec::new());
    };
    let from = first
        .window
        .start()
        .add_millis(if first.clip_from.is_some() {
            -FILE_MILLIS
        } else {
            0
        });
    let to = last.window.end();
    let extensions: Vec<&str> = match run.product {
        FetchProduct::Audio(exts) => exts.iter().map(|e| e.as_str()).collect(),
        FetchProduct::Spectrogram(s) => vec![s.format().as_str()],
    };
    let mut sizes: HashMap<ItemId, Listed> = HashMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    for ext in extensions {
        let open: Vec<&(ItemId, WantedItem)> = run
            .items
            .iter()
            .filter(|(id, _)| !sizes.contains_key(id))
            .collect();
        if open.is_empty() {
            break;
        }
        let suffix = format!(".{ext}");
        let files = client.list_archive(run.device, from, to, ext).await?;
        for f in files.iter().filter(|f| f.filename.ends_with(&suffix)) {
            let Some(start) = f.start else { continue };
            let end = f.end.unwrap_or(start.add_millis(FILE_MILLIS));
            let Some((id, _)) = open.iter().find(|(_, w)| w.takes(start, end)) else {
                continue;
            };
            if !seen.insert(f.filename.clone()) {
                continue;
            }
            let e = sizes.entry(*id).or_default();
            e.files += 1;
            e.bytes += bytes_of(run.product, f, end.millis_since(start));
        }
    }
    Ok(sizes.into_iter().collect())
}

/// A listed file's bytes: its listed size for audio; for spectrograms, the table's size of a
/// 5-minute file scaled by the file's duration.
fn bytes_of(product: &FetchProduct, f: &ArchiveFile, millis: i64) -> u64 {
    let typical = typical_file_bytes(product);
    match product {
        FetchProduct::Audio(_) => f.size.unwrap_or(typical),
        FetchProduct::Spectrogram(_) => {
            let millis = u64::try_from(millis.clamp(0, FILE_MILLIS)).unwrap_or(0);
            typical * millis / FILE_MILLIS.unsigned_abs()
        }
    }
}
