//! Raw types: the shape of manifests and request documents as serde sees them, from which the
//! JSON Schemas in `schemas/` are generated (`schemars`).
//!
//! Validation does not go through these types (it walks located values so that it can report
//! every problem with its line and column); they describe the same fields, and a test checks
//! that the field lists used by validation and these types agree, and that the checked-in
//! schemas are current (`HYDROFETCH_UPDATE_SCHEMAS=1 cargo test --test schemas` rewrites
//! them).
#![expect(
    dead_code,
    reason = "these types describe manifest files for their JSON Schemas (schemars); the loader reads files through `node`, so their fields are never read"
)]

use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A `dpo_*` option value: text, number or boolean (sent to ONC as text).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum RawOptionValue {
    /// Text.
    Text(String),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
}

/// ONC data product options: names start with `dpo_`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(extend("propertyNames" = { "pattern": "^dpo_" }))]
pub(crate) struct RawOptions(pub BTreeMap<String, RawOptionValue>);

/// `mat` or `png`.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawSpectrogramFormat {
    /// MATLAB files.
    Mat,
    /// PNG plots.
    Png,
}

/// `flac` or `wav`.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawAudioExtension {
    /// FLAC.
    Flac,
    /// WAV.
    Wav,
}

/// What a clip does with archive gaps.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawGap {
    /// One output per continuous part.
    Split,
    /// Fill and report.
    Pad,
    /// Fail the clip (default).
    Fail,
}

/// One request (request-format.md), or a request file's `defaults`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequest {
    /// Hydrophone device code, e.g. `ICLISTENHF6324`.
    #[serde(rename = "deviceCode")]
    pub device_code: Option<String>,
    /// ISO 8601 instant (UTC `Z`, an offset, or naive in `timezone`); not with `start`.
    pub timestamp: Option<String>,
    /// Zone for naive times: IANA name, `UTC`, or an offset such as `-07:00`.
    pub timezone: Option<String>,
    /// ISO 8601 start; not with `timestamp`.
    pub start: Option<String>,
    /// ISO 8601 end (not before `start`).
    pub end: Option<String>,
    /// Used when `start` is set and `end` is not.
    #[schemars(range(min = 0))]
    pub duration_seconds: Option<f64>,
    /// Symmetric padding around `timestamp`, or before `start` / after `end`; at most 3600 s
    /// (one hour).
    #[schemars(range(min = 0, max = 3600))]
    pub pad_seconds: Option<f64>,
    /// Padding before (overrides `pad_seconds`); at most 3600 s (one hour).
    #[schemars(range(min = 0, max = 3600))]
    pub pad_before_seconds: Option<f64>,
    /// Padding after (overrides `pad_seconds`); at most 3600 s (one hour).
    #[schemars(range(min = 0, max = 3600))]
    pub pad_after_seconds: Option<f64>,
    /// Fetch audio (default false).
    pub download_audio: Option<bool>,
    /// Fetch ONC spectrograms (default true).
    pub download_spectrogram: Option<bool>,
    /// `mat` (default) or `png`.
    pub spectrogram_format: Option<RawSpectrogramFormat>,
    /// Clip outputs to the padded window (default false).
    pub clip: Option<bool>,
    /// Preferred audio format (default `flac`; the other is the fallback).
    pub audio_extension: Option<RawAudioExtension>,
    /// Output folder tag (default `clips`).
    pub output_tag: Option<String>,
    /// The clip's base name.
    pub output_name: Option<String>,
    /// Metadata for the index.
    pub label: Option<String>,
    /// Metadata for the index.
    pub description: Option<String>,
    /// ONC `dpo_*` options.
    pub data_product_options: Option<RawOptions>,
    /// What clips do with archive gaps (default `fail`).
    pub gap: Option<RawGap>,
}

/// The `{defaults, requests}` request document.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequestDocument {
    /// Values for every request (a request's own fields win).
    pub defaults: Option<RawRequest>,
    /// The requests.
    pub requests: Vec<RawRequest>,
}

