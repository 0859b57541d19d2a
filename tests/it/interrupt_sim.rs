//! Interrupts keep work, and polling gives up: `hydrofetch run` against a simulator
//! subprocess on 127.0.0.1, stopped with SIGINT or SIGTERM mid-download, or losing its token
//! (401) while ONC is still processing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{
    FAST, Sim, TOKEN, check_lock, files_with, hf, lock_of, output, sha256, wait_for,
    write_manifest, written_identity,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// One hour of one-minute-average spectrograms: small files, each generated on demand by the
/// simulator (about a second apiece), so a sequential run lasts long enough to interrupt.
const HOUR: &str = r#"
version = 1
data_dir = "data"

[defaults]
device = "ICLISTENHF6324"
spectrogram_format = "mat"
data_product_options = { dpo_spectralDataDownsample = 1 }

[[range]]
start = "2024-04-01T12:00:00Z"
end   = "2024-04-01T13:00:00Z"
spectrograms_per_batch = 4
download_audio = false
"#;

/// Three plot-resolution spectrograms (about 5.6 MB each), for a simulator that trickles
/// bodies (`slow`): a transfer is in flight for seconds.
const BIG: &str = r#"
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
download_audio = false
"#;

/// Temporary download files (`.NAME.PID.N.tmp`) under `dir`.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    files_with(dir, "tmp")
}

/// The lockfile's files: data-relative path → (sha256, size).
fn locked_files(lock: &Path) -> BTreeMap<String, (String, u64)> {
    let Ok(text) = std::fs::read_to_string(lock) else {
        return BTreeMap::new();
    };
    let v: toml::Value = toml::from_str(&text).expect("lockfile is TOML");
    let mut out = BTreeMap::new();
    for item in v
        .get("item")
        .and_then(|i| i.as_array())
        .into_iter()
        .flatten()
    {
        for f in item
            .get("files")
            .and_then(|f| f.as_array())
            .into_iter()
            .flatten()
        {
            out.insert(
                f["path"].as_str().unwrap().to_owned(),
                (
                    f["sha256"].as_str().unwrap().to_owned(),
                    f["size"].as_integer().unwrap() as u64,
                ),
            );
        }
    }
    out
}

fn rel(data: &Path, p: &Path) -> String {
    p.strip_prefix(data)
        .unwrap()
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Sends `signal` (`INT`, `TERM`) to the child and waits, bounded, for it to exit; returns
/// the exit code and how long the exit took after the signal.
fn signal_and_wait(child: &mut Child, signal: &str, limit: Duration) -> (i32, Duration) {
    let sent = Instant::now();
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal}");
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return (st.code().unwrap_or(-1), sent.elapsed());
        }
        if sent.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no exit within {limit:?} of SIGTERM/SIGINT");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reads the child's stdout and stderr in the background, so a full pipe never blocks it.
struct Outputs {
    out: std::thread::JoinHandle<String>,
    err: std::thread::JoinHandle<String>,
}

impl Outputs {
    fn of(child: &mut Child) -> Self {
        fn drain(mut r: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = r.read_to_string(&mut s);
                s
            })
        }
        Self {
            out: drain(child.stdout.take().unwrap()),
            err: drain(child.stderr.take().unwrap()),
        }
    }

    /// (stdout, stderr), once the child has exited.
    fn take(self) -> (String, String) {
        (self.out.join().unwrap(), self.err.join().unwrap())
    }
}

