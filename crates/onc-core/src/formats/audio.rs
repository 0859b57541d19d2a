//! Audio sample containers shared by the WAV and FLAC modules, and format sniffing.
//!
//! Decisions recorded here: samples are always interleaved frames; integer PCM is held as
//! `i32` at its native scale (a 24-bit sample lies in `-8_388_608..=8_388_607`, never shifted to
//! 32 bits), so WAV and FLAC values compare directly; float audio is `f32` (WAV only).
//! [`probe_audio`] picks WAV or FLAC by the file's first bytes, never by its extension.

use super::error::{FormatError, FormatKind};
use std::io::Read;
use std::path::Path;

/// Integer PCM or IEEE float samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// Signed integer PCM (8..=32 bits).
    Int,
    /// IEEE 754 float (32 bits).
    Float,
}

/// The shape of an audio stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioSpec {
    /// Frames per second.
    pub sample_rate: u32,
    /// Channels per frame.
    pub channels: u16,
    /// Bits per sample (16 or 24 for integer PCM, 32 for float).
    pub bits_per_sample: u16,
    /// Integer or float samples.
    pub format: SampleFormat,
}

/// Interleaved samples.
#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    /// Integer samples at their native scale.
    Int(Vec<i32>),
    /// Float samples.
    Float(Vec<f32>),
}

impl Samples {
    /// Number of samples (frames × channels).
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::Int(v) => v.len(),
            Self::Float(v) => v.len(),
        }
    }

    /// True if there are no samples.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Decoded audio: a spec plus interleaved samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// The stream's shape.
    pub spec: AudioSpec,
    /// Interleaved samples.
    pub samples: Samples,
}

impl Audio {
    /// Number of frames (samples per channel).
    #[must_use]
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.spec.channels.max(1))
    }

    /// Checks that spec and samples agree (format, whole frames, sample range).
    pub fn validate(&self, format: FormatKind) -> Result<(), FormatError> {
        let s = &self.spec;
        if s.channels == 0 {
            return Err(FormatError::invalid(format, "zero channels"));
        }
        if s.sample_rate == 0 {
            return Err(FormatError::invalid(format, "zero sample rate"));
        }
        if !self.samples.len().is_multiple_of(usize::from(s.channels)) {
            return Err(FormatError::invalid(
                format,
                format!(
                    "{} samples is not a whole number of {}-channel frames",
                    self.samples.len(),
                    s.channels
                ),
            ));
        }
        match (&self.samples, s.format) {
            (Samples::Int(v), SampleFormat::Int) => {
                if !(8..=32).contains(&s.bits_per_sample) {
                    return Err(FormatError::invalid(
                        format,
                        format!("{} bits per integer sample", s.bits_per_sample),
                    ));
                }
                let max = (1i64 << (s.bits_per_sample - 1)) - 1;
                let min = -(1i64 << (s.bits_per_sample - 1));
                if let Some(bad) = v
                    .iter()
                    .find(|&&x| i64::from(x) > max || i64::from(x) < min)
                {
                    return Err(FormatError::invalid(
                        format,
                        format!("sample {bad} does not fit in {} bits", s.bits_per_sample),
                    ));
                }
                Ok(())
            }
            (Samples::Float(_), SampleFormat::Float) if s.bits_per_sample == 32 => Ok(()),
            (Samples::Float(_), SampleFormat::Float) => Err(FormatError::unsupported(
                format,
                format!("{}-bit float samples", s.bits_per_sample),
            )),
            _ => Err(FormatError::invalid(
                format,
                "sample vector does not match the spec's sample format",
            )),
        }
    }
}

/// What a file holds, without decoding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioInfo {
    /// The stream's shape.
    pub spec: AudioSpec,
    /// Frames in the file.
    pub total_frames: u64,
}

/// Which audio container a file holds, judged by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioContainer {
    /// RIFF/WAVE.
    Wav,
    /// Native FLAC.
    Flac,
}

/// Sniffs the container from the first bytes of a file.
pub fn sniff_audio(path: &Path) -> Result<AudioContainer, FormatError> {
    let mut head = [0u8; 12];
    let mut file = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let mut n = 0;
    while n < head.len() {
        let got = file
            .read(&mut head[n..])
            .map_err(|e| FormatError::io(path, e))?;
        if got == 0 {
            break;
        }
        n += got;
    }
    if n >= 4 && &head[..4] == b"fLaC" {
        Ok(AudioContainer::Flac)
    } else if n >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WAVE" {
        Ok(AudioContainer::Wav)
    } else {
        Err(FormatError::BadMagic {
            expected: FormatKind::Audio,
        })
    }
}

/// Reads the spec and length of a WAV or FLAC file (chosen by content).
pub fn probe_audio(path: &Path) -> Result<AudioInfo, FormatError> {
    match sniff_audio(path)? {
        AudioContainer::Wav => super::wav::probe_wav(path),
        AudioContainer::Flac => super::flac::probe_flac(path),
    }
}

/// Checks a span request against the file length and returns the span's end frame.
pub(crate) fn check_span(start: u64, frames: u64, total: u64) -> Result<u64, FormatError> {
    match start.checked_add(frames) {
        Some(end) if end <= total => Ok(end),
        _ => Err(FormatError::SpanOutOfRange {
            start,
            frames,
            total,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(bits: u16, format: SampleFormat) -> AudioSpec {
        AudioSpec {
            sample_rate: 8000,
            channels: 2,
            bits_per_sample: bits,
            format,
        }
    }

    #[test]
    fn frames_counts_per_channel() {
        let a = Audio {
            spec: spec(16, SampleFormat::Int),
            samples: Samples::Int(vec![0; 10]),
        };
        assert_eq!(a.frames(), 5);
        a.validate(FormatKind::Wav).unwrap();
    }

    #[test]
    fn validate_rejects_out_of_range_and_partial_frames() {
        let a = Audio {
            spec: spec(16, SampleFormat::Int),
            samples: Samples::Int(vec![40_000, 0]),
        };
        assert!(matches!(
            a.validate(FormatKind::Flac),
            Err(FormatError::Invalid { .. })
        ));
        let a = Audio {
            spec: spec(24, SampleFormat::Int),
            samples: Samples::Int(vec![1, 2, 3]),
        };
        assert!(matches!(
            a.validate(FormatKind::Flac),
            Err(FormatError::Invalid { .. })
        ));
        let a = Audio {
            spec: spec(24, SampleFormat::Int),
            samples: Samples::Float(vec![0.0; 2]),
        };
        assert!(matches!(
            a.validate(FormatKind::Flac),
            Err(FormatError::Invalid { .. })
        ));
        let a = Audio {
            spec: spec(24, SampleFormat::Int),
            samples: Samples::Int(vec![-8_388_608, 8_388_607]),
        };
        a.validate(FormatKind::Flac).unwrap();
    }

    #[test]
    fn span_checks() {
        assert_eq!(check_span(0, 10, 10).unwrap(), 10);
        assert!(check_span(5, 6, 10).is_err());
        assert!(check_span(u64::MAX, 2, 10).is_err());
    }
}
