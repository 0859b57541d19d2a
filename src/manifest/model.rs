//! The manifest model: what every loader produces and what the planner consumes.
//!
//! Decisions recorded here:
//! - Every value in memory is valid: loaders build these types only after validation.
//! - The leaf types a manifest is made of (device codes, products, formats, the gap policy)
//!   live in [`crate::domain`], which every stage may use.
//! - Products are shared (`Arc`) between jobs: a million request rows with the same options
//!   hold one copy.

use super::error::Loc;
use crate::domain::{DeviceCode, GapPolicy, Products};
use crate::time::UtcInstant;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The most padding one side of an instant or span may have, in seconds (one hour): padding
/// gives context; a longer stretch is written as a span (`start` and `end`).
pub(crate) const MAX_PAD_SECONDS: i64 = 3600;

/// Windows per ONC request when nothing else is said.
pub(crate) const DEFAULT_BATCH: u32 = 6;

/// Where a job came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file (or `<command line>`).
    pub file: Arc<Path>,
    /// Where in it.
    pub loc: Loc,
    /// The table or request, such as `range[0]` or `requests[3]`.
    pub what: Arc<str>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match self.loc {
            Loc::Pos { line, col } => write!(f, "{file}:{line}:{col} ({})", self.what),
            Loc::Row(r) => write!(f, "{file}: row {r}"),
            Loc::Unknown => write!(f, "{file} ({})", self.what),
        }
    }
}

/// A span of time on one device: `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSpan {
    /// The device.
    pub device: DeviceCode,
    /// Start (inclusive).
    pub start: UtcInstant,
    /// End (exclusive).
    pub end: UtcInstant,
}

/// One unit of work asked for by a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Every window overlapping a span.
    Range {
        /// The span.
        span: DeviceSpan,
        /// Spectrograms and/or audio.
        products: Products,
        /// Windows per ONC request.
        batch: u32,
    },
    /// Blocks of consecutive windows spread evenly over a span.
    Sample {
        /// The span.
        span: DeviceSpan,
        /// Spectrograms and/or audio.
        products: Products,
        /// Total windows wanted.
        total: u32,
        /// Windows per block (and per ONC request).
        per_request: u32,
    },
    /// The windows around given instants.
    Events {
        /// The device.
        device: DeviceCode,
        /// The instants, in the order given.
        times: Vec<UtcInstant>,
        /// Padding before each instant, in milliseconds.
        pad_before_ms: i64,
        /// Padding after each instant, in milliseconds.
        pad_after_ms: i64,
        /// Spectrograms and/or audio.
        products: Products,
        /// Windows per ONC request.
        per_request: u32,
    },
    /// One request of a request file (JSON or CSV), after precedence.
    Request(Box<Request>),
}

/// The field of a request that sets how long its span is: named when the span asks for more
/// than a plan may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SpanField {
    /// An instant (`timestamp`), widened by its padding.
    #[default]
    Timestamp,
    /// `start` alone, an instant widened by its padding.
    Start,
    /// `end`.
    End,
    /// `duration_seconds`.
    Duration,
}

impl SpanField {
    /// The field's name as request files write it.
    #[must_use]
    pub const fn key(self) -> &'static str {
        match self {
            Self::Timestamp => "timestamp",
            Self::Start => "start",
            Self::End => "end",
            Self::Duration => "duration_seconds",
        }
    }
}

/// One resolved request of a request file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The padded span `[start − before, end + after]`.
    pub span: DeviceSpan,
    /// The request's own time, before padding: its `timestamp`, or its `start`.
    pub time: UtcInstant,
    /// The field that sets the span's length.
    pub span_field: SpanField,
    /// Spectrograms and/or audio.
    pub products: Products,
    /// Whether to clip outputs to the span.
    pub clip: bool,
    /// What clipping does with gaps.
    pub gap: GapPolicy,
    /// Output folder tag.
    pub output_tag: Option<String>,
    /// Output base name.
    pub output_name: Option<String>,
    /// Label for the index.
    pub label: Option<String>,
    /// Description for the index.
    pub description: Option<String>,
    /// Windows per ONC request.
    pub batch: u32,
}

/// A job and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced {
    /// Where it was written.
    pub origin: Origin,
    /// What it asks for.
    pub job: Job,
}

/// A loaded, valid manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Manifest {
    /// The files it was read from (the manifest, then the request files it references).
    pub sources: Vec<PathBuf>,
    /// Where outputs go, resolved relative to the manifest file.
    pub data_dir: PathBuf,
    /// The jobs, in file order.
    pub jobs: Vec<Sourced>,
}
