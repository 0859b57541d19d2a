//! Fuzz-style robustness tests: valid files of every format are truncated at many offsets,
//! garbled by deterministic byte flips, and given crafted absurd length fields. Every read must
//! return (`Ok` or a typed `FormatError`), never panic and never try a huge allocation.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failure is a test failure"
)]

use hydrofetch::formats::{
    Audio, AudioSpec, FormatError, Image, MatValue, SampleFormat, Samples, decode_mat, decode_png,
    encode_flac, encode_mat, encode_png, encode_wav, probe_audio, read_flac, read_flac_span,
    read_wav, read_wav_span,
};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// xorshift64, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Runs `f`, failing the test with `what` if it panics.
fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => panic!("panicked on {what}"),
    }
}

/// Offsets to truncate at: every offset in the first 300 bytes, then a spread through the rest.
fn cut_points(len: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..len.min(300)).collect();
    let step = (len / 150).max(1);
    v.extend((300..len).step_by(step));
    v
}

/// Garbled copies: 1..=4 random bytes set to random values, or bit flips.
fn garbles(bytes: &[u8], seed: u64, count: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let mut b = bytes.to_vec();
            for _ in 0..=rng.below(4) {
                let i = rng.below(b.len());
                b[i] = if rng.next().is_multiple_of(2) {
                    rng.next() as u8
                } else {
                    b[i] ^ (1 << rng.below(8))
                };
            }
            b
        })
        .collect()
}

fn audio(channels: u16, bits: u16, frames: usize) -> Audio {
    let max = (1i64 << (bits - 1)) - 1;
    let mut rng = Rng(42);
    let v = (0..frames * usize::from(channels))
        .map(|i| {
            (((i as f64 * 0.05).sin() * max as f64 * 0.5) as i64 + (rng.next() % 64) as i64 - 32)
                as i32
        })
        .collect();
    Audio {
        spec: AudioSpec {
            sample_rate: 16_000,
            channels,
            bits_per_sample: bits,
            format: SampleFormat::Int,
        },
        samples: Samples::Int(v),
    }
}

fn sample_mat() -> Vec<(String, MatValue)> {
    vec![
        (
            "PSD".into(),
            MatValue::matrix(6, 5, (0..30).map(f64::from).collect()),
        ),
        (
            "SpectData".into(),
            MatValue::Struct(vec![
                ("comment".into(), MatValue::Char("Hann window".into())),
                (
                    "inner".into(),
                    MatValue::Struct(vec![("t".into(), MatValue::row(vec![1.0, 2.0]))]),
                ),
            ]),
        ),
    ]
}

fn check_audio_file(path: &Path, what: &str, full: bool) {
    no_panic(what, || {
        let _ = probe_audio(path);
        if full {
            let _ = read_flac(path);
            let _ = read_wav(path);
        }
        let _ = read_flac_span(path, 100, 50);
        let _ = read_wav_span(path, 100, 50);
    });
}

#[test]
fn truncated_audio_never_panics_and_full_reads_fail() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t");
    for (name, bytes) in [
        ("flac", encode_flac(&audio(2, 24, 3000)).unwrap()),
        ("wav", encode_wav(&audio(2, 16, 1500)).unwrap()),
    ] {
        for cut in cut_points(bytes.len()) {
            std::fs::write(&p, &bytes[..cut]).unwrap();
            let what = format!("{name} truncated at {cut}");
            check_audio_file(&p, &what, false);
            let full = no_panic(&what, || {
                if name == "flac" {
                    read_flac(&p)
                } else {
                    read_wav(&p)
                }
            });
            assert!(full.is_err(), "{what} read as valid");
        }
    }
}

#[test]
fn garbled_audio_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("g");
    for (name, bytes) in [
        ("flac", encode_flac(&audio(1, 16, 3000)).unwrap()),
        ("wav", encode_wav(&audio(2, 24, 500)).unwrap()),
    ] {
        for (i, b) in garbles(&bytes, 7, 400).into_iter().enumerate() {
            std::fs::write(&p, &b).unwrap();
            check_audio_file(&p, &format!("{name} garble #{i}"), true);
        }
    }
}

#[test]
fn truncated_and_garbled_mat_never_panics() {
    for compress in [false, true] {
        let vars = sample_mat();
        let bytes = encode_mat(&vars, compress).unwrap();
        for cut in cut_points(bytes.len()) {
            let what = format!("mat (compress={compress}) truncated at {cut}");
            match no_panic(&what, || decode_mat(&bytes[..cut])) {
                // Cutting exactly between variables leaves a valid file with fewer variables.
                Ok(got) => assert!(
                    got.len() < vars.len() && vars.starts_with(&got),
                    "{what}: {got:?}"
                ),
                Err(e) => assert!(
                    matches!(
                        e,
                        FormatError::Truncated { .. }
                            | FormatError::BadMagic { .. }
                            | FormatError::Codec { .. }
                    ),
                    "{what}: {e:?}"
                ),
            }
        }
        for (i, b) in garbles(&bytes, 11 + u64::from(compress), 2000)
            .into_iter()
            .enumerate()
        {
            no_panic(&format!("mat garble #{i}"), || decode_mat(&b)).ok();
        }
    }
}

