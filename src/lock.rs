//! The lockfile: what has been done for one manifest, so that a re-run does only the rest.
//!
//! # One lockfile per manifest
//! A manifest `range.toml` has its lockfile `range.toml.lock` beside it ([`lock_path_for`]);
//! `--lockfile PATH` chooses another. Two manifests in one folder never share one. The
//! lockfile *owns* the outputs it records: `gc` removes only what its own lockfile recorded
//! and its plan dropped, never a file another lockfile writing into the same `data_dir`
//! records (see `crate::dataset`).
//!
//! # Format (version 3)
//! TOML, written by hydrofetch only. It starts with an `@generated` comment, `version = 3`
//! and the `data_dir` it writes into (relative to the lockfile's folder), then one
//! `[[deployment]]` table per deployment its items were recorded in (listed once, however
//! many items refer to it), then one `[[item]]` table per completed plan item, sorted by item
//! id. No timestamps of the run, no absolute paths, no token: it diffs cleanly and can be
//! committed beside its manifest, like `Cargo.lock`. It holds everything the dataset index
//! needs, so the index of a `data_dir` is a function of the lockfiles that write into it.
//! ```toml
//! version = 3
//! data_dir = "data"
//!
//! [[deployment]]                 # a device's deployment (ONC's `deployments` service)
//! device = "ICLISTENHF6324"
//! location = "BACAX"
//! begin = "2023-12-31T22:14:00.000Z"
//! lat = 48.3167
//! lon = -126.05
//! depth = 985.0
//! citation = "Ocean Networks Canada Society. 2023. Barkley Canyon Axis Hydrophone Deployed …"
//! doi = "10.80000/…"
//!
//! [[item]]
//! id = "3f1c…"                    # the plan item id (SHA-256 of its canonical JSON)
//! kind = "fetch"                  # or "clip"
//! device = "ICLISTENHF6324"
//! product = "spectrogram/mat"
//! window = "2024-04-01T12:30:00.000Z"
//! status = "done"                 # or "no-data", with `reason`
//! deployment_begin = "2023-12-31T22:14:00.000Z"   # its device's deployment at the item's start
//!
//! [[item.files]]
//! path = "ICLISTENHF6324/spectrograms/ICLISTENHF6324_20240401T123003.000Z-spect.mat"
//! size = 5242880
//! sha256 = "9a0b…"
//! source = "ICLISTENHF6324_20240401T123003.000Z-spect.mat"   # ONC's name for it
//! sample_rate = 64000             # from the file's header or MAT `Meta` (absent: unknown)
//! duration = 300.0                # seconds
//!
//! [[item]]
//! id = "77e0…"
//! kind = "clip"
//! device = "ICLISTENHF6324"
//! product = "audio/flac"
//! start = "2024-04-01T12:34:35.000Z"   # the clip's window
//! end = "2024-04-01T12:35:05.000Z"
//! status = "done"
//! label = "humpback"                   # the first request's label and description
//!
//! [[item.requests]]                    # every request for this clip, in the order given
//! file = "events.csv"                  # relative to the lockfile's folder
//! row = 12                             # CSV row (header = 1), or the line the request starts
//! label = "humpback"
//!
//! [[item.requests]]                    # an identical request (a second annotator)
//! file = "events.csv"
//! row = 40
//! label = "humpback whale"
//!
//! [[item.files]]
//! path = "clips/ICLISTENHF6324_20240401T123435.000Z_30s.flac"
//! size = 1234567
//! sha256 = "c0ff…"
//! start = "2024-04-01T12:34:35.000Z"   # this file's own span (split parts differ)
//! end = "2024-04-01T12:35:05.000Z"
//! sources = ["ICLISTENHF6324/audio/ICLISTENHF6324_20240401T123003.000Z.flac"]
//! ```
//! Paths are relative to the manifest's `data_dir`, with `/` separators on every platform.
//!
//! # Evolving the format
//! Add read support for a new field first (optional, with a default), write it later. Bump
//! `version` only for a change an older hydrofetch would misread; an unknown version is
//! refused with [`LockError::UnsupportedVersion`], never guessed at.
//!
//! # Reading and writing a large one
//! A year of 5-minute windows is ~105,000 items, ~50 MB of text. Reading parses it in parts on
//! every core (cut at `[[item]]` lines, see `parse_wire`); writing streams it in batches to
//! the temporary file. A lockfile remembers the file it was read from or last written to
//! (unless it was an older version): saving it unchanged writes nothing and serialises
//! nothing, so a run with nothing to do costs one parse.
//!
//! # Change history
//! - 3: deployments are listed once, at the top (`[[deployment]]`, with their `device`); an
//!   item names its own by `deployment_begin` (its device's deployment beginning then). An
//!   item whose deployment differs from the one listed under the same device and begin (ONC
//!   changed a citation between runs) keeps it inline as `[item.deployment]`, as in version 2.
//!   Versions 1 and 2 are read and rewritten as version 3 by the next run. (A year of windows
//!   repeated a ~390-byte deployment in each of its 105,000 items: 91 MB, now ~50 MB.)
//! - 2 (later still): per file `sample_rate`, `channels`, `duration` (seconds), read from the
//!   file itself; per item `deployment` (`location`, `begin`, `end`, `lat`, `lon`, `depth`,
//!   `citation`, `doi`), from ONC's `deployments` service. All optional: files without them
//!   load, and the next run fills them (media from the files on disk, deployments when it
//!   talks to ONC). Older readers ignore them (item fields are not `deny_unknown_fields`).
//! - 2 (later): clip `requests`, every request that a clip serves (identical requests share
//!   one clip); `label`/`description` stay, the first request's, for readers that predate it.
//! - 2: one lockfile per manifest (`NAME.lock`); `data_dir`; clip `start`/`end`, `label`,
//!   `description`; per-file `start`/`end`/`sources`. Version 1 files are read (their missing
//!   fields are empty and filled from the plan on the next run).
//! - 1: first format, one `hydrofetch.lock` per folder shared by every manifest in it.

