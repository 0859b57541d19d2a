//! A layer of settings: the fields one table (a request, a file's `defaults`, the call-level
//! overrides, the manifest's `[defaults]`, a mode table) sets, read with their locations.
//!
//! Decisions recorded here:
//! - One reader serves every table; each table passes the list of keys it allows, so unknown
//!   keys are reported with the closest allowed name.
//! - `device` and `deviceCode` are the same setting (`deviceCode` in request files, as the
//!   seed writes it; `device` in manifests). `spectrograms_per_batch` and
//!   `spectrograms_per_request` are synonyms; giving both in one table is an error.
//! - Call-level padding is written `default_pad_seconds` (and `default_pad_before_seconds`,
//!   `default_pad_after_seconds`) to match the `--default-pad-seconds` flag.

use super::error::{Loc, Sink};
use super::fields;
use super::node::{Entry, Node};
use crate::domain::{AudioExtension, DeviceCode, GapPolicy, SpectrogramFormat};
use crate::time::{UtcInstant, Zone};
use std::collections::BTreeMap;

/// A time written in a table: its text, where, and the field path (parsed once the zone is known).
#[derive(Debug, Clone)]
pub(crate) struct TimeText {
    pub(crate) text: String,
    pub(crate) loc: Loc,
    pub(crate) path: String,
}

impl TimeText {
    /// Parses in `zone`, recording a diagnostic on failure.
    pub(crate) fn parse(&self, zone: &Zone, sink: &mut Sink) -> Option<UtcInstant> {
        UtcInstant::parse_in(&self.text, zone)
            .map_err(|e| sink.push(self.loc, &self.path, e.to_string()))
            .ok()
    }
}

/// Settings one table gives; `None` means "not set here".
#[derive(Debug, Clone, Default)]
pub(crate) struct Layer {
    pub(crate) device: Option<DeviceCode>,
    pub(crate) timezone: Option<Zone>,
    pub(crate) pad: Option<i64>,
    pub(crate) pad_before: Option<i64>,
    pub(crate) pad_after: Option<i64>,
    pub(crate) download_audio: Option<bool>,
    pub(crate) download_spectrogram: Option<bool>,
    pub(crate) clip: Option<bool>,
    pub(crate) spectrogram_format: Option<SpectrogramFormat>,
    pub(crate) audio_extension: Option<AudioExtension>,
    pub(crate) output_tag: Option<String>,
    pub(crate) output_name: Option<String>,
    pub(crate) label: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) options: Option<BTreeMap<String, String>>,
    pub(crate) gap: Option<GapPolicy>,
    pub(crate) batch: Option<u32>,
    pub(crate) total: Option<u32>,
    pub(crate) duration: Option<(i64, Loc)>,
    pub(crate) timestamp: Option<TimeText>,
    pub(crate) start: Option<TimeText>,
    pub(crate) end: Option<TimeText>,
    pub(crate) times: Option<Vec<TimeText>>,
    pub(crate) file: Option<(String, Loc)>,
}

/// Fields of a request (JSON object or CSV row), as request-format.md lists them, plus `gap`.
pub(crate) const REQUEST_FIELDS: &[&str] = &[
    "deviceCode",
    "timestamp",
    "timezone",
    "start",
    "end",
    "duration_seconds",
    "pad_seconds",
    "pad_before_seconds",
    "pad_after_seconds",
    "download_audio",
    "download_spectrogram",
    "spectrogram_format",
    "clip",
    "audio_extension",
    "output_tag",
    "output_name",
    "label",
    "description",
    "data_product_options",
    "gap",
];

/// Fields of a request file's `defaults`: a request's, without the times.
pub(crate) const REQUEST_DEFAULT_FIELDS: &[&str] = &[
    "deviceCode",
    "timezone",
    "duration_seconds",
    "pad_seconds",
    "pad_before_seconds",
    "pad_after_seconds",
    "download_audio",
    "download_spectrogram",
    "spectrogram_format",
    "clip",
    "audio_extension",
    "output_tag",
    "output_name",
    "label",
    "description",
    "data_product_options",
    "gap",
];

