//! `hydrofetch sim --tiny`: a real run against a simulator serving tiny placeholder products;
//! every file it writes is small and decodes as its format (MAT, PNG, FLAC, WAV).

use crate::common;

use common::{Sim, check_lock, files_with, lock_of, run_json, write_manifest};
use hydrofetch::formats::{find_var, read_flac, read_mat, read_png, read_wav};

const TINY: &str = r#"
version = 1
data_dir = "data"

[defaults]
device = "ICLISTENHF6324"
spectrogram_format = "mat"
data_product_options = { dpo_spectralDataDownsample = 2 }

[[range]]
start = "2024-04-01T12:00:00Z"
end   = "2024-04-01T12:15:00Z"
spectrograms_per_batch = 3
download_audio = true

[[range]]
start = "2024-04-01T13:00:00Z"
end   = "2024-04-01T13:10:00Z"
spectrogram_format = "png"
data_product_options = {}

[[audio]]
start = "2024-04-01T14:00:00Z"
end   = "2024-04-01T14:10:00Z"
audio_extension = "wav"
"#;

/// Bytes at most of any tiny product (a few hundred in practice).
const TINY_MAX: u64 = 2048;

fn small(path: &std::path::Path) {
    let len = std::fs::metadata(path).unwrap().len();
    assert!(len <= TINY_MAX, "{} is {len} bytes", path.display());
}

#[test]
fn tiny_run_writes_small_files_that_decode() {
    let sim = Sim::start(&["--time-scale", "0.001", "--tiny"]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), TINY);
    let (code, summary, err) = run_json(&sim, &manifest, &[]);
    assert_eq!(code, 0, "{summary}\n{err}");
    let data = dir.path().join("data/ICLISTENHF6324");
    let mats = files_with(&data.join("spectrograms"), "mat");
    let pngs = files_with(&data.join("spectrograms"), "png");
    let flacs = files_with(&data.join("audio"), "flac");
    let wavs = files_with(&data.join("audio"), "wav");
    assert_eq!(
        (mats.len(), pngs.len(), flacs.len(), wavs.len()),
        (3, 2, 3, 2),
        "{mats:?} {pngs:?} {flacs:?} {wavs:?}"
    );
    for m in &mats {
        small(m);
        let vars = read_mat(m).unwrap();
        let spect = find_var(&vars, "SpectData").unwrap();
        assert!(format!("{spect:?}").contains("PSD"), "{spect:?}");
        assert!(find_var(&vars, "Meta").is_some());
    }
    for p in &pngs {
        small(p);
        let img = read_png(p).unwrap();
        assert!(img.width > 0 && img.height > 0);
    }
    for f in &flacs {
        small(f);
        let a = read_flac(f).unwrap();
        assert_eq!((a.spec.sample_rate, a.spec.bits_per_sample), (64_000, 24));
        assert!(a.frames() > 0);
        // The reference decoder agrees the stream is valid (skipped where `flac` is absent).
        if let Ok(out) = std::process::Command::new("flac")
            .args(["-t", "-s"])
            .arg(f)
            .output()
        {
            assert!(
                out.status.success(),
                "flac -t {}: {}",
                f.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    for w in &wavs {
        small(w);
        let a = read_wav(w).unwrap();
        assert_eq!(a.spec.sample_rate, 64_000);
        assert!(a.frames() > 0);
    }
    assert_eq!(
        check_lock(&lock_of(&manifest), &dir.path().join("data")),
        10
    );
}
