//! Throughput figures for the formats layer (plain `main`, `harness = false`).
//!
//! Run: `cargo bench --bench formats` (add `-- quick` for one repetition).
//! Prints, for 5 minutes of 64 kHz mono 24-bit audio: FLAC encode (hydrofetch's options and
//! flac-codec's `fast()`/`best()` presets for comparison), full FLAC decode, a 10 s span read
//! from the middle, and the same with the reference `flac` command when it is installed; then
//! MAT write/read of a 2049×600 double matrix, plain and compressed. Times are the best of N.
#![allow(
    clippy::pedantic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    reason = "benchmarks print their figures, cast measured counts, use std::fs on temporary folders"
)]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark binary")]

use flac_codec::encode::Options;
use hydrofetch::formats::{
    Audio, AudioSpec, MatValue, SampleFormat, Samples, decode_mat, encode_flac_with, encode_mat,
    encoder_options, read_flac, read_flac_span, read_mat, write_flac, write_mat, write_wav,
};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RATE: u32 = 64_000;
const SECONDS: u64 = 300;

fn best_of<T>(reps: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..reps {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        out = Some(v);
    }
    (best, out.expect("at least one repetition"))
}

/// Hydrophone-like signal: two tones and a chirp over broadband noise, 24-bit.
fn signal() -> Audio {
    let n = (u64::from(RATE) * SECONDS) as usize;
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut v = Vec::with_capacity(n);
    let mut prev = 0.0f64;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let white = (x >> 40) as f64 / (1u64 << 24) as f64 - 0.5;
        // Mildly low-passed noise, as ocean noise is red-ish.
        prev = 0.7 * prev + 0.3 * white;
        let t = i as f64 / f64::from(RATE);
        let s = 0.20 * (2.0 * std::f64::consts::PI * 1_000.0 * t).sin()
            + 0.05 * (2.0 * std::f64::consts::PI * 12_345.0 * t).sin()
            + 0.02 * (2.0 * std::f64::consts::PI * (200.0 + 30.0 * t) * t).sin()
            + 0.01 * prev;
        v.push((s * 8_388_607.0).round().clamp(-8_388_608.0, 8_388_607.0) as i32);
    }
    Audio {
        spec: AudioSpec {
            sample_rate: RATE,
            channels: 1,
            bits_per_sample: 24,
            format: SampleFormat::Int,
        },
        samples: Samples::Int(v),
    }
}

fn report(label: &str, t: Duration, raw_bytes: usize, audio_seconds: f64) {
    let s = t.as_secs_f64();
    let rt = if audio_seconds > 0.0 {
        format!("{:>8.0}x real time", audio_seconds / s)
    } else {
        String::new()
    };
    println!(
        "{label:<44} {:>9.3} s {:>9.1} MB/s {rt}",
        s,
        raw_bytes as f64 / 1e6 / s
    );
}

