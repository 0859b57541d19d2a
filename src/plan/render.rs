//! Showing a plan: a summary for people (like `terraform plan`) and the `--json` document.
//!
//! Both say the same things in the same words as the run summary (see
//! [`super::estimate`]): ONC requests for spectrograms, audio listings for audio (listed, then
//! downloaded file by file), files, estimated bytes and ONC processing time; options only
//! where they differ from ONC's defaults, once per device and product.
//!
//! The JSON shape is a contract (tests and tools rely on it):
//! `{"plan_hash", "data_dir", "lockfile", "lockfiles"?, "totals": {"items", "to_fetch",
//! "clips_to_make", "done", "no_data", "fetch_items", "clip_items", "requests",
//! "audio_listings", "files", "estimated_bytes", "estimated_server_seconds", "size_source"},
//! "estimates": [{"device", "product", "format", "options", "windows", "to_fetch",
//! "requests", "audio_listings", "files", "estimated_bytes", "estimated_server_seconds",
//! "spans": [{"start", "end"}]}], "items": [{"id", "kind", "status", "device", "product",
//! "format", "window_start"?, "options"?, "start"?, "end"?, "sources"?, "output"?, "label"?,
//! "labels"?}], "requests": [{"device", "product", "format", "date_from", "date_to",
//! "items"}]}`, instants as `YYYY-MM-DDTHH:MM:SS.sssZ`. `lockfile` is the first manifest's
//! lockfile; `lockfiles` (only when several manifests are planned together) lists each.
//! `status` is `done`, `pending` or `no_data` (from the lockfiles). Items are ordered by
//! device, product, format, fetch before clip, options, then time (ids stay content hashes);
//! `estimates[].options` holds only the options that differ from ONC's defaults. A clip's
//! `label` is its first request's; `labels` (only on a clip that several requests share)
//! lists every request's label in order, `""` for none.
//!
//! The summary says how many clip requests were merged when identical requests share a clip
//! ("3 clip requests → 2 clips; 1 duplicate shares a file").

use super::estimate::{self, Estimate, RowEstimate, SizeSource};
use super::item::{push_ids, push_json_str, push_str_map};
use super::{FetchProduct, Item, Plan};
use crate::domain::DeviceCode;
use crate::domain::ItemId;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;

/// What the lockfiles say about a plan, and what it costs: the context both renderings show.
#[derive(Debug, Clone)]
pub struct PlanStatus {
    /// Items done (locked with their files present), no-data items included.
    pub done: HashSet<ItemId>,
    /// Items the lockfiles record as having no data.
    pub no_data: HashSet<ItemId>,
    /// The estimate of what is left.
    pub estimate: Estimate,
    /// Each manifest's lockfile.
    pub lockfiles: Vec<PathBuf>,
}

impl PlanStatus {
    /// The status of a plan with nothing done, estimated from the built-in size table.
    #[must_use]
    pub fn fresh(plan: &Plan) -> Self {
        let (done, no_data) = (HashSet::new(), HashSet::new());
        Self {
            estimate: estimate::estimate(
                plan,
                &done,
                &no_data,
                None::<&HashMap<ItemId, estimate::Listed>>,
            ),
            done,
            no_data,
            lockfiles: Vec::new(),
        }
    }

    fn item_status(&self, id: &ItemId) -> &'static str {
        if self.no_data.contains(id) {
            "no_data"
        } else if self.done.contains(id) {
            "done"
        } else {
            "pending"
        }
    }
}

