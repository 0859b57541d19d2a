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
//! - Canonical JSON is written by hand in sorted-key order (a plan of a million requests
//!   hashes millions of items); the part of a fetch item shared by every window of a device
//!   and product is written once. Unit tests check the bytes against `serde_json` output
//!   sorted by key, so ids stay what they were when `serde_json` wrote them.
//! - Ids are held as 32 bytes and shown as 64 lowercase hex digits.
//! - A clip's id is its content and where it is written: device, exact window, product,
//!   format (hence options and extension preference, through its sources' ids), gap policy and
//!   output path. Requests that resolve to the same id are one clip item, one file, one
//!   lockfile entry; each of them is kept in [`ClipItem::requests`] (label, description, where
//!   it was asked for) for the index.

use crate::domain::{
    AudioExtension, DeviceCode, GapPolicy, ItemId, SpectrogramFormat, SpectrogramProduct,
};
use crate::manifest::Origin;
use crate::time::{UtcInstant, Window5m};
use std::sync::Arc;

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
    /// Every request that asked for this clip, in the order they were given (never empty for
    /// a planned clip; identical requests share one clip).
    pub requests: Vec<ClipRequest>,
}

impl ClipItem {
    /// The first request's label.
    #[must_use]
    pub fn label(&self) -> Option<&str> {
        self.requests.first().and_then(|r| r.label.as_deref())
    }
}

/// One request for a clip (or, not clipped, for a fetch item: [`super::Plan::fetch_requests`]):
/// metadata for the index, not part of any id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipRequest {
    /// Where it was asked for (request file and row or line).
    pub origin: Origin,
    /// Label for the index.
    pub label: Option<String>,
    /// Description for the index.
    pub description: Option<String>,
    /// The request's own time (its timestamp, or its start), before padding.
    pub time: Option<UtcInstant>,
}

/// A plan item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Fetch ONC files.
    Fetch(FetchItem),
    /// Cut an output from fetched files (boxed: clips are several times larger than fetches).
    Clip(Box<ClipItem>),
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

/// Appends `s` as a JSON string exactly as `serde_json` writes it (the canonical form).
pub(crate) fn push_json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing a string to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// Appends a JSON object of strings, in the map's (sorted) order.
pub(crate) fn push_str_map(out: &mut Vec<u8>, map: &std::collections::BTreeMap<String, String>) {
    out.push(b'{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_str(out, k);
        out.push(b':');
        push_json_str(out, v);
    }
    out.push(b'}');
}

/// Appends a JSON array of ids as hex strings.
pub(crate) fn push_ids(out: &mut Vec<u8>, ids: &[ItemId]) {
    out.push(b'[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(id.hex().as_str().as_bytes());
        out.push(b'"');
    }
    out.push(b']');
}

/// Appends `"key":` to a canonical object under construction.
fn push_key(out: &mut Vec<u8>, key: &str) {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

fn push_instant(out: &mut Vec<u8>, t: UtcInstant) {
    out.push(b'"');
    t.push_onc(out);
    out.push(b'"');
}

/// The canonical JSON of a fetch item without its `window_start` value and closing brace: the
/// part shared by every window of a device and product. [`fetch_id_from_prefix`] finishes it.
#[must_use]
pub(crate) fn fetch_prefix(device: &DeviceCode, product: &FetchProduct) -> Vec<u8> {
    let mut out = Vec::with_capacity(192);
    out.push(b'{');
    push_key(&mut out, "device");
    push_json_str(&mut out, device.as_str());
    match product {
        FetchProduct::Spectrogram(p) => {
            out.push(b',');
            push_key(&mut out, "format");
            push_json_str(&mut out, p.format().as_str());
            out.extend_from_slice(b",\"kind\":\"fetch\",");
            push_key(&mut out, "options");
            push_str_map(&mut out, p.options());
            out.extend_from_slice(b",\"product\":\"spectrogram\",");
        }
        FetchProduct::Audio(exts) => {
            out.push(b',');
            push_key(&mut out, "extensions");
            out.push(b'[');
            for (i, e) in exts.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_json_str(&mut out, e.as_str());
            }
            out.extend_from_slice(b"],\"kind\":\"fetch\",\"product\":\"audio\",");
        }
    }
    push_key(&mut out, "window_start");
    out
}

/// Writes a fetch item's canonical JSON into `buf` from its [`fetch_prefix`].
fn finish_fetch(prefix: &[u8], window: Window5m, buf: &mut Vec<u8>) {
    buf.clear();
    buf.extend_from_slice(prefix);
    push_instant(buf, window.start());
    buf.push(b'}');
}

/// A fetch item's id from its [`fetch_prefix`], using `buf` (reused between calls).
pub(crate) fn fetch_id_from_prefix(prefix: &[u8], window: Window5m, buf: &mut Vec<u8>) -> ItemId {
    finish_fetch(prefix, window, buf);
    ItemId::of(buf)
}

/// The canonical JSON of a fetch item.
#[must_use]
#[cfg(test)]
pub(crate) fn fetch_canonical(
    device: &DeviceCode,
    product: &FetchProduct,
    window: Window5m,
) -> Vec<u8> {
    let mut buf = Vec::new();
    finish_fetch(&fetch_prefix(device, product), window, &mut buf);
    buf
}

