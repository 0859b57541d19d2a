//! TOML/YAML/JSON manifests: `version`, `data_dir`, `[defaults]` and the mode tables
//! `range`, `sample`, `events`, `audio` and `requests` (DESIGN.md, "Manifests").
//!
//! Decisions recorded here:
//! - `version` is optional and must be 1 when given; `data_dir` defaults to `data`, both
//!   resolved relative to the manifest's folder.
//! - Each mode key takes an array of tables (`[[range]]`) or a single table.
//! - `[[sample]]` asking for more windows than the range holds is an error (not capped), so
//!   that a plan never silently holds less than was asked for.
//! - `[[audio]]` fetches audio only; its batch size comes from `[defaults]`.
//! - `[[events]]` with `clip = true` becomes one request per instant (its padded span, clipped),
//!   the items a request file with those timestamps gives; it needs padding.

use super::error::{Loc, Sink};
use super::fields;
use super::layer::{self, Layer};
use super::model::{DeviceSpan, Job, Origin, Request, Sourced, SpanField};
use super::node::{Node, Value};
use super::resolve;
use crate::time::Window5m;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Top-level keys of a manifest.
pub(crate) const TOP_FIELDS: &[&str] = &[
    "version",
    "data_dir",
    "allow_system_data_dir",
    "defaults",
    "range",
    "sample",
    "events",
    "audio",
    "requests",
];

/// A request file named by a manifest, with its call-level overrides.
pub(crate) struct FileRef {
    pub(crate) path: PathBuf,
    pub(crate) call: Layer,
    pub(crate) loc: Loc,
    pub(crate) field: String,
}

/// What a manifest's own text gives.
pub(crate) struct Parsed {
    pub(crate) data_dir: Option<String>,
    pub(crate) defaults: Layer,
    pub(crate) jobs: Vec<Sourced>,
    pub(crate) files: Vec<FileRef>,
}

fn each_table(node: &Node) -> Vec<(Option<usize>, &Node)> {
    match &node.value {
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, n)| (Some(i), n))
            .collect(),
        _ => vec![(None, node)],
    }
}

/// Reads a manifest tree.
pub(crate) fn manifest(root: &Node, sink: &mut Sink, file: &Path, dir: &Path) -> Parsed {
    let mut p = Parsed {
        data_dir: None,
        defaults: Layer::default(),
        jobs: Vec::new(),
        files: Vec::new(),
    };
    let Some(top) = fields::table(root, sink, "", TOP_FIELDS) else {
        return p;
    };
    let mut data_dir_loc = Loc::Unknown;
    let mut allow_system = false;
    // Defaults first: the mode tables below depend on them.
    for e in &top {
        match e.key.as_str() {
            "version" if !matches!(&e.node.value, Value::Int(1)) => {
                sink.push(
                    e.node.loc,
                    "version",
                    format!("found {}, expected 1", e.node.describe()),
                );
            }
            "data_dir" => {
                p.data_dir = fields::string(&e.node, sink, "data_dir");
                data_dir_loc = e.node.loc;
            }
            "allow_system_data_dir" => {
                allow_system =
                    fields::boolean(&e.node, sink, "allow_system_data_dir").unwrap_or(false);
            }
            "defaults" => {
                if let Some(d) =
                    fields::table(&e.node, sink, "defaults", layer::MANIFEST_DEFAULT_FIELDS)
                {
                    p.defaults = layer::read(&d, sink, "defaults");
                }
            }
            _ => {}
        }
    }
    if let Some(d) = &p.data_dir
        && let Err(message) = fields::check_data_dir(d, dir, allow_system)
    {
        sink.push(data_dir_loc, "data_dir", message);
        p.data_dir = None;
    }
    let file_arc: Arc<Path> = Arc::from(file);
    for e in &top {
        let mode = e.key.as_str();
        let known: Vec<&str> = match mode {
            "range" => layer::range_fields(),
            "sample" => layer::sample_fields(),
            "events" => layer::events_fields(),
            "audio" => layer::AUDIO_FIELDS.to_vec(),
            "requests" => layer::CALL_FIELDS.to_vec(),
            _ => continue,
        };
        for (i, node) in each_table(&e.node) {
            let path = i.map_or_else(|| mode.to_owned(), |i| format!("{mode}[{i}]"));
            let Some(entries) = fields::table(node, sink, &path, &known) else {
                continue;
            };
            let own = layer::read(&entries, sink, &path);
            let layers = [&own, &p.defaults];
            let jobs: Vec<Job> = match mode {
                "range" => range(&layers, sink, node.loc, &path).into_iter().collect(),
                "sample" => sample(&layers, sink, node.loc, &path).into_iter().collect(),
                "events" => events(&layers, sink, node.loc, &path),
                "audio" => audio(&layers, sink, node.loc, &path).into_iter().collect(),
                _ => {
                    match &own.file {
                        Some((f, loc)) => p.files.push(FileRef {
                            path: dir.join(f),
                            loc: *loc,
                            field: format!("{path}.file"),
                            call: own,
                        }),
                        None => sink.push(
                            node.loc,
                            &format!("{path}.file"),
                            "is missing; expected the path of a JSON or CSV request file",
                        ),
                    }
                    Vec::new()
                }
            };
            for job in jobs {
                p.jobs.push(Sourced {
                    origin: Origin {
                        file: Arc::clone(&file_arc),
                        loc: node.loc,
                        what: Arc::from(path.as_str()),
                    },
                    job,
                });
            }
        }
    }
    p
}

