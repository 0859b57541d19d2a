//! Describing a WAV, FLAC, MAT or PNG file, for `hydrofetch debug inspect`.
//!
//! The file type is sniffed from content. The JSON form carries enough to compare values
//! exactly from another tool: interleaved audio samples, every MAT value (column-major data,
//! text, nested fields in order; NaN and infinities as the strings `"NaN"`, `"Infinity"`,
//! `"-Infinity"` since JSON has no such numbers), and a SHA-256 of PNG pixels in row-major
//! RGB/RGBA order.

#![expect(
    clippy::cast_precision_loss,
    reason = "codec and container arithmetic: sample, frame and byte counts are range-checked against the format's limits before these casts"
)]

use super::audio::{Audio, SampleFormat, Samples};
use super::error::{FormatError, FormatKind};
use super::image::{Image, decode_png};
use super::mat::{MatValue, decode_mat};
use super::{read_flac, read_wav};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;

/// A decoded file of any supported type.
#[derive(Debug, Clone)]
pub enum Inspected {
    /// A WAV file.
    Wav(Audio),
    /// A FLAC file.
    Flac(Audio),
    /// A MAT v5 file's variables.
    Mat(Vec<(String, MatValue)>),
    /// A PNG image.
    Png(Image),
}

/// Sniffs a file's type from its first bytes.
pub fn sniff(path: &Path) -> Result<FormatKind, FormatError> {
    let mut head = Vec::with_capacity(128);
    std::fs::File::open(path)
        .and_then(|f| f.take(128).read_to_end(&mut head))
        .map_err(|e| FormatError::io(path, e))?;
    Ok(if head.starts_with(b"fLaC") {
        FormatKind::Flac
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WAVE") {
        FormatKind::Wav
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        FormatKind::Png
    } else if head.len() == 128 && matches!(&head[126..128], b"IM" | b"MI") {
        FormatKind::Mat
    } else {
        return Err(FormatError::BadMagic {
            expected: FormatKind::Any,
        });
    })
}

/// Reads and decodes a file of any supported type.
pub fn inspect(path: &Path) -> Result<Inspected, FormatError> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| FormatError::io(p, e));
    Ok(match sniff(path)? {
        FormatKind::Wav => Inspected::Wav(read_wav(path)?),
        FormatKind::Flac => Inspected::Flac(read_flac(path)?),
        FormatKind::Png => Inspected::Png(decode_png(&read(path)?)?),
        _ => Inspected::Mat(decode_mat(&read(path)?)?),
    })
}

fn float(v: f64) -> Value {
    if v.is_nan() {
        json!("NaN")
    } else if v.is_infinite() {
        json!(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(v)
    }
}

fn audio_json(kind: &str, a: &Audio) -> Value {
    let samples = match &a.samples {
        Samples::Int(v) => Value::from(v.clone()),
        Samples::Float(v) => Value::Array(v.iter().map(|&x| float(f64::from(x))).collect()),
    };
    json!({
        "type": kind,
        "sample_rate": a.spec.sample_rate,
        "channels": a.spec.channels,
        "bits_per_sample": a.spec.bits_per_sample,
        "format": if a.spec.format == SampleFormat::Int { "int" } else { "float" },
        "frames": a.frames(),
        "samples": samples,
    })
}

/// The JSON form of one MAT value.
#[must_use]
pub fn mat_value_json(v: &MatValue) -> Value {
    let mut o = Map::new();
    o.insert("class".into(), json!(v.class_name()));
    o.insert("dims".into(), json!(v.dims()));
    match v {
        MatValue::Double { data, .. } => {
            o.insert(
                "data".into(),
                Value::Array(data.iter().map(|&x| float(x)).collect()),
            );
        }
        MatValue::Single { data, .. } => {
            o.insert(
                "data".into(),
                Value::Array(data.iter().map(|&x| float(f64::from(x))).collect()),
            );
        }
        MatValue::Int { data, .. } => {
            o.insert("data".into(), json!(data));
        }
        MatValue::Logical { data, .. } => {
            o.insert("data".into(), json!(data));
        }
        MatValue::Char(s) => {
            o.insert("text".into(), json!(s));
        }
        MatValue::Struct(fields) => {
            let f: Map<String, Value> = fields
                .iter()
                .map(|(n, v)| (n.clone(), mat_value_json(v)))
                .collect();
            o.insert("fields".into(), Value::Object(f));
        }
        MatValue::Cell { data, .. } => {
            o.insert(
                "data".into(),
                Value::Array(data.iter().map(mat_value_json).collect()),
            );
        }
    }
    Value::Object(o)
}

impl Inspected {
    /// The JSON description (see the module doc).
    #[must_use]
    pub fn to_json(&self) -> Value {
        match self {
            Self::Wav(a) => audio_json("wav", a),
            Self::Flac(a) => audio_json("flac", a),
            Self::Mat(vars) => {
                let v: Map<String, Value> = vars
                    .iter()
                    .map(|(n, v)| (n.clone(), mat_value_json(v)))
                    .collect();
                json!({ "type": "mat", "variables": Value::Object(v) })
            }
            Self::Png(img) => json!({
                "type": "png",
                "width": img.width,
                "height": img.height,
                "channels": img.channels,
                "pixels_sha256": hex::encode(Sha256::digest(&img.data)),
            }),
        }
    }

    /// A short human-readable description.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        match self {
            Self::Wav(a) | Self::Flac(a) => {
                let kind = if matches!(self, Self::Wav(_)) {
                    "wav"
                } else {
                    "flac"
                };
                let fmt = if a.spec.format == SampleFormat::Int {
                    "int"
                } else {
                    "float"
                };
                let _ = writeln!(
                    s,
                    "{kind}: {} Hz, {} channel(s), {}-bit {fmt}, {} frames ({:.3} s)",
                    a.spec.sample_rate,
                    a.spec.channels,
                    a.spec.bits_per_sample,
                    a.frames(),
                    a.frames() as f64 / f64::from(a.spec.sample_rate.max(1)),
                );
            }
            Self::Mat(vars) => {
                let _ = writeln!(s, "mat: {} variable(s)", vars.len());
                for (n, v) in vars {
                    describe(&mut s, n, v, 1);
                }
            }
            Self::Png(img) => {
                let _ = writeln!(
                    s,
                    "png: {}x{}, {} channels",
                    img.width, img.height, img.channels
                );
            }
        }
        s
    }
}

fn describe(s: &mut String, name: &str, v: &MatValue, depth: usize) {
    let dims: Vec<String> = v.dims().iter().map(ToString::to_string).collect();
    let pad = "  ".repeat(depth);
    let extra = match v {
        MatValue::Char(t) if t.chars().count() <= 60 => format!(" {t:?}"),
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "{pad}{name}: {} {}{extra}",
        v.class_name(),
        dims.join("x")
    );
    if let MatValue::Struct(fields) = v {
        for (n, f) in fields {
            describe(s, n, f, depth + 1);
        }
    }
}
