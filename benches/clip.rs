//! Clip throughput: 1,000 event clips of 30 s cut from two consecutive 5-minute 64 kHz
//! 24-bit FLAC files (joined where a clip crosses the boundary), and our FLAC decode speed
//! against the reference `flac -d` on the same file. Prints figures; asserts nothing.
//! Run with `cargo bench --bench clip`.
#![allow(
    clippy::pedantic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    reason = "benchmarks print their figures, cast measured counts, use std::fs on temporary folders"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)]

use hydrofetch::clip::GapPolicy;
use hydrofetch::clip::audio::{AudioFormat, AudioSource, clip_audio};
use hydrofetch::formats;
use hydrofetch::sim::products::audio;
use hydrofetch::sim::signal::SignalSpec;
use hydrofetch::time::UtcInstant;
use std::time::Instant;

fn main() {
    let dir = tempfile::tempdir().expect("tmp");
    let spec = SignalSpec::new("ICLISTENHF6324", 64_000, 24, 0);
    let t0 = UtcInstant::parse("2024-04-01T12:30:03Z").expect("t0");
    let mut sources = Vec::new();
    for k in 0..2_i64 {
        let start = t0.add_millis(k * 300_000);
        let path = dir
            .path()
            .join(format!("ICLISTENHF6324_{}.flac", start.to_file_stamp()));
        formats::write_flac(&path, &audio(&spec, start, 300 * 64_000)).expect("source");
        sources.push(AudioSource { path, start });
    }

    // 1,000 clips of 30 s at spread offsets over the 10 minutes (some cross the boundary).
    let n = 1000_i64;
    let t = Instant::now();
    for i in 0..n {
        let off = (i * 7919 * 1000) % (570 * 1000);
        let s = t0.add_millis(off);
        let out = dir.path().join("clip.wav");
        clip_audio(
            &sources,
            s,
            s.add_millis(30_000),
            &out,
            AudioFormat::Wav,
            GapPolicy::Fail,
        )
        .expect("clip");
    }
    let wav = t.elapsed().as_secs_f64();
    let m = 50_i64;
    let t = Instant::now();
    for i in 0..m {
        let s = t0.add_millis((i * 7919 * 1000) % (570 * 1000));
        let out = dir.path().join("clip.flac");
        clip_audio(
            &sources,
            s,
            s.add_millis(30_000),
            &out,
            AudioFormat::Flac,
            GapPolicy::Fail,
        )
        .expect("clip");
    }
    let flac = t.elapsed().as_secs_f64() * (n / m) as f64;
    println!(
        "1,000 clips of 30 s from 64 kHz FLAC: {wav:.1} s written as WAV, {flac:.1} s written as FLAC (from {m} clips)"
    );

    // Our full decode against `flac -d` on the same 5-minute file.
    let src = &sources[0].path;
    let t = Instant::now();
    let a = formats::read_flac(src).expect("decode");
    let ours = t.elapsed().as_secs_f64();
    let rt = a.frames() as f64 / 64_000.0 / ours;
    let reference = std::process::Command::new("flac")
        .args(["-d", "-s", "-f", "-o"])
        .arg(dir.path().join("ref.wav"))
        .arg(src)
        .status()
        .ok()
        .filter(|s| s.success())
        .map(|_| ());
    if reference.is_some() {
        let t = Instant::now();
        let _ = std::process::Command::new("flac")
            .args(["-d", "-s", "-f", "-o"])
            .arg(dir.path().join("ref.wav"))
            .arg(src)
            .status();
        let theirs = t.elapsed().as_secs_f64();
        println!(
            "decode 5 min: ours {ours:.3} s ({rt:.0}× real time), flac -d {theirs:.3} s; our speed / flac's = {:.2}",
            theirs / ours
        );
    } else {
        println!("decode 5 min: ours {ours:.3} s ({rt:.0}× real time); `flac` not installed");
    }
}
