//! Showing a plan: a summary for people (like `terraform plan`) and the `--json` document.
//!
//! The JSON shape is a contract (tests and tools rely on it):
//! `{"plan_hash", "items": [{"id", "kind", "device", "product", "format", "window_start"?,
//! "options"?, "start"?, "end"?, "sources"?, "output"?, "label"?}], "requests": [{"device",
//! "product", "format", "date_from", "date_to", "items"}]}`, instants as
//! `YYYY-MM-DDTHH:MM:SS.sssZ`.

use super::{FetchProduct, Item, ItemId, Plan};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

#[derive(Serialize)]
struct JsonPlan<'a> {
    plan_hash: &'a str,
    items: Vec<JsonItem<'a>>,
    requests: Vec<JsonRequest<'a>>,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: &'a str,
    kind: &'static str,
    device: &'a str,
    product: &'static str,
    format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    window_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sources: Option<&'a [ItemId]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonRequest<'a> {
    device: &'a str,
    product: &'static str,
    format: &'static str,
    date_from: String,
    date_to: String,
    items: &'a [ItemId],
}

/// The plan as the `--json` document (pretty-printed, with a final newline).
#[must_use]
pub fn to_json(plan: &Plan) -> String {
    let items = plan
        .items
        .iter()
        .map(|i| match i {
            Item::Fetch(f) => JsonItem {
                id: f.id.as_str(),
                kind: "fetch",
                device: f.device.as_str(),
                product: f.product.kind(),
                format: f.product.format(),
                window_start: Some(f.window.start().to_onc_string()),
                options: match &f.product {
                    FetchProduct::Spectrogram(s) => Some(s.options()),
                    FetchProduct::Audio(_) => None,
                },
                start: None,
                end: None,
                sources: None,
                output: None,
                label: None,
            },
            Item::Clip(c) => JsonItem {
                id: c.id.as_str(),
                kind: "clip",
                device: c.device.as_str(),
                product: c.product.kind(),
                format: c.product.format(),
                window_start: None,
                options: None,
                start: Some(c.start.to_onc_string()),
                end: Some(c.end.to_onc_string()),
                sources: Some(&c.sources),
                output: Some(&c.output),
                label: c.label.as_deref(),
            },
        })
        .collect();
    let requests = plan
        .requests
        .iter()
        .map(|r| JsonRequest {
            device: r.device.as_str(),
            product: r.product.kind(),
            format: r.product.format(),
            date_from: r.first.start().to_onc_string(),
            date_to: r.last.end().to_onc_string(),
            items: &r.items,
        })
        .collect();
    let doc = JsonPlan {
        plan_hash: &plan.hash,
        items,
        requests,
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
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
pub fn to_human(plan: &Plan, done: &HashSet<ItemId>) -> String {
    let mut rows: BTreeMap<(String, u8, String), Row> = BTreeMap::new();
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
    let (mut fetch_total, mut fetch_done, mut clip_total, mut clip_done) = (0, 0, 0, 0);
    for item in &plan.items {
        match item {
            Item::Fetch(f) => {
                let r = rows
                    .entry((f.device.to_string(), 0, label(&f.product)))
                    .or_default();
                r.windows += 1;
                fetch_total += 1;
                if done.contains(&f.id) {
                    fetch_done += 1;
                } else {
                    r.pending += 1;
                }
            }
            Item::Clip(c) => {
                let key = (
                    c.device.to_string(),
                    1,
                    format!("clips: {} {}", c.product.kind(), c.product.format()),
                );
                rows.entry(key).or_default().clips += 1;
                clip_total += 1;
                if done.contains(&c.id) {
                    clip_done += 1;
                }
            }
        }
    }
    for g in &plan.requests {
        rows.entry((g.device.to_string(), 0, label(&g.product)))
            .or_default()
            .requests += 1;
    }
    let mut out = String::new();
    let mut last_device = String::new();
    for ((device, _, what), r) in &rows {
        if *device != last_device {
            let _ = writeln!(out, "{device}");
            last_device.clone_from(device);
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
