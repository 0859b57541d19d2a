//! The dataset state end to end, against the simulator on 127.0.0.1: one lockfile per
//! manifest, several manifests sharing a `data_dir` (concurrent runs, gc ownership, the index
//! as the union of their lockfiles), a second run of one manifest waiting or refusing, clips
//! made again without the network, repair of same-size corruption, the migration of a
//! version-1 `hydrofetch.lock`, temporary files of killed runs, and exit codes by kind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{
    FAST, Sim, TOKEN, check_lock, files_with, hf, lock_of, output, run_json, sha256, wait_for,
    written_identity,
};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const DEVICE: &str = "ICLISTENHF6324";

fn range_manifest(dir: &Path, name: &str, start: &str, end: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            "version = 1\ndata_dir = \"data\"\n\n[defaults]\ndevice = \"{DEVICE}\"\n\
             spectrogram_format = \"mat\"\n\n[[range]]\nstart = \"{start}\"\nend = \"{end}\"\n\
             spectrograms_per_batch = 6\n"
        ),
    )
    .unwrap();
    p
}

fn run_cmd(sim: &Sim, manifest: &Path) -> Command {
    let mut c = hf(sim);
    c.arg("run").arg(manifest).arg("--json").args(FAST);
    c
}

fn index_paths(data: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(data.join("index.json")).expect("index.json");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let mut v: Vec<String> = rows
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

fn locked_paths(lock: &Path) -> Vec<String> {
    let v: toml::Value = toml::from_str(&std::fs::read_to_string(lock).unwrap()).unwrap();
    let mut out: Vec<String> = v["item"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| {
            i.get("files")
                .and_then(|f| f.as_array())
                .cloned()
                .unwrap_or_default()
        })
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A loopback URL nothing listens on.
fn closed_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}/")
}

#[test]
fn manifests_sharing_a_folder_and_a_data_dir_keep_their_own_lockfiles() {
    let sim = Sim::start(&["--time-scale", "0.002"]);
    let dir = tempfile::tempdir().unwrap();
    // b overlaps a in the 12:05 slot.
    let a = range_manifest(
        dir.path(),
        "a.toml",
        "2024-04-01T12:00:00Z",
        "2024-04-01T12:10:00Z",
    );
    let b = range_manifest(
        dir.path(),
        "b.toml",
        "2024-04-01T12:05:00Z",
        "2024-04-01T12:15:00Z",
    );

    // Both at once: both succeed, neither loses the other's entries or index rows.
    let ca = run_cmd(&sim, &a)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let cb = run_cmd(&sim, &b)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (oa, ob) = (
        ca.wait_with_output().unwrap(),
        cb.wait_with_output().unwrap(),
    );
    assert_eq!(
        oa.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&oa.stderr)
    );
    assert_eq!(
        ob.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ob.stderr)
    );
    let (la, lb) = (
        dir.path().join("a.toml.lock"),
        dir.path().join("b.toml.lock"),
    );
    let data = dir.path().join("data");
    assert_eq!(check_lock(&la, &data), 2);
    assert_eq!(check_lock(&lb, &data), 2);
    assert!(!dir.path().join("hydrofetch.lock").exists());
    let mats = files_with(&data, "mat");
    assert_eq!(mats.len(), 3, "{mats:?}");
    let mut union: Vec<String> = locked_paths(&la);
    union.extend(locked_paths(&lb));
    union.sort();
    union.dedup();
    assert_eq!(
        index_paths(&data),
        union,
        "the index is both manifests' outputs"
    );

    // A no-op run rewrites a missing index, with both manifests' rows.
    std::fs::remove_file(data.join("index.json")).unwrap();
    std::fs::remove_file(data.join("index.csv")).unwrap();
    let (code, summary, err) = run_json(&sim, &a, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary["http_requests"], 0, "{summary}");
    assert_eq!(index_paths(&data), union);
    assert!(data.join("index.csv").exists());

    // a drops 12:05, which b still records, and gc never removes b's files.
    range_manifest(
        dir.path(),
        "a.toml",
        "2024-04-01T12:00:00Z",
        "2024-04-01T12:05:00Z",
    );
    let b_files = locked_paths(&lb);
    let mut c = hf(&sim);
    c.args(["gc", "--dry-run"]).arg(&a);
    let (code, out, err) = output(c);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        !out.lines().any(|l| l.starts_with("would remove ")),
        "{out}"
    );
    assert!(out.contains("kept"), "{out}");
    // Now a drops everything but 12:00..12:05 and b drops 12:10: each gc removes only its own.
    range_manifest(
        dir.path(),
        "b.toml",
        "2024-04-01T12:05:00Z",
        "2024-04-01T12:10:00Z",
    );
    let mut c = hf(&sim);
    c.args(["gc"]).arg(&b);
    let (code, out, err) = output(c);
    assert_eq!(code, 0, "{out}\n{err}");
    let removed: Vec<&str> = out.lines().filter(|l| l.starts_with("removed ")).collect();
    assert_eq!(removed.len(), 1, "{out}");
    let gone = removed[0].trim_start_matches("removed ");
    assert!(!data.join(gone).exists());
    assert!(b_files.contains(&gone.to_owned()));
    assert!(!locked_paths(&la).contains(&gone.to_owned()));
    // The shared 12:05 file stays (a's lockfile still records it until a's own gc).
    for p in locked_paths(&la) {
        assert!(data.join(&p).exists(), "{p}");
    }
    assert!(
        !index_paths(&data).contains(&gone.to_owned()),
        "gc takes removed files out of the index"
    );
    let mut c = hf(&sim);
    c.args(["gc"]).arg(&a);
    let (code, out, err) = output(c);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("kept"), "the 12:05 file is b's too: {out}");
    let mut expect = locked_paths(&la);
    expect.extend(locked_paths(&lb));
    expect.sort();
    expect.dedup();
    assert_eq!(expect.len(), 2);
    assert_eq!(index_paths(&data), expect);
    for p in &expect {
        assert!(data.join(p).exists(), "{p}");
    }
}