use fs_err as fs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The lockfile format version this build writes (it also reads versions 1 and 2).
pub const LOCK_VERSION: u32 = 3;

/// The name of the version-1 lockfile that every manifest of a folder shared.
pub const LEGACY_LOCK_FILE_NAME: &str = "hydrofetch.lock";

/// The lockfile of a manifest file: `NAME.lock` beside it (`range.toml` → `range.toml.lock`).
#[must_use]
pub fn lock_path_for(manifest: &Path) -> PathBuf {
    let mut name = manifest
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    name.push(".lock");
    manifest.with_file_name(name)
}

const HEADER: &str = "# @generated by hydrofetch: the items done for the manifest beside it.\n\
                      # Do not edit by hand; commit it with the manifest.\n";

/// Errors reading or writing a lockfile.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// The file could not be read or written.
    #[error("cannot access lockfile {path}")]
    Io {
        /// The lockfile.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file is not a valid lockfile.
    #[error("lockfile {path} is not valid: {message}")]
    Parse {
        /// The lockfile.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
    /// The file was written by a newer hydrofetch.
    #[error(
        "lockfile {path} has format version {version}, but this hydrofetch reads versions 1 to {LOCK_VERSION}; \
         upgrade hydrofetch or delete the lockfile to fetch again"
    )]
    UnsupportedVersion {
        /// The lockfile.
        path: PathBuf,
        /// The version found.
        version: u32,
    },
}

/// Whether an item is a source fetch or a clip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// One product for one device in one 5-minute window.
    #[default]
    Fetch,
    /// A window cut from fetched sources.
    Clip,
}

/// One file an item produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LockedFile {
    /// Path relative to `data_dir`, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// ONC's file name (for clips: empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// This file's own start, ONC style (clips; a split clip's parts differ).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub start: String,
    /// This file's own end, ONC style (clips).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub end: String,
    /// The source files it was cut from that overlap it (clips; paths relative to `data_dir`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Samples per second, from the file's own header (audio) or metadata (MAT `Meta`);
    /// 0 when unknown (PNG, or not read yet).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub sample_rate: u32,
    /// Audio channels, from the header; 0 when unknown (spectrograms).
    #[serde(default, skip_serializing_if = "is_zero_u16")]
    pub channels: u16,
    /// Length in seconds: frames ÷ sample rate (audio) or `Meta.dateTo − dateFrom` (MAT); 0
    /// when unknown.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub duration: f64,
}

// Floats read from a lockfile are checked finite ([`check_entry`]), so equality is total.
impl Eq for LockedFile {}

/// The deployment of the device when it recorded an item: where, and how to cite it, as ONC's
/// `deployments` service gives it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LockDeployment {
    /// Location code.
    pub location: String,
    /// Start of the deployment, ONC style.
    pub begin: String,
    /// End of the deployment, ONC style (empty while deployed).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub end: String,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Depth, metres.
    pub depth: f64,
    /// ONC's citation text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub citation: String,
    /// The DOI of the citation.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub doi: String,
}

// Checked finite when read ([`check_entry`]).
impl Eq for LockDeployment {}

/// One request a clip serves: where it was asked for and its metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRequest {
    /// The request file, relative to the lockfile's folder, `/`-separated.
    pub file: String,
    /// The CSV row (header = row 1), or the line where the request starts (JSON, TOML,
    /// YAML); 0 when unknown.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub row: u64,
    /// The request's own time (its timestamp, or its start), before padding; empty when
    /// unknown (lockfiles from before it was recorded).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub time: String,
    /// The request's label.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// The request's description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde passes a reference"
)]
const fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde passes a reference"
)]
const fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde passes a reference"
)]
const fn is_zero_u16(n: &u16) -> bool {
    *n == 0
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde passes a reference"
)]
fn is_zero_f64(n: &f64) -> bool {
    *n == 0.0
}

/// How an item ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Its files are on disk.
    #[default]
    Done,
    /// ONC has no data for it.
    NoData,
}

