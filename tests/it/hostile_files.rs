//! Hostile bodies and a hostile local disk (issue 13): a body without `Content-Length` that
//! ends early is never locked, and a local write failure is local (the OS cause shown, no ONC
//! job resubmitted, a full disk stops the run early with exit 1).
//!
//! The symlink cases (a link planted at a temporary name or at the final name) are unit tests
//! of `crates/onc-core/src/atomic.rs`, where every name the next temporary file can take is known.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{
    FAST, Sim, TOKEN, check_lock, files_with, hf, lock_of, output, sha256, write_manifest,
};
use std::path::Path;
use std::process::Command;

const RANGE: &str = r#"
version = 1
data_dir = "data"

[defaults]
device = "ICLISTENHF6324"
spectrogram_format = "mat"
data_product_options = { dpo_spectralDataDownsample = 2 }

[[range]]
start = "2024-04-01T12:00:00Z"
end   = "2024-04-01T13:00:00Z"
spectrograms_per_batch = 6
download_audio = true
"#;

fn run(sim: &Sim, manifest: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut c = hf(sim);
    c.arg("run").arg(manifest).args(FAST).args(extra);
    output(c)
}

/// Faults the simulator applied, by kind and path.
fn applied(sim: &Sim, kind: &str, path_suffix: &str) -> usize {
    common::requests(&sim.log())
        .iter()
        .filter(|r| r["fault"].as_str() == Some(kind))
        .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with(path_suffix)))
        .count()
}

#[test]
fn short_bodies_without_content_length_are_retried_never_locked() {
    let clean = Sim::start(&["--time-scale", "0.001"]);
    let hostile = Sim::start(&[
        "--time-scale",
        "0.001",
        "--faults",
        "short_body=0.3",
        "--seed",
        "11",
    ]);
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (ma, mb) = (
        write_manifest(a.path(), RANGE),
        write_manifest(b.path(), RANGE),
    );
    let (code, _, err) = run(&clean, &ma, &[]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&hostile, &mb, &[]);
    assert_eq!(code, 0, "{out}\n{err}");

    // The hostile server did cut bodies. Which downloads get the cut depends on the order in
    // which concurrent requests arrive, so only the total is certain: with 24 file bodies at
    // 30 %, none cut has a chance of 0.7^24 ≈ 0.02 %.
    let cut = applied(&hostile, "short_body", "archivefile/download")
        + applied(&hostile, "short_body", "dataProductDelivery/download");
    assert!(cut > 0, "no short body was served");

    // Every locked file is whole: byte for byte what the clean server served.
    let data_a = a.path().join("data");
    let data_b = b.path().join("data");
    assert_eq!(check_lock(&lock_of(&mb), &data_b), 24);
    let mut files = files_with(&data_b, "mat");
    files.extend(files_with(&data_b, "flac"));
    assert_eq!(files.len(), 24, "{files:?}");
    for f in &files {
        let rel = f.strip_prefix(&data_b).unwrap();
        assert_eq!(sha256(f), sha256(&data_a.join(rel)), "{}", rel.display());
    }
    assert_eq!(
        std::fs::read_to_string(lock_of(&ma)).unwrap(),
        std::fs::read_to_string(lock_of(&mb)).unwrap(),
        "the lockfiles differ with and without short bodies"
    );
    let mut c = hf(&hostile);
    c.arg("verify").arg(&mb);
    let (code, out, err) = output(c);
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
fn a_local_write_failure_shows_the_os_cause_and_resubmits_nothing() {
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let dir = tempfile::tempdir().unwrap();
    // One ONC request of six slots.
    let text = RANGE
        .replace("13:00:00Z", "12:30:00Z")
        .replace("download_audio = true", "download_audio = false");
    let manifest = write_manifest(dir.path(), &text);
    // A regular file where the device's folder must be created.
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/ICLISTENHF6324"), b"in the way").unwrap();

    let (code, out, err) = run(&sim, &manifest, &[]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("Not a directory (os error 20)") || err.contains("File exists (os error 17)"),
        "the OS cause is missing: {err}"
    );
    assert_eq!(
        sim.count("dataProductDelivery/request"),
        1,
        "a local error resubmitted the ONC job"
    );
    assert_eq!(
        std::fs::read(dir.path().join("data/ICLISTENHF6324")).unwrap(),
        b"in the way"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_stops_the_run_early_with_the_cause_and_exit_1() {
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let dir = tempfile::tempdir().unwrap();
    // Four ONC requests of three slots, one at a time.
    let text = RANGE
        .replace("spectrograms_per_batch = 6", "spectrograms_per_batch = 3")
        .replace("download_audio = true", "download_audio = false");
    let manifest = write_manifest(dir.path(), &text);
    // RLIMIT_FSIZE below a spectrogram's size, with SIGXFSZ ignored (an ignored signal stays
    // ignored across exec), so a large write fails with EFBIG as on a full disk. The lockfile
    // and the journal stay far below the limit.
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("trap '' XFSZ; ulimit -f 16; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_hydrofetch"))
        .arg("run")
        .arg(&manifest)
        .args(FAST)
        .args(["--max-requests", "1", "--max-downloads", "1"])
        .env("ONC_URL", &sim.url)
        .env("ONC_TOKEN", TOKEN)
        .env_remove("HYDROFETCH_LOG");
    let (code, out, err) = output(c);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("File too large (os error 27)"),
        "the OS cause is missing: {err}"
    );
    assert_eq!(
        sim.count("dataProductDelivery/request"),
        1,
        "the run went on submitting after the disk filled"
    );
    // The summary came, and every item is accounted for.
    assert!(err.contains("12 items"), "{err}");
    assert!(lock_of(&manifest).exists());
}
