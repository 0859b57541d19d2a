//! The dataset index: `index.csv` and `index.json` in `data_dir`, listing every output (clips
//! and source files) with device, product, format, UTC start/end, label, description, source
//! files, SHA-256 and size. It is the dataset, not the last run: the union of what every
//! lockfile writing into the `data_dir` records ([`crate::dataset`] keeps that list), rewritten
//! atomically after every run, gc and repair (a run that changed nothing skips it when no
//! lockfile and no index file changed since: see `crate::dataset`'s index stamp).
//!
//! # One row per request
//! Identical requests share one clip file (see [`crate::plan::item`]), and the index keeps
//! every one of them: a clip has one row per request that asked for it, each with that
//! request's `label`, `description`, `request_file` (relative to the folder of the lockfile,
//! which is the manifest's) and `request_row` (the CSV row, header = row 1, or the line where
//! a JSON/TOML/YAML request starts). Rows of one clip share `path`, `sha256` and the rest:
//! a training set reads one row per annotation, and grouping by `path` or `sha256` gives the
//! distinct files. Several lockfiles that record one clip each add their own requests (a
//! request is listed once). A source file has one row per request of a request file that
//! asked for it unclipped (with that request's columns), else one row with the request
//! columns empty.
//!
//! Rows are sorted by path, then request file and row, so the files diff cleanly between runs.
//!
//! # Columns for ML pipelines
//! After the columns above (their order is kept; new columns are appended): `sample_rate`,
//! `channels` and `duration` (seconds) read from the file itself (FLAC/WAV header, MAT
//! `Meta`; PNG spectrograms carry no sample rate, so theirs are empty), and `location`,
//! `latitude`, `longitude`, `depth` of the device's deployment covering the output's start
//! (ONC's `deployments` service). `index.json` also gives each row that deployment's
//! `citation` and `doi`, ONC's text to cite the data by. Unknown values are empty in the CSV
//! and `null` in the JSON. Last, `request_time`: the request's own time (its `timestamp`,
//! or its `start`) before padding, on the rows a request asked for. All of it comes from the
//! lockfiles (see [`crate::lock`]), so the index stays a function of them.

use crate::atomic::write_atomic_with;
use serde::Serialize;
use std::io;
use std::io::Write as _;
use std::path::Path;

/// The shape of the index this build writes: bump it whenever a change of rows or columns
/// would make an index written by an earlier build stale (the index stamp of a `data_dir`
/// names it, so that a run with nothing to do rebuilds an index of another shape).
pub(crate) const INDEX_FORMAT: u32 = 1;

/// One output in the index.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct IndexRow {
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
    /// The request file, relative to the requesting lockfile's folder (clips; empty when not
    /// recorded).
    pub request_file: String,
    /// The request's CSV row or starting line in `request_file` (clips; 0 when unknown).
    pub request_row: u64,
    /// Source files (paths relative to `data_dir`), `;`-joined in the CSV.
    pub sources: Vec<String>,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Gaps in the archive inside this output's window, `start/end` pairs.
    pub gaps: Vec<String>,
    /// Samples per second, read from the file (audio header, MAT `Meta`); empty for PNG.
    pub sample_rate: Option<u32>,
    /// Audio channels, from the header; empty for spectrograms.
    pub channels: Option<u16>,
    /// Length in seconds, from the file.
    pub duration: Option<f64>,
    /// Location code of the deployment covering the output's start.
    pub location: Option<String>,
    /// Latitude of that deployment, degrees.
    pub latitude: Option<f64>,
    /// Longitude of that deployment, degrees.
    pub longitude: Option<f64>,
    /// Depth of that deployment, metres.
    pub depth: Option<f64>,
    /// ONC's citation of that deployment (`index.json` only).
    pub citation: Option<String>,
    /// The citation's DOI (`index.json` only).
    pub doi: Option<String>,
    /// The request's own time (its timestamp, or its start), before padding; empty for rows
    /// no request asked for.
    pub request_time: String,
}

impl IndexRow {
    /// Fills the media and deployment columns from a locked file and its item.
    fn describe(mut self, file: &crate::lock::LockedFile, e: &crate::lock::LockEntry) -> Self {
        self.sample_rate = (file.sample_rate != 0).then_some(file.sample_rate);
        self.channels = (file.channels != 0).then_some(file.channels);
        self.duration = (file.duration != 0.0).then_some(file.duration);
        if let Some(d) = &e.deployment {
            self.location = Some(d.location.clone());
            self.latitude = Some(d.lat);
            self.longitude = Some(d.lon);
            self.depth = Some(d.depth);
            self.citation = (!d.citation.is_empty()).then(|| d.citation.clone());
            self.doi = (!d.doi.is_empty()).then(|| d.doi.clone());
        }
        self
    }
}