/// The id of a fetch item.
#[must_use]
#[cfg(test)]
pub(crate) fn fetch_id(device: &DeviceCode, product: &FetchProduct, window: Window5m) -> ItemId {
    ItemId::of(&fetch_canonical(device, product, window))
}

/// The canonical JSON of a clip item (`id` and metadata fields are ignored), into `out`.
pub(crate) fn clip_canonical(c: &ClipItem, out: &mut Vec<u8>) {
    out.clear();
    out.push(b'{');
    push_key(out, "device");
    push_json_str(out, c.device.as_str());
    out.push(b',');
    push_key(out, "end");
    push_instant(out, c.end);
    out.push(b',');
    push_key(out, "format");
    push_json_str(out, c.product.format());
    out.push(b',');
    push_key(out, "gap");
    push_json_str(out, c.gap.as_str());
    out.extend_from_slice(b",\"kind\":\"clip\",");
    push_key(out, "output");
    push_json_str(out, &c.output);
    out.push(b',');
    push_key(out, "product");
    push_json_str(out, c.product.kind());
    out.push(b',');
    push_key(out, "sources");
    push_ids(out, &c.sources);
    out.push(b',');
    push_key(out, "start");
    push_instant(out, c.start);
    out.push(b'}');
}

/// The id of a clip item (`id` and metadata fields are ignored).
#[must_use]
#[cfg(test)]
pub(crate) fn clip_id(c: &ClipItem) -> ItemId {
    let mut buf = Vec::with_capacity(256);
    clip_canonical(c, &mut buf);
    ItemId::of(&buf)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::pedantic,
        clippy::print_stderr,
        reason = "test code: casts and formatting on small fixed inputs"
    )]
    use super::*;
    use std::collections::BTreeMap;

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
        o.insert("dpo_odd\"key\\".to_owned(), "tab\there\u{1}é".to_owned());
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
        assert_eq!(fetch_id(&dev, &p, w).hex().as_str().len(), 64);
        assert_eq!(fetch_id(&dev, &p, w), ItemId::of(&bytes));
        let a = FetchProduct::Audio(AudioExtension::Flac.preference());
        let text = String::from_utf8(fetch_canonical(&dev, &a, w)).unwrap();
        assert_eq!(text, sorted(&serde_json::from_str(&text).unwrap()));
        assert!(text.contains(r#""extensions":["flac","wav"]"#), "{text}");
    }

    #[test]
    fn clip_canonical_json_is_sorted_and_escaped() {
        let dev = DeviceCode::new("ICLISTENHF6324").unwrap();
        let src = ItemId::of(b"x");
        let c = ClipItem {
            id: ItemId::of(b""),
            device: dev,
            product: ClipProduct::Audio(AudioExtension::Wav),
            start: UtcInstant::parse("2024-04-01T12:34:35.250Z").unwrap(),
            end: UtcInstant::parse("2024-04-01T12:35:05Z").unwrap(),
            sources: vec![src, ItemId::of(b"y")],
            output: "clips/wh\"ale\n é.wav".to_owned(),
            gap: GapPolicy::Pad,
            requests: vec![ClipRequest {
                origin: Origin {
                    file: Arc::from(std::path::Path::new("r.csv")),
                    loc: crate::manifest::Loc::Row(2),
                    what: Arc::from("requests[0]"),
                },
                label: Some("ignored".to_owned()),
                description: None,
                time: None,
            }],
        };
        let mut buf = Vec::new();
        clip_canonical(&c, &mut buf);
        let text = String::from_utf8(buf.clone()).unwrap();
        assert_eq!(text, sorted(&serde_json::from_slice(&buf).unwrap()));
        assert!(text.contains(&format!(r#""sources":["{src}","#)), "{text}");
        assert!(
            text.contains(r#""start":"2024-04-01T12:34:35.250Z""#),
            "{text}"
        );
        assert!(!text.contains("ignored"), "{text}");
        assert_eq!(clip_id(&c), ItemId::of(&buf));
    }

    #[test]
    fn known_digest_and_hex_round_trip() {
        // SHA-256 of the empty string.
        let e = ItemId::of(b"");
        assert_eq!(
            e.to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(e.hex().as_str(), e.to_string());
        assert_eq!(e.to_string().parse::<ItemId>().unwrap(), e);
        assert_eq!(serde_json::to_string(&e).unwrap(), format!("\"{e}\""));
        assert!("xyz".parse::<ItemId>().is_err());
        assert!(e.to_string()[1..].parse::<ItemId>().is_err());
    }

    #[test]
    fn ids_order_as_their_hex_text() {
        // Ids that share long prefixes, so both halves of the comparison are exercised.
        let mut ids: Vec<ItemId> = (0_u8..64)
            .map(|i| {
                let mut b = [0_u8; 32];
                b[(i % 32) as usize] = i;
                b[31] = 255 - i;
                hex::encode(b).parse::<ItemId>().unwrap()
            })
            .chain((0_u32..200).map(|i| ItemId::of(&i.to_le_bytes())))
            .collect();
        let mut by_hex = ids.clone();
        by_hex.sort_by_key(ItemId::to_string);
        ids.sort();
        assert_eq!(ids, by_hex);
    }
}