/// A completed item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockEntry {
    /// Plan item id.
    pub id: String,
    /// Fetch or clip.
    pub kind: ItemKind,
    /// Device code (informational).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub device: String,
    /// Product and format, e.g. `spectrogram/mat` (informational).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub product: String,
    /// Window start for fetch items, ONC style (informational).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub window: String,
    /// A clip's window start, ONC style.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub start: String,
    /// A clip's window end, ONC style.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub end: String,
    /// Done or no data.
    pub status: Status,
    /// Why there is no data.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Gaps in the archive inside a clip's window (`start/end`, ONC style).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<String>,
    /// The requesting row's label (clips).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// The requesting row's description (clips).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Every request this clip serves, in the order given (clips; identical requests share
    /// one clip). Empty in lockfiles written before it existed: then `label`/`description`
    /// are the only request known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<LockRequest>,
    /// The deployment covering the item's start (read from ONC when the item was done; absent
    /// in lockfiles written before it existed, filled by the next run that talks to ONC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Arc<LockDeployment>>,
    /// On disk only (version 3): the `begin` of the item's deployment, listed once among the
    /// lockfile's `[[deployment]]` tables for the item's device. Empty in memory (reading
    /// resolves it into [`LockEntry::deployment`]).
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub deployment_begin: String,
    /// The files produced, sorted by path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<LockedFile>,
}

/// The on-disk shape (versions 1 to 3), as read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    version: u32,
    /// The `data_dir` written into, relative to the lockfile's folder (version 2).
    #[serde(default)]
    data_dir: String,
    /// Every deployment the items refer to, once each (version 3).
    #[serde(default, rename = "deployment")]
    deployments: Vec<WireDeployment>,
    #[serde(default, rename = "item")]
    items: Vec<LockEntry>,
}

/// The items of a part of a lockfile's text (see [`parse_wire`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireItems {
    #[serde(default, rename = "item")]
    items: Vec<LockEntry>,
}

/// The head of the lockfile as written: version, `data_dir`, deployments.
#[derive(Serialize)]
struct WireHead<'a> {
    version: u32,
    #[serde(skip_serializing_if = "str::is_empty")]
    data_dir: &'a str,
    #[serde(rename = "deployment", skip_serializing_if = "Vec::is_empty")]
    deployments: Vec<WireDeployment>,
}

/// Items as written, a batch at a time.
#[derive(Serialize)]
struct WireItemsOut<'a> {
    item: &'a [LockEntry],
}

/// A deployment listed once at the top of a version-3 lockfile: its device, then the fields of
/// [`LockDeployment`]. Items refer to it by device and `begin`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireDeployment {
    device: String,
    location: String,
    begin: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    end: String,
    lat: f64,
    lon: f64,
    depth: f64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    citation: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    doi: String,
}

impl WireDeployment {
    fn new(device: &str, d: &LockDeployment) -> Self {
        Self {
            device: device.to_owned(),
            location: d.location.clone(),
            begin: d.begin.clone(),
            end: d.end.clone(),
            lat: d.lat,
            lon: d.lon,
            depth: d.depth,
            citation: d.citation.clone(),
            doi: d.doi.clone(),
        }
    }

    fn into_parts(self) -> ((String, String), LockDeployment) {
        (
            (self.device, self.begin.clone()),
            LockDeployment {
                location: self.location,
                begin: self.begin,
                end: self.end,
                lat: self.lat,
                lon: self.lon,
                depth: self.depth,
                citation: self.citation,
                doi: self.doi,
            },
        )
    }
}

/// Items per batch when writing: each batch is serialised on its own and streamed to the
/// file, so the whole text is never held at once.
const WRITE_BATCH: usize = 4096;

/// Lockfile text at least this long is parsed in parts on several threads ([`parse_wire`]).
const PARALLEL_PARSE_MIN: usize = 4 << 20;

/// The length of each part of a long lockfile's text parsed on its own ([`parse_wire`]).
const PARSE_PIECE: usize = 1 << 20;

/// Threads for `tasks` independent pieces of work: one per core (at most 8), never more than
/// the pieces, at least one.
fn worker_threads(tasks: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8)
        .min(tasks)
        .max(1)
}

