//! FLAC encode (flac-codec) and decode with seeking (symphonia).
//!
//! Decisions recorded here:
//! - Encoding uses `flac-codec` 1.3, not `flacenc` (its STREAMINFO minimum block size is out of
//!   spec and symphonia refuses the files). Options, chosen by `benches/formats.rs` on 5 minutes
//!   of 64 kHz 24-bit mono: see [`encoder_options`]. A seek table point every 10 s is written so
//!   decoders can seek without scanning, and no padding block (outputs are final, never tagged).
//! - Decoding uses symphonia's FLAC reader and decoder directly (no probe: the magic is checked
//!   first). Symphonia returns samples scaled to 32 bits; they are shifted back to their native
//!   width so a 24-bit sample reads as it was written.
//! - Span reads seek (symphonia binary-searches frames, refined by the seek table) and then
//!   decode packet by packet, keeping only the requested frames: memory is bounded by the span,
//!   never by the file. Full reads verify the STREAMINFO MD5 when the file has one.
//! - Only integer PCM of 8..=32 bits is accepted (16 and 24 bits in practice).

use super::audio::{Audio, AudioInfo, AudioSpec, SampleFormat, Samples, check_span};
use super::error::{FormatError, FormatKind};
use crate::atomic::write_atomic_with;
use flac_codec::encode::{FlacSampleWriter, Options};
use std::io::{BufWriter, Cursor, Read, Seek, Write};
use std::path::Path;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::units::Timestamp;
use symphonia::default::codecs::FlacDecoder;
use symphonia::default::formats::FlacReader;

const KIND: FormatKind = FormatKind::Flac;

/// Samples handed to the encoder per call (bounded copy inside flac-codec).
const WRITE_CHUNK_FRAMES: usize = 64 * 1024;

/// The encoder settings: 4096-frame blocks, LPC up to order 12, Rice partition order up to 5,
/// mid/side stereo decorrelation, seek points every 10 s, no padding.
///
/// Chosen with `cargo bench --bench formats -- explore` on 5 minutes of 64 kHz 24-bit mono
/// (release build, busy 2-core machine, so times are ±20 %): flac-codec's defaults (LPC 8) took
/// about 2.1-2.3 s at ratio 0.676; LPC 12 took the same time within noise at ratio 0.652;
/// partition order 6 added time for no gain; `fast()` (1152-frame blocks, fixed predictors) was
/// about 1.2-1.4 s but at ratio 0.869. The reference `flac -5` gives ratio 0.677.
pub fn encoder_options() -> Result<Options, FormatError> {
    let bad = |e: flac_codec::encode::OptionsError| FormatError::invalid(KIND, e.to_string());
    Ok(Options::default()
        .block_size(4096)
        .map_err(bad)?
        .max_lpc_order(Some(12))
        .map_err(bad)?
        .max_partition_order(5)
        .map_err(bad)?
        .mid_side(true)
        .seektable_seconds(10)
        .no_padding())
}

/// The faster settings of hydrofetch's own FLAC writes ([`write_flac`]: clips, debug
/// samples): 4096-frame blocks, fixed predictors only (no LPC search), Rice partition order up
/// to 4, no mid/side search, seek points every 10 s, no padding. Still a subset stream that
/// `flac -t` accepts.
///
/// Chosen with `cargo bench --bench clip` (it prints both presets' time and size on the same
/// 30 s of 64 kHz 24-bit audio). The simulator keeps [`encoder_options`] (its files are
/// pinned by content hashes, and archive files are generated once and cached).
pub fn fast_encoder_options() -> Result<Options, FormatError> {
    let bad = |e: flac_codec::encode::OptionsError| FormatError::invalid(KIND, e.to_string());
    Ok(Options::default()
        .block_size(4096)
        .map_err(bad)?
        .max_lpc_order(None)
        .map_err(bad)?
        .max_partition_order(4)
        .map_err(bad)?
        .mid_side(false)
        .fast_channel_correlation(true)
        .seektable_seconds(10)
        .no_padding())
}