/// Call-level overrides for a request file (`[[requests]]` in a manifest, or flags).
pub(crate) const CALL_FIELDS: &[&str] = &[
    "file",
    "timezone",
    "default_pad_seconds",
    "default_pad_before_seconds",
    "default_pad_after_seconds",
    "download_audio",
    "download_spectrogram",
    "spectrogram_format",
    "clip",
    "audio_extension",
    "output_tag",
    "data_product_options",
    "gap",
    "spectrograms_per_request",
];

/// A manifest's `[defaults]`.
pub(crate) const MANIFEST_DEFAULT_FIELDS: &[&str] = &[
    "device",
    "timezone",
    "spectrogram_format",
    "data_product_options",
    "download_audio",
    "download_spectrogram",
    "audio_extension",
    "output_tag",
    "gap",
    "spectrograms_per_batch",
    "spectrograms_per_request",
];

const PRODUCT_FIELDS: [&str; 5] = [
    "download_audio",
    "download_spectrogram",
    "spectrogram_format",
    "data_product_options",
    "audio_extension",
];

/// `[[range]]`.
pub(crate) fn range_fields() -> Vec<&'static str> {
    let mut v = vec![
        "device",
        "start",
        "end",
        "timezone",
        "spectrograms_per_batch",
        "spectrograms_per_request",
    ];
    v.extend(PRODUCT_FIELDS);
    v
}

/// `[[sample]]`.
pub(crate) fn sample_fields() -> Vec<&'static str> {
    let mut v = range_fields();
    v.push("total_spectrograms");
    v
}

/// `[[events]]`.
pub(crate) fn events_fields() -> Vec<&'static str> {
    let mut v = vec![
        "device",
        "times",
        "timezone",
        "pad_seconds",
        "pad_before_seconds",
        "pad_after_seconds",
        "spectrograms_per_batch",
        "spectrograms_per_request",
        "clip",
    ];
    v.extend(PRODUCT_FIELDS);
    v
}

/// `[[audio]]`.
pub(crate) const AUDIO_FIELDS: &[&str] = &["device", "start", "end", "timezone", "audio_extension"];

fn time_text(node: &Node, sink: &mut Sink, path: &str) -> Option<TimeText> {
    fields::text(node, sink, path).map(|t| TimeText {
        text: t.to_owned(),
        loc: node.loc,
        path: path.to_owned(),
    })
}

