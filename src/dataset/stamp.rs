//! Whether a `data_dir`'s index is already what its lockfiles say, so that a run with nothing
//! to do neither reads the other lockfiles nor rewrites `index.csv`/`index.json` (for a year of
//! windows, ~140 MB).
//!
//! `data_dir/.hydrofetch/index.stamp` is written after every index rewrite: the index format,
//! the number of rows, and the size, modification time and inode of every registered lockfile,
//! of the registry and of both index files, as they were right after the rewrite. If all of
//! them still match, the index is a function of unchanged inputs and is left alone. Any
//! change (a lockfile saved by another run, edited by hand or checked out; an index file
//! removed or edited; the registry changed; a hydrofetch with another index format) makes
//! them differ, and the index is rebuilt as before. hydrofetch writes every one of these files
//! by atomic rename, so each of its writes gives a new inode even within one clock tick. A
//! missing, unreadable or foreign stamp means "rebuild".

use super::registry::{Registry, STATE_DIR, registry_path};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const STAMP_FILE: &str = "index.stamp";

/// What the index rows depend on besides the lockfiles: the hydrofetch that wrote them and
/// the index's shape.
fn format() -> String {
    format!(
        "hydrofetch {} index {}",
        env!("CARGO_PKG_VERSION"),
        crate::index::INDEX_FORMAT
    )
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    format: String,
    rows: usize,
    files: Vec<FileStamp>,
}

/// One input or output of the index: path (as registered, or the file name), size,
/// modification time (ns since the epoch), inode (0 where there is none).
type FileStamp = (String, u64, i128, u64);

fn stamp_path(data_dir: &Path) -> PathBuf {
    data_dir.join(STATE_DIR).join(STAMP_FILE)
}

fn file_stamp(name: &str, path: &Path) -> Option<FileStamp> {
    let m = fs_err::metadata(path).ok()?;
    let mtime = match m.modified().ok()?.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).ok()?,
        Err(e) => -i128::try_from(e.duration().as_nanos()).ok()?,
    };
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let ino = 0;
    Some((name.to_owned(), m.len(), mtime, ino))
}

/// The stamps of the index's inputs and outputs now; `None` when one is missing.
fn current(data_dir: &Path, reg: &Registry) -> Option<Vec<FileStamp>> {
    let mut out = Vec::with_capacity(reg.lockfiles.len() + 3);
    for (rel, abs) in reg.resolved(data_dir) {
        out.push(file_stamp(rel, &abs)?);
    }
    out.push(file_stamp(STATE_DIR, &registry_path(data_dir))?);
    for name in ["index.csv", "index.json"] {
        out.push(file_stamp(name, &data_dir.join(name))?);
    }
    Some(out)
}

/// The number of index rows, if the index was written from exactly the lockfiles `reg` lists
/// as they are now and is itself untouched since.
pub(crate) fn unchanged(data_dir: &Path, reg: &Registry) -> Option<usize> {
    let text = fs_err::read_to_string(stamp_path(data_dir)).ok()?;
    let stored: Stamp = serde_json::from_str(&text).ok()?;
    let now = Stamp {
        format: format(),
        rows: stored.rows,
        files: current(data_dir, reg)?,
    };
    (now == stored).then_some(stored.rows)
}

/// Records the stamp of an index just written with `rows` rows from the lockfiles `reg` lists
/// (and the registry saved). Best effort: without a stamp the next run rebuilds the index.
pub(crate) fn record(data_dir: &Path, reg: &Registry, rows: usize) {
    let path = stamp_path(data_dir);
    let Some(files) = current(data_dir, reg) else {
        let _ = fs_err::remove_file(&path);
        return;
    };
    let stamp = Stamp {
        format: format(),
        rows,
        files,
    };
    if let Ok(text) = serde_json::to_vec(&stamp)
        && crate::atomic::write_atomic(&path, &text).is_err()
    {
        let _ = fs_err::remove_file(&path);
    }
}

/// Forgets the stamp (before the index is rewritten: a crash mid-way leaves no stale stamp).
pub(crate) fn clear(data_dir: &Path) {
    let _ = fs_err::remove_file(stamp_path(data_dir));
}
