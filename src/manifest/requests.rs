//! Request files: the `{defaults, requests}` document (JSON, or YAML/TOML of the same shape)
//! and CSV request tables (request-format.md).
//!
//! Decisions recorded here:
//! - CSV: UTF-8 with or without a byte-order mark, CRLF or LF, quoted cells; the header names
//!   the fields (trimmed); an empty cell means "not set"; rows are counted from 1 with the
//!   header as row 1. A row with more cells than the header is an error; a shorter row leaves
//!   the missing cells unset. Unknown columns are reported once, on row 1, and ignored.
//! - A bad row never drops other rows silently: its diagnostics are kept and every other row
//!   is still checked; the file fails as a whole if any row is bad.

use super::error::{Loc, Sink};
use super::fields;
use super::layer::{self, Layer, REQUEST_DEFAULT_FIELDS, REQUEST_FIELDS};
use super::model::{Job, Origin, Request, Sourced};
use super::node::{Entry, Node, Value};
use super::resolve;
use crate::domain::{DeviceCode, SpectrogramProduct};
use foldhash::HashSet;
use std::path::Path;
use std::sync::Arc;

/// Settings that apply to every request of a file, below the request's own fields: the
/// call-level overrides and the manifest's `[defaults]` (the file's `defaults` go between).
pub(crate) struct Outer<'a> {
    pub(crate) call: &'a Layer,
    pub(crate) manifest_defaults: &'a Layer,
}

struct Resolver<'a> {
    outer: &'a Outer<'a>,
    file_defaults: Layer,
    inherited: Option<Arc<SpectrogramProduct>>,
    file: Arc<Path>,
    /// Device codes and products seen so far, shared by every request that names them: a
    /// million-row file names a handful of each.
    devices: HashSet<DeviceCode>,
    products: HashSet<Arc<SpectrogramProduct>>,
}

impl<'a> Resolver<'a> {
    fn new(outer: &'a Outer<'a>, file_defaults: Layer, file: &Path) -> Self {
        let mut r = Self {
            outer,
            file_defaults,
            inherited: None,
            file: Arc::from(file),
            devices: HashSet::default(),
            products: HashSet::default(),
        };
        let layers = [r.outer.call, &r.file_defaults, r.outer.manifest_defaults];
        r.inherited = Some(Arc::new(resolve::spectrogram_product(&layers)));
        r
    }

    fn resolve(
        &mut self,
        req: &Layer,
        sink: &mut Sink,
        loc: Loc,
        path: &str,
        what: &Arc<str>,
    ) -> Option<Sourced> {
        let layers = [
            req,
            self.outer.call,
            &self.file_defaults,
            self.outer.manifest_defaults,
        ];
        let cached = if resolve::inherits_product(req) {
            self.inherited.as_ref()
        } else {
            None
        };
        let mut job = resolve::request(&layers, cached, sink, loc, path)?;
        if let Job::Request(r) = &mut job {
            self.intern(r);
        }
        Some(Sourced {
            origin: Origin {
                file: Arc::clone(&self.file),
                loc,
                what: Arc::clone(what),
            },
            job,
        })
    }

    fn intern(&mut self, r: &mut Request) {
        match self.devices.get(&r.span.device) {
            Some(d) => r.span.device = d.clone(),
            None => {
                self.devices.insert(r.span.device.clone());
            }
        }
        if let Some(p) = &mut r.products.spectrogram {
            match self.products.get(&**p) {
                Some(shared) => *p = Arc::clone(shared),
                None => {
                    self.products.insert(Arc::clone(p));
                }
            }
        }
    }
}

/// Reads a `{defaults, requests}` document.
pub(crate) fn document(
    root: &Node,
    outer: &Outer<'_>,
    sink: &mut Sink,
    file: &Path,
) -> Vec<Sourced> {
    let Some(top) = fields::table(root, sink, "", &["defaults", "requests"]) else {
        return Vec::new();
    };
    let mut defaults = Layer::default();
    let mut requests: Option<&Node> = None;
    for e in &top {
        match e.key.as_str() {
            "defaults" => {
                if let Some(d) = fields::table(&e.node, sink, "defaults", REQUEST_DEFAULT_FIELDS) {
                    defaults = layer::read(&d, sink, "defaults");
                }
            }
            _ => requests = Some(&e.node),
        }
    }
    let Some(requests) = requests else {
        sink.push(
            root.loc,
            "requests",
            "is missing; expected an array of requests",
        );
        return Vec::new();
    };
    let Value::Seq(items) = &requests.value else {
        sink.push(
            requests.loc,
            "requests",
            format!(
                "found {}, expected an array of requests",
                requests.describe()
            ),
        );
        return Vec::new();
    };
    let mut resolver = Resolver::new(outer, defaults, file);
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("requests[{i}]");
        let Some(entries) = fields::table(item, sink, &path, REQUEST_FIELDS) else {
            continue;
        };
        let req = layer::read(&entries, sink, &path);
        let what: Arc<str> = Arc::from(path.as_str());
        if let Some(s) = resolver.resolve(&req, sink, item.loc, &path, &what) {
            out.push(s);
        }
    }
    out
}

/// Reads a CSV request table.
pub(crate) fn csv(bytes: &[u8], outer: &Outer<'_>, sink: &mut Sink, file: &Path) -> Vec<Sourced> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            sink.push(
                Loc::Row(1),
                "header",
                format!("cannot read the header: {e}"),
            );
            return Vec::new();
        }
        None => {
            sink.push(
                Loc::Row(1),
                "header",
                "the file is empty; expected a header row naming the fields",
            );
            return Vec::new();
        }
    };
    // Column index → known field name (None: unknown or repeated, reported once).
    let mut columns: Vec<Option<String>> = Vec::with_capacity(header.len());
    for name in &header {
        let name = name.trim();
        if !REQUEST_FIELDS.contains(&name) {
            sink.unknown_field(Loc::Row(1), name, name, REQUEST_FIELDS);
            columns.push(None);
        } else if columns.iter().flatten().any(|c| c == name) {
            sink.push(Loc::Row(1), name, "column is given twice");
            columns.push(None);
        } else {
            columns.push(Some(name.to_owned()));
        }
    }
    let mut resolver = Resolver::new(outer, Layer::default(), file);
    let what: Arc<str> = Arc::from("row");
    let mut out = Vec::new();
    let mut row: u64 = 1;
    let mut entries: Vec<Entry> = Vec::with_capacity(columns.len());
    for record in records {
        row += 1;
        let loc = Loc::Row(row);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                sink.push(loc, "row", format!("cannot read the row: {e}"));
                continue;
            }
        };
        if record.len() > columns.len() {
            sink.push(
                loc,
                "row",
                format!(
                    "found {} cells, expected at most {} (one per header column)",
                    record.len(),
                    columns.len()
                ),
            );
            continue;
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        entries.clear();
        for (cell, col) in record.iter().zip(&columns) {
            let (Some(key), false) = (col, cell.trim().is_empty()) else {
                continue;
            };
            entries.push(Entry {
                key: key.clone(),
                key_loc: loc,
                node: Node {
                    value: Value::Cell(cell.to_owned()),
                    loc,
                },
            });
        }
        let refs: Vec<&Entry> = entries.iter().collect();
        let req = layer::read(&refs, sink, "");
        if let Some(s) = resolver.resolve(&req, sink, loc, "", &what) {
            out.push(s);
        }
    }
    out
}