#[test]
fn a_second_run_of_one_manifest_waits_or_refuses() {
    // Slow server-side jobs keep the first run busy for a while.
    let sim = Sim::start(&["--time-scale", "0.05", "--capacity", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let m = range_manifest(
        dir.path(),
        "m.toml",
        "2024-04-01T12:00:00Z",
        "2024-04-01T12:20:00Z",
    );
    // Options that ONC (and the simulator) generate on demand: the first run's request takes
    // seconds on the server, however fast the (cached) files are served.
    let text = std::fs::read_to_string(&m).unwrap().replace(
        "spectrogram_format = \"mat\"",
        "spectrogram_format = \"mat\"\ndata_product_options = { dpo_spectralDataDownsample = 2 }",
    );
    std::fs::write(&m, text).unwrap();
    let first = run_cmd(&sim, &m)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let guard = dir.path().join(".hydrofetch/m.toml.lock.guard");
    let pid = first.id().to_string();
    wait_for("the first run's guard", Duration::from_secs(30), || {
        std::fs::read_to_string(&guard).is_ok_and(|t| t.trim() == pid)
    });

    // --no-wait: refused at once, exit 1, saying who holds it.
    let mut c = hf(&sim);
    c.arg("run").arg(&m).arg("--no-wait").args(FAST);
    let (code, out, err) = output(c);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("in use") && err.contains(&pid), "{err}");

    // Without: it says that it waits, then finds everything done.
    let mut c = hf(&sim);
    c.arg("run").arg(&m).args(FAST).arg("--json");
    let mut second = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(second.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("waiting for process"), "{line}");
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let requests = sim.count("dataProductDelivery/request");
    let out = second.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["items"]["fetched"], 0, "{summary}");
    assert_eq!(summary["items"]["done_before"], 4, "{summary}");
    assert_eq!(sim.count("dataProductDelivery/request"), requests);
    assert_eq!(check_lock(&lock_of(&m), &dir.path().join("data")), 4);
}

const CLIP_DOC: &str = r#"{
  "defaults": { "pad_seconds": 5, "download_audio": true, "download_spectrogram": false,
                "clip": true, "audio_extension": "wav" },
  "requests": [
    { "deviceCode": "ICLISTENHF6324", "timestamp": "2024-04-01T12:34:58Z", "label": "call" }
  ]
}"#;