/// The index rows of one lockfile: every file of its done items. A clip file carries its
/// own span (a split clip's parts differ) and the source files that overlap it, once per
/// request it serves (with that request's label, description, file and row); a source file
/// carries its start from ONC's name.
#[cfg(test)]
#[must_use]
pub(crate) fn rows(lock: &crate::lock::Lockfile) -> Vec<IndexRow> {
    union(std::iter::once(lock))
}

/// The index of several lockfiles writing into one `data_dir`: every recorded source file once,
/// every clip file once per distinct request (request file and row), sorted by path, request
/// file and row. A clip's rows replace a source row of the same path; otherwise the first
/// lockfile given wins.
#[must_use]
pub(crate) fn union<'a>(
    locks: impl IntoIterator<Item = &'a crate::lock::Lockfile>,
) -> Vec<IndexRow> {
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for lock in locks {
        add_rows(lock, &mut seen, &mut out);
    }
    out.retain(|r| r.kind == "clip" || !seen.clip_paths.contains(&r.path));
    out.sort_by(order);
    out
}

/// What [`union`] has listed so far.
#[derive(Default)]
struct Seen {
    /// (path, request file, row) of source rows.
    sources: std::collections::HashSet<(String, String, u64)>,
    clip_paths: std::collections::HashSet<String>,
    /// (path, request file, row) of clip rows.
    requests: std::collections::HashSet<(String, String, u64)>,
}

#[expect(
    clippy::too_many_lines,
    reason = "one row builder per file kind, read top to bottom"
)]
fn add_rows(lock: &crate::lock::Lockfile, seen: &mut Seen, out: &mut Vec<IndexRow>) {
    use crate::lock::{ItemKind, LockRequest, Status};
    use crate::time::UtcInstant;
    for e in lock.entries().filter(|e| e.status == Status::Done) {
        let (product, format) = e
            .product
            .split_once('/')
            .unwrap_or((e.product.as_str(), ""));
        // A lockfile from before `requests` knows one request: its label and description.
        let only = [LockRequest {
            label: e.label.clone(),
            description: e.description.clone(),
            ..LockRequest::default()
        }];
        let requests = if e.requests.is_empty() {
            &only[..]
        } else {
            &e.requests[..]
        };
        for file in &e.files {
            if e.kind == ItemKind::Fetch {
                let name = if file.source.is_empty() {
                    file.path.rsplit('/').next().unwrap_or_default()
                } else {
                    file.source.as_str()
                };
                for r in requests {
                    if !seen
                        .sources
                        .insert((file.path.clone(), r.file.clone(), r.row))
                    {
                        continue;
                    }
                    out.push(
                        IndexRow {
                            path: file.path.clone(),
                            kind: "source".into(),
                            device: e.device.clone(),
                            product: product.to_owned(),
                            format: file.path.rsplit('.').next().unwrap_or_default().to_owned(),
                            start: UtcInstant::from_file_name(name)
                                .map(onc_core::time::UtcInstant::to_onc_string)
                                .unwrap_or_default(),
                            end: String::new(),
                            label: r.label.clone(),
                            description: r.description.clone(),
                            request_file: r.file.clone(),
                            request_row: r.row,
                            request_time: r.time.clone(),
                            sources: vec![name.to_owned()],
                            sha256: file.sha256.clone(),
                            size: file.size,
                            gaps: Vec::new(),
                            ..IndexRow::default()
                        }
                        .describe(file, e),
                    );
                }
                continue;
            }
            seen.clip_paths.insert(file.path.clone());
            for r in requests {
                if !seen
                    .requests
                    .insert((file.path.clone(), r.file.clone(), r.row))
                {
                    continue;
                }
                out.push(
                    IndexRow {
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
                        label: r.label.clone(),
                        description: r.description.clone(),
                        request_file: r.file.clone(),
                        request_row: r.row,
                        request_time: r.time.clone(),
                        sources: file.sources.clone(),
                        sha256: file.sha256.clone(),
                        size: file.size,
                        gaps: e.gaps.clone(),
                        ..IndexRow::default()
                    }
                    .describe(file, e),
                );
            }
        }
    }
}

/// Index order: path, then request file and row.
fn order(a: &IndexRow, b: &IndexRow) -> std::cmp::Ordering {
    (&a.path, &a.request_file, a.request_row).cmp(&(&b.path, &b.request_file, b.request_row))
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
    request_file: &'a str,
    request_row: u64,
    sources: String,
    sha256: &'a str,
    size: u64,
    gaps: String,
    sample_rate: Option<u32>,
    channels: Option<u16>,
    duration: Option<f64>,
    location: Option<&'a str>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    depth: Option<f64>,
    request_time: &'a str,
}

