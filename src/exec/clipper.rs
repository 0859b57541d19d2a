//! Making one clip from its sources' files, as recorded in the lockfile.
//!
//! Runs on a blocking thread (decoding and encoding are CPU work). The result is a lockfile
//! entry for the clip: its output files with size and SHA-256, and the archive gaps found.

use super::job::{ClipJob, ClipKind, NOMINAL_FILE_MILLIS};
use crate::clip::audio::{AudioSource, clip_audio};
use crate::clip::mat::clip_mat;
use crate::clip::png::{PngSource, clip_png};
use crate::lock::{ItemKind, LockEntry, LockedFile, Lockfile, Status, sha256_file};
use crate::time::UtcInstant;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A source file of a clip: where it is and when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceFile {
    pub(crate) path: PathBuf,
    pub(crate) start: UtcInstant,
}

/// The distinct files of a clip's source items, from the lockfile, in time order.
pub(crate) fn source_files(job: &ClipJob, lock: &Lockfile, data_dir: &Path) -> Vec<SourceFile> {
    let mut files: BTreeMap<String, SourceFile> = BTreeMap::new();
    for id in &job.sources {
        for f in lock.get(id).map(|e| e.files.as_slice()).unwrap_or_default() {
            let name = if f.source.is_empty() {
                f.path.rsplit('/').next().unwrap_or_default()
            } else {
                f.source.as_str()
            };
            if let Some(start) = UtcInstant::from_file_name(name) {
                files.entry(f.path.clone()).or_insert(SourceFile {
                    path: data_dir.join(&f.path),
                    start,
                });
            }
        }
    }
    let mut v: Vec<SourceFile> = files.into_values().collect();
    v.sort_by_key(|f| f.start);
    v
}

/// Makes the clip; the error is a message for the run summary.
pub(crate) fn make_clip(
    job: &ClipJob,
    sources: &[SourceFile],
    data_dir: &Path,
) -> Result<LockEntry, String> {
    let out = data_dir.join(&job.output);
    let (outputs, gaps): (Vec<crate::clip::ClipOutput>, Vec<crate::clip::Gap>) = match job.kind {
        ClipKind::Audio(format) => {
            let srcs: Vec<AudioSource> = sources
                .iter()
                .map(|s| AudioSource {
                    path: s.path.clone(),
                    start: s.start,
                })
                .collect();
            let c = clip_audio(&srcs, job.start, job.end, &out, format, job.gap)
                .map_err(|e| error_chain(&e))?;
            (c.outputs, c.gaps)
        }
        ClipKind::Mat => {
            let srcs: Vec<PathBuf> = sources.iter().map(|s| s.path.clone()).collect();
            let c =
                clip_mat(&srcs, job.start, job.end, &out, job.gap).map_err(|e| error_chain(&e))?;
            (c.outputs, c.gaps)
        }
        ClipKind::Png => {
            // A plot's time axis runs to the next file's start, or 5 minutes.
            let srcs: Vec<PngSource> = sources
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let next = sources.get(i + 1).map(|n| n.start.millis_since(s.start));
                    let duration_ms = next
                        .filter(|d| *d > 0 && *d < NOMINAL_FILE_MILLIS)
                        .unwrap_or(NOMINAL_FILE_MILLIS);
                    PngSource {
                        path: s.path.clone(),
                        start: s.start,
                        duration_ms,
                    }
                })
                .collect();
            let c =
                clip_png(&srcs, job.start, job.end, &out, job.gap).map_err(|e| error_chain(&e))?;
            (c.outputs, c.gaps)
        }
    };
    let rel = |p: &Path| -> String {
        p.strip_prefix(data_dir)
            .unwrap_or(p)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut files = Vec::with_capacity(outputs.len());
    for o in outputs {
        let (size, sha256) =
            sha256_file(&o.path).map_err(|e| format!("cannot hash {}: {e}", o.path.display()))?;
        // Each file's own span and the sources that overlap it (a split clip's parts differ).
        files.push(LockedFile {
            path: rel(&o.path),
            size,
            sha256,
            start: o.start.to_onc_string(),
            end: o.end.to_onc_string(),
            sources: o.sources.iter().map(|p| rel(p)).collect(),
            ..LockedFile::default()
        });
    }
    let (product, format) = match job.kind {
        ClipKind::Audio(f) => ("audio", f.extension()),
        ClipKind::Mat => ("spectrogram", "mat"),
        ClipKind::Png => ("spectrogram", "png"),
    };
    Ok(LockEntry {
        id: job.id.clone(),
        kind: ItemKind::Clip,
        device: job.device.clone(),
        product: format!("{product}/{format}"),
        start: job.start.to_onc_string(),
        end: job.end.to_onc_string(),
        status: Status::Done,
        gaps: gaps
            .iter()
            .map(|g| format!("{}/{}", g.start, g.end))
            .collect(),
        files,
        ..LockEntry::default()
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}