fn check_encodable(audio: &Audio) -> Result<(), FormatError> {
    audio.validate(KIND)?;
    if audio.spec.format != SampleFormat::Int {
        return Err(FormatError::unsupported(
            KIND,
            "float samples (flac holds integer pcm only)",
        ));
    }
    if audio.spec.channels > 8 {
        return Err(FormatError::unsupported(
            KIND,
            format!("{} channels (at most 8)", audio.spec.channels),
        ));
    }
    if audio.spec.sample_rate >= 1 << 20 {
        return Err(FormatError::unsupported(
            KIND,
            format!("sample rate {}", audio.spec.sample_rate),
        ));
    }
    Ok(())
}

fn encode_to<W: Write + Seek>(sink: W, audio: &Audio, options: Options) -> Result<(), FormatError> {
    let Samples::Int(samples) = &audio.samples else {
        return Err(FormatError::unsupported(
            KIND,
            "float samples (flac holds integer pcm only)",
        ));
    };
    let spec = audio.spec;
    let channels = u8::try_from(spec.channels)
        .map_err(|_| FormatError::unsupported(KIND, "more than 8 channels"))?;
    let total = if samples.is_empty() {
        None
    } else {
        Some(samples.len() as u64)
    };
    let codec = |e: flac_codec::Error| FormatError::codec(KIND, e);
    let mut w = FlacSampleWriter::new(
        sink,
        options,
        spec.sample_rate,
        u32::from(spec.bits_per_sample),
        channels,
        total,
    )
    .map_err(codec)?;
    for chunk in samples.chunks(WRITE_CHUNK_FRAMES * usize::from(channels)) {
        w.write(chunk).map_err(codec)?;
    }
    w.finalize().map_err(codec)
}

/// Encodes integer PCM audio as a FLAC file in memory.
pub fn encode_flac(audio: &Audio) -> Result<Vec<u8>, FormatError> {
    encode_flac_with(audio, encoder_options()?)
}

/// Encodes integer PCM arriving in pieces (interleaved, whole frames each, `total_frames`
/// in all) as a FLAC file in memory with [`encoder_options`]: the same bytes as
/// [`encode_flac`] on the joined samples, but the caller can make the next piece while this
/// one is encoded, and the whole signal is never held at once. Each piece is checked like a
/// whole [`Audio`]; a total that differs from the pieces' is an error.
pub fn encode_flac_pieces<I>(
    spec: AudioSpec,
    total_frames: u64,
    pieces: I,
) -> Result<Vec<u8>, FormatError>
where
    I: IntoIterator<Item = Vec<i32>>,
{
    let channels = u8::try_from(spec.channels)
        .map_err(|_| FormatError::unsupported(KIND, "more than 8 channels"))?;
    check_encodable(&Audio {
        spec,
        samples: Samples::Int(Vec::new()),
    })?;
    let codec = |e: flac_codec::Error| FormatError::codec(KIND, e);
    let mut cur = Cursor::new(Vec::new());
    let mut w = FlacSampleWriter::new(
        &mut cur,
        encoder_options()?,
        spec.sample_rate,
        u32::from(spec.bits_per_sample),
        channels,
        (total_frames > 0).then_some(total_frames),
    )
    .map_err(codec)?;
    for piece in pieces {
        let a = Audio {
            spec,
            samples: Samples::Int(piece),
        };
        check_encodable(&a)?;
        if let Samples::Int(v) = &a.samples {
            for chunk in v.chunks(WRITE_CHUNK_FRAMES * usize::from(channels)) {
                w.write(chunk).map_err(codec)?;
            }
        }
    }
    w.finalize().map_err(codec)?;
    Ok(cur.into_inner())
}

/// Like [`encode_flac`] with explicit flac-codec options (for benchmarks and experiments).
pub fn encode_flac_with(audio: &Audio, options: Options) -> Result<Vec<u8>, FormatError> {
    check_encodable(audio)?;
    let mut cur = Cursor::new(Vec::new());
    encode_to(&mut cur, audio, options)?;
    Ok(cur.into_inner())
}

/// Writes integer PCM audio as a FLAC file, atomically, with [`fast_encoder_options`].
pub fn write_flac(path: &Path, audio: &Audio) -> Result<(), FormatError> {
    write_flac_with(path, audio, fast_encoder_options()?)
}

