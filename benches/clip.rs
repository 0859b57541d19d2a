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
use hydrofetch::formats::{self, flac};
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

    if std::env::args().any(|a| a == "presets") {
        // `cargo bench --bench clip -- presets`: candidate fast presets on the same 30 s.
        let thirty = audio(&spec, t0, 30 * 64_000);
        let raw = (30 * 64_000 * 3) as f64;
        for (bs, po) in [
            (4096u16, 4u32),
            (4096, 2),
            (4096, 0),
            (8192, 2),
            (16384, 2),
            (16384, 0),
        ] {
            let o = flac_codec::encode::Options::default()
                .block_size(bs)
                .expect("bs")
                .max_lpc_order(None)
                .expect("lpc")
                .max_partition_order(po)
                .expect("po")
                .mid_side(false)
                .fast_channel_correlation(true)
                .seektable_seconds(10)
                .no_padding();
            let t = Instant::now();
            let b = formats::encode_flac_with(&thirty, o).expect("encode");
            println!(
                "fixed, block {bs}, partitions <= {po}: {:.3} s, ratio {:.3}",
                t.elapsed().as_secs_f64(),
                b.len() as f64 / raw
            );
        }
        return;
    }

    // 1,000 clips of 30 s at spread offsets over the 10 minutes (some cross the boundary),
    // cut in parallel on all cores (as the executor bounds clip work by cores), each into its
    // own file.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cut = |n: i64, format: AudioFormat, workers: usize| -> f64 {
        let next = std::sync::atomic::AtomicI64::new(0);
        let ext = match format {
            AudioFormat::Wav => "wav",
            AudioFormat::Flac => "flac",
        };
        let t = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        let off = (i * 7919 * 1000) % (570 * 1000);
                        let s = t0.add_millis(off);
                        let out = dir.path().join(format!("clip{i}.{ext}"));
                        clip_audio(
                            &sources,
                            s,
                            s.add_millis(30_000),
                            &out,
                            format,
                            GapPolicy::Fail,
                        )
                        .expect("clip");
                    }
                });
            }
        });
        t.elapsed().as_secs_f64()
    };
    let n = 1000_i64;
    let wav = cut(n, AudioFormat::Wav, cores);
    let wav_serial = cut(100, AudioFormat::Wav, 1) * (n / 100) as f64;
    let flac = cut(n, AudioFormat::Flac, cores);
    println!(
        "1,000 clips of 30 s from 64 kHz FLAC on {cores} cores: {wav:.1} s as WAV ({wav_serial:.1} s on one core, from 100 clips; ×{:.2}), {flac:.1} s as FLAC (targets 15 s and 45 s)",
        wav_serial / wav
    );

    // The two FLAC presets on the same 30 s: the simulator's (LPC) and clips' (fast).
    let thirty = audio(&spec, t0, 30 * 64_000);
    let enc = |opts: flac_codec::encode::Options| {
        let t = Instant::now();
        let b = formats::encode_flac_with(&thirty, opts).expect("encode");
        (t.elapsed().as_secs_f64(), b.len())
    };
    let (slow_t, slow_n) = enc(flac::encoder_options().expect("options"));
    let (fast_t, fast_n) = enc(flac::fast_encoder_options().expect("options"));
    let raw = (30 * 64_000 * 3) as f64;
    println!(
        "encode 30 s: LPC preset {slow_t:.3} s (ratio {:.3}), fast preset {fast_t:.3} s (ratio {:.3}); speed-up ×{:.2}",
        slow_n as f64 / raw,
        fast_n as f64 / raw,
        slow_t / fast_t
    );
    let probe = dir.path().join("probe.flac");
    flac::write_flac_with(
        &probe,
        &thirty,
        flac::fast_encoder_options().expect("options"),
    )
    .expect("write");
    match std::process::Command::new("flac")
        .args(["-t", "-s"])
        .arg(&probe)
        .status()
    {
        Ok(st) => println!(
            "flac -t on a fast-preset file: {}",
            if st.success() { "ok" } else { "FAILED" }
        ),
        Err(_) => println!("flac -t: `flac` not installed"),
    }

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
