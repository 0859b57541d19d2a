//! Deterministic sample files for interop checks (`hydrofetch debug write-sample`).
//!
//! Each kind's content follows a simple integer formula that another tool can recompute
//! exactly; `tests/python/check_formats.py` repeats these formulas, so change both together.
//! - Audio: frame `i`, channel `c`: integer PCM `((i*7919 + c*104729) mod 2^bits) - 2^(bits-1)`
//!   (covers the whole range), float `(((i*31 + c*17) mod 2001) - 1000) / 1024` (exact in f32).
//! - MAT: see [`mat_sample`]. PNG: pixel `(x, y)` = `[(x*31 ^ y*17) & 255, (x + 2y) & 255,
//!   (x*y) & 255, (255 - x) & 255]`, the first three for RGB.

#![expect(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    reason = "codec and container arithmetic: sample, frame and byte counts are range-checked against the format's limits before these casts"
)]

use super::audio::{Audio, AudioSpec, SampleFormat, Samples};
use super::image::Image;
use super::mat::{IntClass, MatValue};

/// The kinds of sample file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum SampleKind {
    /// 16-bit stereo WAV, 48 kHz, 10 000 frames.
    Wav16,
    /// 24-bit 3-channel WAV, 64 kHz, 10 000 frames.
    Wav24,
    /// 32-bit float stereo WAV, 48 kHz, 10 000 frames.
    WavFloat,
    /// 16-bit stereo FLAC, 48 kHz, 20 000 frames.
    Flac16,
    /// 24-bit mono FLAC, 64 kHz, 70 000 frames.
    Flac24,
    /// MAT v5, uncompressed.
    Mat,
    /// MAT v5, every variable zlib-compressed.
    MatCompressed,
    /// 37×23 RGB PNG.
    PngRgb,
    /// 37×23 RGBA PNG.
    PngRgba,
}

/// Integer PCM sample content (see the module doc).
#[must_use]
pub fn int_audio(sample_rate: u32, channels: u16, bits: u16, frames: u64) -> Audio {
    let modulus = 1i64 << bits;
    let half = 1i64 << (bits - 1);
    let mut v = Vec::with_capacity((frames * u64::from(channels)) as usize);
    for i in 0..frames as i64 {
        for c in 0..i64::from(channels) {
            v.push(((i * 7919 + c * 104_729).rem_euclid(modulus) - half) as i32);
        }
    }
    Audio {
        spec: AudioSpec {
            sample_rate,
            channels,
            bits_per_sample: bits,
            format: SampleFormat::Int,
        },
        samples: Samples::Int(v),
    }
}

/// Float sample content (see the module doc).
#[must_use]
pub fn float_audio(sample_rate: u32, channels: u16, frames: u64) -> Audio {
    let mut v = Vec::with_capacity((frames * u64::from(channels)) as usize);
    for i in 0..frames as i64 {
        for c in 0..i64::from(channels) {
            v.push((((i * 31 + c * 17) % 2001) - 1000) as f32 / 1024.0);
        }
    }
    Audio {
        spec: AudioSpec {
            sample_rate,
            channels,
            bits_per_sample: 32,
            format: SampleFormat::Float,
        },
        samples: Samples::Float(v),
    }
}

/// MAT sample content:
/// - `PSD`: 300×7 double, element (r, c) = ((7r + 3c) mod 101) / 8, except (1,0) = NaN and
///   (2,0) = -Inf;
/// - `freq`: 300×1 double, r * 10;
/// - `label`: char "hydrofetch sample é";
/// - `S`: struct { a: 1.5, txt: "x", inner: struct { v: int32 [-2147483648 0 2147483647],
///   flag: logical [1 0], s: single [0.25 -2.5], u: uint8 [0 255] } }.
#[must_use]
pub fn mat_sample() -> Vec<(String, MatValue)> {
    let (rows, cols) = (300usize, 7usize);
    let mut psd = Vec::with_capacity(rows * cols);
    for c in 0..cols {
        for r in 0..rows {
            psd.push(((7 * r + 3 * c) % 101) as f64 / 8.0);
        }
    }
    psd[1] = f64::NAN;
    psd[2] = f64::NEG_INFINITY;
    let inner = MatValue::Struct(vec![
        (
            "v".into(),
            MatValue::Int {
                class: IntClass::Int32,
                dims: vec![1, 3],
                data: vec![-2_147_483_648, 0, 2_147_483_647],
            },
        ),
        (
            "flag".into(),
            MatValue::Logical {
                dims: vec![1, 2],
                data: vec![true, false],
            },
        ),
        (
            "s".into(),
            MatValue::Single {
                dims: vec![1, 2],
                data: vec![0.25, -2.5],
            },
        ),
        (
            "u".into(),
            MatValue::Int {
                class: IntClass::UInt8,
                dims: vec![1, 2],
                data: vec![0, 255],
            },
        ),
    ]);
    vec![
        ("PSD".into(), MatValue::matrix(rows, cols, psd)),
        (
            "freq".into(),
            MatValue::Double {
                dims: vec![rows, 1],
                data: (0..rows).map(|r| r as f64 * 10.0).collect(),
            },
        ),
        ("label".into(), MatValue::Char("hydrofetch sample é".into())),
        (
            "S".into(),
            MatValue::Struct(vec![
                ("a".into(), MatValue::scalar(1.5)),
                ("txt".into(), MatValue::Char("x".into())),
                ("inner".into(), inner),
            ]),
        ),
    ]
}

/// PNG sample content (see the module doc).
#[must_use]
pub fn png_sample(channels: u8) -> Image {
    let (w, h) = (37u32, 23u32);
    let mut data = Vec::with_capacity((w * h) as usize * usize::from(channels));
    for y in 0..h {
        for x in 0..w {
            let px = [
                ((x * 31) ^ (y * 17)) & 255,
                (x + 2 * y) & 255,
                (x * y) & 255,
                (255 - x) & 255,
            ];
            data.extend(px.iter().take(usize::from(channels)).map(|&b| b as u8));
        }
    }
    Image {
        width: w,
        height: h,
        channels,
        data,
    }
}