/// A manifest's `[defaults]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawManifestDefaults {
    /// Device code for the mode tables.
    pub device: Option<String>,
    /// Zone for naive times.
    pub timezone: Option<String>,
    /// `mat` or `png`.
    pub spectrogram_format: Option<RawSpectrogramFormat>,
    /// ONC `dpo_*` options.
    pub data_product_options: Option<RawOptions>,
    /// Fetch audio too.
    pub download_audio: Option<bool>,
    /// Fetch ONC spectrograms.
    pub download_spectrogram: Option<bool>,
    /// Preferred audio format.
    pub audio_extension: Option<RawAudioExtension>,
    /// Output folder tag for clips.
    pub output_tag: Option<String>,
    /// What clips do with archive gaps.
    pub gap: Option<RawGap>,
    /// Windows per ONC request (synonym of `spectrograms_per_request`).
    #[schemars(range(min = 1))]
    pub spectrograms_per_batch: Option<u32>,
    /// Windows per ONC request.
    #[schemars(range(min = 1))]
    pub spectrograms_per_request: Option<u32>,
}

/// `[[range]]`: every window overlapping `[start, end)`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRange {
    /// Device code (else `[defaults]`).
    pub device: Option<String>,
    /// ISO 8601 start.
    pub start: String,
    /// ISO 8601 end (after start).
    pub end: String,
    /// Zone for naive times.
    pub timezone: Option<String>,
    /// Windows per ONC request.
    #[schemars(range(min = 1))]
    pub spectrograms_per_batch: Option<u32>,
    /// Windows per ONC request (synonym).
    #[schemars(range(min = 1))]
    pub spectrograms_per_request: Option<u32>,
    /// Fetch audio too.
    pub download_audio: Option<bool>,
    /// Fetch ONC spectrograms.
    pub download_spectrogram: Option<bool>,
    /// `mat` or `png`.
    pub spectrogram_format: Option<RawSpectrogramFormat>,
    /// ONC `dpo_*` options.
    pub data_product_options: Option<RawOptions>,
    /// Preferred audio format.
    pub audio_extension: Option<RawAudioExtension>,
}

/// `[[sample]]`: blocks of consecutive windows spread evenly over `[start, end)`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSample {
    /// Device code (else `[defaults]`).
    pub device: Option<String>,
    /// ISO 8601 start.
    pub start: String,
    /// ISO 8601 end.
    pub end: String,
    /// Zone for naive times.
    pub timezone: Option<String>,
    /// Total windows (at most the whole windows in the range).
    #[schemars(range(min = 1))]
    pub total_spectrograms: u32,
    /// Windows per block and per ONC request.
    #[schemars(range(min = 1))]
    pub spectrograms_per_request: Option<u32>,
    /// Synonym of `spectrograms_per_request`.
    #[schemars(range(min = 1))]
    pub spectrograms_per_batch: Option<u32>,
    /// Fetch audio too.
    pub download_audio: Option<bool>,
    /// Fetch ONC spectrograms.
    pub download_spectrogram: Option<bool>,
    /// `mat` or `png`.
    pub spectrogram_format: Option<RawSpectrogramFormat>,
    /// ONC `dpo_*` options.
    pub data_product_options: Option<RawOptions>,
    /// Preferred audio format.
    pub audio_extension: Option<RawAudioExtension>,
}

/// `[[events]]`: the windows holding given instants.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvents {
    /// Device code (else `[defaults]`).
    pub device: Option<String>,
    /// ISO 8601 instants.
    #[schemars(length(min = 1))]
    pub times: Vec<String>,
    /// Zone for naive times.
    pub timezone: Option<String>,
    /// Padding around each instant; at most 3600 s (one hour).
    #[schemars(range(min = 0, max = 3600))]
    pub pad_seconds: Option<f64>,
    /// Padding before each instant; at most 3600 s (one hour).
    #[schemars(range(min = 0, max = 3600))]
    pub pad_before_seconds: Option<f64>,
    /// Padding after each instant; at most 3600 s (one hour).
    #[schemars(range(min = 0, max = 3600))]
    pub pad_after_seconds: Option<f64>,
    /// Windows per ONC request.
    #[schemars(range(min = 1))]
    pub spectrograms_per_request: Option<u32>,
    /// Synonym of `spectrograms_per_request`.
    #[schemars(range(min = 1))]
    pub spectrograms_per_batch: Option<u32>,
    /// Also cut each instant's padded span into a clip (needs padding).
    pub clip: Option<bool>,
    /// Fetch audio too.
    pub download_audio: Option<bool>,
    /// Fetch ONC spectrograms.
    pub download_spectrogram: Option<bool>,
    /// `mat` or `png`.
    pub spectrogram_format: Option<RawSpectrogramFormat>,
    /// ONC `dpo_*` options.
    pub data_product_options: Option<RawOptions>,
    /// Preferred audio format.
    pub audio_extension: Option<RawAudioExtension>,
}

