//! What the executor is asked to do: groups of fetch items, each group one ONC request
//! (spectrograms) or one archive listing (audio).
//!
//! These are the plan's fetch items, grouped, minus what the lockfile already has. The
//! executor does not know manifests or how ids were computed.

use crate::time::Window5m;
use std::collections::BTreeMap;

/// One fetch item: one product of one device in one 5-minute slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedItem {
    /// Plan item id.
    pub id: String,
    /// The slot.
    pub window: Window5m,
    /// When the item feeds a clip: the earliest instant of its slot a clip needs. It then
    /// also takes the file that started in the slot before if that file runs past this
    /// instant. Otherwise (and always) a slot's files are the ones that start inside it.
    pub clip_from: Option<crate::time::UtcInstant>,
}

impl WantedItem {
    /// Whether a file spanning `[start, end)` belongs to this item.
    #[must_use]
    pub fn takes(&self, start: crate::time::UtcInstant, end: crate::time::UtcInstant) -> bool {
        self.window.contains(start)
            || self
                .clip_from
                .is_some_and(|from| start < self.window.start() && end > from)
    }
}

/// The nominal length of an ONC source file, when nothing better is known.
pub(crate) const NOMINAL_FILE_MILLIS: i64 = 300_000;

/// Spectrograms (ONC product HSD) for contiguous slots: one `dataProductDelivery` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpectrogramGroup {
    /// Device code.
    pub device: String,
    /// `mat` or `png`.
    pub format: String,
    /// Canonical `dpo_*` options, as sent.
    pub options: BTreeMap<String, String>,
    /// The slots, in time order (contiguous).
    pub items: Vec<WantedItem>,
}

/// Audio files (archive files) for contiguous slots: one listing, then one download per file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioGroup {
    /// Device code.
    pub device: String,
    /// Extensions in order of preference, e.g. `["flac", "wav"]`.
    pub extensions: Vec<String>,
    /// The slots, in time order.
    pub items: Vec<WantedItem>,
}

/// What a clip cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipKind {
    /// Audio, written in this format.
    Audio(crate::clip::audio::AudioFormat),
    /// MAT spectrograms.
    Mat,
    /// PNG spectrograms.
    Png,
}

/// A clip to make once its sources are done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipJob {
    /// Plan item id.
    pub id: String,
    /// Device code.
    pub device: String,
    /// What it cuts.
    pub kind: ClipKind,
    /// Window start.
    pub start: crate::time::UtcInstant,
    /// Window end.
    pub end: crate::time::UtcInstant,
    /// The fetch items it is cut from.
    pub sources: Vec<String>,
    /// Output path relative to `data_dir`.
    pub output: String,
    /// What to do with gaps.
    pub gap: crate::clip::GapPolicy,
}

/// Everything a run must do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Job {
    /// Spectrogram requests.
    pub spectrograms: Vec<SpectrogramGroup>,
    /// Audio listings.
    pub audio: Vec<AudioGroup>,
    /// Clips.
    pub clips: Vec<ClipJob>,
}

impl Job {
    /// Number of fetch items.
    #[must_use]
    pub fn item_count(&self) -> usize {
        self.spectrograms
            .iter()
            .map(|g| g.items.len())
            .sum::<usize>()
            + self.audio.iter().map(|g| g.items.len()).sum::<usize>()
    }
}

impl SpectrogramGroup {
    /// A stable key for the group, for the resume journal: the same group of the same plan
    /// gets the same key in the next run.
    #[must_use]
    pub fn key(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.device.as_bytes());
        h.update(b"\0");
        h.update(self.format.as_bytes());
        for (k, v) in &self.options {
            h.update(format!("\0{k}={v}").as_bytes());
        }
        for it in &self.items {
            h.update(b"\0");
            h.update(it.id.as_bytes());
        }
        hex::encode(h.finalize())
    }
}
