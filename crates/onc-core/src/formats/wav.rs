//! WAV (RIFF/WAVE) read and write through `hound`.
//!
//! Supported: integer PCM of 8..=32 bits (written as 16 or 24 bits in practice) and 32-bit
//! IEEE float, any channel count. Decisions recorded here: the writer validates samples against
//! the spec first (hound would silently truncate out-of-range values); reads pre-allocate at most
//! what the file's real size can hold, so a lying `data` chunk length cannot force a huge
//! allocation; span reads seek with hound and decode only the requested frames.

use super::audio::{Audio, AudioInfo, AudioSpec, SampleFormat, Samples, check_span};
use super::error::{FormatError, FormatKind};
use crate::atomic::write_atomic_with;
use std::io::{BufReader, BufWriter, Cursor, Read, Seek, Write};
use std::path::Path;

const KIND: FormatKind = FormatKind::Wav;

fn hound_err(e: hound::Error) -> FormatError {
    match e {
        hound::Error::Unsupported => FormatError::unsupported(KIND, "this wav encoding"),
        hound::Error::FormatError(msg) => FormatError::invalid(KIND, msg),
        other => FormatError::codec(KIND, other),
    }
}

fn hound_spec(spec: &AudioSpec) -> hound::WavSpec {
    hound::WavSpec {
        channels: spec.channels,
        sample_rate: spec.sample_rate,
        bits_per_sample: spec.bits_per_sample,
        sample_format: match spec.format {
            SampleFormat::Int => hound::SampleFormat::Int,
            SampleFormat::Float => hound::SampleFormat::Float,
        },
    }
}

fn our_spec(spec: hound::WavSpec) -> AudioSpec {
    AudioSpec {
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        bits_per_sample: spec.bits_per_sample,
        format: match spec.sample_format {
            hound::SampleFormat::Int => SampleFormat::Int,
            hound::SampleFormat::Float => SampleFormat::Float,
        },
    }
}

fn write_to<W: Write + Seek>(sink: W, audio: &Audio) -> Result<(), FormatError> {
    let mut w = hound::WavWriter::new(sink, hound_spec(&audio.spec)).map_err(hound_err)?;
    match &audio.samples {
        Samples::Int(v) => {
            for &x in v {
                w.write_sample(x).map_err(hound_err)?;
            }
        }
        Samples::Float(v) => {
            for &x in v {
                w.write_sample(x).map_err(hound_err)?;
            }
        }
    }
    w.finalize().map_err(hound_err)
}

/// Encodes audio as a WAV file in memory.
pub fn encode_wav(audio: &Audio) -> Result<Vec<u8>, FormatError> {
    audio.validate(KIND)?;
    let mut cur = Cursor::new(Vec::new());
    write_to(&mut cur, audio)?;
    Ok(cur.into_inner())
}

/// Writes audio as a WAV file, atomically.
pub fn write_wav(path: &Path, audio: &Audio) -> Result<(), FormatError> {
    audio.validate(KIND)?;
    write_atomic_with(
        path,
        |file, _| write_to(BufWriter::with_capacity(1 << 20, file), audio),
        |p, e| FormatError::io(p, e),
    )
}

type FileReader = hound::WavReader<BufReader<std::fs::File>>;

fn open(path: &Path) -> Result<(FileReader, u64), FormatError> {
    let file = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let len = file.metadata().map_err(|e| FormatError::io(path, e))?.len();
    let mut head = [0u8; 12];
    let mut probe = BufReader::new(file);
    if probe.read_exact(&mut head).is_err() || &head[..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Err(FormatError::BadMagic { expected: KIND });
    }
    probe.rewind().map_err(|e| FormatError::io(path, e))?;
    let reader = hound::WavReader::new(probe).map_err(hound_err)?;
    Ok((reader, len))
}

fn read_samples(
    reader: &mut FileReader,
    count: u64,
    file_len: u64,
) -> Result<Samples, FormatError> {
    let spec = reader.spec();
    let bytes_per_sample = u64::from(spec.bits_per_sample.div_ceil(8).max(1));
    let cap = usize::try_from(count.min(file_len / bytes_per_sample)).unwrap_or(0);
    let want =
        usize::try_from(count).map_err(|_| FormatError::invalid(KIND, "sample count overflows"))?;
    match spec.sample_format {
        hound::SampleFormat::Int => {
            let mut v = Vec::with_capacity(cap);
            for s in reader.samples::<i32>().take(want) {
                v.push(s.map_err(hound_err)?);
            }
            if v.len() != want {
                return Err(FormatError::Truncated {
                    format: KIND,
                    offset: file_len,
                    needed: (want - v.len()) as u64 * bytes_per_sample,
                });
            }
            Ok(Samples::Int(v))
        }
        hound::SampleFormat::Float => {
            let mut v = Vec::with_capacity(cap);
            for s in reader.samples::<f32>().take(want) {
                v.push(s.map_err(hound_err)?);
            }
            if v.len() != want {
                return Err(FormatError::Truncated {
                    format: KIND,
                    offset: file_len,
                    needed: (want - v.len()) as u64 * bytes_per_sample,
                });
            }
            Ok(Samples::Float(v))
        }
    }
}

/// Reads the spec and frame count of a WAV file.
pub fn probe_wav(path: &Path) -> Result<AudioInfo, FormatError> {
    let (reader, _) = open(path)?;
    Ok(AudioInfo {
        spec: our_spec(reader.spec()),
        total_frames: u64::from(reader.duration()),
    })
}

/// Reads a whole WAV file.
pub fn read_wav(path: &Path) -> Result<Audio, FormatError> {
    let (mut reader, len) = open(path)?;
    let spec = our_spec(reader.spec());
    let count = u64::from(reader.len());
    let samples = read_samples(&mut reader, count, len)?;
    Ok(Audio { spec, samples })
}

/// Reads `frames` frames starting at `start_frame`, seeking past the rest.
pub fn read_wav_span(path: &Path, start_frame: u64, frames: u64) -> Result<Audio, FormatError> {
    let (mut reader, len) = open(path)?;
    let spec = our_spec(reader.spec());
    check_span(start_frame, frames, u64::from(reader.duration()))?;
    let start = u32::try_from(start_frame).map_err(|_| FormatError::SpanOutOfRange {
        start: start_frame,
        frames,
        total: u64::from(reader.duration()),
    })?;
    reader.seek(start).map_err(|e| FormatError::io(path, e))?;
    let samples = read_samples(&mut reader, frames * u64::from(spec.channels), len)?;
    Ok(Audio { spec, samples })
}
