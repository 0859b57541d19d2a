//! `hydrofetch run` end to end against the simulator on 127.0.0.1: the seed's range example,
//! idempotent re-runs, fault tolerance, resume after `kill -9`, and permanent errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{
    FAST, Sim, TOKEN, check_lock, files_with, hf, lock_of, output, run_json, sha256, wait_for,
    write_manifest,
};
use std::time::Duration;

const RANGE: &str = r#"
version = 1
data_dir = "data"

[defaults]
device = "ICLISTENHF6324"
spectrogram_format = "mat"
data_product_options = { dpo_spectralDataDownsample = 2 }

[[range]]
start = "2024-04-01T12:00:00Z"
end   = "2024-04-01T14:00:00Z"
spectrograms_per_batch = 6
download_audio = true
"#;

#[test]
fn range_example_fetches_everything_once_and_reruns_with_zero_requests() {
    let sim = Sim::start(&["--time-scale", "0.002"]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), RANGE);
    let (code, summary, err) = run_json(&sim, &manifest, &[]);
    assert_eq!(code, 0, "{summary}\n{err}");
    assert_eq!(summary["items"]["total"], 48);
    assert_eq!(summary["items"]["fetched"], 48, "{summary}");
    assert_eq!(summary["onc_requests"], 4, "{summary}");
    assert_eq!(sim.count("dataProductDelivery/request"), 4);

    let data = dir.path().join("data/ICLISTENHF6324");
    let mats = files_with(&data.join("spectrograms"), "mat");
    let flacs = files_with(&data.join("audio"), "flac");
    assert_eq!(mats.len(), 24, "{mats:?}");
    assert_eq!(flacs.len(), 24, "{flacs:?}");
    // Names keep ONC's drifting start times.
    assert!(
        flacs[0]
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("ICLISTENHF6324_20240401T1200")
    );
    assert_eq!(
        check_lock(&lock_of(&manifest), &dir.path().join("data")),
        48
    );
    assert!(dir.path().join("data/index.csv").exists());

    // Everything is locked and present: a re-run makes no HTTP request at all.
    let before = sim.api_requests();
    let (code, summary, _) = run_json(&sim, &manifest, &[]);
    assert_eq!(code, 0);
    assert_eq!(summary["items"]["done_before"], 48);
    assert_eq!(summary["http_requests"], 0);
    assert_eq!(sim.api_requests(), before);

    // Changing the batch size re-downloads nothing either.
    write_manifest(
        dir.path(),
        &RANGE.replace("spectrograms_per_batch = 6", "spectrograms_per_batch = 4"),
    );
    let (_, summary, _) = run_json(&sim, &manifest, &[]);
    assert_eq!(summary["http_requests"], 0, "{summary}");

    // A deleted file is fetched again, and only that.
    std::fs::remove_file(&mats[3]).unwrap();
    let (code, summary, _) = run_json(&sim, &manifest, &[]);
    assert_eq!(code, 0);
    assert_eq!(summary["items"]["fetched"], 1, "{summary}");
    assert!(mats[3].exists());

    // verify: all good, then a changed byte is reported.
    let mut c = hf(&sim);
    c.arg("verify").arg(&manifest);
    assert_eq!(output(c).0, 0);
    let mut bytes = std::fs::read(&flacs[0]).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&flacs[0], bytes).unwrap();
    let mut c = hf(&sim);
    c.arg("verify").arg(&manifest);
    let (code, out, _) = output(c);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("MISMATCH"), "{out}");
}

