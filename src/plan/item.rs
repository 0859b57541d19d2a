//! Plan items and their content ids.
//!
//! Decisions recorded here:
//! - An id is the lowercase hex SHA-256 of the item's canonical JSON: keys sorted, no
//!   whitespace, instants as `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC, milliseconds), option values as
//!   strings. The canonical forms are, with keys in this (sorted) order:
//!   - spectrogram fetch: `{"device","format","kind":"fetch","options","product":"spectrogram","window_start"}`
//!   - audio fetch: `{"device","extensions":[…],"kind":"fetch","product":"audio","window_start"}`
//!   - clip: `{"device","end","format","gap","kind":"clip","output","product","sources":[…],"start"}`
//! - Ids never include batching, the manifest's format or path, labels or descriptions
//!   (metadata for the index, not content), so none of those changes what is fetched.
//! - Canonical JSON comes from structs whose fields are declared in sorted order (fast: a
//!   million items hash in well under a second); a unit test checks it against a
//!   key-sorting serialisation.

use crate::manifest::{
    AudioExtension, DeviceCode, GapPolicy, SpectrogramFormat, SpectrogramProduct,
};
use crate::time::{UtcInstant, Window5m};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A content id: lowercase hex SHA-256 of an item's canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ItemId(String);

impl ItemId {
    /// The id of some canonical bytes.
    #[must_use]
    pub fn of(canonical: &[u8]) -> Self {
        Self(hex::encode(Sha256::digest(canonical)))
    }

    /// The hex text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a fetch item fetches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FetchProduct {
    /// ONC spectrograms in a format with canonical `dpo_*` options.
    Spectrogram(Arc<SpectrogramProduct>),
    /// Audio files, by extension preference (first preferred).
    Audio(Vec<AudioExtension>),
}

impl FetchProduct {
    /// `spectrogram` or `audio`.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Spectrogram(_) => "spectrogram",
            Self::Audio(_) => "audio",
        }
    }

    /// The file format: the spectrogram format, or the preferred audio extension.
    #[must_use]
    pub fn format(&self) -> &'static str {
        match self {
            Self::Spectrogram(p) => p.format().as_str(),
            Self::Audio(e) => e.first().map_or("flac", |e| e.as_str()),
        }
    }
}

/// The ONC files of one product for one device in one 5-minute window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchItem {
    /// Content id.
    pub id: ItemId,
    /// The device.
    pub device: DeviceCode,
    /// The product.
    pub product: FetchProduct,
    /// The grid slot.
    pub window: Window5m,
}

/// What a clip produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClipProduct {
    /// A spectrogram clip in this format.
    Spectrogram(SpectrogramFormat),
    /// An audio clip in this format.
    Audio(AudioExtension),
}

impl ClipProduct {
    /// `spectrogram` or `audio`.
    #[must_use]
    pub const fn kind(self) -> &'static str {
        match self {
            Self::Spectrogram(_) => "spectrogram",
            Self::Audio(_) => "audio",
        }
    }

    /// `mat`, `png`, `flac` or `wav`: also the output's extension.
    #[must_use]
    pub const fn format(self) -> &'static str {
        match self {
            Self::Spectrogram(f) => f.as_str(),
            Self::Audio(e) => e.as_str(),
        }
    }
}

/// A span cut from fetch items into one output file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipItem {
    /// Content id.
    pub id: ItemId,
    /// The device.
    pub device: DeviceCode,
    /// The product and output format.
    pub product: ClipProduct,
    /// Clip start (inclusive).
    pub start: UtcInstant,
    /// Clip end (exclusive).
    pub end: UtcInstant,
    /// The fetch items it is cut from, in window order.
    pub sources: Vec<ItemId>,
    /// Output path relative to `data_dir` (`/`-separated, sanitised).
    pub output: String,
    /// What to do with archive gaps.
    pub gap: GapPolicy,
    /// Label for the index.
    pub label: Option<String>,
    /// Description for the index.
    pub description: Option<String>,
}

/// A plan item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Fetch ONC files.
    Fetch(FetchItem),
    /// Cut an output from fetched files.
    Clip(ClipItem),
}

impl Item {
    /// The item's id.
    #[must_use]
    pub const fn id(&self) -> &ItemId {
        match self {
            Self::Fetch(f) => &f.id,
            Self::Clip(c) => &c.id,
        }
    }
}

