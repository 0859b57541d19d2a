//! hydrofetch's own FLAC writes (clips) use the fast encoder preset: the streams stay in spec
//! (the reference `flac -t` accepts them, checked where `flac` is installed) and decode bit
//! for bit, mono 24-bit with a call in it and stereo 16-bit alike.

use hydrofetch::formats::flac::{encoder_options, fast_encoder_options, write_flac_with};
use hydrofetch::formats::{Audio, AudioSpec, SampleFormat, Samples, read_flac, write_flac};
use hydrofetch::sim::events::{EventKind, events};
use hydrofetch::sim::products::audio;
use hydrofetch::sim::signal::SignalSpec;
use hydrofetch::time::UtcInstant;

fn flac_t(path: &std::path::Path) {
    match std::process::Command::new("flac")
        .args(["-t", "-s"])
        .arg(path)
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "flac -t {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => eprintln!("`flac` not installed: reference check skipped"),
    }
}

#[test]
fn fast_preset_files_are_in_spec_and_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    // Ten seconds of 64 kHz 24-bit mono from the start of a call.
    let spec = SignalSpec::new("ICLISTENHF6324", 64_000, 24, 0);
    let from = UtcInstant::parse("2024-04-01T12:00:00Z").unwrap();
    let call = events(&spec, from, from.add_millis(3_600_000))
        .into_iter()
        .find(|e| e.kind == EventKind::Call)
        .unwrap();
    let mono = audio(&spec, call.start.add_millis(-1_000), 10 * 64_000);
    // Two seconds of 48 kHz 16-bit stereo, channels correlated.
    let left: Vec<i32> = (0..96_000).map(|i| ((i * 37) % 20_001) - 10_000).collect();
    let stereo = Audio {
        spec: AudioSpec {
            sample_rate: 48_000,
            channels: 2,
            bits_per_sample: 16,
            format: SampleFormat::Int,
        },
        samples: Samples::Int(left.iter().flat_map(|&l| [l, l / 2 + 7]).collect()),
    };
    for (name, a) in [("mono.flac", &mono), ("stereo.flac", &stereo)] {
        let fast = dir.path().join(name);
        write_flac(&fast, a).unwrap();
        flac_t(&fast);
        assert_eq!(read_flac(&fast).unwrap(), *a, "{name}");
        // Same audio as the simulator's (LPC) preset gives.
        let lpc = dir.path().join(format!("lpc-{name}"));
        write_flac_with(&lpc, a, encoder_options().unwrap()).unwrap();
        assert_eq!(read_flac(&lpc).unwrap(), read_flac(&fast).unwrap());
        let again = dir.path().join(format!("again-{name}"));
        write_flac_with(&again, a, fast_encoder_options().unwrap()).unwrap();
        assert_eq!(
            std::fs::read(&again).unwrap(),
            std::fs::read(&fast).unwrap()
        );
    }
}