/// Like [`write_flac`] with explicit flac-codec options.
pub fn write_flac_with(path: &Path, audio: &Audio, options: Options) -> Result<(), FormatError> {
    check_encodable(audio)?;
    write_atomic_with(
        path,
        |file, tmp| {
            let mut buf = BufWriter::with_capacity(1 << 20, file);
            encode_to(&mut buf, audio, options)?;
            buf.flush().map_err(|e| FormatError::io(tmp, e))
        },
        |p, e| FormatError::io(p, e),
    )
}

fn sym_err(e: symphonia::core::errors::Error) -> FormatError {
    use symphonia::core::errors::Error as E;
    match e {
        E::Unsupported(what) => FormatError::unsupported(KIND, what),
        E::DecodeError(why) => FormatError::invalid(KIND, why),
        other => FormatError::codec(KIND, other),
    }
}

/// An open FLAC stream: demuxer, decoder and what STREAMINFO says.
struct Stream {
    reader: FlacReader<'static>,
    decoder: FlacDecoder,
    track_id: u32,
    spec: AudioSpec,
    total_frames: Option<u64>,
    file_len: u64,
}

fn open(path: &Path, verify: bool) -> Result<Stream, FormatError> {
    let mut file = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let file_len = file.metadata().map_err(|e| FormatError::io(path, e))?.len();
    let mut magic = [0u8; 4];
    if file.read_exact(&mut magic).is_err() || &magic != b"fLaC" {
        return Err(FormatError::BadMagic { expected: KIND });
    }
    super::flac_meta::check_metadata(&mut file, file_len)?;
    let mss = MediaSourceStream::new(
        Box::new(file),
        symphonia::core::io::MediaSourceStreamOptions::default(),
    );
    let reader = FlacReader::try_new(mss, FormatOptions::default()).map_err(sym_err)?;
    let track = reader
        .tracks()
        .first()
        .ok_or_else(|| FormatError::invalid(KIND, "no audio track"))?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| FormatError::invalid(KIND, "no audio codec parameters"))?;
    let sample_rate = params
        .sample_rate
        .ok_or_else(|| FormatError::invalid(KIND, "no sample rate"))?;
    let bits = params
        .bits_per_sample
        .ok_or_else(|| FormatError::invalid(KIND, "no bits per sample"))?;
    let channels = params
        .channels
        .as_ref()
        .map_or(0, symphonia::core::audio::Channels::count);
    if !(8..=32).contains(&bits) {
        return Err(FormatError::unsupported(
            KIND,
            format!("{bits} bits per sample"),
        ));
    }
    let channels = u16::try_from(channels)
        .ok()
        .filter(|&c| c > 0)
        .ok_or_else(|| FormatError::invalid(KIND, format!("{channels} channels")))?;
    let spec = AudioSpec {
        sample_rate,
        channels,
        bits_per_sample: u16::try_from(bits)
            .map_err(|_| FormatError::invalid(KIND, "bits per sample"))?,
        format: SampleFormat::Int,
    };
    let total_frames = track.num_frames;
    let track_id = track.id;
    let mut opts = AudioDecoderOptions::default();
    opts.verify = verify;
    let decoder = FlacDecoder::try_new(params, &opts).map_err(sym_err)?;
    Ok(Stream {
        reader,
        decoder,
        track_id,
        spec,
        total_frames,
        file_len,
    })
}