#[test]
fn truncated_and_garbled_png_never_panics() {
    let mut img = Image::new_rgb(40, 30);
    img.data
        .iter_mut()
        .enumerate()
        .for_each(|(i, b)| *b = (i * 7 % 251) as u8);
    let bytes = encode_png(&img).unwrap();
    for cut in cut_points(bytes.len()) {
        // Cutting only the trailing IEND chunk still leaves the whole image.
        let got = no_panic(&format!("png truncated at {cut}"), || {
            decode_png(&bytes[..cut])
        });
        if let Ok(got) = got {
            assert!(
                got == img && cut >= bytes.len() - 12,
                "png truncated at {cut} decoded"
            );
        }
    }
    for (i, b) in garbles(&bytes, 3, 1000).into_iter().enumerate() {
        no_panic(&format!("png garble #{i}"), || decode_png(&b)).ok();
    }
}

fn mat_header() -> Vec<u8> {
    let mut b = encode_mat(&[], false).unwrap();
    assert_eq!(b.len(), 128);
    b.reserve(64);
    b
}

fn push_u32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}

#[test]
fn absurd_mat_lengths_are_typed_errors() {
    // A top-level element claiming 4 GiB.
    let mut b = mat_header();
    push_u32(&mut b, 14);
    push_u32(&mut b, u32::MAX);
    b.extend_from_slice(&[0; 16]);
    assert!(matches!(decode_mat(&b), Err(FormatError::Truncated { .. })));

    // A matrix claiming 65535 x 65535 doubles with 8 bytes of data.
    let mut m = Vec::new();
    for w in [
        6u32,
        8,
        6,
        0,
        5,
        8,
        65_535,
        65_535,
        1,
        1,
        u32::from(b'x'),
        0,
        9,
        8,
        0,
        0,
    ] {
        push_u32(&mut m, w);
    }
    let mut b = mat_header();
    push_u32(&mut b, 14);
    push_u32(&mut b, m.len() as u32);
    b.extend_from_slice(&m);
    assert!(
        matches!(decode_mat(&b), Err(FormatError::Invalid { .. })),
        "{:?}",
        decode_mat(&b)
    );

    // A cell claiming 2^31 elements.
    let mut m = Vec::new();
    for w in [
        6u32,
        8,
        1,
        0,
        5,
        8,
        1,
        0x7fff_ffff,
        1,
        1,
        u32::from(b'c'),
        0,
    ] {
        push_u32(&mut m, w);
    }
    let mut b = mat_header();
    push_u32(&mut b, 14);
    push_u32(&mut b, m.len() as u32);
    b.extend_from_slice(&m);
    assert!(matches!(decode_mat(&b), Err(FormatError::Truncated { .. })));

    // Unsupported classes: sparse (5) and complex doubles.
    for (class_word, want_unsupported) in [(5u32, true), (6 | 0x0800, true)] {
        let mut m = Vec::new();
        for w in [
            6u32,
            8,
            class_word,
            0,
            5,
            8,
            1,
            1,
            1,
            1,
            u32::from(b's'),
            0,
            9,
            8,
            0,
            0,
        ] {
            push_u32(&mut m, w);
        }
        let mut b = mat_header();
        push_u32(&mut b, 14);
        push_u32(&mut b, m.len() as u32);
        b.extend_from_slice(&m);
        assert_eq!(
            matches!(decode_mat(&b), Err(FormatError::Unsupported { .. })),
            want_unsupported,
            "{:?}",
            decode_mat(&b)
        );
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let mut v = MatValue::scalar(1.0);
    for _ in 0..200 {
        v = MatValue::Struct(vec![("a".into(), v)]);
    }
    let bytes = encode_mat(&[("deep".into(), v)], false).unwrap();
    assert!(matches!(
        decode_mat(&bytes),
        Err(FormatError::Unsupported { .. })
    ));
}

#[test]
fn wrong_magic_everywhere() {
    let junk = vec![0x42u8; 300];
    assert!(matches!(
        decode_mat(&junk),
        Err(FormatError::BadMagic { .. })
    ));
    assert!(matches!(
        decode_png(&junk),
        Err(FormatError::BadMagic { .. })
    ));
    let mut v73 = mat_header();
    v73[124..126].copy_from_slice(&0x0200u16.to_le_bytes());
    assert!(matches!(
        decode_mat(&v73),
        Err(FormatError::Unsupported { .. })
    ));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("junk");
    std::fs::write(&p, &junk).unwrap();
    assert!(matches!(read_flac(&p), Err(FormatError::BadMagic { .. })));
    assert!(matches!(read_wav(&p), Err(FormatError::BadMagic { .. })));
    assert!(matches!(probe_audio(&p), Err(FormatError::BadMagic { .. })));
}

#[test]
fn huge_png_header_is_refused_without_allocating() {
    // IHDR of a 60000 x 60000 RGBA image with a valid CRC, then nothing.
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let crc = crc32(&ihdr);
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(&13u32.to_be_bytes());
    b.extend_from_slice(&ihdr);
    b.extend_from_slice(&crc.to_be_bytes());
    assert!(decode_png(&b).is_err());
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn flac_seek_table_past_the_end_is_invalid() {
    // symphonia's seek would underflow on this; our metadata check must refuse it first.
    let mut bytes = encode_flac(&audio(1, 16, 40_000)).unwrap();
    let mut pos = 4;
    let table = loop {
        let kind = bytes[pos] & 0x7f;
        let len = u32::from_be_bytes([0, bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]]) as usize;
        if kind == 3 {
            break pos + 4;
        }
        assert_eq!(bytes[pos] & 0x80, 0, "no seek table written");
        pos += 4 + len;
    };
    bytes[table + 8..table + 16].copy_from_slice(&(u64::MAX / 2).to_be_bytes());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.flac");
    std::fs::write(&p, &bytes).unwrap();
    assert!(matches!(
        read_flac_span(&p, 30_000, 10),
        Err(FormatError::Invalid { .. })
    ));
    assert!(matches!(read_flac(&p), Err(FormatError::Invalid { .. })));
}
