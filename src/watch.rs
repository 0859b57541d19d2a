//! Watching manifests for changes (`hydrofetch watch`).
//!
//! [`FileWatcher`] watches the *folders* of the files it is given, not the files themselves:
//! editors that save by writing a new file and renaming it over the old one replace the inode,
//! and a watch on the old inode would go quiet. Events are debounced
//! (`notify-debouncer-full`) and filtered down to the watched files, plus any file appearing in
//! a watched folder that may be a manifest ([`WatchSet::may_be_manifest`]).
//!
//! A notification is only a hint; a change is a difference in *content*. The watcher keeps the
//! SHA-256 of every watched file as last acted on and reports a file only when that hash
//! differs, or when the file appeared or disappeared. This is what keeps a watch from acting on
//! its own activity: on Linux every open of a watched file is an event (inotify `IN_OPEN`), so
//! loading the manifests after a change used to raise the next "change", forever. Reads,
//! `touch`, and saving unchanged content are not changes.
//!
//! Events that arrive while the caller is busy (a run in progress) stay queued in the channel
//! and are returned, merged, by the next [`FileWatcher::next_change`].

use notify::EventKind;
use notify::RecursiveMode;
use notify::event::{AccessKind, AccessMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

/// File extensions that count as manifests when they appear in a watched folder.
pub(crate) const MANIFEST_EXTENSIONS: &[&str] = &["toml", "yaml", "yml", "json", "csv"];

/// The names of the dataset index that runs write into `data_dir`.
pub(crate) const INDEX_FILE_NAMES: &[&str] = &["index.csv", "index.json"];

/// What to watch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WatchSet {
    /// Files whose changes matter (manifests and the request files they reference).
    pub files: BTreeSet<PathBuf>,
    /// Folders in which a new manifest file matters.
    pub folders: BTreeSet<PathBuf>,
    /// The current manifests' output folders: their index, and anything in their subfolders,
    /// is never a manifest.
    pub data_dirs: BTreeSet<PathBuf>,
    /// Files the runs write (lockfiles, resume journals): never manifests.
    pub written: BTreeSet<PathBuf>,
}

impl WatchSet {
    /// Whether `path` may be a manifest: a manifest extension, and none of what a run writes
    /// (lockfiles, the resume journal, the index of a `data_dir`, temporary files, outputs in
    /// a `data_dir`'s subfolders) nor hidden files (editors' swap and backup files).
    #[must_use]
    pub(crate) fn may_be_manifest(&self, path: &Path) -> bool {
        let p = absolute(path);
        let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
            return false;
        };
        let manifest_ext = Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| MANIFEST_EXTENSIONS.contains(&e));
        if !manifest_ext
            || name.starts_with('.')
            || name == crate::exec::STATE_FILE_NAME
            || self.written.contains(&p)
        {
            return false;
        }
        let dir = p.parent();
        if INDEX_FILE_NAMES.contains(&name)
            && (dir.is_some_and(|d| self.data_dirs.contains(d)) || looks_like_index(&p))
        {
            return false;
        }
        // Outputs live in data_dir's subfolders; a file directly in it may still be a manifest
        // (`data_dir = "."`).
        !self
            .data_dirs
            .iter()
            .any(|d| p.starts_with(d) && dir != Some(d.as_path()))
    }

    fn normalised(&self) -> Self {
        let abs = |s: &BTreeSet<PathBuf>| s.iter().map(|p| absolute(p)).collect();
        Self {
            files: abs(&self.files),
            folders: abs(&self.folders),
            data_dirs: abs(&self.data_dirs),
            written: abs(&self.written),
        }
    }
}

/// Whether an `index.*` file is a hydrofetch dataset index (as written by
/// [`crate::index::write_index`]) rather than a manifest: CSV with the index's header, or a
/// JSON array (a JSON manifest is an object). Needed when no manifest has been loaded yet, so
/// `data_dir` is not known.
fn looks_like_index(p: &Path) -> bool {
    let mut head = [0_u8; 64];
    let n = fs_err::File::open(p)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let head = &head[..n];
    if p.extension().is_some_and(|e| e == "csv") {
        head.starts_with(b"path,kind,device,product,format,start,end")
    } else {
        head.iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'[')
    }
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

/// What happened to a file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// It was not there before.
    Appeared,
    /// Its content differs.
    Edited,
    /// It is gone.
    Removed,
}

/// A watched file whose content changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// The file (absolute).
    pub path: PathBuf,
    /// What happened.
    pub kind: ChangeKind,
}

/// SHA-256 of a file's content; `None` when it cannot be read (absent).
type ContentHash = Option<[u8; 32]>;

