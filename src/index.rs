//! The dataset index: `index.csv` and `index.json` in `data_dir`, listing every output (clips
//! and source files) with device, product, format, UTC start/end, label, description, source
//! files, SHA-256 and size. It is the dataset, not the last run: the union of what every
//! lockfile writing into the `data_dir` records ([`crate::dataset`] keeps that list), rewritten
//! atomically after every run (no-op included), gc and repair.
//!
//! Rows are sorted by path, so the files diff cleanly between runs.

use crate::atomic::write_atomic;
use serde::Serialize;
use std::io;
use std::path::Path;

/// One output in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexRow {
    /// Path relative to `data_dir`, `/`-separated.
    pub path: String,
    /// `clip` or `source`.
    pub kind: String,
    /// Device code.
    pub device: String,
    /// `spectrogram` or `audio`.
    pub product: String,
    /// File format (`mat`, `png`, `flac`, `wav`).
    pub format: String,
    /// UTC start, ONC style.
    pub start: String,
    /// UTC end, ONC style (empty when unknown).
    pub end: String,
    /// The request's label.
    pub label: String,
    /// The request's description.
    pub description: String,
    /// Source files (paths relative to `data_dir`), `;`-joined in the CSV.
    pub sources: Vec<String>,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Gaps in the archive inside this output's window, `start/end` pairs.
    pub gaps: Vec<String>,
}

/// The index rows of one lockfile: every file of its done items. A clip file carries its
/// own span (a split clip's parts differ), the request's label and description, and the source
/// files that overlap it; a source file carries its start from ONC's name.
#[must_use]
pub fn rows(lock: &crate::lock::Lockfile) -> Vec<IndexRow> {
    let mut out = Vec::new();
    add_rows(lock, &mut std::collections::BTreeMap::new(), &mut out);
    out
}