/// The plan as the `--json` document, with a final newline (see [`write_json`]).
#[must_use]
pub fn to_json(plan: &Plan, status: &PlanStatus) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_json(plan, status, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the `--json` document: one item and one request per line. A plan of a million
/// requests is hundreds of megabytes of JSON, so it is written as it goes, by hand, rather
/// than built as a value first. Each line goes to `out` as it is made: give a buffered writer.
///
/// # Errors
/// What `out` returns.
pub fn write_json(plan: &Plan, status: &PlanStatus, out: &mut impl Write) -> io::Result<()> {
    let mut line = Vec::with_capacity(1024);
    line.extend_from_slice(b"{\n  \"plan_hash\": ");
    push_json_str(&mut line, &plan.hash);
    line.extend_from_slice(b",\n  \"data_dir\": ");
    push_json_str(&mut line, &plan.context.data_dir.to_string_lossy());
    line.extend_from_slice(b",\n  \"lockfile\": ");
    match status.lockfiles.first() {
        Some(l) => push_json_str(&mut line, &l.to_string_lossy()),
        None => line.extend_from_slice(b"null"),
    }
    if status.lockfiles.len() > 1 {
        line.extend_from_slice(b",\n  \"lockfiles\": [");
        for (i, l) in status.lockfiles.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            push_json_str(&mut line, &l.to_string_lossy());
        }
        line.push(b']');
    }
    push_totals(&mut line, status);
    line.extend_from_slice(b",\n  \"estimates\": [");
    for (i, r) in status.estimate.rows.iter().enumerate() {
        line.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
        push_row(&mut line, r);
    }
    line.extend_from_slice(b"\n  ],\n  \"items\": [");
    for (i, &k) in display_order(plan).iter().enumerate() {
        let item = &plan.items[k];
        line.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
        push_item(&mut line, item, status.item_status(item.id()));
        out.write_all(&line)?;
        line.clear();
    }
    line.extend_from_slice(b"\n  ],\n  \"requests\": [");
    for (i, r) in plan.requests.iter().enumerate() {
        line.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
        line.push(b'{');
        push_what(
            &mut line,
            r.device.as_str(),
            r.product.kind(),
            r.product.format(),
        );
        line.extend_from_slice(b",\"date_from\":\"");
        r.first.start().push_onc(&mut line);
        line.extend_from_slice(b"\",\"date_to\":\"");
        r.last.end().push_onc(&mut line);
        line.extend_from_slice(b"\",\"items\":");
        push_ids(&mut line, &r.items);
        line.push(b'}');
        out.write_all(&line)?;
        line.clear();
    }
    line.extend_from_slice(b"\n  ]\n}\n");
    out.write_all(&line)
}

fn push_totals(out: &mut Vec<u8>, status: &PlanStatus) {
    let t = &status.estimate.totals;
    let source = match status.estimate.source {
        SizeSource::Table => "table",
        SizeSource::Listing => "listing",
    };
    let _ = write!(
        Bytes(out),
        ",\n  \"totals\": {{\"items\":{},\"to_fetch\":{},\"clips_to_make\":{},\"done\":{},\"no_data\":{},\"fetch_items\":{},\"clip_items\":{},\"requests\":{},\"audio_listings\":{},\"files\":{},\"estimated_bytes\":{},\"estimated_server_seconds\":{},\"size_source\":\"{source}\"}}",
        t.items,
        t.to_fetch,
        t.clips_to_make,
        t.done,
        t.no_data,
        t.fetch_items,
        t.clip_items,
        t.requests,
        t.listings,
        t.files,
        t.bytes,
        t.server_seconds,
    );
}

fn push_row(out: &mut Vec<u8>, r: &RowEstimate) {
    out.push(b'{');
    push_what(out, r.device.as_str(), r.product.kind(), r.product.format());
    out.extend_from_slice(b",\"options\":{");
    for (i, o) in estimate::non_default_options(&r.product).iter().enumerate() {
        let (k, v) = o.split_once('=').unwrap_or((o, ""));
        if i > 0 {
            out.push(b',');
        }
        push_json_str(out, k);
        out.push(b':');
        push_json_str(out, v);
    }
    let _ = write!(
        Bytes(out),
        "}},\"windows\":{},\"to_fetch\":{},\"requests\":{},\"audio_listings\":{},\"files\":{},\"estimated_bytes\":{},\"estimated_server_seconds\":{},\"spans\":[",
        r.windows,
        r.to_fetch,
        r.requests,
        r.listings,
        r.files,
        r.bytes,
        r.server_seconds
    );
    for (i, (s, e)) in r.spans.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"start\":\"");
        s.push_onc(out);
        out.extend_from_slice(b"\",\"end\":\"");
        e.push_onc(out);
        out.extend_from_slice(b"\"}");
    }
    out.extend_from_slice(b"]}");
}