/// A debounced watcher of a [`WatchSet`] that reports content changes.
pub(crate) struct FileWatcher {
    debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    rx: mpsc::UnboundedReceiver<Vec<PathBuf>>,
    set: WatchSet,
    watched: BTreeSet<PathBuf>,
    /// The content of each watched file as last acted on.
    known: BTreeMap<PathBuf, ContentHash>,
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
    pub(crate) fn new(debounce: Duration) -> Result<Self, WatchError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let handler = move |r: DebounceEventResult| {
            if let Ok(events) = r {
                let paths: Vec<PathBuf> = events
                    .into_iter()
                    .filter(|e| may_change_content(e.event.kind))
                    .flat_map(|e| e.event.paths)
                    .collect();
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
            known: BTreeMap::new(),
        })
    }

    /// Replaces what is watched. A file new to the set is taken as it is now: only later
    /// differences are changes.
    ///
    /// # Errors
    /// When a folder cannot be watched.
    pub(crate) fn set(&mut self, set: &WatchSet) -> Result<(), WatchError> {
        let set = set.normalised();
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
        self.known.retain(|p, _| set.files.contains(p));
        for f in &set.files {
            self.known.entry(f.clone()).or_insert_with(|| hash_file(f));
        }
        self.set = set;
        Ok(())
    }

    /// Waits for the next content change and returns the changed files (sorted, merged with
    /// anything else already queued); the new contents count as acted on. `None` when the
    /// watcher has stopped.
    ///
    /// Cancel-safe: a change is only taken from the queue when it is returned.
    pub(crate) async fn next_change(&mut self) -> Option<Vec<Change>> {
        loop {
            let mut candidates = BTreeSet::new();
            let first = self.rx.recv().await?;
            self.keep_relevant(first, &mut candidates);
            while let Ok(more) = self.rx.try_recv() {
                self.keep_relevant(more, &mut candidates);
            }
            let changes = self.compare(candidates);
            if !changes.is_empty() {
                return Some(changes);
            }
        }
    }

    fn keep_relevant(&self, paths: Vec<PathBuf>, out: &mut BTreeSet<PathBuf>) {
        for p in paths {
            let p = absolute(&p);
            let in_folder = p.parent().is_some_and(|d| self.set.folders.contains(d));
            if self.set.files.contains(&p) || (in_folder && self.set.may_be_manifest(&p)) {
                out.insert(p);
            }
        }
    }

    /// The candidates whose content differs from what was last acted on; records the new one.
    fn compare(&mut self, candidates: BTreeSet<PathBuf>) -> Vec<Change> {
        let mut changes = Vec::new();
        for path in candidates {
            let now = hash_file(&path);
            let before = self.known.insert(path.clone(), now).flatten();
            let kind = match (before, now) {
                (None, Some(_)) => ChangeKind::Appeared,
                (Some(_), None) => ChangeKind::Removed,
                (b, n) if b != n => ChangeKind::Edited,
                _ => continue,
            };
            changes.push(Change { path, kind });
        }
        changes
    }
}

/// Whether a notification can mean new content. Opening, reading and closing a file after
/// reading it cannot (inotify reports all three); closing it after writing can.
fn may_change_content(kind: EventKind) -> bool {
    match kind {
        EventKind::Access(a) => matches!(a, AccessKind::Close(AccessMode::Write)),
        _ => true,
    }
}

