//! Encoded simulator products for one source file (≤ 5 minutes): audio (FLAC/WAV), HSD MAT
//! and HSD PNG, built from [`super::signal`] through the `formats` writers.
//!
//! Decisions recorded here:
//! - A file starting at `start` holds samples from [`first_index`]`(start)`; a 5-minute file
//!   `[a, b)` has [`frames_between`]`(a, b)` frames, so consecutive files tile the sample
//!   clock with no gap or overlap.
//! - Audio is mono integer PCM at the spec's rate and bit depth.
//! - MAT v5 (zlib-compressed for one-minute averages only: dB doubles gain < 10 % from zlib
//!   at the other resolutions, for seconds of CPU) variables, in order: `SpectData` (1×1 struct: `PSD` `n_freq` ×
//!   `n_time` double dB, `frequency` `n_freq` × 1 Hz, `time` 1 × `n_time` datenums of column
//!   centres, `processingComment` char, `dataProductCode` `HSD`, `spectralDataDownsample`
//!   0/1/2) and `Meta` (1×1 struct, fields as in [`MatMeta`], plus `sampleRate`,
//!   `dateFrom`/`dateTo` of the file).
//! - PNG: [`super::render`] geometry; when no header is given, two lines are drawn: the device
//!   code and the start time; when no footer is given, a processing comment.

use serde::{Deserialize, Serialize};

use super::render::{self, RenderOptions};
use super::signal::{CHUNK, SignalSpec, first_index, samples_at};
use super::spectro::{Resolution, SpanInfo, spectrogram};
use crate::formats::flac::encode_flac_pieces;
use crate::formats::{
    Audio, AudioSpec, FormatError, MatValue, SampleFormat, Samples, encode_mat, encode_png,
    encode_wav,
};
use crate::time::UtcInstant;

/// Audio container of an audio product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioExt {
    /// FLAC.
    Flac,
    /// RIFF WAVE.
    Wav,
}

/// Device and deployment fields of the MAT `Meta` struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatMeta {
    /// ONC device id.
    pub device_id: u32,
    /// Device code, e.g. `ICLISTENHF6324`.
    pub device_code: String,
    /// Human-readable device name.
    pub device_name: String,
    /// Location code, e.g. `BACAX`.
    pub location_code: String,
    /// Location name.
    pub location_name: String,
    /// Latitude, degrees north.
    pub lat: f64,
    /// Longitude, degrees east.
    pub lon: f64,
    /// Depth, metres.
    pub depth: f64,
    /// When the product was made.
    pub creation_date: UtcInstant,
    /// Citation text.
    pub citation: String,
}

/// Number of samples in `[start, end)`: `first_index(end) - first_index(start)` (0 if
/// reversed).
#[must_use]
pub fn frames_between(rate: u32, start: UtcInstant, end: UtcInstant) -> usize {
    usize::try_from(first_index(end, rate) - first_index(start, rate)).unwrap_or(0)
}

fn span_info(spec: &SignalSpec, start: UtcInstant) -> SpanInfo {
    SpanInfo {
        sample_rate: spec.sample_rate,
        bits_per_sample: spec.bits_per_sample,
        first_index: first_index(start, spec.sample_rate),
    }
}

/// The decoded form of an audio product.
#[must_use]
pub fn audio(spec: &SignalSpec, start: UtcInstant, frames: usize) -> Audio {
    let first = first_index(start, spec.sample_rate);
    Audio {
        spec: AudioSpec {
            sample_rate: spec.sample_rate,
            channels: 1,
            bits_per_sample: spec.bits_per_sample,
            format: SampleFormat::Int,
        },
        samples: Samples::Int(samples_at(spec, first, frames)),
    }
}

/// An encoded audio file of `frames` samples from `start`.
pub fn audio_file(
    spec: &SignalSpec,
    start: UtcInstant,
    frames: usize,
    ext: AudioExt,
) -> Result<Vec<u8>, FormatError> {
    match ext {
        AudioExt::Flac => flac_file(spec, start, frames),
        AudioExt::Wav => encode_wav(&audio(spec, start, frames)),
    }
}

/// Samples made per piece handed from the synthesis thread to the FLAC encoder.
const PIECE: usize = 4 * CHUNK;

