//! Watching manifests for changes (`hydrofetch watch`).
//!
//! [`FileWatcher`] watches the *folders* of the files it is given, not the files themselves:
//! editors that save by writing a new file and renaming it over the old one replace the inode,
//! and a watch on the old inode would go quiet. Events are debounced
//! (`notify-debouncer-full`) and filtered down to the watched files, plus any new manifest
//! file (`.toml`, `.yaml`, `.yml`, `.json`, `.csv`) appearing in a watched folder.
//!
//! Events that arrive while the caller is busy (a run in progress) stay queued in the channel
//! and are returned, merged, by the next [`FileWatcher::next_change`].

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

/// File extensions that count as manifests when they appear in a watched folder.
pub const MANIFEST_EXTENSIONS: &[&str] = &["toml", "yaml", "yml", "json", "csv"];

/// What to watch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchSet {
    /// Files whose changes matter (manifests and the request files they reference).
    pub files: BTreeSet<PathBuf>,
    /// Folders in which a new manifest file matters.
    pub folders: BTreeSet<PathBuf>,
}

/// Errors setting up a watch.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path}")]
pub struct WatchError {
    /// The folder.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: notify::Error,
}

/// A debounced watcher of a [`WatchSet`].
pub struct FileWatcher {
    debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    rx: mpsc::UnboundedReceiver<Vec<PathBuf>>,
    set: WatchSet,
    watched: BTreeSet<PathBuf>,
}

impl std::fmt::Debug for FileWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWatcher")
            .field("set", &self.set)
            .finish_non_exhaustive()
    }
}

impl FileWatcher {
    /// A watcher that reports changes once they have been quiet for `debounce`.
    ///
    /// # Errors
    /// When the platform's watcher cannot be created.
    pub fn new(debounce: Duration) -> Result<Self, WatchError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let handler = move |r: DebounceEventResult| {
            if let Ok(events) = r {
                let paths: Vec<PathBuf> = events.into_iter().flat_map(|e| e.event.paths).collect();
                if !paths.is_empty() {
                    let _ = tx.send(paths);
                }
            }
        };
        let debouncer = new_debouncer(debounce, None, handler).map_err(|source| WatchError {
            path: PathBuf::from("."),
            source,
        })?;
        Ok(Self {
            debouncer,
            rx,
            set: WatchSet::default(),
            watched: BTreeSet::new(),
        })
    }

    /// Replaces what is watched.
    ///
    /// # Errors
    /// When a folder cannot be watched.
    pub fn set(&mut self, set: WatchSet) -> Result<(), WatchError> {
        let set = WatchSet {
            files: set.files.iter().map(|p| absolute(p)).collect(),
            folders: set.folders.iter().map(|p| absolute(p)).collect(),
        };
        let wanted: BTreeSet<PathBuf> = set
            .files
            .iter()
            .filter_map(|f| f.parent().map(Path::to_path_buf))
            .chain(set.folders.iter().cloned())
            .collect();
        for gone in self.watched.difference(&wanted) {
            let _ = self.debouncer.unwatch(gone);
        }
        for dir in wanted.difference(&self.watched) {
            self.debouncer
                .watch(dir, RecursiveMode::NonRecursive)
                .map_err(|source| WatchError {
                    path: dir.clone(),
                    source,
                })?;
        }
        self.watched = wanted;
        self.set = set;
        Ok(())
    }

    /// Waits for the next relevant change and returns the changed paths (sorted, merged with
    /// anything else already queued). `None` when the watcher has stopped.
    pub async fn next_change(&mut self) -> Option<BTreeSet<PathBuf>> {
        loop {
            let mut changed = BTreeSet::new();
            let first = self.rx.recv().await?;
            self.keep_relevant(first, &mut changed);
            while let Ok(more) = self.rx.try_recv() {
                self.keep_relevant(more, &mut changed);
            }
            if !changed.is_empty() {
                return Some(changed);
            }
        }
    }

    fn keep_relevant(&self, paths: Vec<PathBuf>, out: &mut BTreeSet<PathBuf>) {
        for p in paths {
            let p = absolute(&p);
            let in_folder = p.parent().is_some_and(|d| self.set.folders.contains(d))
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| MANIFEST_EXTENSIONS.contains(&e));
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if self.set.files.contains(&p) || (in_folder && !hidden) {
                out.insert(p);
            }
        }
    }
}

/// An absolute form of `p` with symlinked folders resolved where possible, so that event
/// paths and configured paths compare equal.
fn absolute(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p) {
        return c;
    }
    // The file may not exist (deleted, or being replaced): resolve its folder instead.
    match (p.parent(), p.file_name()) {
        (Some(d), Some(n)) if !d.as_os_str().is_empty() => {
            std::fs::canonicalize(d).map_or_else(|_| p.to_path_buf(), |d| d.join(n))
        }
        _ => std::env::current_dir().map_or_else(|_| p.to_path_buf(), |cwd| cwd.join(p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn expect_change(w: &mut FileWatcher) -> BTreeSet<PathBuf> {
        tokio::time::timeout(Duration::from_secs(10), w.next_change())
            .await
            .expect("a change within 10 s")
            .expect("watcher running")
    }

    #[tokio::test]
    async fn sees_appends_renames_and_new_manifests_but_not_noise() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let csv = root.join("events.csv");
        std::fs::write(&csv, "deviceCode,timestamp\n").unwrap();
        let mut w = FileWatcher::new(Duration::from_millis(50)).unwrap();
        w.set(WatchSet {
            files: [csv.clone()].into(),
            folders: BTreeSet::new(),
        })
        .unwrap();

        // An unrelated file is not reported; the append that follows is.
        std::fs::write(root.join("notes.txt"), "x").unwrap();
        std::fs::write(&csv, "deviceCode,timestamp\nA,2024-04-01T00:00:00Z\n").unwrap();
        assert_eq!(expect_change(&mut w).await, [csv.clone()].into());

        // Editors save by writing a temporary file and renaming it over the original.
        let tmp = root.join(".events.csv.swp");
        std::fs::write(&tmp, "deviceCode,timestamp\nB,2024-04-01T00:00:00Z\n").unwrap();
        std::fs::rename(&tmp, &csv).unwrap();
        assert!(expect_change(&mut w).await.contains(&csv));

        // A watched folder reports new manifests.
        w.set(WatchSet {
            files: [csv.clone()].into(),
            folders: [root.clone()].into(),
        })
        .unwrap();
        let new = root.join("more.toml");
        std::fs::write(&new, "version = 1\n").unwrap();
        assert!(expect_change(&mut w).await.contains(&new));
    }
}
