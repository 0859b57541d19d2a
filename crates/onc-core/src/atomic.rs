//! Nothing half-written: files are written under a temporary name in the destination's folder,
//! fsynced, then renamed into place (and the folder fsynced), so a reader sees either the old
//! file or the whole new one, never a part.
//!
//! [`AtomicFile`] streams (downloads, encoders); [`write_atomic`] writes a buffer. A dropped,
//! uncommitted [`AtomicFile`] removes its temporary file.
//!
//! Decisions recorded here:
//! - The temporary file is created exclusively (`O_CREAT|O_EXCL`, [`OpenOptions::create_new`]),
//!   which never follows a symlink: a link planted at a predictable temporary name (pointing
//!   outside `data_dir`) makes that name be skipped, never written through. The next free
//!   number is tried, a bounded number of times.
//! - A symlink at the final name is replaced by the rename (rename acts on the link itself),
//!   never written through.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A file being written under a temporary name; [`AtomicFile::commit`] puts it in place.
#[derive(Debug)]
pub struct AtomicFile {
    file: Option<File>,
    tmp: PathBuf,
    dest: PathBuf,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// How many taken temporary names [`AtomicFile::create`] skips before it gives up.
const MAX_NAME_TRIES: u32 = 10_000;

impl AtomicFile {
    /// Creates the destination's folder if needed and opens a temporary file beside `dest`.
    ///
    /// # Errors
    /// I/O errors, with the path in the message.
    pub fn create(dest: &Path) -> io::Result<Self> {
        let dir = parent_dir(dest);
        fs::create_dir_all(dir).map_err(|e| with_path(e, dir))?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let pid = std::process::id();
        let mut last = None;
        for _ in 0..MAX_NAME_TRIES {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let tmp = dir.join(format!(".{name}.{pid}.{n}.tmp"));
            // Exclusive create: an existing file or symlink (dangling or not) at this name is
            // never opened, so nothing outside the folder can be written through it.
            match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(file) => {
                    return Ok(Self {
                        file: Some(file),
                        tmp,
                        dest: dest.to_owned(),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(tmp),
                Err(e) => return Err(with_path(e, &tmp)),
            }
        }
        let tmp = last.unwrap_or_else(|| dir.to_owned());
        Err(with_path(
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{MAX_NAME_TRIES} temporary names in a row are taken"),
            ),
            &tmp,
        ))
    }

    /// The final path.
    #[must_use]
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// The temporary path being written.
    #[must_use]
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// The open temporary file, for writers that need a [`File`] (seeking encoders).
    ///
    /// # Errors
    /// After commit.
    pub fn file_mut(&mut self) -> io::Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("file already committed"))
    }

    /// Flushes, fsyncs, renames into place and fsyncs the folder.
    ///
    /// # Errors
    /// I/O errors, with the path in the message.
    pub fn commit(mut self) -> io::Result<()> {
        if let Some(file) = self.file.take() {
            file.sync_all().map_err(|e| with_path(e, &self.tmp))?;
        }
        fs::rename(&self.tmp, &self.dest).map_err(|e| with_path(e, &self.dest))?;
        // Make the rename durable; not all platforms can open a folder, so this is best effort.
        if let Ok(d) = File::open(parent_dir(&self.dest)) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None => Err(io::Error::other("write after commit")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), Write::flush)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `dest` atomically.
///
/// # Errors
/// I/O errors, with the path in the message.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(dest)?;
    f.write_all(bytes).map_err(|e| with_path(e, dest))?;
    f.commit()
}

/// Like [`write_atomic`], but `fill` streams the content into the temporary file (whose path it
/// is given, for its own error messages), and errors are the caller's type: `io` turns an I/O
/// error on `dest` or the temporary file into one. If `fill` fails, nothing is left behind.
///
/// # Errors
/// `fill`'s error, or `io` of the error creating, syncing or renaming the file.
#[expect(
    clippy::similar_names,
    reason = "`file` and `fill`: the file and what fills it"
)]
pub fn write_atomic_with<E>(
    dest: &Path,
    fill: impl FnOnce(&mut File, &Path) -> Result<(), E>,
    io: impl Fn(&Path, io::Error) -> E,
) -> Result<(), E> {
    let mut out = AtomicFile::create(dest).map_err(|e| io(dest, e))?;
    let tmp = out.temp_path().to_owned();
    let file = out.file_mut().map_err(|e| io(&tmp, e))?;
    fill(file, &tmp)?;
    out.commit().map_err(|e| io(dest, e))
}