fn rerun_json(sim: &Sim, manifest: &Path, extra: &[&str]) -> serde_json::Value {
    let mut c = hf(sim);
    c.arg("run")
        .arg(manifest)
        .arg("--json")
        .args(FAST)
        .args(extra);
    let (code, out, err) = output(c);
    assert_eq!(code, 0, "re-run: {out}\n{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("--json output ({e}): {out}\n{err}"))
}

/// What an interrupted run left: the locked files as they are on disk, checked.
struct Left {
    locked: BTreeMap<String, (String, u64)>,
    inodes: BTreeMap<String, (u64, i64)>,
}

/// Checks what an interrupted run left in `dir` and returns it.
fn check_what_was_left(dir: &Path, manifest: &Path, max_unlocked: usize) -> Left {
    let data = dir.join("data");
    assert!(temp_files(&data).is_empty(), "{:?}", temp_files(&data));
    let lock = lock_of(manifest);
    let locked = locked_files(&lock);
    assert!(
        !locked.is_empty(),
        "nothing finished before the signal is in {}",
        lock.display()
    );
    check_lock(&lock, &data);
    let on_disk: Vec<String> = files_with(&data, "mat")
        .iter()
        .map(|p| rel(&data, p))
        .collect();
    let unlocked: Vec<&String> = on_disk
        .iter()
        .filter(|p| !locked.contains_key(*p))
        .collect();
    // Only a file whose slot was not yet provably complete may be on disk unlocked.
    assert!(
        unlocked.len() <= max_unlocked,
        "finished files missing from the lockfile: {unlocked:?} (locked: {:?})",
        locked.keys()
    );
    for (p, (sha, size)) in &locked {
        let path = data.join(p);
        assert_eq!(&sha256(&path), sha, "{p}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), *size, "{p}");
    }
    let inodes = locked
        .keys()
        .map(|p| (p.clone(), written_identity(&data.join(p))))
        .collect();
    Left { locked, inodes }
}

/// The re-run finished everything and downloaded none of the locked files again.
fn check_rerun(dir: &Path, manifest: &Path, left: &Left, summary: &serde_json::Value, items: u64) {
    let data = dir.join("data");
    assert_eq!(summary["items"]["total"], items, "{summary}");
    assert_eq!(summary["items"]["failed"], 0, "{summary}");
    assert_eq!(
        summary["items"]["done_before"].as_u64().unwrap() as usize,
        left.locked.len(),
        "{summary}"
    );
    let all = locked_files(&lock_of(manifest));
    assert_eq!(check_lock(&lock_of(manifest), &data), all.len());
    for (p, before) in &left.inodes {
        assert_eq!(
            &written_identity(&data.join(p)),
            before,
            "{p} was written again"
        );
        assert_eq!(all.get(p), left.locked.get(p), "{p}");
    }
    // Bytes downloaded by the re-run: exactly the files that were not locked.
    let expected: u64 = all
        .iter()
        .filter(|(p, _)| !left.locked.contains_key(*p))
        .map(|(_, (_, size))| size)
        .sum();
    assert_eq!(summary["bytes"].as_u64().unwrap(), expected, "{summary}");
    assert!(temp_files(&data).is_empty());
}

#[test]
fn sigint_mid_download_keeps_finished_items_and_the_rerun_continues() {
    // Each ONC request takes a while on the server, so the signal lands while the run is
    // mid-way, however fast the (cached) downloads are.
    // (Downsample 2 is generated on demand: ONC-like processing time, scaled.)
    let sim = Sim::start(&["--time-scale", "0.01"]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(
        dir.path(),
        &HOUR.replace(
            "dpo_spectralDataDownsample = 1",
            "dpo_spectralDataDownsample = 2",
        ),
    );
    let data = dir.path().join("data");
    let mut child = hf(&sim)
        .arg("run")
        .arg(&manifest)
        .args(FAST)
        .args(["--max-downloads", "1", "--max-requests", "1", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let outputs = Outputs::of(&mut child);
    // Sequential downloads: the run is mid-way through its second ONC request.
    wait_for("six spectrograms on disk", Duration::from_secs(120), || {
        files_with(&data, "mat").len() >= 6
    });
    let (code, took) = signal_and_wait(&mut child, "INT", Duration::from_secs(30));
    let (_, err) = outputs.take();
    assert_eq!(code, 130, "{err}");
    assert!(took <= Duration::from_secs(2), "exit took {took:?}\n{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(err.contains("items remain"), "{err}");
    assert!(!err.contains(TOKEN), "token leaked: {err}");
    // One download at a time, one request at a time: at most the last file is unproven.
    let left = check_what_was_left(dir.path(), &manifest, 1);
    assert!(left.locked.len() >= 5, "{:?}", left.locked.keys());

    let summary = rerun_json(&sim, &manifest, &[]);
    check_rerun(dir.path(), &manifest, &left, &summary, 12);
}

#[test]
fn sigterm_aborts_a_transfer_in_flight_and_keeps_finished_items() {
    // Bodies trickle at about 1 MB/s: each 5.6 MB file is in flight for seconds.
    let sim = Sim::start(&["--time-scale", "0.002", "--faults", "slow=1"]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), BIG);
    let data = dir.path().join("data");
    let mut child = hf(&sim)
        .arg("run")
        .arg(&manifest)
        .args(FAST)
        .args(["--max-downloads", "2", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let outputs = Outputs::of(&mut child);
    wait_for(
        "two spectrograms on disk and the third in flight",
        Duration::from_secs(180),
        || files_with(&data, "mat").len() >= 2 && !temp_files(&data).is_empty(),
    );
    let (code, took) = signal_and_wait(&mut child, "TERM", Duration::from_secs(30));
    let (out, err) = outputs.take();
    assert_eq!(code, 130, "{out}\n{err}");
    assert!(took <= Duration::from_secs(2), "exit took {took:?}\n{err}");
    let summary: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("--json output ({e}): {out}"));
    assert_eq!(summary["interrupted"], true, "{summary}");
    assert!(summary["remaining"].as_u64().unwrap() >= 1, "{summary}");
    assert!(err.contains("interrupted"), "{err}");
    // The transfer in flight was dropped with its temporary file; the first slot is proven
    // complete by the second file, which itself waits for the third.
    let left = check_what_was_left(dir.path(), &manifest, 1);
    assert_eq!(
        summary["remaining"].as_u64().unwrap() as usize,
        3 - left.locked.len(),
        "{summary}"
    );
    let cancels = sim.count("dataProductDelivery/cancel");
    assert_eq!(cancels, 1, "the ONC job in flight is cancelled");

    let summary = rerun_json(&sim, &manifest, &[]);
    check_rerun(dir.path(), &manifest, &left, &summary, 3);
}

/// The files of the items a run recorded as finished (`.hydrofetch/NAME.lock.record`, one
/// JSON entry a line): data-relative path → (sha256, size).
fn recorded_files(manifest: &Path) -> BTreeMap<String, (String, u64)> {
    let name = manifest.file_name().unwrap().to_string_lossy();
    let record = manifest.with_file_name(format!(".hydrofetch/{name}.lock.record"));
    let text = std::fs::read_to_string(record).unwrap_or_default();
    let mut out = BTreeMap::new();
    // A line still being written when the process died is not an item.
    for e in text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
    {
        for f in e["files"].as_array().into_iter().flatten() {
            out.insert(
                f["path"].as_str().unwrap().to_owned(),
                (
                    f["sha256"].as_str().unwrap().to_owned(),
                    f["size"].as_u64().unwrap(),
                ),
            );
        }
    }
    out
}

#[test]
fn kill_9_loses_no_finished_item_and_the_rerun_folds_them_into_the_lockfile() {
    let sim = Sim::start(&["--time-scale", "0.01"]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(
        dir.path(),
        &HOUR.replace(
            "dpo_spectralDataDownsample = 1",
            "dpo_spectralDataDownsample = 2",
        ),
    );
    let data = dir.path().join("data");
    let mut child = hf(&sim)
        .arg("run")
        .arg(&manifest)
        .args(FAST)
        .args(["--max-downloads", "1", "--max-requests", "1", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(
        "five finished items recorded",
        Duration::from_secs(120),
        || recorded_files(&manifest).len() >= 5,
    );
    child.kill().unwrap(); // SIGKILL: no clean-up, no compaction.
    child.wait().unwrap();
    // Every item finished before the kill is recorded; at most the last file is unproven.
    let recorded = recorded_files(&manifest);
    let unrecorded: Vec<String> = files_with(&data, "mat")
        .iter()
        .map(|p| rel(&data, p))
        .filter(|p| !recorded.contains_key(p))
        .collect();
    assert!(
        unrecorded.len() <= 1,
        "finished but not recorded: {unrecorded:?}"
    );
    let inodes = recorded
        .keys()
        .map(|p| (p.clone(), written_identity(&data.join(p))))
        .collect();
    let left = Left {
        locked: recorded,
        inodes,
    };

    // The re-run folds the record into the lockfile and fetches only the rest.
    let summary = rerun_json(&sim, &manifest, &[]);
    check_rerun(dir.path(), &manifest, &left, &summary, 12);
    let locked = locked_files(&lock_of(&manifest));
    for (p, v) in &left.locked {
        assert_eq!(locked.get(p), Some(v), "{p} lost from the lockfile");
    }
    assert!(
        !dir.path()
            .join(".hydrofetch/manifest.toml.lock.record")
            .exists(),
        "the record is compacted away"
    );
}

#[test]
fn a_token_revoked_while_onc_processes_fails_the_run_without_hanging() {
    // Plot-resolution spectrograms are generated on demand, and slowly: the run is polling
    // when the token is revoked.
    let sim = Sim::start(&["--time-scale", "0.05"]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(
        dir.path(),
        &HOUR.replace(
            "dpo_spectralDataDownsample = 1",
            "dpo_spectralDataDownsample = 2",
        ),
    );
    let mut child = hf(&sim)
        .arg("run")
        .arg(&manifest)
        .args(FAST)
        .arg("--verbose")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let outputs = Outputs::of(&mut child);
    wait_for("the ONC requests", Duration::from_secs(60), || {
        sim.count("dataProductDelivery/request") >= 3 && sim.count("dataProductDelivery/run") >= 3
    });
    revoke(&sim, TOKEN);
    let revoked = Instant::now();
    let limit = Duration::from_secs(60);
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code().unwrap_or(-1);
        }
        if revoked.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let (_, err) = outputs.take();
            panic!("still running {limit:?} after the token was revoked:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (out, err) = outputs.take();
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("401") || err.to_lowercase().contains("unauthorized"),
        "{err}"
    );
    assert!(err.contains("12 failed"), "{err}");
    assert!(
        !out.contains(TOKEN) && !err.contains(TOKEN),
        "token leaked:\n{out}\n{err}"
    );
    // The simulator answered 401 after the revocation.
    let unauthorized = common::requests(&sim.log())
        .iter()
        .filter(|r| r["status"] == 401)
        .count();
    assert!(unauthorized >= 1);
}

/// `POST sim/revoke?token=`.
fn revoke(sim: &Sim, token: &str) {
    let url =
        url::Url::parse_with_params(&format!("{}sim/revoke", sim.url), [("token", token)]).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt
        .block_on(async { reqwest::Client::new().post(url).send().await })
        .unwrap()
        .status();
    assert!(status.is_success(), "sim/revoke answered {status}");
}
