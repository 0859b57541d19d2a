//! Integration tests of `hydrofetch::formats` audio: WAV and FLAC round trips through real files,
//! span reads against full decodes, and cross-checks with independent readers (flac-codec's own
//! decoder for FLAC, symphonia-free hound for WAV).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failure is a test failure"
)]

use hydrofetch::formats::{
    Audio, AudioSpec, FormatError, SampleFormat, Samples, encode_flac, encode_wav, probe_audio,
    read_flac, read_flac_span, read_wav, read_wav_span, write_flac, write_wav,
};

/// Deterministic test signal: a sine plus xorshift noise, spanning most of the bit range,
/// including both extremes.
fn signal(frames: usize, channels: u16, bits: u16, seed: u64) -> Vec<i32> {
    let max = (1i64 << (bits - 1)) - 1;
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(frames * usize::from(channels));
    for i in 0..frames {
        for c in 0..channels {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let noise = (x % 2001) as i64 - 1000;
            let sine = ((i as f64 * 0.01 * f64::from(c + 1)).sin() * max as f64 * 0.8) as i64;
            out.push((sine + noise).clamp(-max - 1, max) as i32);
        }
    }
    if let Some(first) = out.first_mut() {
        *first = (-max - 1) as i32;
    }
    if let Some(last) = out.last_mut() {
        *last = max as i32;
    }
    out
}

fn int_audio(frames: usize, channels: u16, bits: u16, rate: u32) -> Audio {
    Audio {
        spec: AudioSpec {
            sample_rate: rate,
            channels,
            bits_per_sample: bits,
            format: SampleFormat::Int,
        },
        samples: Samples::Int(signal(
            frames,
            channels,
            bits,
            0x9e37_79b9 + u64::from(bits) + u64::from(channels),
        )),
    }
}

fn slice(a: &Audio, start: usize, frames: usize) -> Samples {
    let ch = usize::from(a.spec.channels);
    match &a.samples {
        Samples::Int(v) => Samples::Int(v[start * ch..(start + frames) * ch].to_vec()),
        Samples::Float(v) => Samples::Float(v[start * ch..(start + frames) * ch].to_vec()),
    }
}

#[test]
fn wav_int_round_trip_is_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    for bits in [16u16, 24] {
        for channels in [1u16, 2, 3] {
            let a = int_audio(10_001, channels, bits, 64_000);
            let p = dir.path().join(format!("a{bits}_{channels}.wav"));
            write_wav(&p, &a).unwrap();
            let b = read_wav(&p).unwrap();
            assert_eq!(a, b, "{bits}-bit {channels}ch");
            assert_eq!(std::fs::read(&p).unwrap(), encode_wav(&a).unwrap());
            // Independent reader: hound directly.
            let mut r = hound::WavReader::open(&p).unwrap();
            assert_eq!(r.spec().bits_per_sample, bits);
            let raw: Vec<i32> = r.samples::<i32>().map(Result::unwrap).collect();
            assert_eq!(Samples::Int(raw), a.samples);
            let info = probe_audio(&p).unwrap();
            assert_eq!((info.spec, info.total_frames), (a.spec, 10_001));
        }
    }
}

#[test]
fn wav_float_round_trip_and_span() {
    let dir = tempfile::tempdir().unwrap();
    let v: Vec<f32> = (0..8000)
        .map(|i| ((i as f32) * 0.003).sin() * 0.9)
        .collect();
    let a = Audio {
        spec: AudioSpec {
            sample_rate: 48_000,
            channels: 2,
            bits_per_sample: 32,
            format: SampleFormat::Float,
        },
        samples: Samples::Float(v),
    };
    let p = dir.path().join("f.wav");
    write_wav(&p, &a).unwrap();
    assert_eq!(read_wav(&p).unwrap(), a);
    let s = read_wav_span(&p, 1234, 100).unwrap();
    assert_eq!(s.samples, slice(&a, 1234, 100));
}

#[test]
fn wav_spans_match_full_read() {
    let dir = tempfile::tempdir().unwrap();
    let a = int_audio(5000, 2, 24, 64_000);
    let p = dir.path().join("s.wav");
    write_wav(&p, &a).unwrap();
    for (start, n) in [
        (0, 10),
        (4990, 10),
        (1000, 2500),
        (0, 5000),
        (4999, 1),
        (17, 0),
    ] {
        assert_eq!(
            read_wav_span(&p, start, n).unwrap().samples,
            slice(&a, start as usize, n as usize)
        );
    }
    assert!(matches!(
        read_wav_span(&p, 4990, 11),
        Err(FormatError::SpanOutOfRange { total: 5000, .. })
    ));
}

#[test]
fn writers_reject_inconsistent_audio() {
    let mut a = int_audio(100, 1, 16, 8000);
    if let Samples::Int(v) = &mut a.samples {
        v[3] = 40_000;
    }
    assert!(matches!(encode_wav(&a), Err(FormatError::Invalid { .. })));
    assert!(matches!(encode_flac(&a), Err(FormatError::Invalid { .. })));
    let f = Audio {
        spec: AudioSpec {
            sample_rate: 8000,
            channels: 1,
            bits_per_sample: 32,
            format: SampleFormat::Float,
        },
        samples: Samples::Float(vec![0.0; 4]),
    };
    assert!(matches!(
        encode_flac(&f),
        Err(FormatError::Unsupported { .. })
    ));
}

