//! Atomic file writes: nothing half-written is ever visible under the final name.
//!
//! The bytes go to a temporary file in the destination's own folder (so the final rename never
//! crosses a file system), which is flushed and fsynced before being renamed over the target.
//! On any error the temporary file is removed. The parent folder is fsynced after the rename on
//! Unix so the new name itself survives a crash.

use super::error::FormatError;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically (temporary name in the same folder, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FormatError> {
    write_atomic_with(path, |file, tmp| {
        file.write_all(bytes).map_err(|e| FormatError::io(tmp, e))
    })
}

/// Like [`write_atomic`], but lets `fill` stream the content into the temporary file (whose
/// path it is given for error messages).
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File, &Path) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp).map_err(|e| FormatError::io(&tmp, e))?;
        fill(&mut file, &tmp)?;
        file.flush().map_err(|e| FormatError::io(&tmp, e))?;
        file.sync_all().map_err(|e| FormatError::io(&tmp, e))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(|e| FormatError::io(path, e))
    })();
    if result.is_err() {
        // Best effort: the original error is the one worth reporting.
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    sync_parent(path);
    Ok(())
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

#[cfg(unix)]
fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Best effort: some file systems refuse to fsync a directory.
    if let Ok(dir) = std::fs::File::open(parent) {
        let _ = dir.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_parent(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.bin");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.bin")]);
    }

    #[test]
    fn failed_fill_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.bin");
        let err = write_atomic_with(&p, |_, t| {
            Err(FormatError::io(t, std::io::Error::other("boom")))
        })
        .unwrap_err();
        assert!(matches!(err, FormatError::Io { .. }));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn missing_folder_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("no/such/out.bin");
        assert!(matches!(
            write_atomic(&p, b"x"),
            Err(FormatError::Io { .. })
        ));
    }
}