/// Removes the temporary files ([`AtomicFile`] names them `.NAME.PID.N.tmp`) that processes
/// which are no longer running left in `dir` (and its subfolders with `recursive`; symlinks are
/// not followed). Files of this process and of running ones are kept. Returns how many were
/// removed; errors are skipped (the next sweep tries again).
#[must_use]
pub fn sweep_stale(dir: &Path, recursive: bool) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let Ok(kind) = e.file_type() else { continue };
        let path = e.path();
        if kind.is_dir() {
            if recursive {
                removed += sweep_stale(&path, true);
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid, &path) && fs::remove_file(&path).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// The process id in a temporary file name `.NAME.PID.N.tmp`.
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = rest.rsplitn(3, '.');
    let n = parts.next()?;
    let pid = parts.next()?;
    let stem = parts.next()?;
    (!stem.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty())
        .then(|| pid.parse().ok())
        .flatten()
}

/// Whether process `pid` may still be writing `file`: on Linux, whether it runs; elsewhere,
/// whether the file changed in the last day.
fn process_alive(pid: u32, file: &Path) -> bool {
    if cfg!(target_os = "linux") {
        return Path::new("/proc").join(pid.to_string()).exists();
    }
    fs::metadata(file)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_none_or(|age| age < std::time::Duration::from_secs(86_400))
}

fn parent_dir(p: &Path) -> &Path {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Adds the path to an I/O error's message.
#[must_use]
#[expect(
    clippy::needless_pass_by_value,
    reason = "used as `map_err(|e| with_path(e, p))`: the error is consumed there"
)]
pub fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_fill_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.bin");
        let err = write_atomic_with(&p, |_, _| Err("boom"), |_, _| "io").unwrap_err();
        assert_eq!(err, "boom");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        write_atomic_with(&p, |f, _| f.write_all(b"x"), |_, e| e).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"x");
    }

    #[test]
    fn commit_replaces_and_drop_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("sub/out.bin");
        write_atomic(&dest, b"first").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"first");

        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"second, longer").unwrap();
        // Not committed yet: the old content is still what readers see.
        assert_eq!(fs::read(&dest).unwrap(), b"first");
        f.commit().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"second, longer");

        let mut g = AtomicFile::create(&dest).unwrap();
        g.write_all(b"abandoned").unwrap();
        drop(g);
        assert_eq!(fs::read(&dest).unwrap(), b"second, longer");
        let names: Vec<_> = fs::read_dir(dest.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.bin"], "no temporary files left behind");
    }

    #[test]
    fn sweeps_temporary_files_of_dead_processes_only() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        fs::create_dir_all(&sub).unwrap();
        // A pid far above any pid_max is not running.
        let dead = sub.join(".x.flac.4194999999.3.tmp");
        let mine = sub.join(format!(".y.flac.{}.0.tmp", std::process::id()));
        let other = sub.join(".notes.tmp");
        for p in [&dead, &mine, &other] {
            fs::write(p, b"x").unwrap();
        }
        assert_eq!(sweep_stale(dir.path(), false), 0, "not recursive");
        assert_eq!(sweep_stale(dir.path(), true), 1);
        assert!(!dead.exists());
        assert!(mine.exists() && other.exists());
        assert_eq!(temp_owner(".a.b.12.3.tmp"), Some(12));
        assert_eq!(temp_owner(".12.3.tmp"), None);
        assert_eq!(temp_owner("a.12.3.tmp"), None);
    }

    /// The temporary names the next [`AtomicFile::create`] calls of this process may take.
    fn next_temp_names(dir: &Path, name: &str, count: u64) -> Vec<PathBuf> {
        let from = COUNTER.load(Ordering::Relaxed);
        (from..from + count)
            .map(|n| dir.join(format!(".{name}.{}.{n}.tmp", std::process::id())))
            .collect()
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_at_temporary_names_are_never_written_through() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        fs::create_dir_all(&data).unwrap();
        let victim = root.path().join("victim.txt");
        fs::write(&victim, b"precious").unwrap();
        let dangling = root.path().join("created-by-us.txt");
        // Links at every name the next temporary files can take (other tests of this process
        // share the counter: a wide margin), half to an existing file, half dangling.
        let planted = next_temp_names(&data, "out.bin", 512);
        for (k, p) in planted.iter().enumerate() {
            let target = if k % 2 == 0 { &victim } else { &dangling };
            std::os::unix::fs::symlink(target, p).unwrap();
        }
        let dest = data.join("out.bin");
        write_atomic(&dest, b"new content").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"new content");
        assert_eq!(
            fs::read(&victim).unwrap(),
            b"precious",
            "written through a link"
        );
        assert!(
            !dangling.exists(),
            "a file was created through a dangling link"
        );
        for p in &planted {
            assert!(fs::symlink_metadata(p).unwrap().file_type().is_symlink());
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_final_name_is_replaced_not_written_through() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        fs::create_dir_all(&data).unwrap();
        let victim = root.path().join("victim.txt");
        fs::write(&victim, b"precious").unwrap();
        let dest = data.join("out.bin");
        std::os::unix::fs::symlink(&victim, &dest).unwrap();
        write_atomic(&dest, b"new content").unwrap();
        assert!(
            !fs::symlink_metadata(&dest)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&dest).unwrap(), b"new content");
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
    }
}