/// Reads the entries of one table (already filtered to its allowed keys) into a layer.
pub(crate) fn read(entries: &[&Entry], sink: &mut Sink, path: &str) -> Layer {
    let mut l = Layer::default();
    let mut batch_key: Option<&str> = None;
    for e in entries {
        let p = fields::join(path, &e.key);
        let n = &e.node;
        let s = &mut *sink;
        match e.key.as_str() {
            "device" | "deviceCode" => l.device = fields::device(n, s, &p),
            "timezone" => l.timezone = fields::zone(n, s, &p),
            "pad_seconds" | "default_pad_seconds" => l.pad = fields::pad_seconds(n, s, &p),
            "pad_before_seconds" | "default_pad_before_seconds" => {
                l.pad_before = fields::pad_seconds(n, s, &p);
            }
            "pad_after_seconds" | "default_pad_after_seconds" => {
                l.pad_after = fields::pad_seconds(n, s, &p);
            }
            "duration_seconds" => l.duration = fields::seconds(n, s, &p).map(|d| (d, n.loc)),
            "download_audio" => l.download_audio = fields::boolean(n, s, &p),
            "download_spectrogram" => l.download_spectrogram = fields::boolean(n, s, &p),
            "clip" => l.clip = fields::boolean(n, s, &p),
            "spectrogram_format" => l.spectrogram_format = fields::spectrogram_format(n, s, &p),
            "audio_extension" => l.audio_extension = fields::audio_extension(n, s, &p),
            "output_tag" => l.output_tag = fields::file_name(n, s, &p, 0),
            // Room for the `.flac`/`.mat`/`.png`/`.wav` the plan appends.
            "output_name" => l.output_name = fields::file_name(n, s, &p, 8),
            "label" => l.label = fields::string(n, s, &p),
            "description" => l.description = fields::string(n, s, &p),
            "data_product_options" => l.options = fields::options(n, s, &p),
            "gap" => l.gap = fields::gap(n, s, &p),
            "total_spectrograms" => l.total = fields::positive(n, s, &p),
            "spectrograms_per_batch" | "spectrograms_per_request" => {
                if let Some(other) = batch_key {
                    s.push(
                        e.key_loc,
                        &p,
                        format!("`{other}` is already given; give one of the two"),
                    );
                } else {
                    batch_key = Some(if e.key == "spectrograms_per_batch" {
                        "spectrograms_per_batch"
                    } else {
                        "spectrograms_per_request"
                    });
                    l.batch = fields::positive(n, s, &p);
                }
            }
            "timestamp" => l.timestamp = time_text(n, s, &p),
            "start" => l.start = time_text(n, s, &p),
            "end" => l.end = time_text(n, s, &p),
            "times" => l.times = times(n, s, &p),
            "file" => l.file = fields::string(n, s, &p).map(|f| (f, n.loc)),
            _ => {}
        }
    }
    l
}

fn times(node: &Node, sink: &mut Sink, path: &str) -> Option<Vec<TimeText>> {
    let super::node::Value::Seq(items) = &node.value else {
        sink.push(
            node.loc,
            path,
            format!("found {}, expected an array of times", node.describe()),
        );
        return None;
    };
    if items.is_empty() {
        sink.push(
            node.loc,
            path,
            "found an empty array, expected at least one time",
        );
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, n) in items.iter().enumerate() {
        out.push(time_text(n, sink, &format!("{path}[{i}]"))?);
    }
    Some(out)
}

/// The first layer that sets a value.
pub(crate) fn first<'a, T>(
    layers: &[&'a Layer],
    get: impl Fn(&'a Layer) -> Option<T>,
) -> Option<T> {
    layers.iter().find_map(|l| get(l))
}

/// Padding before and after, in milliseconds: in each layer (most specific first) the
/// one-sided value beats the symmetric one; 0 when no layer sets either.
pub(crate) fn padding(layers: &[&Layer]) -> (i64, i64) {
    let before = first(layers, |l| l.pad_before.or(l.pad)).unwrap_or(0);
    let after = first(layers, |l| l.pad_after.or(l.pad)).unwrap_or(0);
    (before, after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::raw::*;
    use std::collections::BTreeSet;

    fn props<T: schemars::JsonSchema>() -> BTreeSet<String> {
        let s = schemars::schema_for!(T);
        s.get("properties")
            .and_then(|p| p.as_object())
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn validation_fields_match_the_raw_types() {
        assert_eq!(props::<RawRequest>(), set(REQUEST_FIELDS));
        assert_eq!(props::<RawManifestDefaults>(), set(MANIFEST_DEFAULT_FIELDS));
        assert_eq!(props::<RawRange>(), set(&range_fields()));
        assert_eq!(props::<RawSample>(), set(&sample_fields()));
        assert_eq!(props::<RawEvents>(), set(&events_fields()));
        assert_eq!(props::<RawAudio>(), set(AUDIO_FIELDS));
        assert_eq!(props::<RawRequestsRef>(), set(CALL_FIELDS));
        assert_eq!(
            props::<RawManifest>(),
            set(crate::manifest::tables::TOP_FIELDS)
        );
        let mut defaults = set(REQUEST_FIELDS);
        for t in ["timestamp", "start", "end"] {
            defaults.remove(t);
        }
        assert_eq!(defaults, set(REQUEST_DEFAULT_FIELDS));
    }
}