/// The index of several lockfiles writing into one `data_dir`: every recorded file once, sorted
/// by path (a clip's row wins over a source row of the same path; otherwise the first lockfile
/// given wins).
#[must_use]
pub fn union<'a>(locks: impl IntoIterator<Item = &'a crate::lock::Lockfile>) -> Vec<IndexRow> {
    let mut seen = std::collections::BTreeMap::new();
    let mut out = Vec::new();
    for lock in locks {
        add_rows(lock, &mut seen, &mut out);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn add_rows(
    lock: &crate::lock::Lockfile,
    seen: &mut std::collections::BTreeMap<String, usize>,
    out: &mut Vec<IndexRow>,
) {
    use crate::lock::{ItemKind, Status};
    use crate::time::UtcInstant;
    for e in lock.entries().filter(|e| e.status == Status::Done) {
        let (product, format) = e
            .product
            .split_once('/')
            .unwrap_or((e.product.as_str(), ""));
        for file in &e.files {
            let row = match e.kind {
                ItemKind::Fetch => {
                    let name = if file.source.is_empty() {
                        file.path.rsplit('/').next().unwrap_or_default()
                    } else {
                        file.source.as_str()
                    };
                    IndexRow {
                        path: file.path.clone(),
                        kind: "source".into(),
                        device: e.device.clone(),
                        product: product.to_owned(),
                        format: file.path.rsplit('.').next().unwrap_or_default().to_owned(),
                        start: UtcInstant::from_file_name(name)
                            .map(|s| s.to_onc_string())
                            .unwrap_or_default(),
                        end: String::new(),
                        label: String::new(),
                        description: String::new(),
                        sources: vec![name.to_owned()],
                        sha256: file.sha256.clone(),
                        size: file.size,
                        gaps: Vec::new(),
                    }
                }
                ItemKind::Clip => IndexRow {
                    path: file.path.clone(),
                    kind: "clip".into(),
                    device: e.device.clone(),
                    product: product.to_owned(),
                    format: format.to_owned(),
                    start: if file.start.is_empty() {
                        &e.start
                    } else {
                        &file.start
                    }
                    .clone(),
                    end: if file.end.is_empty() {
                        &e.end
                    } else {
                        &file.end
                    }
                    .clone(),
                    label: e.label.clone(),
                    description: e.description.clone(),
                    sources: file.sources.clone(),
                    sha256: file.sha256.clone(),
                    size: file.size,
                    gaps: e.gaps.clone(),
                },
            };
            match seen.get(&row.path) {
                None => {
                    seen.insert(row.path.clone(), out.len());
                    out.push(row);
                }
                Some(&i) if row.kind == "clip" && out[i].kind != "clip" => out[i] = row,
                Some(_) => {}
            }
        }
    }
}

/// The CSV shape of a row (lists joined).
#[derive(Serialize)]
struct CsvRow<'a> {
    path: &'a str,
    kind: &'a str,
    device: &'a str,
    product: &'a str,
    format: &'a str,
    start: &'a str,
    end: &'a str,
    label: &'a str,
    description: &'a str,
    sources: String,
    sha256: &'a str,
    size: u64,
    gaps: String,
}

/// Writes `index.csv` and `index.json` into `data_dir`, atomically, rows sorted by path.
///
/// # Errors
/// I/O errors, naming the file.
pub fn write_index(data_dir: &Path, rows: &mut [IndexRow]) -> io::Result<()> {
    rows.sort_by(|a, b| a.path.cmp(&b.path));
    let mut csv = csv::Writer::from_writer(Vec::new());
    for r in rows.iter() {
        csv.serialize(CsvRow {
            path: &r.path,
            kind: &r.kind,
            device: &r.device,
            product: &r.product,
            format: &r.format,
            start: &r.start,
            end: &r.end,
            label: &r.label,
            description: &r.description,
            sources: r.sources.join(";"),
            sha256: &r.sha256,
            size: r.size,
            gaps: r.gaps.join(";"),
        })
        .map_err(io::Error::other)?;
    }
    if rows.is_empty() {
        csv.write_record([
            "path",
            "kind",
            "device",
            "product",
            "format",
            "start",
            "end",
            "label",
            "description",
            "sources",
            "sha256",
            "size",
            "gaps",
        ])
        .map_err(io::Error::other)?;
    }
    let csv_bytes = csv
        .into_inner()
        .map_err(|e| io::Error::other(e.to_string()))?;
    write_atomic(&data_dir.join("index.csv"), &csv_bytes)?;
    let mut json = serde_json::to_vec_pretty(&rows).map_err(io::Error::other)?;
    json.push(b'\n');
    write_atomic(&data_dir.join("index.json"), &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_sorted_csv_and_json_that_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let row = |path: &str, label: &str| IndexRow {
            path: path.into(),
            kind: "clip".into(),
            device: "ICLISTENHF6324".into(),
            product: "audio".into(),
            format: "flac".into(),
            start: "2024-04-01T12:34:35.000Z".into(),
            end: "2024-04-01T12:35:05.000Z".into(),
            label: label.into(),
            description: String::new(),
            sources: vec!["a.flac".into(), "b.flac".into()],
            sha256: "00".into(),
            size: 3,
            gaps: vec![],
        };
        let mut rows = vec![
            row("clips/b.flac", "ship, \"loud\""),
            row("clips/a.flac", "whale"),
        ];
        write_index(dir.path(), &mut rows).unwrap();
        let mut r = csv::Reader::from_path(dir.path().join("index.csv")).unwrap();
        let recs: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(&recs[0][0], "clips/a.flac");
        assert_eq!(&recs[1][7], "ship, \"loud\"");
        assert_eq!(&recs[1][9], "a.flac;b.flac");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
        assert_eq!(json[0]["label"], "whale");
        assert_eq!(json[1]["sources"][1], "b.flac");
        write_index(dir.path(), &mut []).unwrap();
        let header = std::fs::read_to_string(dir.path().join("index.csv")).unwrap();
        assert!(header.starts_with("path,kind,device"), "{header}");
    }
}