#[test]
fn clips_are_made_again_without_the_network_when_their_sources_are_done() {
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("events.json");
    std::fs::write(&m, CLIP_DOC).unwrap();
    let (code, summary, err) = run_json(&sim, &m, &[]);
    assert_eq!(code, 0, "{summary}\n{err}");
    let data = dir.path().join("data");
    let clips = files_with(&data.join("clips"), "wav");
    assert_eq!(clips.len(), 1, "{clips:?}");
    let first_hash = sha256(&clips[0]);

    // Offline: nothing listens at the ONC address any more.
    let offline = |m: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hydrofetch"));
        c.env("ONC_URL", closed_url())
            .env("ONC_TOKEN", TOKEN)
            .arg("run")
            .arg(m)
            .arg("--json")
            .args(FAST);
        let (code, out, err) = output(c);
        (
            code,
            serde_json::from_str::<serde_json::Value>(&out).unwrap_or_default(),
            out,
            err,
        )
    };
    std::fs::remove_file(&clips[0]).unwrap();
    let (code, summary, out, err) = offline(&m);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(summary["items"]["fetched"], 1, "{summary}");
    assert_eq!(summary["http_requests"], 0, "{summary}");
    assert_eq!(
        sha256(&clips[0]),
        first_hash,
        "the same clip, byte for byte"
    );

    // A changed padding over the same source slots: a new clip, made offline too.
    std::fs::write(
        &m,
        CLIP_DOC.replace("\"pad_seconds\": 5", "\"pad_seconds\": 1"),
    )
    .unwrap();
    let (code, summary, out, err) = offline(&m);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(summary["items"]["fetched"], 1, "{summary}");
    let clips = files_with(&data.join("clips"), "wav");
    assert_eq!(clips.len(), 2, "{clips:?}");
    let rows = index_paths(&data);
    assert!(
        clips
            .iter()
            .all(|c| rows.iter().any(|r| c.ends_with(r.as_str()))),
        "{rows:?}"
    );
    check_lock(&lock_of(&m), &data);
}

#[test]
fn verify_repair_fetches_a_same_size_corruption_again() {
    let sim = Sim::start(&["--time-scale", "0.002"]);
    let dir = tempfile::tempdir().unwrap();
    let m = range_manifest(
        dir.path(),
        "m.toml",
        "2024-04-01T12:00:00Z",
        "2024-04-01T12:10:00Z",
    );
    let (code, _, err) = run_json(&sim, &m, &[]);
    assert_eq!(code, 0, "{err}");
    let data = dir.path().join("data");
    let mats = files_with(&data, "mat");
    let good = sha256(&mats[1]);
    let mut bytes = std::fs::read(&mats[1]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&mats[1], bytes).unwrap();

    // The fast check (size) passes; verify sees it; --repair fetches it again.
    let (_, summary, _) = run_json(&sim, &m, &[]);
    assert_eq!(summary["items"]["fetched"], 0, "{summary}");
    let mut c = hf(&sim);
    c.arg("verify").arg(&m);
    assert_eq!(output(c).0, 1);
    let mut c = hf(&sim);
    c.args(["verify", "--repair"]).arg(&m).args(FAST);
    let (code, out, err) = output(c);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("repair"), "{out}");
    assert_eq!(sha256(&mats[1]), good);
    let mut c = hf(&sim);
    c.arg("verify").arg(&m);
    assert_eq!(output(c).0, 0);
    assert_eq!(check_lock(&lock_of(&m), &data), 2);
}