/// Parses lockfile text. Long text is cut at `[[item]]` header lines into parts of about
/// [`PARSE_PIECE`], parsed by one thread per core: the first part as the whole shape, the
/// others as items only. Cutting
/// there changes nothing a TOML parser would read: a header line that sat inside a multi-line
/// string leaves the part before it unterminated, and a table other than items after the cut
/// is refused by the items-only shape; any part failing falls back to one parse of the whole
/// text (so errors name the right line).
fn parse_wire(text: &str) -> Result<Wire, toml::de::Error> {
    if text.len() < PARALLEL_PARSE_MIN {
        return toml::from_str(text);
    }
    const CUT: &str = "\n[[item]]\n";
    let mut cuts = vec![0];
    let mut at = PARSE_PIECE;
    while at < text.len() {
        while !text.is_char_boundary(at) {
            at += 1;
        }
        let Some(p) = text[at..].find(CUT) else {
            break;
        };
        cuts.push(at + p + 1);
        at += p + 1 + PARSE_PIECE;
    }
    cuts.push(text.len());
    let pieces: Vec<&str> = cuts.windows(2).map(|w| &text[w[0]..w[1]]).collect();
    let threads = worker_threads(pieces.len());
    // Each thread takes the next piece until none is left: the parser's tree of a piece (many
    // times its text) is dropped before the next, so memory is bounded by a piece per thread.
    let next = std::sync::atomic::AtomicUsize::new(1);
    let work = || {
        let mut out = Vec::new();
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(p) = pieces.get(k) else {
                return out;
            };
            out.push((k, toml::from_str::<WireItems>(p).map(|w| w.items)));
        }
    };
    let (head, mut rest) = std::thread::scope(|s| {
        let workers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let head = toml::from_str::<Wire>(pieces[0]);
        let mut rest = work();
        for h in workers {
            rest.extend(h.join().unwrap_or_default());
        }
        (head, rest)
    });
    rest.sort_by_key(|(k, _)| *k);
    let Ok(mut wire) = head else {
        return toml::from_str(text);
    };
    if rest.len() + 1 != pieces.len() {
        return toml::from_str(text);
    }
    for (_, items) in rest {
        match items {
            Ok(items) => wire.items.extend(items),
            Err(_) => return toml::from_str(text),
        }
    }
    Ok(wire)
}

#[derive(Deserialize)]
struct VersionOnly {
    version: u32,
}

/// A problem [`Lockfile::verify`] found with a locked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The file is gone.
    Missing {
        /// Item id.
        id: String,
        /// Path relative to `data_dir`.
        path: String,
    },
    /// The size or content differs.
    Changed {
        /// Item id.
        id: String,
        /// Path relative to `data_dir`.
        path: String,
        /// What was found, e.g. "size 10, expected 12".
        detail: String,
    },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing { path, .. } => write!(f, "{path}: missing"),
            Self::Changed { path, detail, .. } => write!(f, "{path}: {detail}"),
        }
    }
}

/// The items done, by id.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Lockfile {
    /// The `data_dir` it writes into, relative to the lockfile's folder, `/`-separated
    /// (empty: unknown, a version-1 file).
    data_dir: String,
    entries: BTreeMap<String, LockEntry>,
    /// The file whose content this is, as this build would write it: set by [`Lockfile::load`]
    /// of a current-version file and by [`Lockfile::save`], cleared by every change, so that
    /// saving an unchanged lockfile writes nothing and costs no serialisation.
    clean_at: Option<PathBuf>,
}

impl PartialEq for Lockfile {
    fn eq(&self, other: &Self) -> bool {
        self.data_dir == other.data_dir && self.entries == other.entries
    }
}

impl Eq for Lockfile {}

impl Lockfile {
    /// Reads a lockfile; a missing file is an empty lockfile.
    ///
    /// # Errors
    /// [`LockError`] when it cannot be read, parsed, or is of another version.
    pub fn load(path: &Path) -> Result<Self, LockError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(LockError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let (mut lock, version) = Self::parse_versioned(&text, path)?;
        if version == LOCK_VERSION {
            lock.clean_at = Some(path.to_owned());
        }
        Ok(lock)
    }

    /// Parses lockfile text; `path` is only for messages.
    ///
    /// # Errors
    /// [`LockError::Parse`] or [`LockError::UnsupportedVersion`].
    pub fn parse(text: &str, path: &Path) -> Result<Self, LockError> {
        Self::parse_versioned(text, path).map(|(lock, _)| lock)
    }

