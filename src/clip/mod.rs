//! Clipping: cutting fetched sources to a request's padded window and joining them across
//! 5-minute files (audio to the sample, MAT spectrograms to the column, PNG to the pixel
//! column).
//!
//! Decisions recorded here:
//! - One planner ([`plan`]) decides for every format which spans of which sources, which gaps
//!   (one tolerance: longer than half a sample, column or pixel column), split/pad/fail and the
//!   part names; the cutters ([`audio`], [`mat`], [`png`]) only measure their sources and cut
//!   what the plan says.
//! - Every clipper returns [`Clipped`]: one [`ClipOutput`] per file written (one per
//!   continuous part with [`GapPolicy::Split`]), each with its own span (what the file holds,
//!   not the requested window) and only the source files that overlap that span, so the index
//!   can describe each part exactly.

pub mod audio;
pub mod mat;
pub mod plan;
pub mod png;
pub(crate) mod segments;

use crate::formats::FormatError;
use crate::time::UtcInstant;
use std::fmt;
use std::path::{Path, PathBuf};

pub use crate::domain::GapPolicy;

/// A part of a clip window that no source covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// Where it starts.
    pub start: UtcInstant,
    /// Where it ends.
    pub end: UtcInstant,
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.start, self.end)
    }
}

/// One file a clip wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipOutput {
    /// The file.
    pub path: PathBuf,
    /// Start of what it holds: its first sample or column (the window's start when a leading
    /// gap is padded).
    pub start: UtcInstant,
    /// End of what it holds (exclusive), to the millisecond.
    pub end: UtcInstant,
    /// The source files it holds data from, in time order; a source that does not overlap
    /// this output is not listed.
    pub sources: Vec<PathBuf>,
}

/// What a clip produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clipped {
    /// The files written: one, or one per continuous part with [`GapPolicy::Split`].
    pub outputs: Vec<ClipOutput>,
    /// The gaps found inside the window (filled with [`GapPolicy::Pad`], split at with
    /// [`GapPolicy::Split`]).
    pub gaps: Vec<Gap>,
}

/// Errors making a clip.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClipError {
    /// The window is empty or reversed.
    #[error("the clip window {start} to {end} is empty")]
    EmptyWindow {
        /// Start.
        start: UtcInstant,
        /// End.
        end: UtcInstant,
    },
    /// No source file was given.
    #[error("no source file covers the clip window")]
    NoSources,
    /// Part of the window has no data and the policy is to fail.
    #[error(
        "the archive has no data for part of the clip window ({}); set `gap = \"pad\"` or `gap = \"split\"` to clip anyway",
        .gaps.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    Gaps {
        /// The gaps.
        gaps: Vec<Gap>,
    },
    /// Sources disagree (rate, channels, bit depth, frequency axis, image layout).
    #[error("{path} cannot be joined with the other sources: {detail}")]
    Mismatch {
        /// The odd source.
        path: PathBuf,
        /// How it differs.
        detail: String,
    },
    /// A source could not be read.
    #[error("cannot read source {path}")]
    Source {
        /// The source.
        path: PathBuf,
        /// The cause.
        #[source]
        source: FormatError,
    },
    /// The output could not be written.
    #[error("cannot write clip {path}")]
    Write {
        /// The output.
        path: PathBuf,
        /// The cause.
        #[source]
        source: FormatError,
    },
}

impl ClipError {
    pub(crate) fn source(path: &Path, e: FormatError) -> Self {
        Self::Source {
            path: path.to_owned(),
            source: e,
        }
    }
}