/// `fmt::Write` over a byte buffer.
struct Bytes<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// The display key of an item, before options: device, product, format, fetch before clip,
/// time.
fn order_key(
    item: &Item,
) -> (
    &str,
    &'static str,
    &'static str,
    u8,
    crate::time::UtcInstant,
) {
    match item {
        Item::Fetch(f) => (
            f.device.as_str(),
            f.product.kind(),
            f.product.format(),
            0,
            f.window.start(),
        ),
        Item::Clip(c) => (
            c.device.as_str(),
            c.product.kind(),
            c.product.format(),
            1,
            c.start,
        ),
    }
}

/// Indices of the plan's items by device, product, format, fetch before clip, options, time,
/// then id.
fn display_order(plan: &Plan) -> Vec<usize> {
    // Options (or extension preferences) of fetch items, ranked once per distinct product.
    let mut products: Vec<&FetchProduct> = plan
        .requests
        .iter()
        .map(|r| &r.product)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    products.sort_by_cached_key(|p| format!("{p:?}"));
    let rank: HashMap<&FetchProduct, usize> =
        products.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    let mut order: Vec<usize> = (0..plan.items.len()).collect();
    order.sort_by(|&a, &b| {
        let (ia, ib) = (&plan.items[a], &plan.items[b]);
        let (ka, kb) = (order_key(ia), order_key(ib));
        let ra = match ia {
            Item::Fetch(f) => rank.get(&f.product).copied().unwrap_or(0),
            Item::Clip(_) => 0,
        };
        let rb = match ib {
            Item::Fetch(f) => rank.get(&f.product).copied().unwrap_or(0),
            Item::Clip(_) => 0,
        };
        (ka.0, ka.1, ka.2, ka.3, ra, ka.4, ia.id()).cmp(&(
            kb.0,
            kb.1,
            kb.2,
            kb.3,
            rb,
            kb.4,
            ib.id(),
        ))
    });
    order
}

/// `"device":…,"product":…,"format":…`, shared by items and requests.
fn push_what(out: &mut Vec<u8>, device: &str, product: &str, format: &str) {
    out.extend_from_slice(b"\"device\":");
    push_json_str(out, device);
    out.extend_from_slice(b",\"product\":");
    push_json_str(out, product);
    out.extend_from_slice(b",\"format\":");
    push_json_str(out, format);
}

fn push_item(out: &mut Vec<u8>, item: &Item, status: &str) {
    out.extend_from_slice(b"{\"id\":\"");
    out.extend_from_slice(item.id().hex().as_str().as_bytes());
    match item {
        Item::Fetch(f) => {
            out.extend_from_slice(b"\",\"kind\":\"fetch\",\"status\":\"");
            out.extend_from_slice(status.as_bytes());
            out.extend_from_slice(b"\",");
            push_what(out, f.device.as_str(), f.product.kind(), f.product.format());
            out.extend_from_slice(b",\"window_start\":\"");
            f.window.start().push_onc(out);
            out.push(b'"');
            if let FetchProduct::Spectrogram(s) = &f.product {
                out.extend_from_slice(b",\"options\":");
                push_str_map(out, s.options());
            }
        }
        Item::Clip(c) => {
            out.extend_from_slice(b"\",\"kind\":\"clip\",\"status\":\"");
            out.extend_from_slice(status.as_bytes());
            out.extend_from_slice(b"\",");
            push_what(out, c.device.as_str(), c.product.kind(), c.product.format());
            out.extend_from_slice(b",\"start\":\"");
            c.start.push_onc(out);
            out.extend_from_slice(b"\",\"end\":\"");
            c.end.push_onc(out);
            out.extend_from_slice(b"\",\"sources\":");
            push_ids(out, &c.sources);
            out.extend_from_slice(b",\"output\":");
            push_json_str(out, &c.output);
            if let Some(label) = c.label() {
                out.extend_from_slice(b",\"label\":");
                push_json_str(out, label);
            }
            if c.requests.len() > 1 {
                out.extend_from_slice(b",\"labels\":[");
                for (i, r) in c.requests.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    push_json_str(out, r.label.as_deref().unwrap_or_default());
                }
                out.push(b']');
            }
        }
    }
    out.push(b'}');
}

/// Spans printed per device and product; the rest are counted.
const MAX_SPANS: usize = 4;

