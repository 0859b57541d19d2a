//! The one error type of the formats layer.
//!
//! Decisions recorded here: every variant carries typed context (which format, byte offset,
//! path) rather than a pre-formatted string; messages are lowercase fragments; causes sit in
//! `#[source]` and are not repeated in the message. Third-party codec errors (hound, symphonia,
//! flac-codec, png) are kept as boxed sources so callers can still inspect them.

use std::fmt;
use std::path::PathBuf;

/// Which file format an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatKind {
    /// RIFF/WAVE audio.
    Wav,
    /// FLAC audio.
    Flac,
    /// MATLAB Level 5 MAT-file.
    Mat,
    /// PNG image.
    Png,
    /// WAV or FLAC (audio content sniffing).
    Audio,
    /// Any supported format (content sniffing).
    Any,
}

impl fmt::Display for FormatKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Wav => "wav",
            Self::Flac => "flac",
            Self::Mat => "mat",
            Self::Png => "png",
            Self::Audio => "wav or flac",
            Self::Any => "wav, flac, mat or png",
        })
    }
}

/// Boxed cause from a codec crate.
pub type BoxedCause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors from reading or writing WAV, FLAC, MAT and PNG.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// Reading or writing a file failed.
    #[error("i/o error on {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The input ended before a structure that its headers announce.
    #[error("{format} data truncated at byte {offset}: {needed} more bytes needed")]
    Truncated {
        /// The format being read.
        format: FormatKind,
        /// Byte offset (in the decoded stream for compressed MAT elements) where data ran out.
        offset: u64,
        /// How many more bytes were needed.
        needed: u64,
    },
    /// The file does not start with the signature of the expected format.
    #[error("not a {expected} file (bad magic bytes)")]
    BadMagic {
        /// The format that was expected.
        expected: FormatKind,
    },
    /// Valid but not supported by hydrofetch (e.g. a MAT sparse matrix, 8-bit FLAC).
    #[error("unsupported {format} feature: {what}")]
    Unsupported {
        /// The format.
        format: FormatKind,
        /// What is not supported.
        what: String,
    },
    /// The data breaks a rule of the format, or a value given to a writer is inconsistent.
    #[error("invalid {format} data: {reason}")]
    Invalid {
        /// The format.
        format: FormatKind,
        /// What is wrong.
        reason: String,
    },
    /// A requested frame span does not lie inside the audio.
    #[error("span of {frames} frames from frame {start} is outside the audio ({total} frames)")]
    SpanOutOfRange {
        /// First requested frame.
        start: u64,
        /// Number of requested frames.
        frames: u64,
        /// Frames in the file.
        total: u64,
    },
    /// An underlying codec crate reported an error.
    #[error("{format} codec error")]
    Codec {
        /// The format.
        format: FormatKind,
        /// The codec's error.
        #[source]
        source: BoxedCause,
    },
}

impl FormatError {
    /// Shorthand for [`FormatError::Invalid`].
    pub(crate) fn invalid(format: FormatKind, reason: impl Into<String>) -> Self {
        Self::Invalid {
            format,
            reason: reason.into(),
        }
    }

    /// Shorthand for [`FormatError::Unsupported`].
    pub(crate) fn unsupported(format: FormatKind, what: impl Into<String>) -> Self {
        Self::Unsupported {
            format,
            what: what.into(),
        }
    }

    /// Shorthand for [`FormatError::Codec`].
    pub(crate) fn codec(format: FormatKind, source: impl Into<BoxedCause>) -> Self {
        Self::Codec {
            format,
            source: source.into(),
        }
    }

    /// Shorthand for [`FormatError::Io`].
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_fragments() {
        let e = FormatError::Truncated {
            format: FormatKind::Mat,
            offset: 128,
            needed: 8,
        };
        assert_eq!(
            e.to_string(),
            "mat data truncated at byte 128: 8 more bytes needed"
        );
        let e = FormatError::BadMagic {
            expected: FormatKind::Flac,
        };
        assert_eq!(e.to_string(), "not a flac file (bad magic bytes)");
        let e = FormatError::SpanOutOfRange {
            start: 10,
            frames: 5,
            total: 12,
        };
        assert_eq!(
            e.to_string(),
            "span of 5 frames from frame 10 is outside the audio (12 frames)"
        );
    }
}