/// A FLAC audio file, synthesis and encoding overlapped: one thread makes the samples piece
/// by piece (each piece on all cores) while this one encodes the previous piece. The same
/// bytes as encoding [`audio`] at once (the encoder's output does not depend on how its
/// input is split), for about the encoder's time alone.
fn flac_file(spec: &SignalSpec, start: UtcInstant, frames: usize) -> Result<Vec<u8>, FormatError> {
    let first = first_index(start, spec.sample_rate);
    let audio_spec = AudioSpec {
        sample_rate: spec.sample_rate,
        channels: 1,
        bits_per_sample: spec.bits_per_sample,
        format: SampleFormat::Int,
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<i32>>(1);
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut done = 0usize;
            while done < frames {
                let n = PIECE.min(frames - done);
                let at = first.wrapping_add(i64::try_from(done).unwrap_or(i64::MAX));
                // The encoder stopped (an error): nothing more to make.
                if tx.send(samples_at(spec, at, n)).is_err() {
                    break;
                }
                done += n;
            }
        });
        encode_flac_pieces(audio_spec, frames as u64, rx)
    })
}

/// The MAT variables of an HSD product (see the module doc for the layout).
#[must_use]
pub fn hsd_mat_vars(
    spec: &SignalSpec,
    start: UtcInstant,
    frames: usize,
    res: Resolution,
    meta: &MatMeta,
) -> Vec<(String, MatValue)> {
    let info = span_info(spec, start);
    let pcm = samples_at(spec, info.first_index, frames);
    let sp = spectrogram(&pcm, &info, res);
    let (nf, nt) = (sp.n_freq(), sp.n_time());
    let spect = SpectParts {
        psd: MatValue::matrix(nf, nt, sp.psd_db),
        frequency: MatValue::matrix(nf, 1, sp.frequency),
        time: MatValue::row(sp.time),
        comment: sp.comment,
    };
    mat_vars_from(spec, start, frames, res, meta, spect)
}

/// The spectrogram arrays of an HSD MAT product.
struct SpectParts {
    psd: MatValue,
    frequency: MatValue,
    time: MatValue,
    comment: String,
}

/// The MAT variables around already computed spectrogram arrays.
fn mat_vars_from(
    spec: &SignalSpec,
    start: UtcInstant,
    frames: usize,
    res: Resolution,
    meta: &MatMeta,
    sp: SpectParts,
) -> Vec<(String, MatValue)> {
    let downsample = match res {
        Resolution::Full => 0.0,
        Resolution::Minute => 1.0,
        Resolution::Plot => 2.0,
    };
    let end = start
        .add_millis(i64::try_from(frames).unwrap_or(0) * 1000 / i64::from(spec.sample_rate.max(1)));
    let spect = MatValue::Struct(vec![
        ("PSD".into(), sp.psd),
        ("frequency".into(), sp.frequency),
        ("time".into(), sp.time),
        ("processingComment".into(), MatValue::Char(sp.comment)),
        ("dataProductCode".into(), MatValue::Char("HSD".into())),
        (
            "spectralDataDownsample".into(),
            MatValue::scalar(downsample),
        ),
    ]);
    let m = MatValue::Struct(vec![
        (
            "deviceID".into(),
            MatValue::scalar(f64::from(meta.device_id)),
        ),
        (
            "deviceCode".into(),
            MatValue::Char(meta.device_code.clone()),
        ),
        (
            "deviceName".into(),
            MatValue::Char(meta.device_name.clone()),
        ),
        ("deviceCategory".into(), MatValue::Char("Hydrophone".into())),
        (
            "deviceCategoryCode".into(),
            MatValue::Char("HYDROPHONE".into()),
        ),
        (
            "locationCode".into(),
            MatValue::Char(meta.location_code.clone()),
        ),
        (
            "locationName".into(),
            MatValue::Char(meta.location_name.clone()),
        ),
        ("lat".into(), MatValue::scalar(meta.lat)),
        ("lon".into(), MatValue::scalar(meta.lon)),
        ("depth".into(), MatValue::scalar(meta.depth)),
        (
            "sampleRate".into(),
            MatValue::scalar(f64::from(spec.sample_rate)),
        ),
        ("dateFrom".into(), MatValue::Char(start.to_onc_string())),
        ("dateTo".into(), MatValue::Char(end.to_onc_string())),
        (
            "creationDate".into(),
            MatValue::Char(meta.creation_date.to_onc_string()),
        ),
        ("citation".into(), MatValue::Char(meta.citation.clone())),
    ]);
    vec![("SpectData".into(), spect), ("Meta".into(), m)]
}