    fn parse_versioned(text: &str, path: &Path) -> Result<(Self, u32), LockError> {
        let parse_err = |message: String| LockError::Parse {
            path: path.to_owned(),
            message,
        };
        // One parse (a year of windows is ~50 MB of text, parsed in parts on every core); only
        // when it fails is the version read alone, so that another version is reported as such.
        let unsupported = |version| LockError::UnsupportedVersion {
            path: path.to_owned(),
            version,
        };
        let wire = match parse_wire(text) {
            Ok(w) => w,
            Err(e) => {
                return Err(match toml::from_str::<VersionOnly>(text) {
                    Ok(v) if !(1..=LOCK_VERSION).contains(&v.version) => unsupported(v.version),
                    _ => parse_err(e.to_string()),
                });
            }
        };
        if !(1..=LOCK_VERSION).contains(&wire.version) {
            return Err(unsupported(wire.version));
        }
        // Deployments are shared: one allocation per distinct deployment, listed or inline.
        let mut listed: BTreeMap<(String, String), Arc<LockDeployment>> = BTreeMap::new();
        for d in wire.deployments {
            let (key, d) = d.into_parts();
            if listed.insert(key.clone(), Arc::new(d)).is_some() {
                return Err(parse_err(format!(
                    "the deployment of {} beginning {} is listed twice",
                    key.0.escape_debug(),
                    key.1.escape_debug()
                )));
            }
        }
        let mut inline: BTreeMap<(String, String), Vec<Arc<LockDeployment>>> = BTreeMap::new();
        let mut entries = BTreeMap::new();
        for mut e in wire.items {
            if !e.deployment_begin.is_empty() {
                let key = (e.device.clone(), std::mem::take(&mut e.deployment_begin));
                let Some(d) = listed.get(&key) else {
                    return Err(parse_err(format!(
                        "item {}: no deployment of {} beginning {} is listed",
                        e.id.chars().take(80).collect::<String>().escape_debug(),
                        key.0.escape_debug(),
                        key.1.escape_debug()
                    )));
                };
                e.deployment = Some(Arc::clone(d));
            } else if let Some(d) = e.deployment.take() {
                let same = inline
                    .entry((e.device.clone(), d.begin.clone()))
                    .or_default();
                e.deployment = Some(if let Some(x) = same.iter().find(|x| **x == d) {
                    Arc::clone(x)
                } else {
                    same.push(Arc::clone(&d));
                    d
                });
            }
            check_entry(&e).map_err(parse_err)?;
            if entries.insert(e.id.clone(), e).is_some() {
                return Err(parse_err("an item id appears twice".into()));
            }
        }
        Ok((
            Self {
                data_dir: wire.data_dir,
                entries,
                clean_at: None,
            },
            wire.version,
        ))
    }

    /// The lockfile text: header, version, `data_dir`, the deployments its items refer to
    /// (once each), then the items sorted by id.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = Vec::new();
        // Writing into memory cannot fail.
        let _ = self.write_to(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Streams the text of [`Lockfile::to_text`] into `w`, a batch of items at a time.
    fn write_to(&self, w: &mut impl io::Write) -> io::Result<()> {
        // Each (device, begin) is listed once; an item whose deployment differs from the one
        // listed under its key (ONC changed its citation between runs) keeps its own inline.
        let mut listed: BTreeMap<(&str, &str), &Arc<LockDeployment>> = BTreeMap::new();
        for e in self.entries.values() {
            if let Some(d) = &e.deployment {
                listed
                    .entry((e.device.as_str(), d.begin.as_str()))
                    .or_insert(d);
            }
        }
        let head = WireHead {
            version: LOCK_VERSION,
            data_dir: &self.data_dir,
            deployments: listed
                .iter()
                .filter(|((device, _), _)| !device.is_empty())
                .map(|((device, _), d)| WireDeployment::new(device, d))
                .collect(),
        };
        // Serialising plain structs of strings and numbers cannot fail.
        let ser = |e: toml::ser::Error| io::Error::other(e.to_string());
        w.write_all(HEADER.as_bytes())?;
        w.write_all(toml::to_string(&head).map_err(ser)?.as_bytes())?;
        let entries: Vec<&LockEntry> = self.entries.values().collect();
        for batch in entries.chunks(WRITE_BATCH) {
            let items: Vec<LockEntry> = batch
                .iter()
                .map(|e| {
                    let mut out = (*e).clone();
                    if let Some(d) = &out.deployment
                        && !out.device.is_empty()
                        && listed
                            .get(&(out.device.as_str(), d.begin.as_str()))
                            .is_some_and(|x| **x == *d)
                    {
                        out.deployment_begin = d.begin.clone();
                        out.deployment = None;
                    }
                    out
                })
                .collect();
            w.write_all(b"\n")?;
            w.write_all(
                toml::to_string(&WireItemsOut { item: &items })
                    .map_err(ser)?
                    .as_bytes(),
            )?;
        }
        Ok(())
    }

    /// Writes the lockfile atomically, streamed, unless it is unchanged since it was read from
    /// or written to `path` (and that file is still there); returns whether it wrote.
    ///
    /// # Errors
    /// [`LockError::Io`].
    pub fn save(&mut self, path: &Path) -> Result<bool, LockError> {
        if self.clean_at.as_deref() == Some(path) && path.is_file() {
            return Ok(false);
        }
        let io_err = |p: &Path, source: io::Error| LockError::Io {
            path: p.to_owned(),
            source,
        };
        crate::atomic::write_atomic_with(
            path,
            |f, tmp| {
                let mut w = io::BufWriter::with_capacity(1 << 20, f);
                self.write_to(&mut w)
                    .and_then(|()| io::Write::flush(&mut w))
                    .map_err(|e| io_err(tmp, e))
            },
            io_err,
        )?;
        self.clean_at = Some(path.to_owned());
        Ok(true)
    }

    /// Whether `path` holds exactly this lockfile: it was read from or written there and has
    /// not changed since.
    #[must_use]
    pub fn is_saved_at(&self, path: &Path) -> bool {
        self.clean_at.as_deref() == Some(path)
    }

    /// The `data_dir` it writes into, relative to the lockfile's folder (empty: unknown).
    #[must_use]
    pub fn data_dir(&self) -> &str {
        &self.data_dir
    }

    /// Sets the `data_dir` it writes into.
    pub fn set_data_dir(&mut self, data_dir: String) {
        if self.data_dir != data_dir {
            self.data_dir = data_dir;
            self.clean_at = None;
        }
    }

    /// Records a completed item (replacing an older record of it).
    pub fn insert(&mut self, mut entry: LockEntry) {
        entry.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.clean_at = None;
        self.entries.insert(entry.id.clone(), entry);
    }

    /// Forgets an item.
    pub fn remove(&mut self, id: &str) -> Option<LockEntry> {
        let out = self.entries.remove(id);
        if out.is_some() {
            self.clean_at = None;
        }
        out
    }

    /// The record of an item.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&LockEntry> {
        self.entries.get(id)
    }