#[derive(Serialize)]
struct SpectrogramCanon<'a> {
    device: &'a str,
    format: &'a str,
    kind: &'static str,
    options: &'a BTreeMap<String, String>,
    product: &'static str,
    window_start: String,
}

#[derive(Serialize)]
struct AudioCanon<'a> {
    device: &'a str,
    extensions: Vec<&'static str>,
    kind: &'static str,
    product: &'static str,
    window_start: String,
}

#[derive(Serialize)]
struct ClipCanon<'a> {
    device: &'a str,
    end: String,
    format: &'static str,
    gap: &'static str,
    kind: &'static str,
    output: &'a str,
    product: &'static str,
    sources: &'a [ItemId],
    start: String,
}

fn id_of<T: Serialize>(canon: &T) -> ItemId {
    // Serialising plain structs of strings to a Vec cannot fail.
    let bytes = serde_json::to_vec(canon).unwrap_or_default();
    ItemId::of(&bytes)
}

/// The canonical JSON of a fetch item.
#[must_use]
pub fn fetch_canonical(device: &DeviceCode, product: &FetchProduct, window: Window5m) -> Vec<u8> {
    let window_start = window.start().to_onc_string();
    let r = match product {
        FetchProduct::Spectrogram(p) => serde_json::to_vec(&SpectrogramCanon {
            device: device.as_str(),
            format: p.format().as_str(),
            kind: "fetch",
            options: p.options(),
            product: "spectrogram",
            window_start,
        }),
        FetchProduct::Audio(exts) => serde_json::to_vec(&AudioCanon {
            device: device.as_str(),
            extensions: exts.iter().map(|e| e.as_str()).collect(),
            kind: "fetch",
            product: "audio",
            window_start,
        }),
    };
    r.unwrap_or_default()
}

/// The id of a fetch item.
#[must_use]
pub fn fetch_id(device: &DeviceCode, product: &FetchProduct, window: Window5m) -> ItemId {
    ItemId::of(&fetch_canonical(device, product, window))
}

/// The id of a clip item (`id` and metadata fields are ignored).
#[must_use]
pub fn clip_id(c: &ClipItem) -> ItemId {
    id_of(&ClipCanon {
        device: c.device.as_str(),
        end: c.end.to_onc_string(),
        format: c.product.format(),
        gap: c.gap.as_str(),
        kind: "clip",
        output: &c.output,
        product: c.product.kind(),
        sources: &c.sources,
        start: c.start.to_onc_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serialises with keys sorted, recursively: the definition of canonical JSON.
    fn sorted(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<_> = m.keys().collect();
                keys.sort();
                let parts: Vec<String> = keys
                    .iter()
                    .map(|k| format!("{}:{}", serde_json::to_string(k).unwrap(), sorted(&m[*k])))
                    .collect();
                format!("{{{}}}", parts.join(","))
            }
            serde_json::Value::Array(a) => {
                format!("[{}]", a.iter().map(sorted).collect::<Vec<_>>().join(","))
            }
            other => other.to_string(),
        }
    }

    #[test]
    fn canonical_json_has_sorted_keys_and_milliseconds() {
        let dev = DeviceCode::new("ICLISTENHF6324").unwrap();
        let mut o = BTreeMap::new();
        o.insert("dpo_spectralDataDownsample".to_owned(), "2".to_owned());
        let p =
            FetchProduct::Spectrogram(Arc::new(SpectrogramProduct::new(SpectrogramFormat::Mat, o)));
        let w = Window5m::floor(UtcInstant::parse("2024-04-01T12:34:50Z").unwrap());
        let bytes = fetch_canonical(&dev, &p, w);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(text, sorted(&v));
        assert!(
            text.contains(r#""window_start":"2024-04-01T12:30:00.000Z""#),
            "{text}"
        );
        assert!(
            text.contains(r#""dpo_spectrogramConcatenation":"None""#),
            "{text}"
        );
        assert_eq!(fetch_id(&dev, &p, w).as_str().len(), 64);
        let a = FetchProduct::Audio(AudioExtension::Flac.preference());
        let text = String::from_utf8(fetch_canonical(&dev, &a, w)).unwrap();
        assert_eq!(text, sorted(&serde_json::from_str(&text).unwrap()));
    }

    #[test]
    fn known_digest() {
        // SHA-256 of the empty string.
        assert_eq!(
            ItemId::of(b"").as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
