//! Timings of the simulator's synthetic data for one 5-minute 64 kHz, 24-bit file:
//! sample generation, spectrogram, PNG render, FLAC/MAT/PNG encodes.
//! Run: `cargo bench --bench sim_data`. Writes the products to `target/sim_data_bench/`
//! for inspection.
#![allow(
    clippy::pedantic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    reason = "benchmarks print their figures, cast measured counts, use std::fs on temporary folders"
)]

use std::time::Instant;

use hydrofetch::formats::{encode_flac, encode_png};
use hydrofetch::sim::products::{
    AudioExt, MatMeta, audio, audio_file, frames_between, hsd_image, hsd_mat,
};
use hydrofetch::sim::render::{RenderOptions, render};
use hydrofetch::sim::signal::{SignalSpec, first_index, samples_at};
use hydrofetch::sim::spectro::{Resolution, SpanInfo, spectrogram};
use hydrofetch::time::UtcInstant;

/// User + system CPU time of this process so far, in ms (Linux `/proc/self/stat`, 100 Hz
/// ticks); `None` elsewhere. Printed next to wall time because the build machine is shared.
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) * 10.0)
}

fn time<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let c = cpu_ms();
    let t = Instant::now();
    let out = f();
    let wall = t.elapsed().as_secs_f64() * 1000.0;
    match (c, cpu_ms()) {
        (Some(a), Some(b)) => println!("{label:<42} {wall:>8.1} ms wall {:>8.0} ms cpu", b - a),
        _ => println!("{label:<42} {wall:>8.1} ms wall"),
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spec = SignalSpec::new("ICLISTENHF6324", 64_000, 24, 0);
    let start = UtcInstant::parse("2024-04-01T12:00:00.000Z")?;
    let frames = frames_between(64_000, start, start.add_millis(300_000));
    let first = first_index(start, 64_000);
    let info = SpanInfo {
        sample_rate: 64_000,
        bits_per_sample: 24,
        first_index: first,
    };
    println!("one 5-minute file: {frames} samples at 64 kHz, 24-bit");
    let pcm = time("samples (19.2 M)", || samples_at(&spec, first, frames));
    // A file in the middle of a ship passage (the costliest event to synthesise).
    let ship = UtcInstant::parse("2024-04-01T16:08:28.124Z")?;
    let ship_pcm = time("samples during a ship passage (19.2 M)", || {
        samples_at(&spec, first_index(ship, 64_000), frames)
    });
    drop(ship_pcm);
    for (name, res) in [
        ("spectrogram, 1-minute (ds=1)", Resolution::Minute),
        ("spectrogram, plot (ds=2)", Resolution::Plot),
        ("spectrogram, full (ds=0)", Resolution::Full),
    ] {
        let sp = time(name, || spectrogram(&pcm, &info, res));
        println!("    -> {} freq x {} time", sp.n_freq(), sp.n_time());
    }
    let img = time("png render (from samples)", || {
        render(&pcm, &info, &RenderOptions::default())
    });
    let png = time("png encode", || encode_png(&img))?;
    let a = audio(&spec, start, frames);
    let flac = time("flac encode", || encode_flac(&a))?;
    drop(a);
    // The cold FLAC product: samples then encode, one after the other (as before), against
    // the product path that overlaps synthesis with encoding; same bytes, checked.
    let t = Instant::now();
    let serial = encode_flac(&audio(&spec, start, frames))?;
    let before = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let product = time("flac product (overlapped)", || {
        audio_file(&spec, start, frames, AudioExt::Flac)
    })?;
    let after = t.elapsed().as_secs_f64();
    assert!(
        product == serial && product == flac,
        "the product's bytes changed"
    );
    println!(
        "cold 5-minute 64 kHz 24-bit FLAC: {after:.2} s (samples then encode: {before:.2} s; x{:.2}), same bytes",
        before / after
    );
    let meta = MatMeta {
        device_id: 23_000,
        device_code: spec.device_code.clone(),
        device_name: "Simulated icListen HF Hydrophone".into(),
        location_code: "SIM".into(),
        location_name: "Simulated location".into(),
        lat: 48.3,
        lon: -126.1,
        depth: 980.0,
        creation_date: start,
        citation: "Synthetic data".into(),
    };
    let mut mats = Vec::new();
    for (name, res) in [
        ("mat (ds=1): generate + encode", Resolution::Minute),
        ("mat (ds=2): generate + encode", Resolution::Plot),
        ("mat (ds=0): generate + encode", Resolution::Full),
    ] {
        let bytes = time(name, || hsd_mat(&spec, start, frames, res, &meta))?;
        println!("    -> {} bytes", bytes.len());
        mats.push(bytes);
    }
    let png_full = time("png product: generate + render + encode", || {
        encode_png(&hsd_image(&spec, start, frames, &RenderOptions::default()))
    })?;
    println!("sizes: flac {} B, png {} B", flac.len(), png.len());
    let dir = std::path::Path::new("target/sim_data_bench");
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("ICLISTENHF6324_20240401T120000.000Z.flac"), &flac)?;
    std::fs::write(
        dir.join("ICLISTENHF6324_20240401T120000.000Z-spect.png"),
        &png_full,
    )?;
    if let Some(m) = mats.get(1) {
        std::fs::write(dir.join("ICLISTENHF6324_20240401T120000.000Z-spect.mat"), m)?;
    }
    Ok(())
}