    /// The record of an item, to update it (the lockfile counts as changed; see
    /// [`Lockfile::modify`] for updates that may change nothing).
    pub fn get_mut(&mut self, id: &str) -> Option<&mut LockEntry> {
        self.clean_at = None;
        self.entries.get_mut(id)
    }

    /// Updates the record of an item with `f`; the lockfile counts as changed only if the
    /// record did. Returns whether it changed (false also when there is no such item).
    pub fn modify(&mut self, id: &str, f: impl FnOnce(&mut LockEntry)) -> bool {
        let Some(e) = self.entries.get_mut(id) else {
            return false;
        };
        let before = e.clone();
        f(e);
        let changed = *e != before;
        if changed {
            self.clean_at = None;
        }
        changed
    }

    /// All records, sorted by id.
    pub fn entries(&self) -> impl Iterator<Item = &LockEntry> {
        self.entries.values()
    }

    /// Number of records.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no records.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether an item is done and its files are present with their recorded sizes (a cheap
    /// check: `stat` only; [`Lockfile::verify`] re-hashes).
    #[must_use]
    pub fn is_satisfied(&self, id: &str, data_dir: &Path) -> bool {
        self.entries.get(id).is_some_and(|e| {
            e.files.iter().all(|f| {
                fs::metadata(data_dir.join(&f.path)).is_ok_and(|m| m.is_file() && m.len() == f.size)
            })
        })
    }

    /// [`Lockfile::is_satisfied`] of each id, in order; a long list is checked on every core
    /// (a year of windows is 105,000 `stat`s).
    #[must_use]
    pub fn satisfied(&self, ids: &[&str], data_dir: &Path) -> Vec<bool> {
        const PER_THREAD_MIN: usize = 4096;
        let threads = worker_threads(ids.len() / PER_THREAD_MIN);
        let chunk = ids.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            let parts: Vec<_> = ids
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|id| self.is_satisfied(id, data_dir))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        })
    }

    /// Re-hashes every locked file under `data_dir` and lists what differs.
    #[must_use]
    pub fn verify(&self, data_dir: &Path) -> Vec<Mismatch> {
        let mut out = Vec::new();
        for e in self.entries.values() {
            for f in &e.files {
                let full = data_dir.join(&f.path);
                match sha256_file(&full) {
                    Err(_) => out.push(Mismatch::Missing {
                        id: e.id.clone(),
                        path: f.path.clone(),
                    }),
                    Ok((size, _)) if size != f.size => out.push(Mismatch::Changed {
                        id: e.id.clone(),
                        path: f.path.clone(),
                        detail: format!("size {size}, expected {}", f.size),
                    }),
                    Ok((_, hash)) if hash != f.sha256 => out.push(Mismatch::Changed {
                        id: e.id.clone(),
                        path: f.path.clone(),
                        detail: format!("sha256 {hash}, expected {}", f.sha256),
                    }),
                    Ok(_) => {}
                }
            }
        }
        out
    }
}

/// Size and SHA-256 (lowercase hex) of a file, read in streaming fashion.
///
/// # Errors
/// I/O errors.
pub fn sha256_file(path: &Path) -> io::Result<(u64, String)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0_u8; 256 * 1024];
    let mut size = 0_u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((size, hex::encode(h.finalize())))
}

/// Checks what a lockfile entry read from disk must hold: a well-formed id, and file paths
/// that stay inside `data_dir`. The error says which.
///
/// # Errors
/// What is wrong, for a message naming the file.
pub fn check_entry(e: &LockEntry) -> Result<(), String> {
    if !is_item_id(&e.id) {
        return Err(format!(
            "item id `{}` is not 64 lowercase hex digits",
            e.id.chars().take(80).collect::<String>().escape_debug()
        ));
    }
    if e.files.iter().any(|f| !f.duration.is_finite())
        || e.deployment
            .as_ref()
            .is_some_and(|d| ![d.lat, d.lon, d.depth].iter().all(|x| x.is_finite()))
    {
        return Err(format!(
            "item {}: a duration, latitude, longitude or depth is not a finite number",
            e.id
        ));
    }
    if let Some(bad) = e
        .files
        .iter()
        .flat_map(|f| std::iter::once(&f.path).chain(&f.sources))
        .find(|p| !is_safe_relative(p))
    {
        return Err(format!(
            "item {}: file path `{}` is not a relative path inside data_dir",
            e.id,
            bad.escape_debug()
        ));
    }
    Ok(())
}