#[test]
fn a_version_1_shared_lockfile_is_migrated_and_leftovers_are_swept() {
    let sim = Sim::start(&["--time-scale", "0.002"]);
    let dir = tempfile::tempdir().unwrap();
    let m = range_manifest(
        dir.path(),
        "m.toml",
        "2024-04-01T12:00:00Z",
        "2024-04-01T12:10:00Z",
    );
    let (code, _, err) = run_json(&sim, &m, &[]);
    assert_eq!(code, 0, "{err}");
    // What hydrofetch wrote before version 2: one hydrofetch.lock for the folder.
    let own = dir.path().join("m.toml.lock");
    let text = std::fs::read_to_string(&own).unwrap();
    let v1: String = text
        .replace("version = 2", "version = 1")
        .lines()
        .filter(|l| !l.starts_with("data_dir"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.path().join("hydrofetch.lock"), v1).unwrap();
    std::fs::remove_file(&own).unwrap();
    // A temporary file of a killed run (its process is long gone).
    let spect = data_spect(dir.path());
    let stale = spect.join(".x.mat.4194999999.7.tmp");
    std::fs::write(&stale, vec![0_u8; 1000]).unwrap();

    let before = sim.api_requests();
    let (code, summary, err) = run_json(&sim, &m, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary["http_requests"], 0, "{summary}\n{err}");
    assert_eq!(sim.api_requests(), before);
    assert!(err.contains("migrated 2 of 2 items"), "{err}");
    assert!(err.contains("removed 1 temporary file"), "{err}");
    assert!(!stale.exists());
    assert_eq!(
        std::fs::read_to_string(&own).unwrap(),
        text,
        "the same lockfile"
    );
    let (_, _, err) = run_json(&sim, &m, &[]);
    assert!(!err.contains("migrated"), "said once: {err}");
}

fn data_spect(dir: &Path) -> PathBuf {
    dir.join("data").join(DEVICE).join("spectrograms")
}

#[test]
fn exit_codes_follow_the_kind_of_error() {
    let dir = tempfile::tempdir().unwrap();
    let m = range_manifest(
        dir.path(),
        "m.toml",
        "2024-04-01T12:00:00Z",
        "2024-04-01T12:10:00Z",
    );
    let bin = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hydrofetch"));
        c.current_dir(dir.path())
            .env_remove("ONC_TOKEN")
            .env_remove("ONC_URL")
            .env_remove("HYDROFETCH_LOG");
        c
    };
    // A bad manifest: 2.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "version = 1\n[[range]]\nstart = \"yesterday\"\n").unwrap();
    let mut c = bin();
    c.arg("run").arg(&bad);
    assert_eq!(output(c).0, 2);
    // No token anywhere: usage, 2.
    let mut c = bin();
    c.arg("run").arg(&m);
    let (code, _, err) = output(c);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no ONC token"), "{err}");
    // A refused connection: a runtime error, 1, fast.
    let mut c = bin();
    c.env("ONC_URL", closed_url())
        .env("ONC_TOKEN", TOKEN)
        .arg("run")
        .arg(&m)
        .args(FAST);
    let (code, out, err) = output(c);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(!err.contains(TOKEN));
    // An unreadable lockfile (a folder in its place): a runtime error, 1.
    let odd = range_manifest(
        dir.path(),
        "odd.toml",
        "2024-04-01T12:00:00Z",
        "2024-04-01T12:05:00Z",
    );
    std::fs::create_dir_all(dir.path().join("odd.toml.lock")).unwrap();
    let mut c = bin();
    c.env("ONC_URL", closed_url())
        .env("ONC_TOKEN", TOKEN)
        .arg("run")
        .arg(&odd);
    let (code, _, err) = output(c);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("odd.toml.lock"), "{err}");
    // `--lockfile` with two manifests: usage, 2.
    let mut c = bin();
    c.args(["run", "--lockfile", "x.lock"]).arg(&m).arg(&odd);
    assert_eq!(output(c).0, 2);
    // A reader that closes the pipe: 0, and no error printed.
    for args in [vec!["plan", "--json"], vec!["verify"]] {
        let mut c = bin();
        c.args(&args).arg(&m);
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_run_with_nothing_to_do_rewrites_neither_lockfile_nor_index_unless_they_are_stale() {
    let sim = Sim::start(&["--time-scale", "0.002"]);
    let dir = tempfile::tempdir().unwrap();
    let a = range_manifest(
        dir.path(),
        "a.toml",
        "2024-04-01T12:00:00Z",
        "2024-04-01T12:10:00Z",
    );
    let data = dir.path().join("data");
    let lock = dir.path().join("a.toml.lock");
    let run = |m: &Path| {
        let (code, summary, err) = run_json(&sim, m, &[]);
        assert_eq!(code, 0, "{summary}{err}");
    };
    run(&a);
    let files = [
        lock.clone(),
        data.join("index.csv"),
        data.join("index.json"),
    ];
    let before: Vec<_> = files.iter().map(|p| written_identity(p)).collect();
    let index = std::fs::read(data.join("index.json")).unwrap();

    // Nothing to do: nothing is written again.
    run(&a);
    let after: Vec<_> = files.iter().map(|p| written_identity(p)).collect();
    assert_eq!(before, after, "a no-op run rewrote {files:?}");

    // An index removed or edited by hand is rebuilt from the lockfiles.
    std::fs::remove_file(data.join("index.json")).unwrap();
    std::fs::write(data.join("index.csv"), "path\n").unwrap();
    run(&a);
    assert_eq!(std::fs::read(data.join("index.json")).unwrap(), index);
    assert_eq!(index_paths(&data).len(), 2);
    let csv = std::fs::read_to_string(data.join("index.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");

    // Another manifest writing into the data_dir: its rows join, and a no-op run of the first
    // keeps them.
    let b = range_manifest(
        dir.path(),
        "b.toml",
        "2024-04-01T12:10:00Z",
        "2024-04-01T12:15:00Z",
    );
    run(&b);
    assert_eq!(index_paths(&data).len(), 3);
    run(&a);
    assert_eq!(index_paths(&data).len(), 3);

    // The other lockfile edited behind our back (its item forgotten): the next run of `a`
    // rebuilds the index from what the lockfiles say now.
    let lb = dir.path().join("b.toml.lock");
    let text = std::fs::read_to_string(&lb).unwrap();
    let cut = text.find("[[item]]").unwrap();
    std::fs::write(&lb, &text[..cut]).unwrap();
    run(&a);
    assert_eq!(index_paths(&data).len(), 2);
}