/// A summary for people: per device and product, the windows and their time spans, what is
/// still to fetch in how many ONC requests or audio listings, the files, the estimated bytes
/// and ONC processing time; per device, the clips; then the totals.
#[must_use]
pub fn to_human(plan: &Plan, status: &PlanStatus) -> String {
    let est = &status.estimate;
    let mut clip_rows: BTreeMap<(&DeviceCode, &'static str, &'static str), (usize, usize)> =
        BTreeMap::new();
    for c in plan.clip_items() {
        let r = clip_rows
            .entry((&c.device, c.product.kind(), c.product.format()))
            .or_default();
        r.0 += 1;
        r.1 += usize::from(!status.done.contains(&c.id));
    }
    let mut devices: Vec<&DeviceCode> = est.rows.iter().map(|r| &r.device).collect();
    devices.extend(clip_rows.keys().map(|k| k.0));
    devices.sort();
    devices.dedup();
    let mut out = String::new();
    for device in devices {
        let _ = writeln!(out, "{device}");
        for r in est.rows.iter().filter(|r| &r.device == device) {
            push_human_row(&mut out, r);
        }
        for ((_, kind, format), (n, to_make)) in clip_rows.iter().filter(|(k, _)| k.0 == device) {
            let _ = writeln!(
                out,
                "  + clips: {kind} {format}: {} ({to_make} to make)",
                count(*n, "clip")
            );
        }
    }
    let t = &est.totals;
    let _ = writeln!(
        out,
        "\nPlan {}: {} ({} to fetch, {} already in the lockfile), {} ({} to make).",
        &plan.hash[..plan.hash.len().min(12)],
        count(t.fetch_items, "fetch item"),
        t.to_fetch,
        t.fetch_items - t.to_fetch,
        count(t.clip_items, "clip item"),
        t.clips_to_make,
    );
    let _ = writeln!(
        out,
        "To fetch: {}, {}, {}, ≈ {}; ONC processing ≈ {}.",
        count(t.requests, "ONC request"),
        count(t.listings, "audio listing"),
        count(usize::try_from(t.files).unwrap_or(usize::MAX), "file"),
        estimate::format_bytes(t.bytes),
        estimate::format_seconds(t.server_seconds),
    );
    let _ = writeln!(
        out,
        "Estimates: {}; processing time is a model (about 25 s per spectrogram ONC makes on demand).",
        match est.source {
            SizeSource::Table =>
                "sizes of typical files (`plan --online` reads ONC's archive listing)",
            SizeSource::Listing => "sizes from ONC's archive listing",
        }
    );
    let requests = plan.clip_requests();
    if requests > t.clip_items {
        let dups = requests - t.clip_items;
        let _ = writeln!(
            out,
            "{} → {}; {} {} a file.",
            count(requests, "clip request"),
            count(t.clip_items, "clip"),
            count(dups, "duplicate"),
            if dups == 1 { "shares" } else { "share" }
        );
    }
    let _ = writeln!(out, "Outputs under {}.", plan.context.data_dir.display());
    out
}

/// One device and product: what, how much, when.
fn push_human_row(out: &mut String, r: &RowEstimate) {
    let what = estimate::label(&r.product);
    let done = r.windows - r.to_fetch;
    if r.to_fetch == 0 {
        let _ = writeln!(
            out,
            "  + {what}: {}, all already in the lockfile",
            count(r.windows, "window")
        );
    } else {
        let how = match r.product {
            FetchProduct::Spectrogram(_) => count(r.requests, "ONC request"),
            FetchProduct::Audio(_) => count(r.listings, "audio listing"),
        };
        let _ = writeln!(
            out,
            "  + {what}: {} ({} to fetch, {done} already in the lockfile) in {how}: {}, ≈ {}, ONC processing ≈ {}",
            count(r.windows, "window"),
            r.to_fetch,
            count(usize::try_from(r.files).unwrap_or(usize::MAX), "file"),
            estimate::format_bytes(r.bytes),
            estimate::format_seconds(r.server_seconds),
        );
    }
    let mut spans: Vec<String> = r
        .spans
        .iter()
        .take(MAX_SPANS)
        .map(|(s, e)| estimate::format_span(*s, *e))
        .collect();
    if r.spans.len() > MAX_SPANS {
        spans.push(format!(
            "… and {} more",
            count(r.spans.len() - MAX_SPANS, "span")
        ));
    }
    let _ = writeln!(out, "      {}", spans.join(", "));
}

/// `1 file`, `2 files`: a count and its noun, in the grammar plan and run share.
#[must_use]
pub fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