/// Whether `s` looks like an item id: 64 lowercase hex digits.
#[must_use]
pub fn is_item_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `p` is a `/`-separated relative path with no `..`, no empty parts and no root.
#[must_use]
pub fn is_safe_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\\')
        && !p.contains(':')
        && p.split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    const AA: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const BB: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn entry(id: &str, files: Vec<LockedFile>) -> LockEntry {
        LockEntry {
            id: id.into(),
            kind: ItemKind::Fetch,
            device: "ICLISTENHF6324".into(),
            product: "spectrogram/mat".into(),
            window: "2024-04-01T12:30:00.000Z".into(),
            status: Status::Done,
            files,
            ..LockEntry::default()
        }
    }

    #[test]
    fn round_trips_sorted_and_skips_unchanged_writes() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path();
        fs::create_dir_all(data.join("d")).unwrap();
        fs::write(data.join("d/a.mat"), b"hello").unwrap();
        let (size, sha) = sha256_file(&data.join("d/a.mat")).unwrap();
        assert_eq!(
            sha,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );

        let mut lock = Lockfile::default();
        lock.insert(entry(
            BB,
            vec![LockedFile {
                path: "d/a.mat".into(),
                size,
                sha256: sha,
                source: "a.mat".into(),
                ..LockedFile::default()
            }],
        ));
        lock.insert(LockEntry {
            status: Status::NoData,
            reason: "no file in window".into(),
            ..entry(AA, vec![])
        });
        let path = lock_path_for(&dir.path().join("m.toml"));
        assert!(path.ends_with("m.toml.lock"));
        assert!(lock.save(&path).unwrap());
        assert!(!lock.save(&path).unwrap(), "same content is not rewritten");

        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# @generated"));
        assert!(text.find(AA).unwrap() < text.find(BB).unwrap(), "{text}");
        let mut back = Lockfile::load(&path).unwrap();
        assert_eq!(back, lock);
        // Read and saved unchanged, or "modified" to what it was: nothing is written.
        assert!(!back.modify(BB, |e| e.device = "ICLISTENHF6324".into()));
        assert!(!back.save(&path).unwrap());
        assert!(back.is_saved_at(&path));
        assert!(back.modify(BB, |e| e.label = "x".into()));
        assert!(!back.is_saved_at(&path));
        assert!(back.save(&path).unwrap());
        assert_ne!(Lockfile::load(&path).unwrap(), lock);
        assert!(back.modify(BB, |e| e.label.clear()));
        assert!(back.save(&path).unwrap());
        assert_eq!(Lockfile::load(&path).unwrap(), lock);
        // Saving elsewhere writes there.
        let other = dir.path().join("other.lock");
        assert!(back.save(&other).unwrap());
        assert_eq!(fs::read(&other).unwrap(), fs::read(&path).unwrap());
        assert!(back.is_satisfied(BB, data));
        assert!(back.verify(data).is_empty());

        fs::write(data.join("d/a.mat"), b"HELLO").unwrap();
        assert!(
            back.is_satisfied(BB, data),
            "same size passes the cheap check"
        );
        assert!(matches!(&back.verify(data)[..], [Mismatch::Changed { .. }]));
        fs::remove_file(data.join("d/a.mat")).unwrap();
        assert!(!back.is_satisfied(BB, data));
        assert!(matches!(&back.verify(data)[..], [Mismatch::Missing { .. }]));
    }

    #[test]
    fn a_deployment_shared_by_many_items_is_written_once_and_read_back() {
        let cite = "Ocean Networks Canada Society. 2023. Barkley Canyon Axis Hydrophone.";
        let dep = |begin: &str| LockDeployment {
            location: "BACAX".into(),
            begin: begin.into(),
            lat: 48.3167,
            lon: -126.05,
            depth: 985.0,
            citation: format!("{cite} {begin}"),
            doi: "10.0000/x".into(),
            ..LockDeployment::default()
        };
        let (first, second) = (
            dep("2023-12-31T22:14:00.000Z"),
            dep("2024-06-01T00:00:00.000Z"),
        );
        let mut lock = Lockfile::default();
        for n in 0..40_u32 {
            let d = if n < 30 { &first } else { &second };
            lock.insert(LockEntry {
                deployment: Some(d.clone().into()),
                ..entry(&format!("{n:064x}"), vec![])
            });
        }
        // Another device with a deployment of the same begin is a deployment of its own.
        let mut other = dep("2023-12-31T22:14:00.000Z");
        other.citation = "another hydrophone".into();
        lock.insert(LockEntry {
            device: "ICLISTENHF1234".into(),
            deployment: Some(other.into()),
            ..entry(AA, vec![])
        });
        let text = lock.to_text();
        assert_eq!(text.matches(cite).count(), 2, "{text}");
        assert_eq!(text.matches("another hydrophone").count(), 1, "{text}");
        let back = Lockfile::parse(&text, Path::new("x.lock")).unwrap();
        assert_eq!(back, lock);
        assert_eq!(back.to_text(), text);

        // An item naming a deployment the file does not list is refused, by item and begin.
        let dangling = text.replacen(
            "begin = \"2024-06-01T00:00:00.000Z\"",
            "begin = \"2024-06-02T00:00:00.000Z\"",
            1,
        );
        let err = Lockfile::parse(&dangling, Path::new("x.lock"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("2024-06-01T00:00:00.000Z"), "{err}");
    }

    #[test]
    fn a_long_lockfile_parsed_in_parts_reads_as_one_parse_does() {
        let mut lock = Lockfile::default();
        lock.set_data_dir("data".into());
        for n in 0..16_000_u32 {
            let mut e = entry(
                &format!("{n:064x}"),
                vec![LockedFile {
                    path: format!("d/{n}.mat"),
                    size: u64::from(n),
                    sha256: format!("{n:064x}"),
                    source: format!("{n}.mat"),
                    ..LockedFile::default()
                }],
            );
            if n % 7 == 5 {
                // A multi-line text holding the very line the parts are cut at.
                e.kind = ItemKind::Clip;
                e.description = "line\n[[item]]\nid = 'x'\n".repeat(3);
            }
            lock.insert(e);
        }
        let text = lock.to_text();
        assert!(text.len() > PARALLEL_PARSE_MIN, "{}", text.len());
        assert!(
            text.contains("\n[[item]]\nid = 'x'\n"),
            "written as multi-line text"
        );
        let back = Lockfile::parse(&text, Path::new("x.lock")).unwrap();
        assert_eq!(back, lock);
        // A table other than items after a cut is not taken for items.
        let moved = format!("{text}\n[[deployment]]\ndevice = 'X'\n");
        let err = Lockfile::parse(&moved, Path::new("x.lock")).unwrap_err();
        assert!(err.to_string().contains("deployment"), "{err}");
        // A broken part is reported at its line in the whole file.
        let broken = text.replacen("size = 15000\n", "size = oops\n", 1);
        let err = Lockfile::parse(&broken, Path::new("x.lock"))
            .unwrap_err()
            .to_string();
        let line = broken[..broken.find("size = oops").unwrap()]
            .lines()
            .count()
            + 1;
        assert!(err.contains(&format!("line {line}")), "{err}");
    }

    #[test]
    fn refuses_other_versions_and_unsafe_paths() {
        let p = Path::new("x.lock");
        assert!(matches!(
            Lockfile::parse("version = 4\n", p),
            Err(LockError::UnsupportedVersion { version: 4, .. })
        ));
        assert!(matches!(
            Lockfile::parse("version = ", p),
            Err(LockError::Parse { .. })
        ));
        let evil = format!(
            "version = 1\n[[item]]\nid='{AA}'\nkind='fetch'\nstatus='done'\n[[item.files]]\npath='../../etc/passwd'\nsize=1\nsha256='x'\n"
        );
        assert!(matches!(
            Lockfile::parse(&evil, p),
            Err(LockError::Parse { .. })
        ));
        let evil_source = format!(
            "version = 2\n[[item]]\nid='{AA}'\nkind='clip'\nstatus='done'\n[[item.files]]\npath='c/x.flac'\nsize=1\nsha256='x'\nsources=['/etc/passwd']\n"
        );
        assert!(matches!(
            Lockfile::parse(&evil_source, p),
            Err(LockError::Parse { .. })
        ));
        let nan = format!(
            "version = 2\n[[item]]\nid='{AA}'\nkind='fetch'\nstatus='done'\n[[item.files]]\npath='a/x.flac'\nsize=1\nsha256='x'\nduration=nan\n"
        );
        assert!(matches!(
            Lockfile::parse(&nan, p),
            Err(LockError::Parse { .. })
        ));
        let bad_id = "version = 2\n[[item]]\nid='../x'\nkind='fetch'\nstatus='done'\n";
        assert!(matches!(
            Lockfile::parse(bad_id, p),
            Err(LockError::Parse { .. })
        ));
        // A version-1 file (the old shared `hydrofetch.lock`) still reads.
        let v1 = format!(
            "version = 1\n[[item]]\nid='{AA}'\nkind='fetch'\nstatus='no-data'\nreason='none'\n"
        );
        assert_eq!(Lockfile::parse(&v1, p).unwrap().len(), 1);
        assert!(
            Lockfile::load(Path::new("/nonexistent/hydrofetch.lock"))
                .unwrap()
                .is_empty()
        );
        for bad in ["", "/abs", "a/../b", "a//b", "C:/x", "a\\b", "."] {
            assert!(!is_safe_relative(bad), "{bad}");
        }
        assert!(is_safe_relative("ICLISTENHF6324/audio/x.flac"));
    }
}