fn range(layers: &[&Layer], sink: &mut Sink, loc: Loc, path: &str) -> Option<Job> {
    let products = resolve::products(layers, None, sink, loc, path);
    let span = resolve::span(layers, sink, loc, path)?;
    Some(Job::Range {
        span,
        products: products?,
        batch: resolve::batch(layers),
    })
}

fn audio(layers: &[&Layer], sink: &mut Sink, loc: Loc, path: &str) -> Option<Job> {
    let span = resolve::span(layers, sink, loc, path)?;
    let ext =
        layer::first(layers, |l| l.audio_extension).unwrap_or(crate::domain::AudioExtension::Flac);
    Some(Job::Range {
        span,
        products: crate::domain::Products {
            spectrogram: None,
            audio: Some(ext),
        },
        batch: resolve::batch(&layers[1..]),
    })
}

fn sample(layers: &[&Layer], sink: &mut Sink, loc: Loc, path: &str) -> Option<Job> {
    let products = resolve::products(layers, None, sink, loc, path);
    let total = layers[0].total;
    if total.is_none()
        && !sink
            .diags
            .iter()
            .any(|d| d.field == format!("{path}.total_spectrograms"))
    {
        sink.push(
            loc,
            &format!("{path}.total_spectrograms"),
            "is missing; expected a positive whole number",
        );
    }
    let span = resolve::span(layers, sink, loc, path)?;
    let (total, products) = (total?, products?);
    let per_request = resolve::batch(layers);
    // Windows that fit inside [start, end): from the first slot starting at or after start.
    let first = Window5m::ceil(span.start);
    let available = first.slots_until(Window5m::floor(span.end)).max(0);
    if i64::from(total) > available {
        let field = format!("{path}.total_spectrograms");
        sink.push(
            loc,
            &field,
            format!(
                "found {total}, expected at most {available}: the range {} to {} holds {available} whole 5-minute windows",
                span.start, span.end
            ),
        );
        return None;
    }
    Some(Job::Sample {
        span,
        products,
        total,
        per_request,
    })
}

fn events(layers: &[&Layer], sink: &mut Sink, loc: Loc, path: &str) -> Vec<Job> {
    let products = resolve::products(layers, None, sink, loc, path);
    let device = layer::first(layers, |l| l.device.clone());
    if device.is_none() {
        sink.push(
            loc,
            &format!("{path}.device"),
            "is missing; expected a device code such as \"ICLISTENHF6324\"",
        );
    }
    let Some(times) = resolve::times(layers, sink, loc, path) else {
        return Vec::new();
    };
    let (before, after) = layer::padding(&layers[..1]);
    let clip = layers[0].clip.unwrap_or(false);
    if clip && before == 0 && after == 0 {
        sink.push(
            loc,
            &format!("{path}.clip"),
            "needs padding: set pad_seconds (or pad_before_seconds/pad_after_seconds) to give each clip a length",
        );
        return Vec::new();
    }
    let (Some(device), Some(products)) = (device, products) else {
        return Vec::new();
    };
    let batch = resolve::batch(layers);
    if !clip {
        return vec![Job::Events {
            device,
            times,
            pad_before_ms: before,
            pad_after_ms: after,
            products,
            per_request: batch,
        }];
    }
    // Clipped events are requests of one instant each: the same items a request file with
    // these timestamps and padding gives.
    times
        .into_iter()
        .map(|t| {
            Job::Request(Box::new(Request {
                span: DeviceSpan {
                    device: device.clone(),
                    start: t.add_millis(-before),
                    end: t.add_millis(after),
                },
                time: t,
                span_field: SpanField::Timestamp,
                products: products.clone(),
                clip: true,
                gap: layer::first(layers, |l| l.gap).unwrap_or_default(),
                output_tag: None,
                output_name: None,
                label: None,
                description: None,
                batch,
            }))
        })
        .collect()
}