/// `[[audio]]`: audio files over `[start, end)`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAudio {
    /// Device code (else `[defaults]`).
    pub device: Option<String>,
    /// ISO 8601 start.
    pub start: String,
    /// ISO 8601 end.
    pub end: String,
    /// Zone for naive times.
    pub timezone: Option<String>,
    /// Preferred audio format.
    pub audio_extension: Option<RawAudioExtension>,
}

/// `[[requests]]`: a request file with call-level overrides (between the requests' own
/// fields and the file's `defaults`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequestsRef {
    /// The request file (JSON or CSV), relative to the manifest.
    pub file: String,
    /// Zone for naive times.
    pub timezone: Option<String>,
    /// Padding before and after each request; at most 3600 s (one hour).
    #[schemars(range(min = 0, max = 3600))]
    pub default_pad_seconds: Option<f64>,
    /// Padding before each request; at most 3600 s (one hour).
    #[schemars(range(min = 0, max = 3600))]
    pub default_pad_before_seconds: Option<f64>,
    /// Padding after each request; at most 3600 s (one hour).
    #[schemars(range(min = 0, max = 3600))]
    pub default_pad_after_seconds: Option<f64>,
    /// Fetch audio.
    pub download_audio: Option<bool>,
    /// Fetch ONC spectrograms.
    pub download_spectrogram: Option<bool>,
    /// `mat` or `png`.
    pub spectrogram_format: Option<RawSpectrogramFormat>,
    /// Clip outputs.
    pub clip: Option<bool>,
    /// Preferred audio format.
    pub audio_extension: Option<RawAudioExtension>,
    /// Output folder tag.
    pub output_tag: Option<String>,
    /// ONC `dpo_*` options.
    pub data_product_options: Option<RawOptions>,
    /// What clips do with archive gaps.
    pub gap: Option<RawGap>,
    /// Windows per ONC request.
    #[schemars(range(min = 1))]
    pub spectrograms_per_request: Option<u32>,
}

/// One table or an array of tables.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum OneOrMany<T> {
    /// An array of tables (`[[range]]`).
    Many(Vec<T>),
    /// A single table.
    One(T),
}

/// A TOML, YAML or JSON manifest.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawManifest {
    /// Format version: 1.
    #[schemars(range(min = 1, max = 1))]
    pub version: Option<u32>,
    /// Output folder, relative to the manifest (default `data`). `/` and system folders
    /// (`/etc`, `/usr`, `/var`, a home folder itself, ...) are refused unless
    /// `allow_system_data_dir` is true.
    pub data_dir: Option<String>,
    /// Allow a `data_dir` that is `/` or a system folder (default false).
    pub allow_system_data_dir: Option<bool>,
    /// Defaults for the mode tables (and below request files' own defaults).
    pub defaults: Option<RawManifestDefaults>,
    /// Every window in a range.
    pub range: Option<OneOrMany<RawRange>>,
    /// A uniform sample across a range.
    pub sample: Option<OneOrMany<RawSample>>,
    /// Windows around instants.
    pub events: Option<OneOrMany<RawEvents>>,
    /// Audio only.
    pub audio: Option<OneOrMany<RawAudio>>,
    /// Request files with call-level overrides.
    pub requests: Option<OneOrMany<RawRequestsRef>>,
}