#[test]
fn flac_round_trip_is_bit_exact_and_readable_by_flac_codec() {
    let dir = tempfile::tempdir().unwrap();
    for bits in [16u16, 24] {
        for channels in [1u16, 2, 3] {
            let a = int_audio(20_000, channels, bits, 64_000);
            let p = dir.path().join(format!("a{bits}_{channels}.flac"));
            write_flac(&p, &a).unwrap();
            // `write_flac` uses the fast preset (clips); `encode_flac` the simulator's.
            assert_eq!(
                std::fs::read(&p).unwrap(),
                hydrofetch::formats::encode_flac_with(
                    &a,
                    hydrofetch::formats::flac::fast_encoder_options().unwrap()
                )
                .unwrap(),
                "deterministic output"
            );
            assert_eq!(read_flac_bytes(&encode_flac(&a).unwrap(), dir.path()), a);
            let b = read_flac(&p).unwrap();
            assert_eq!(a, b, "{bits}-bit {channels}ch");
            // Independent decoder: flac-codec's reader.
            let mut r = flac_codec::decode::FlacSampleReader::open(&p).unwrap();
            let mut raw = vec![0i32; 20_000 * usize::from(channels)];
            let mut got = 0;
            while got < raw.len() {
                let n = r.read(&mut raw[got..]).unwrap();
                assert!(n > 0);
                got += n;
            }
            assert_eq!(Samples::Int(raw), a.samples);
            let info = probe_audio(&p).unwrap();
            assert_eq!((info.spec, info.total_frames), (a.spec, 20_000));
        }
    }
}

#[test]
fn flac_spans_equal_slices_of_full_decode() {
    let dir = tempfile::tempdir().unwrap();
    for channels in [1u16, 2] {
        // 25 blocks of 4096 frames plus a partial one; 64 kHz so seek points land every 10 s.
        let total = 4096 * 25 + 777;
        let a = int_audio(total, channels, 24, 8_000);
        let p = dir.path().join(format!("s{channels}.flac"));
        write_flac(&p, &a).unwrap();
        let full = read_flac(&p).unwrap();
        assert_eq!(full, a);
        let spans = [
            (0, 1),
            (0, 4096),
            (0, 5000),
            (4095, 2),
            (4096, 4096),
            (4000, 300),
            (8191, 4098),
            (50_000, 30_000),
            (total - 1, 1),
            (total - 5000, 5000),
            (total - 777, 777),
            (12_345, 0),
            (0, total),
        ];
        for (start, n) in spans {
            let s = read_flac_span(&p, start as u64, n as u64).unwrap();
            assert_eq!(s.spec, a.spec);
            assert_eq!(
                s.samples,
                slice(&a, start, n),
                "span {start}+{n}, {channels}ch"
            );
        }
        assert!(matches!(
            read_flac_span(&p, total as u64 - 3, 4),
            Err(FormatError::SpanOutOfRange { .. })
        ));
    }
}

#[test]
fn tiny_and_empty_flac() {
    let dir = tempfile::tempdir().unwrap();
    let a = int_audio(1, 1, 16, 44_100);
    let p = dir.path().join("one.flac");
    write_flac(&p, &a).unwrap();
    assert_eq!(read_flac(&p).unwrap(), a);
    assert_eq!(read_flac_span(&p, 0, 1).unwrap(), a);
}

#[test]
fn wrong_magic_is_typed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.flac");
    std::fs::write(&p, b"RIFFxxxxWAVEjunk").unwrap();
    assert!(matches!(read_flac(&p), Err(FormatError::BadMagic { .. })));
    std::fs::write(&p, b"fLa").unwrap();
    assert!(matches!(read_flac(&p), Err(FormatError::BadMagic { .. })));
    assert!(matches!(read_wav(&p), Err(FormatError::BadMagic { .. })));
    assert!(matches!(probe_audio(&p), Err(FormatError::BadMagic { .. })));
    assert!(matches!(
        read_wav(&dir.path().join("missing.wav")),
        Err(FormatError::Io { .. })
    ));
}

#[test]
fn flac_md5_mismatch_is_detected_on_full_reads() {
    let dir = tempfile::tempdir().unwrap();
    let a = int_audio(9000, 1, 16, 16_000);
    let mut bytes = encode_flac(&a).unwrap();
    // STREAMINFO starts at byte 8; its MD5 signature is its last 16 bytes (26..42).
    bytes[30] ^= 0xff;
    let p = dir.path().join("md5.flac");
    std::fs::write(&p, &bytes).unwrap();
    assert!(matches!(read_flac(&p), Err(FormatError::Invalid { .. })));
    // Span reads do not decode everything, so they cannot check the MD5; the audio is intact.
    assert_eq!(
        read_flac_span(&p, 100, 200).unwrap().samples,
        slice(&a, 100, 200)
    );
}

/// Decodes FLAC bytes through a file in `dir`.
fn read_flac_bytes(bytes: &[u8], dir: &std::path::Path) -> hydrofetch::formats::Audio {
    let p = dir.join("bytes.flac");
    std::fs::write(&p, bytes).unwrap();
    read_flac(&p).unwrap()
}