/// An encoded HSD MAT file.
pub fn hsd_mat(
    spec: &SignalSpec,
    start: UtcInstant,
    frames: usize,
    res: Resolution,
    meta: &MatMeta,
) -> Result<Vec<u8>, FormatError> {
    // dB doubles barely compress (< 10 % smaller) while zlib costs seconds per file at full
    // resolution: only the small one-minute product is compressed.
    let compress = res == Resolution::Minute;
    encode_mat(&hsd_mat_vars(spec, start, frames, res, meta), compress)
}

/// The HSD plot image.
#[must_use]
pub fn hsd_image(
    spec: &SignalSpec,
    start: UtcInstant,
    frames: usize,
    opts: &RenderOptions,
) -> crate::formats::Image {
    let info = span_info(spec, start);
    let pcm = samples_at(spec, info.first_index, frames);
    let mut opts = opts.clone();
    if opts.header.is_empty() {
        opts.header = vec![
            format!("{}  (SIMULATED)", spec.device_code),
            format!(
                "START TIME: {} UTC",
                start.to_datetime().format("%Y-%m-%d %H:%M:%S%.3f")
            ),
        ];
    }
    if opts.footer.is_empty() {
        opts.footer = vec![format!(
            "COMMENTS: HANN WINDOW WITH 50% OVERLAP, {} SAMPLES PER FFT WINDOW. SAMPLE RATE: {} HZ. \
             SYNTHETIC DATA (HYDROFETCH SIMULATOR).",
            super::spectro::nfft_for(spec.sample_rate),
            spec.sample_rate
        )];
    }
    render::render(&pcm, &info, &opts)
}

/// An encoded HSD PNG file.
pub fn hsd_png(
    spec: &SignalSpec,
    start: UtcInstant,
    frames: usize,
    opts: &RenderOptions,
) -> Result<Vec<u8>, FormatError> {
    encode_png(&hsd_image(spec, start, frames, opts))
}

/// Frames of a tiny audio placeholder (see [`tiny_product`]).
pub const TINY_FRAMES: usize = 16;

/// What a tiny placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TinyKind<'a> {
    /// Audio in this container.
    Audio(AudioExt),
    /// An HSD MAT at this resolution.
    Mat(Resolution, &'a MatMeta),
    /// An HSD PNG.
    Png,
}

/// A tiny but valid placeholder of a product (`hydrofetch sim --tiny`): a few hundred bytes
/// that decode as the right format, so that orchestration can be measured apart from data
/// generation. Audio: the first [`TINY_FRAMES`] samples of the real signal at the spec's
/// rate and depth. MAT: the real variable layout with a 2 × 2 PSD (0 Hz and the usable
/// limit, the file's first and last instants), compressed. PNG: an 8 × 8 black image.
pub fn tiny_product(
    spec: &SignalSpec,
    start: UtcInstant,
    frames: usize,
    kind: TinyKind<'_>,
) -> Result<Vec<u8>, FormatError> {
    match kind {
        TinyKind::Audio(ext) => audio_file(spec, start, TINY_FRAMES.min(frames.max(1)), ext),
        TinyKind::Mat(res, meta) => {
            let day_ms = 86_400_000.0;
            #[expect(clippy::cast_precision_loss, reason = "instants are far below 2^53 ms")]
            let datenum = |t: UtcInstant| {
                t.unix_millis() as f64 / day_ms + super::spectro::DATENUM_UNIX_EPOCH
            };
            let end = start.add_millis(
                i64::try_from(frames).unwrap_or(0) * 1000 / i64::from(spec.sample_rate.max(1)),
            );
            let top = f64::from(spec.sample_rate) * 0.4;
            let parts = SpectParts {
                psd: MatValue::matrix(2, 2, vec![60.0; 4]),
                frequency: MatValue::matrix(2, 1, vec![0.0, top]),
                time: MatValue::row(vec![datenum(start), datenum(end)]),
                comment: "Tiny placeholder (hydrofetch simulator --tiny).".into(),
            };
            encode_mat(&mat_vars_from(spec, start, frames, res, meta, parts), true)
        }
        TinyKind::Png => encode_png(&crate::formats::Image::new_rgb(8, 8)),
    }
}