/// SHA-256 of a file's content, streamed; `None` when it cannot be read.
fn hash_file(p: &Path) -> ContentHash {
    let mut f = fs_err::File::open(p).ok()?;
    let mut h = Sha256::new();
    let mut buf = vec![0_u8; 64 * 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => return Some(h.finalize().into()),
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

/// An absolute form of `p` with symlinked folders resolved where possible, so that event
/// paths and configured paths compare equal.
#[must_use]
pub(crate) fn absolute(p: &Path) -> PathBuf {
    if let Ok(c) = fs_err::canonicalize(p) {
        return c;
    }
    // The file may not exist (deleted, or being replaced): resolve its folder instead.
    match (p.parent(), p.file_name()) {
        (Some(d), Some(n)) if !d.as_os_str().is_empty() => {
            fs_err::canonicalize(d).map_or_else(|_| p.to_path_buf(), |d| d.join(n))
        }
        _ => std::env::current_dir().map_or_else(|_| p.to_path_buf(), |cwd| cwd.join(p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn expect_change(w: &mut FileWatcher) -> Vec<Change> {
        tokio::time::timeout(Duration::from_secs(10), w.next_change())
            .await
            .expect("a change within 10 s")
            .expect("watcher running")
    }

    fn edited(p: &Path) -> Change {
        Change {
            path: p.to_path_buf(),
            kind: ChangeKind::Edited,
        }
    }

    #[tokio::test]
    async fn sees_appends_renames_and_new_manifests_but_not_noise() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs_err::canonicalize(dir.path()).unwrap();
        let csv = root.join("events.csv");
        fs_err::write(&csv, "deviceCode,timestamp\n").unwrap();
        let mut w = FileWatcher::new(Duration::from_millis(50)).unwrap();
        w.set(&WatchSet {
            files: [csv.clone()].into(),
            ..WatchSet::default()
        })
        .unwrap();

        // An unrelated file is not reported; the append that follows is.
        fs_err::write(root.join("notes.txt"), "x").unwrap();
        fs_err::write(&csv, "deviceCode,timestamp\nA,2024-04-01T00:00:00Z\n").unwrap();
        assert_eq!(expect_change(&mut w).await, [edited(&csv)]);

        // Editors save by writing a temporary file and renaming it over the original.
        let tmp = root.join(".events.csv.swp");
        fs_err::write(&tmp, "deviceCode,timestamp\nB,2024-04-01T00:00:00Z\n").unwrap();
        fs_err::rename(&tmp, &csv).unwrap();
        assert_eq!(expect_change(&mut w).await, [edited(&csv)]);

        // A watched folder reports new manifests.
        w.set(&WatchSet {
            files: [csv.clone()].into(),
            folders: [root.clone()].into(),
            ..WatchSet::default()
        })
        .unwrap();
        let new = root.join("more.toml");
        fs_err::write(&new, "version = 1\n").unwrap();
        let got = expect_change(&mut w).await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].path, new);
        assert_eq!(got[0].kind, ChangeKind::Appeared);

        // Deleting a watched file is a change.
        fs_err::remove_file(&csv).unwrap();
        let got = expect_change(&mut w).await;
        assert_eq!(got[0].path, csv);
        assert_eq!(got[0].kind, ChangeKind::Removed);
    }

    #[tokio::test]
    async fn reads_touches_and_same_content_are_not_changes() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs_err::canonicalize(dir.path()).unwrap();
        let a = root.join("a.csv");
        let b = root.join("b.toml");
        fs_err::write(&a, "deviceCode,timestamp\n").unwrap();
        fs_err::write(&b, "version = 1\n").unwrap();
        let mut w = FileWatcher::new(Duration::from_millis(50)).unwrap();
        w.set(&WatchSet {
            files: [a.clone(), b.clone()].into(),
            ..WatchSet::default()
        })
        .unwrap();

        // Read `a`, rewrite it unchanged, touch it; then really edit `b`: only `b` changed,
        // whether or not the events of `a` arrive in the same batch.
        let _ = fs_err::read(&a).unwrap();
        fs_err::write(&a, "deviceCode,timestamp\n").unwrap();
        std::fs::File::options()
            .append(true)
            .open(&a)
            .unwrap()
            .set_modified(std::time::SystemTime::now())
            .unwrap();
        fs_err::write(&b, "version = 1\n# edited\n").unwrap();
        assert_eq!(expect_change(&mut w).await, [edited(&b)]);
    }

    #[tokio::test]
    async fn what_runs_write_into_a_watched_folder_is_not_a_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs_err::canonicalize(dir.path()).unwrap();
        let manifest = root.join("events.toml");
        fs_err::write(&manifest, "version = 1\n").unwrap();
        let mut w = FileWatcher::new(Duration::from_millis(50)).unwrap();
        w.set(&WatchSet {
            files: [manifest.clone()].into(),
            folders: [root.clone()].into(),
            data_dirs: [root.clone()].into(),
            written: [root.join("custom-journal.json")].into(),
        })
        .unwrap();

        for name in [
            "index.csv",
            "index.json",
            "events.toml.lock",
            crate::exec::STATE_FILE_NAME,
            "custom-journal.json",
            ".index.csv.123.0.tmp",
        ] {
            fs_err::write(root.join(name), "x").unwrap();
        }
        let fresh = root.join("fresh.yaml");
        fs_err::write(&fresh, "version: 1\n").unwrap();
        let got = expect_change(&mut w).await;
        assert_eq!(
            got,
            [Change {
                path: fresh,
                kind: ChangeKind::Appeared
            }]
        );
    }

    #[test]
    fn an_index_is_recognised_before_any_data_dir_is_known() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs_err::canonicalize(dir.path()).unwrap();
        let set = WatchSet::default();
        let mut rows = Vec::new();
        crate::index::write_index(&root, &mut rows).unwrap();
        assert!(!set.may_be_manifest(&root.join("index.csv")));
        assert!(!set.may_be_manifest(&root.join("index.json")));
        // A request file that happens to be called index.csv is still a manifest.
        let other = root.join("sub");
        fs_err::create_dir(&other).unwrap();
        fs_err::write(other.join("index.csv"), "deviceCode,timestamp\n").unwrap();
        assert!(set.may_be_manifest(&other.join("index.csv")));
        // Outputs below a data_dir never are.
        let set = WatchSet {
            data_dirs: [root.clone()].into(),
            ..WatchSet::default()
        };
        assert!(!set.may_be_manifest(&other.join("index.csv")));
        assert!(set.may_be_manifest(&root.join("events.csv")));
    }
}