#[test]
fn faults_do_not_change_the_result() {
    let clean = Sim::start(&["--time-scale", "0.001"]);
    let faulty = Sim::start(&[
        "--time-scale",
        "0.001",
        "--faults",
        "500=0.06,503=0.04,429=0.04,reset=0.03,truncate=0.03",
        "--seed",
        "7",
    ]);
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let text = RANGE
        .replace("14:00:00Z", "13:00:00Z")
        .replace("download_audio = true", "download_audio = false");
    let (ma, mb) = (
        write_manifest(a.path(), &text),
        write_manifest(b.path(), &text),
    );
    let (code, _, err) = run_json(&clean, &ma, &[]);
    assert_eq!(code, 0, "{err}");
    let (code, summary, err) = run_json(&faulty, &mb, &[]);
    assert_eq!(code, 0, "{summary}\n{err}");
    assert_eq!(summary["items"]["fetched"], 12, "{summary}");
    let faults = common::requests(&faulty.log())
        .iter()
        .filter(|r| r["fault"].as_str().is_some_and(|f| !f.is_empty()))
        .count();
    assert!(faults > 0, "the faulty simulator injected no fault");
    let (la, lb) = (
        std::fs::read_to_string(lock_of(&ma)).unwrap(),
        std::fs::read_to_string(lock_of(&mb)).unwrap(),
    );
    let diff: Vec<String> = la
        .lines()
        .zip(lb.lines())
        .filter(|(x, y)| x != y)
        .take(6)
        .map(|(x, y)| format!("clean: {x}\nfaulty: {y}"))
        .collect();
    assert!(
        la == lb,
        "the lockfiles differ with and without faults:\n{}",
        diff.join("\n")
    );
    for f in files_with(&a.path().join("data"), "mat") {
        let rel = f.strip_prefix(a.path()).unwrap();
        assert_eq!(sha256(&f), sha256(&b.path().join(rel)));
    }
}

#[test]
fn kill_9_then_rerun_reattaches_to_onc_jobs() {
    // Slow server-side jobs so the run is killed while they are in flight.
    let sim = Sim::start(&["--time-scale", "0.05", "--capacity", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(
        dir.path(),
        &RANGE.replace("download_audio = true", "download_audio = false"),
    );
    let mut c = hf(&sim);
    c.arg("run").arg(&manifest).args(FAST).arg("--quiet");
    let mut child = c.spawn().unwrap();
    let journal = dir.path().join(".hydrofetch/manifest.toml.lock.journal");
    wait_for("the resume journal", Duration::from_secs(60), || {
        std::fs::read_to_string(&journal).is_ok_and(|t| t.matches("dp_request_id").count() >= 4)
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let submitted = sim.count("dataProductDelivery/request");
    assert!(submitted >= 2);

    let (code, summary, err) = run_json(&sim, &manifest, &[]);
    assert_eq!(code, 0, "{summary}\n{err}");
    // Jobs already submitted were re-attached, not requested again.
    assert_eq!(
        sim.count("dataProductDelivery/request"),
        4,
        "requests after resume: {summary}"
    );
    assert_eq!(
        check_lock(&lock_of(&manifest), &dir.path().join("data")),
        24
    );
    assert!(
        !journal.exists(),
        "the journal is cleared when everything is done"
    );
}

#[test]
fn bad_token_and_unknown_device_fail_fast_without_leaking_the_token() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), RANGE);
    let secret = "ffff0000-not-the-right-token-9999";
    let mut c = hf(&sim);
    c.arg("run")
        .arg(&manifest)
        .args(FAST)
        .env("ONC_TOKEN", secret)
        .arg("--verbose");
    let (code, out, err) = output(c);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("401") || err.contains("refused the token"),
        "{err}"
    );
    assert!(
        !out.contains(secret) && !err.contains(secret),
        "token leaked:\n{out}\n{err}"
    );
    assert!(!err.contains(TOKEN));

    let manifest = write_manifest(
        dir.path(),
        &RANGE.replace("ICLISTENHF6324", "NOSUCHDEVICE01"),
    );
    let mut c = hf(&sim);
    c.arg("run").arg(&manifest).args(FAST);
    let (code, _, err) = output(c);
    // Caught before any job is submitted (issue #18): a usage error, exit 2.
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown device NOSUCHDEVICE01"), "{err}");
    assert!(!err.contains(TOKEN), "token leaked: {err}");
}
