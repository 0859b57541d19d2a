//! Atomic file writes for the format writers, on top of [`crate::atomic`]: nothing
//! half-written is ever visible under the final name, and errors are [`FormatError`]s.

use super::error::FormatError;
use crate::atomic::AtomicFile;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically (temporary name in the same folder, fsync, rename).
///
/// # Errors
/// [`FormatError::Io`] naming the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FormatError> {
    write_atomic_with(path, |file, tmp| {
        file.write_all(bytes).map_err(|e| FormatError::io(tmp, e))
    })
}

/// Like [`write_atomic`], but lets `fill` stream the content into the temporary file (whose
/// path it is given for error messages). If `fill` fails, nothing is left behind.
///
/// # Errors
/// `fill`'s error, or [`FormatError::Io`] naming the path.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File, &Path) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let mut out = AtomicFile::create(path).map_err(|e| FormatError::io(path, e))?;
    let tmp = out.temp_path().to_owned();
    let file = out.file_mut().map_err(|e| FormatError::io(&tmp, e))?;
    fill(file, &tmp)?;
    out.commit().map_err(|e| FormatError::io(path, e))
}

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
    fn unwritable_folder_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        assert!(matches!(
            write_atomic(&blocker.join("out.bin"), b"x"),
            Err(FormatError::Io { .. })
        ));
    }
}
