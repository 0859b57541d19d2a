//! Cross-process exclusion: an advisory lock on a small guard file.
//!
//! A manifest's run, watch, gc and repair hold the guard of its lockfile
//! (`.hydrofetch/NAME.lock.guard` beside it) for as long as they work on it, so two of them never write
//! one lockfile at once: the second waits (with a message) or, with `--no-wait`, fails at once.
//! A `data_dir`'s guard (`.hydrofetch/guard`) is held briefly while its registry and index are
//! rewritten, so manifests that share a `data_dir` never lose each other's index rows.
//!
//! The lock is the operating system's advisory file lock (`flock` on Unix, `LockFileEx` on
//! Windows, through [`std::fs::File::lock`]). It is released when the holder exits, however it
//! exits (`kill -9` included): a stale guard file never blocks anyone. The guard file holds
//! the holder's process id, for the message of whoever waits.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Whether to wait for a busy guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Wait {
    /// Wait until the holder is done.
    #[default]
    Block,
    /// Fail at once.
    NoWait,
}

/// Errors taking a guard.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuardError {
    /// Another process holds it and we were told not to wait.
    #[error(
        "{what} is in use by another hydrofetch (process {holder}); try again when it is done, or leave out --no-wait to wait for it"
    )]
    Busy {
        /// What is guarded, for people.
        what: String,
        /// The holder's process id, as it wrote it (`unknown` if unreadable).
        holder: String,
    },
    /// The guard file could not be opened or locked.
    #[error("cannot lock {path}")]
    Io {
        /// The guard file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// A held guard; dropping it releases the lock.
#[derive(Debug)]
#[must_use = "the lock is released when the guard is dropped"]
pub(crate) struct Guard {
    _file: File,
}

/// Takes the guard at `path` (creating it and its folder), for `what` (used in messages).
/// When another process holds it: with [`Wait::Block`], calls `on_wait` with the holder's
/// process id and waits; with [`Wait::NoWait`], fails with [`GuardError::Busy`].
///
/// # Errors
/// [`GuardError`].
pub(crate) fn acquire(
    path: &Path,
    what: &str,
    wait: Wait,
    on_wait: impl FnOnce(&str),
) -> Result<Guard, GuardError> {
    let io_err = |source| GuardError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs_err::create_dir_all(dir).map_err(io_err)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io_err)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let holder = holder_of(&mut file);
            match wait {
                Wait::NoWait => {
                    return Err(GuardError::Busy {
                        what: what.to_owned(),
                        holder,
                    });
                }
                Wait::Block => {
                    on_wait(&holder);
                    file.lock().map_err(io_err)?;
                }
            }
        }
        Err(TryLockError::Error(e)) => return Err(io_err(e)),
    }
    // Ours now: say who holds it. Best effort: the lock, not the text, is what excludes.
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()));
    Ok(Guard { _file: file })
}

/// The process id written by the holder (digits only, so that nothing odd reaches a terminal).
fn holder_of(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file
        .rewind()
        .and_then(|()| file.take(32).read_to_string(&mut text));
    let digits: String = text.trim().chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        "unknown".to_owned()
    } else {
        digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_or_waits_until_the_first_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/.x.lock.guard");
        let first = acquire(&p, "x.lock", Wait::NoWait, |_| {}).unwrap();
        // Locks are per open file description: a second open in this process conflicts too.
        match acquire(&p, "x.lock", Wait::NoWait, |_| {}) {
            Err(GuardError::Busy { what, holder }) => {
                assert_eq!(what, "x.lock");
                assert_eq!(holder, std::process::id().to_string());
            }
            other => panic!("expected Busy, got {other:?}"),
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let p2 = p.clone();
        let waiter = std::thread::spawn(move || {
            let g = acquire(&p2, "x.lock", Wait::Block, |holder| {
                tx.send(holder.to_owned()).unwrap();
            });
            g.map(|_| ())
        });
        // The waiter reports that it waits, then gets the guard once the first is dropped.
        let holder = rx.recv().unwrap();
        assert_eq!(holder, std::process::id().to_string());
        drop(first);
        waiter.join().unwrap().unwrap();
    }
}
