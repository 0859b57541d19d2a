//! The record of finished items: an append-only file beside the resume journal, so that
//! persisting a finished item costs one line, not a rewrite of the whole lockfile.
//!
//! `NAME.lock.record` in the `.hydrofetch/` folder beside the lockfile (see
//! [`crate::dataset::StatePaths`]): one JSON [`LockEntry`] per line, in the order the items
//! finished. The scheduler appends each line with one `write` (so a killed process loses no
//! finished item: the kernel has it) and fsyncs in batches (so a power loss loses at most the
//! last batch, whose files are fetched again). The lockfile itself is written whole, atomically,
//! only by [`compact`]: at the end of a run, on interrupt, and by [`fold`] when a dataset is
//! opened after a crash. Bytes written grow linearly with the items finished.
//!
//! A line that does not parse (a torn write at power loss) or that fails the lockfile's own
//! checks ([`crate::lock::check_entry`]) is skipped and counted, never folded.

use super::runner::RunPaths;
use crate::lock::{LockEntry, LockError, Lockfile, check_entry};
use fs_err as fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// The open record of a run, appended to by the scheduler.
#[derive(Debug)]
pub(crate) struct Record {
    path: PathBuf,
    file: Option<fs::File>,
    unsynced: usize,
}

impl Record {
    /// The record at `path`; the file is created (or appended to) on the first item.
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            file: None,
            unsynced: 0,
        }
    }

    /// Appends one finished item as one line, written at once.
    pub(crate) fn append(&mut self, entry: &LockEntry) -> io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(io::Error::other)?;
        line.push(b'\n');
        let file = if let Some(f) = &mut self.file {
            f
        } else {
            if let Some(dir) = self.path.parent() {
                fs::create_dir_all(dir)?;
            }
            self.file.insert(
                fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?,
            )
        };
        file.write_all(&line)?;
        self.unsynced += 1;
        Ok(())
    }

    /// Lines appended since the last [`Record::sync`].
    pub(crate) const fn unsynced(&self) -> usize {
        self.unsynced
    }

    /// Makes the appended lines durable.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        if let Some(f) = &self.file
            && self.unsynced > 0
        {
            f.sync_data()?;
        }
        self.unsynced = 0;
        Ok(())
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// What [`fold`] found in a record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub(crate) struct Folded {
    /// Entries folded into the lockfile.
    pub items: usize,
    /// Lines skipped: torn or not valid.
    pub skipped: usize,
}

/// Folds the record at `path`, if any, into `lock` (a later line for an item replaces an
/// earlier one). The record stays on disk: remove it once the lockfile is saved
/// ([`remove`]), so that a crash in between folds it again (folding is idempotent).
///
/// # Errors
/// [`LockError::Io`] when the record exists but cannot be read.
pub(crate) fn fold(path: &Path, lock: &mut Lockfile) -> Result<Folded, LockError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Folded::default()),
        Err(source) => {
            return Err(LockError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    let mut out = Folded::default();
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        match serde_json::from_slice::<LockEntry>(line) {
            Ok(e) if check_entry(&e).is_ok() => {
                lock.insert(e);
                out.items += 1;
            }
            _ => out.skipped += 1,
        }
    }
    Ok(out)
}

/// Removes a record once its items are in the saved lockfile.
///
/// # Errors
/// [`LockError::Io`] naming the record.
pub(crate) fn remove(path: &Path) -> Result<(), LockError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(LockError::Io {
            path: path.to_owned(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Compacts a run's bookkeeping: writes the lockfile whole (atomically, unless unchanged),
/// then removes the record it now contains. Returns whether the lockfile was written.
///
/// # Errors
/// [`LockError`] when the lockfile cannot be written or the record removed.
pub fn compact(lock: &mut Lockfile, paths: &RunPaths) -> Result<bool, LockError> {
    let wrote = lock.save(&paths.lock)?;
    remove(&paths.record)?;
    Ok(wrote)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::{ItemKind, LockedFile, Status};

    fn entry(n: u8, path: &str) -> LockEntry {
        LockEntry {
            id: format!("{n:064x}"),
            kind: ItemKind::Fetch,
            status: Status::Done,
            files: vec![LockedFile {
                path: path.into(),
                size: 3,
                sha256: "ab".into(),
                ..LockedFile::default()
            }],
            ..LockEntry::default()
        }
    }

    #[test]
    fn a_record_folds_back_and_skips_torn_or_unsafe_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".hydrofetch/x.lock.record");
        let mut r = Record::new(&path);
        r.append(&entry(1, "a/one.mat")).unwrap();
        r.append(&entry(2, "a/two.mat")).unwrap();
        assert_eq!(r.unsynced(), 2);
        r.sync().unwrap();
        assert_eq!(r.unsynced(), 0);
        r.append(&entry(3, "../escape.mat")).unwrap();
        drop(r);
        // A torn last line, as a power loss mid-write leaves it.
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"id\":\"00").unwrap();
        drop(f);

        let mut lock = Lockfile::default();
        let folded = fold(&path, &mut lock).unwrap();
        assert_eq!(
            folded,
            Folded {
                items: 2,
                skipped: 2
            }
        );
        assert_eq!(lock.len(), 2);
        assert!(lock.get(&format!("{:064x}", 2)).is_some());
        // Folding twice changes nothing.
        assert_eq!(fold(&path, &mut lock).unwrap().items, 2);
        assert_eq!(lock.len(), 2);
        remove(&path).unwrap();
        remove(&path).unwrap();
        assert_eq!(fold(&path, &mut lock).unwrap(), Folded::default());
    }
}
