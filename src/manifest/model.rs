//! The manifest model: what every loader produces and what the planner consumes.
//!
//! Decisions recorded here:
//! - Every value in memory is valid: loaders build these types only after validation.
//! - Spectrogram options are kept canonical (a sorted map of `dpo_*` name to text, with the
//!   executor's default `dpo_spectrogramConcatenation=None` filled in) so that ids do not depend
//!   on how the user wrote them; see [`SpectrogramProduct::new`].
//! - Products are shared (`Arc`) between jobs: a million request rows with the same options
//!   hold one copy.

use super::error::Loc;
use crate::time::UtcInstant;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The option the executor sends when the user does not set it; filled in so that ids are the
/// same whether or not the user writes the default.
pub const DEFAULT_CONCATENATION: (&str, &str) = ("dpo_spectrogramConcatenation", "None");

/// The most padding one side of an instant or span may have, in seconds (one hour): padding
/// gives context; a longer stretch is written as a span (`start` and `end`).
pub const MAX_PAD_SECONDS: i64 = 3600;

/// Windows per ONC request when nothing else is said.
pub const DEFAULT_BATCH: u32 = 6;

/// A hydrophone device code (ASCII letters, digits, `-`, `_`, `.`; not starting with `.`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceCode(Arc<str>);

impl DeviceCode {
    /// Validates a device code.
    ///
    /// # Errors
    /// A message saying what was expected when `s` is empty or has other characters.
    pub fn new(s: &str) -> Result<Self, String> {
        // Bounded so that a clip's default name (`DEVICE_STAMP_SECONDSs.ext`) is a safe name.
        let ok = !s.is_empty()
            && s.len() <= 100
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if ok {
            Ok(Self(Arc::from(s)))
        } else {
            Err(format!(
                "found {s:?}, expected a device code such as \"ICLISTENHF6324\" \
                 (letters, digits, `-`, `_`, `.`; at most 100)"
            ))
        }
    }

    /// The code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The spectrogram file format ONC delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpectrogramFormat {
    /// MATLAB v5 files.
    Mat,
    /// PNG plots.
    Png,
}

impl SpectrogramFormat {
    /// `mat` or `png`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Mat => "mat",
            Self::Png => "png",
        }
    }
}

/// An audio file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AudioExtension {
    /// FLAC.
    Flac,
    /// WAV.
    Wav,
}

impl AudioExtension {
    /// `flac` or `wav`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Flac => "flac",
            Self::Wav => "wav",
        }
    }

    /// The preference list with `self` first and the other as the fallback.
    #[must_use]
    pub fn preference(self) -> Vec<Self> {
        match self {
            Self::Flac => vec![Self::Flac, Self::Wav],
            Self::Wav => vec![Self::Wav, Self::Flac],
        }
    }
}

/// What a clip does when its sources leave a gap in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum GapPolicy {
    /// Write one output per continuous part.
    Split,
    /// Fill the gap (silence, empty columns) and report it.
    Pad,
    /// Fail the clip item and report the gap.
    #[default]
    Fail,
}

impl GapPolicy {
    /// `split`, `pad` or `fail`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Split => "split",
            Self::Pad => "pad",
            Self::Fail => "fail",
        }
    }
}

/// A spectrogram product: format and canonical `dpo_*` options.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpectrogramProduct {
    format: SpectrogramFormat,
    options: BTreeMap<String, String>,
}

impl SpectrogramProduct {
    /// Builds a product, filling in [`DEFAULT_CONCATENATION`] unless set.
    #[must_use]
    pub fn new(format: SpectrogramFormat, mut options: BTreeMap<String, String>) -> Self {
        options
            .entry(DEFAULT_CONCATENATION.0.to_owned())
            .or_insert_with(|| DEFAULT_CONCATENATION.1.to_owned());
        Self { format, options }
    }

    /// The file format.
    #[must_use]
    pub const fn format(&self) -> SpectrogramFormat {
        self.format
    }

    /// The canonical options (sorted; values as text).
    #[must_use]
    pub const fn options(&self) -> &BTreeMap<String, String> {
        &self.options
    }
}

/// What a job fetches: spectrograms, audio, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Products {
    /// Spectrograms, if wanted.
    pub spectrogram: Option<Arc<SpectrogramProduct>>,
    /// Audio with its extension preference (first preferred), if wanted.
    pub audio: Option<AudioExtension>,
}

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
