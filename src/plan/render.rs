//! Showing a plan: a summary for people (like `terraform plan`) and the `--json` document.
//!
//! The JSON shape is a contract (tests and tools rely on it):
//! `{"plan_hash", "items": [{"id", "kind", "device", "product", "format", "window_start"?,
//! "options"?, "start"?, "end"?, "sources"?, "output"?, "label"?, "labels"?}], "requests":
//! [{"device", "product", "format", "date_from", "date_to", "items"}]}`, instants as
//! `YYYY-MM-DDTHH:MM:SS.sssZ`. A clip's `label` is its first request's; `labels` (only on a
//! clip that several requests share) lists every request's label in order, `""` for none.
//!
//! The summary says how many clip requests were merged when identical requests share a clip
//! ("3 clip requests → 2 clips; 1 duplicate shares a file").

use super::item::{push_ids, push_json_str, push_str_map};
use super::{ClipProduct, FetchProduct, Item, Plan};
use crate::domain::DeviceCode;
use crate::domain::ItemId;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};

/// The plan as the `--json` document, with a final newline (see [`write_json`]).
#[must_use]
pub fn to_json(plan: &Plan) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_json(plan, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the `--json` document: one item and one request per line. A plan of a million
/// requests is hundreds of megabytes of JSON, so it is written as it goes, by hand, rather
/// than built as a value first. Each line goes to `out` as it is made: give a buffered writer.
///
/// # Errors
/// What `out` returns.
pub fn write_json(plan: &Plan, out: &mut impl Write) -> io::Result<()> {
    let mut line = Vec::with_capacity(1024);
    line.extend_from_slice(b"{\n  \"plan_hash\": ");
    push_json_str(&mut line, &plan.hash);
    line.extend_from_slice(b",\n  \"items\": [");
    for (i, item) in plan.items.iter().enumerate() {
        line.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
        push_item(&mut line, item);
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

/// `"device":…,"product":…,"format":…`, shared by items and requests.
fn push_what(out: &mut Vec<u8>, device: &str, product: &str, format: &str) {
    out.extend_from_slice(b"\"device\":");
    push_json_str(out, device);
    out.extend_from_slice(b",\"product\":");
    push_json_str(out, product);
    out.extend_from_slice(b",\"format\":");
    push_json_str(out, format);
}

fn push_item(out: &mut Vec<u8>, item: &Item) {
    out.extend_from_slice(b"{\"id\":\"");
    out.extend_from_slice(item.id().hex().as_str().as_bytes());
    match item {
        Item::Fetch(f) => {
            out.extend_from_slice(b"\",\"kind\":\"fetch\",");
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
            out.extend_from_slice(b"\",\"kind\":\"clip\",");
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

#[derive(Default)]
struct Row {
    windows: usize,
    pending: usize,
    requests: usize,
    clips: usize,
}

/// A summary for people: per device and product, the windows, the ONC requests and the clips.
/// `done` holds the ids already in the lockfile (empty until the lockfile exists); they are
/// counted apart and not fetched again.
#[must_use]
pub fn to_human<S: std::hash::BuildHasher>(plan: &Plan, done: &HashSet<ItemId, S>) -> String {
    let label = |p: &FetchProduct| match p {
        FetchProduct::Spectrogram(s) => {
            let opts: Vec<String> = s
                .options()
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("spectrogram {} ({})", s.format().as_str(), opts.join(", "))
        }
        FetchProduct::Audio(e) => {
            let exts: Vec<&str> = e.iter().map(|x| x.as_str()).collect();
            format!("audio {}", exts.join(" > "))
        }
    };
    // Every fetch item is in exactly one ONC request, so the requests give the windows.
    let mut fetch_rows: HashMap<(&DeviceCode, &FetchProduct), Row> = HashMap::new();
    let (mut fetch_total, mut fetch_done, mut clip_total, mut clip_done) = (0, 0, 0, 0);
    for g in &plan.requests {
        let r = fetch_rows.entry((&g.device, &g.product)).or_default();
        let d = g.items.iter().filter(|id| done.contains(id)).count();
        r.requests += 1;
        r.windows += g.items.len();
        r.pending += g.items.len() - d;
        fetch_total += g.items.len();
        fetch_done += d;
    }
    let mut clip_rows: HashMap<(&DeviceCode, ClipProduct), usize> = HashMap::new();
    for c in plan.clip_items() {
        *clip_rows.entry((&c.device, c.product)).or_default() += 1;
        clip_total += 1;
        if done.contains(&c.id) {
            clip_done += 1;
        }
    }
    let mut rows: BTreeMap<(&str, u8, String), Row> = BTreeMap::new();
    for ((device, product), r) in fetch_rows {
        rows.insert((device.as_str(), 0, label(product)), r);
    }
    for ((device, product), n) in clip_rows {
        let what = format!("clips: {} {}", product.kind(), product.format());
        let r = rows.entry((device.as_str(), 1, what)).or_default();
        r.clips += n;
    }
    let mut out = String::new();
    let mut last_device = "";
    for ((device, _, what), r) in &rows {
        if *device != last_device {
            let _ = writeln!(out, "{device}");
            last_device = device;
        }
        if r.clips > 0 {
            let _ = writeln!(out, "  + {what}: {}", count(r.clips, "clip"));
        } else {
            let _ = writeln!(
                out,
                "  + {what}: {} in {} ({} to fetch, {} already in the lockfile)",
                count(r.windows, "window"),
                count(r.requests, "ONC request"),
                r.pending,
                r.windows - r.pending
            );
        }
    }
    let _ = writeln!(
        out,
        "\nPlan {}: {} fetch items ({} to fetch, {} already in the lockfile) in {} ONC requests; {} clip items ({} to make).",
        &plan.hash[..plan.hash.len().min(12)],
        fetch_total,
        fetch_total - fetch_done,
        fetch_done,
        plan.requests.len(),
        clip_total,
        clip_total - clip_done
    );
    let requests = plan.clip_requests();
    if requests > clip_total {
        let dups = requests - clip_total;
        let _ = writeln!(
            out,
            "{} → {}; {} {} a file.",
            count(requests, "clip request"),
            count(clip_total, "clip"),
            count(dups, "duplicate"),
            if dups == 1 { "shares" } else { "share" }
        );
    }
    let _ = writeln!(out, "Outputs under {}.", plan.context.data_dir.display());
    out
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