impl Stream {
    /// Decodes packets from the current position, keeping frames in `[start, end)`.
    /// `end == None` means "to the end of the stream".
    fn collect(
        &mut self,
        start: u64,
        end: Option<u64>,
        cap_samples: usize,
    ) -> Result<Vec<i32>, FormatError> {
        let ch = usize::from(self.spec.channels);
        let shift = 32 - u32::from(self.spec.bits_per_sample);
        let mut out = Vec::with_capacity(cap_samples);
        let mut tmp: Vec<i32> = Vec::new();
        while let Some(packet) = self.reader.next_packet().map_err(sym_err)? {
            if packet.track_id != self.track_id {
                continue;
            }
            let pts = u64::try_from(packet.pts.get())
                .map_err(|_| FormatError::invalid(KIND, "negative timestamp"))?;
            if end.is_some_and(|e| pts >= e) {
                break;
            }
            let buf = self.decoder.decode(&packet).map_err(sym_err)?;
            tmp.clear();
            buf.copy_to_vec_interleaved(&mut tmp);
            let n = (tmp.len() / ch) as u64;
            let lo = start.max(pts);
            let hi = end.map_or(pts + n, |e| e.min(pts + n));
            if hi > lo {
                let a = usize::try_from((lo - pts) * ch as u64).unwrap_or(usize::MAX);
                let b = usize::try_from((hi - pts) * ch as u64).unwrap_or(usize::MAX);
                if let Some(part) = tmp.get(a..b) {
                    out.extend(part.iter().map(|&s| s >> shift));
                }
            }
        }
        Ok(out)
    }

    fn capacity_hint(&self, frames: u64) -> usize {
        // Never trust STREAMINFO for the allocation: FLAC rarely beats 8:1 on real audio, and the
        // vector grows past the hint if it must.
        let bound = self.file_len.saturating_mul(8)
            / u64::from(self.spec.bits_per_sample.div_ceil(8).max(1));
        usize::try_from(
            frames
                .saturating_mul(u64::from(self.spec.channels))
                .min(bound),
        )
        .unwrap_or(0)
    }
}

/// Reads the spec and frame count of a FLAC file from its STREAMINFO block.
pub fn probe_flac(path: &Path) -> Result<AudioInfo, FormatError> {
    let s = open(path, false)?;
    let total_frames = s
        .total_frames
        .ok_or_else(|| FormatError::unsupported(KIND, "stream without a total sample count"))?;
    Ok(AudioInfo {
        spec: s.spec,
        total_frames,
    })
}

/// Reads a whole FLAC file, checking the MD5 signature when present.
pub fn read_flac(path: &Path) -> Result<Audio, FormatError> {
    let mut s = open(path, true)?;
    let cap = s.capacity_hint(s.total_frames.unwrap_or(0));
    let samples = s.collect(0, None, cap)?;
    if s.decoder.finalize().verify_ok == Some(false) {
        return Err(FormatError::invalid(
            KIND,
            "md5 signature does not match the decoded audio",
        ));
    }
    if let Some(total) = s.total_frames {
        let got = (samples.len() / usize::from(s.spec.channels)) as u64;
        if got != total {
            return Err(FormatError::Truncated {
                format: KIND,
                offset: s.file_len,
                needed: total - got.min(total),
            });
        }
    }
    Ok(Audio {
        spec: s.spec,
        samples: Samples::Int(samples),
    })
}

/// Reads `frames` frames starting at `start_frame`, seeking to the first needed FLAC frame.
pub fn read_flac_span(path: &Path, start_frame: u64, frames: u64) -> Result<Audio, FormatError> {
    let mut s = open(path, false)?;
    let total = s.total_frames.ok_or_else(|| {
        FormatError::unsupported(KIND, "span read of a stream without a total sample count")
    })?;
    let end = check_span(start_frame, frames, total)?;
    if start_frame > 0 && frames > 0 {
        let ts = i64::try_from(start_frame).map_err(|_| FormatError::SpanOutOfRange {
            start: start_frame,
            frames,
            total,
        })?;
        s.reader
            .seek(
                SeekMode::Accurate,
                SeekTo::Timestamp {
                    ts: Timestamp::new(ts),
                    track_id: s.track_id,
                },
            )
            .map_err(sym_err)?;
        s.decoder.reset();
    }
    let cap = s.capacity_hint(frames);
    let samples = if frames == 0 {
        Vec::new()
    } else {
        s.collect(start_frame, Some(end), cap)?
    };
    let want = frames * u64::from(s.spec.channels);
    if samples.len() as u64 != want {
        return Err(FormatError::Truncated {
            format: KIND,
            offset: s.file_len,
            needed: want.saturating_sub(samples.len() as u64),
        });
    }
    Ok(Audio {
        spec: s.spec,
        samples: Samples::Int(samples),
    })
}