/// Writes `index.csv` and `index.json` into `data_dir`, atomically, rows sorted by path,
/// request file and row.
///
/// # Errors
/// I/O errors, naming the file.
pub(crate) fn write_index(data_dir: &Path, rows: &mut [IndexRow]) -> io::Result<()> {
    rows.sort_by(order);
    // Both files are streamed into their temporary files (a year of windows is ~140 MB of
    // index), then fsynced and renamed.
    let csv_path = data_dir.join("index.csv");
    write_atomic_with(
        &csv_path,
        |f, _| {
            let mut csv = csv::Writer::from_writer(io::BufWriter::with_capacity(1 << 20, f));
            write_csv(&mut csv, rows)?;
            csv.into_inner()
                .map_err(|e| io::Error::other(e.to_string()))?
                .flush()
        },
        |p, e| crate::atomic::with_path(e, p),
    )?;
    write_atomic_with(
        &data_dir.join("index.json"),
        |f, _| {
            let mut w = io::BufWriter::with_capacity(1 << 20, f);
            serde_json::to_writer_pretty(&mut w, &rows).map_err(io::Error::other)?;
            w.write_all(b"\n")?;
            w.flush()
        },
        |p, e| crate::atomic::with_path(e, p),
    )
}

/// The CSV rows (a header alone when there are none).
fn write_csv<W: io::Write>(csv: &mut csv::Writer<W>, rows: &[IndexRow]) -> io::Result<()> {
    for r in rows {
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
            request_file: &r.request_file,
            request_row: r.request_row,
            sources: r.sources.join(";"),
            sha256: &r.sha256,
            size: r.size,
            gaps: r.gaps.join(";"),
            sample_rate: r.sample_rate,
            channels: r.channels,
            duration: r.duration,
            location: r.location.as_deref(),
            latitude: r.latitude,
            longitude: r.longitude,
            depth: r.depth,
            request_time: &r.request_time,
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
            "request_file",
            "request_row",
            "sources",
            "sha256",
            "size",
            "gaps",
            "sample_rate",
            "channels",
            "duration",
            "location",
            "latitude",
            "longitude",
            "depth",
            "request_time",
        ])
        .map_err(io::Error::other)?;
    }
    Ok(())
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
            request_file: "r.csv".into(),
            request_row: 2,
            sources: vec!["a.flac".into(), "b.flac".into()],
            sha256: "00".into(),
            size: 3,
            gaps: vec![],
            ..IndexRow::default()
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
        assert_eq!(&recs[1][11], "a.flac;b.flac");
        let json: serde_json::Value =
            serde_json::from_slice(&fs_err::read(dir.path().join("index.json")).unwrap()).unwrap();
        assert_eq!(json[0]["label"], "whale");
        assert_eq!(json[1]["sources"][1], "b.flac");
        write_index(dir.path(), &mut []).unwrap();
        let header = fs_err::read_to_string(dir.path().join("index.csv")).unwrap();
        assert!(header.starts_with("path,kind,device"), "{header}");
    }

    fn clip_lock(requests: &[(&str, u64, &str)], file: &str) -> crate::lock::Lockfile {
        use crate::lock::{ItemKind, LockEntry, LockRequest, LockedFile, Lockfile, Status};
        let mut lock = Lockfile::default();
        lock.insert(LockEntry {
            id: "a".repeat(64),
            kind: ItemKind::Clip,
            device: "ICLISTENHF6324".into(),
            product: "audio/flac".into(),
            start: "2024-04-01T12:34:35.000Z".into(),
            end: "2024-04-01T12:35:05.000Z".into(),
            status: Status::Done,
            label: requests.first().map(|r| r.2.to_owned()).unwrap_or_default(),
            requests: requests
                .iter()
                .map(|(f, row, label)| LockRequest {
                    file: (*f).into(),
                    row: *row,
                    label: (*label).into(),
                    ..LockRequest::default()
                })
                .collect(),
            files: vec![LockedFile {
                path: file.into(),
                size: 3,
                sha256: "00".into(),
                ..LockedFile::default()
            }],
            ..LockEntry::default()
        });
        lock
    }

    #[test]
    fn a_shared_clip_has_one_row_per_request_across_lockfiles() {
        let a = clip_lock(
            &[("b.csv", 4, "orca"), ("b.csv", 2, "whale")],
            "clips/x.flac",
        );
        let b = clip_lock(
            &[("a.json", 3, "call"), ("b.csv", 2, "whale")],
            "clips/x.flac",
        );
        let rows = union([&a, &b]);
        let got: Vec<(&str, &str, u64)> = rows
            .iter()
            .map(|r| (r.label.as_str(), r.request_file.as_str(), r.request_row))
            .collect();
        assert_eq!(
            got,
            [
                ("call", "a.json", 3),
                ("whale", "b.csv", 2),
                ("orca", "b.csv", 4)
            ]
        );
        assert!(
            rows.iter()
                .all(|r| r.path == "clips/x.flac" && r.kind == "clip")
        );
        // A lockfile from before `requests`: one row with its label.
        let mut old = clip_lock(&[], "clips/y.flac");
        if let Some(e) = old.get_mut(&"a".repeat(64)) {
            e.label = "old".into();
        }
        let old_rows = super::rows(&old);
        assert_eq!(old_rows.len(), 1);
        assert_eq!(
            (old_rows[0].label.as_str(), old_rows[0].request_row),
            ("old", 0)
        );
    }
}
