//! Leaf domain types every stage shares: device codes, products and their formats, the gap
//! policy, and item ids. They depend on nothing else in the crate, so `plan`, `exec`, `clip`,
//! `lock` and `index` use them without reaching into `manifest` (which builds them from what
//! users write).
//!
//! Decisions recorded here:
//! - Spectrogram options are kept canonical (a sorted map of `dpo_*` name to text, with the
//!   executor's default `dpo_spectrogramConcatenation=None` filled in) so that ids do not depend
//!   on how the user wrote them; see [`SpectrogramProduct::new`].
//! - An item id is held as 32 bytes and shown as 64 lowercase hex digits; how it is computed
//!   (canonical JSON) lives with the items in `plan::item`.

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// The option the executor sends when the user does not set it; filled in so that ids are the
/// same whether or not the user writes the default.
pub const DEFAULT_CONCATENATION: (&str, &str) = ("dpo_spectrogramConcatenation", "None");

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

/// A content id: the SHA-256 of an item's canonical JSON, shown as lowercase hex.
/// Ordered by its bytes (as its hex text is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ItemId([u8; 32]);

impl Ord for ItemId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.halves().cmp(&other.halves())
    }
}

impl PartialOrd for ItemId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl ItemId {
    /// The id of some canonical bytes.
    #[must_use]
    pub fn of(canonical: &[u8]) -> Self {
        Self(Sha256::digest(canonical).into())
    }

    /// The digest.
    #[must_use]
    pub const fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The lowercase hex text, without allocating.
    #[must_use]
    pub fn hex(&self) -> HexId {
        let mut out = [0_u8; 64];
        // 32 bytes always fit 64 digits.
        let _ = hex::encode_to_slice(self.0, &mut out);
        HexId(out)
    }

    /// The digest as two big-endian integers: comparing them compares the bytes, without a
    /// call to `memcmp` (plans sort millions of ids).
    fn halves(&self) -> (u128, u128) {
        let mut hi = [0_u8; 16];
        let mut lo = [0_u8; 16];
        hi.copy_from_slice(&self.0[..16]);
        lo.copy_from_slice(&self.0[16..]);
        (u128::from_be_bytes(hi), u128::from_be_bytes(lo))
    }
}

/// The hex text of an [`ItemId`], on the stack.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HexId([u8; 64]);

impl HexId {
    /// The 64 hex digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hex().as_str())
    }
}

impl Serialize for ItemId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.hex().as_str())
    }
}

/// Text that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an item id (expected 64 hex digits)")]
pub struct BadItemId(String);

impl FromStr for ItemId {
    type Err = BadItemId;
    fn from_str(s: &str) -> Result<Self, BadItemId> {
        let bad = || BadItemId(s.to_owned());
        let mut out = [0_u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| bad())?;
        Ok(Self(out))
    }
}