fn flac_cli(dir: &Path, wav: &Path, reps: usize) -> Option<(Duration, Duration, u64)> {
    Command::new("flac")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let out = dir.join("ref.flac");
    let (enc, _) = best_of(reps, || {
        let st = Command::new("flac")
            .args(["-5", "-f", "-s", "-o"])
            .arg(&out)
            .arg(wav)
            .status()
            .unwrap();
        assert!(st.success());
    });
    let back = dir.join("ref.wav");
    let (dec, _) = best_of(reps, || {
        let st = Command::new("flac")
            .args(["-d", "-f", "-s", "-o"])
            .arg(&back)
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success());
    });
    Some((enc, dec, std::fs::metadata(&out).unwrap().len()))
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let reps = if quick { 1 } else { 3 };
    let dir = tempfile::tempdir().unwrap();
    let audio = signal();
    let raw = audio.samples.len() * 3;
    let secs = SECONDS as f64;
    println!(
        "== FLAC: {SECONDS} s of {RATE} Hz mono 24-bit ({} samples, {:.1} MB as 24-bit PCM); best of {reps}",
        audio.samples.len(),
        raw as f64 / 1e6
    );

    let mut ours = None;
    for (name, opts) in [
        (
            "hydrofetch options (block 4096, lpc 12, part 5)",
            encoder_options().unwrap(),
        ),
        ("flac-codec fast() preset", Options::fast()),
        ("flac-codec best() preset", Options::best()),
    ] {
        let (t, bytes) = best_of(reps, || encode_flac_with(&audio, opts.clone()).unwrap());
        report(&format!("encode, {name}"), t, raw, secs);
        println!(
            "{:<44} {:>9.2} MB, ratio {:.3} of 24-bit PCM",
            "",
            bytes.len() as f64 / 1e6,
            bytes.len() as f64 / raw as f64
        );
        if ours.is_none() {
            ours = Some((t, bytes.len()));
        }
    }
    let (our_enc, our_size) = ours.unwrap();
    if std::env::args().any(|a| a == "explore") {
        // Neighbours of the chosen options, to justify them (block size, LPC order, partition order).
        for (block, lpc, part) in [
            (4096u16, 4u8, 5u32),
            (4096, 12, 5),
            (4096, 8, 6),
            (4096, 12, 6),
            (8192, 8, 5),
            (2048, 8, 5),
            (4608, 8, 4),
        ] {
            let opts = encoder_options()
                .unwrap()
                .block_size(block)
                .unwrap()
                .max_lpc_order(Some(lpc))
                .unwrap()
                .max_partition_order(part)
                .unwrap();
            let (t, bytes) = best_of(reps, || encode_flac_with(&audio, opts.clone()).unwrap());
            report(
                &format!("encode, block {block}, lpc {lpc}, part {part}"),
                t,
                raw,
                secs,
            );
            println!(
                "{:<44} {:>9.2} MB, ratio {:.3} of 24-bit PCM",
                "",
                bytes.len() as f64 / 1e6,
                bytes.len() as f64 / raw as f64
            );
        }
    }

    let flac_path = dir.path().join("ours.flac");
    write_flac(&flac_path, &audio).unwrap();
    let (our_dec, decoded) = best_of(reps, || read_flac(&flac_path).unwrap());
    assert_eq!(decoded.samples, audio.samples, "decode must be bit-exact");
    report(
        "decode, full file (symphonia, md5 checked)",
        our_dec,
        raw,
        secs,
    );
    let (t, span) = best_of(reps, || {
        read_flac_span(&flac_path, 150 * u64::from(RATE), 10 * u64::from(RATE)).unwrap()
    });
    assert_eq!(span.frames(), 10 * RATE as usize);
    report(
        "decode, 10 s span from the middle (seek)",
        t,
        span.samples.len() * 3,
        10.0,
    );

    let wav = dir.path().join("ref_in.wav");
    write_wav(&wav, &audio).unwrap();
    match flac_cli(dir.path(), &wav, reps) {
        Some((enc, dec, size)) => {
            report("reference `flac -5` encode (from WAV file)", enc, raw, secs);
            println!(
                "{:<44} {:>9.2} MB, ratio {:.3} of 24-bit PCM",
                "",
                size as f64 / 1e6,
                size as f64 / raw as f64
            );
            report("reference `flac -d` decode (to WAV file)", dec, raw, secs);
            println!(
                "ours / reference: encode time {:.2}x, decode time {:.2}x, size {:.3}x",
                our_enc.as_secs_f64() / enc.as_secs_f64(),
                our_dec.as_secs_f64() / dec.as_secs_f64(),
                our_size as f64 / size as f64
            );
        }
        None => println!("reference `flac` command not installed: skipped (apt-get install flac)"),
    }

    let (rows, cols) = (2049usize, 600usize);
    let data: Vec<f64> = (0..rows * cols)
        .map(|i| 40.0 + ((i % 7919) as f64 * 0.013).sin() * 30.0 + (i / rows) as f64 * 1e-3)
        .collect();
    let vars = vec![(
        "SpectData".to_string(),
        MatValue::Struct(vec![("PSD".into(), MatValue::matrix(rows, cols, data))]),
    )];
    let mb = rows * cols * 8;
    println!(
        "== MAT: {rows}x{cols} double matrix in a struct ({:.1} MB of doubles); best of {reps}",
        mb as f64 / 1e6
    );
    if std::env::args().any(|a| a == "explore") {
        let plain = encode_mat(&vars, false).unwrap();
        for level in [1u32, 3, 6, 9] {
            let (t, z) = best_of(reps, || {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
                std::io::Write::write_all(&mut e, &plain).unwrap();
                e.finish().unwrap()
            });
            report(
                &format!(
                    "zlib level {level} of the plain file, {:.2} MB",
                    z.len() as f64 / 1e6
                ),
                t,
                mb,
                0.0,
            );
        }
    }
    for compress in [false, true] {
        let label = if compress { "compressed" } else { "plain" };
        let p = dir.path().join(format!("m_{label}.mat"));
        let (t, bytes) = best_of(reps, || encode_mat(&vars, compress).unwrap());
        report(
            &format!("encode_mat ({label}), {:.2} MB", bytes.len() as f64 / 1e6),
            t,
            mb,
            0.0,
        );
        let (t, _) = best_of(reps, || write_mat(&p, &vars, compress).unwrap());
        report(&format!("write_mat ({label}, atomic + fsync)"), t, mb, 0.0);
        let (t, back) = best_of(reps, || decode_mat(&bytes).unwrap());
        assert_eq!(back, vars);
        report(&format!("decode_mat ({label})"), t, mb, 0.0);
        let (t, _) = best_of(reps, || read_mat(&p).unwrap());
        report(&format!("read_mat ({label})"), t, mb, 0.0);
    }
}
