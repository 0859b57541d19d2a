//! Server text is untrusted, and error output stays bounded (issue #13, bullets 2 and 6).
//!
//! Against the simulator's `echo_token` hostile mode (error documents and run statuses that
//! repeat the token among terminal escape sequences), the token appears in no byte of stdout,
//! stderr or any file the run writes, and no escape character reaches stderr. Manifests
//! built to flood the output (100,000 unknown CSV columns, a 1 MB unknown key) give a short
//! report and exit 2.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{FAST, Sim, TOKEN, hf, output};
use std::path::{Path, PathBuf};

const RANGE: &str = r#"
version = 1
data_dir = "data"

[defaults]
device = "ICLISTENHF6324"
spectrogram_format = "mat"

[[range]]
start = "2024-04-01T12:00:00Z"
end   = "2024-04-01T12:15:00Z"
spectrograms_per_batch = 1
download_audio = true
"#;

/// Every form in which a server could echo `secret`.
fn forms(secret: &str) -> Vec<Vec<u8>> {
    let upper: String = secret.to_ascii_uppercase();
    let encoded: String = secret.bytes().map(|b| format!("%{b:02X}")).collect();
    vec![secret.into(), upper.into(), encoded.into()]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir`, recursively (hidden folders such as `.hydrofetch/` included).
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Asserts that no form of `secret` is in `out`, `err` or any file under `dir`, and that
/// no escape character reached stderr.
fn assert_clean(secret: &str, out: &str, err: &str, dir: &Path) {
    for form in forms(secret) {
        let shown = String::from_utf8_lossy(&form).into_owned();
        assert!(
            !contains(out.as_bytes(), &form),
            "{shown} on stdout:\n{out}"
        );
        assert!(
            !contains(err.as_bytes(), &form),
            "{shown} on stderr:\n{err}"
        );
        for f in all_files(dir) {
            let bytes = std::fs::read(&f).unwrap();
            assert!(!contains(&bytes, &form), "{shown} in {}", f.display());
        }
    }
    assert!(!err.contains('\u{1b}'), "ESC on stderr:\n{err}");
    assert!(!err.contains('\u{7}'), "BEL on stderr:\n{err}");
    assert!(!out.contains('\u{1b}'), "ESC on stdout:\n{out}");
}

fn echoed_faults(sim: &Sim) -> usize {
    common::requests(&sim.log())
        .iter()
        .filter(|r| r["fault"] == "echo_token")
        .count()
}

#[test]
fn a_server_echoing_the_token_leaks_it_nowhere() {
    let sim = Sim::start(&[
        "--time-scale",
        "0.002",
        "--faults",
        "echo_token=0.3",
        "--seed",
        "5",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("range.toml");
    std::fs::write(&manifest, RANGE).unwrap();

    // Verbose: run statuses are shown, so the hostile ones would be too.
    let mut c = hf(&sim);
    c.arg("run").arg(&manifest).args(FAST).arg("--verbose");
    let (code, out, err) = output(c);
    assert!(echoed_faults(&sim) > 0, "no hostile answer was sent");
    assert_eq!(code, 1, "permanent ONC errors fail their items:\n{err}");
    assert!(err.contains("API Error 127"), "{err}");
    assert!(err.contains("***"), "the echo is shown redacted:\n{err}");

    // Again with --json: what is left is fetched; failures go to the JSON summary.
    let mut c = hf(&sim);
    c.arg("run").arg(&manifest).args(FAST).arg("--json");
    let (code2, out2, err2) = output(c);
    assert!(code2 == 0 || code2 == 1, "{err2}");
    serde_json::from_str::<serde_json::Value>(&out2).expect("--json summary");

    assert!(common::lock_of(&manifest).exists(), "{err}\n{err2}");
    assert_clean(
        TOKEN,
        &format!("{out}{out2}"),
        &format!("{err}{err2}"),
        dir.path(),
    );
}

#[test]
fn a_bad_token_echoed_back_by_the_server_is_never_shown() {
    let sim = Sim::start(&["--faults", "echo_token=0.5", "--seed", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("range.toml");
    std::fs::write(&manifest, RANGE).unwrap();
    let secret = "ffff0000-not-the-right-token-9999";
    for extra in [["--verbose"], ["--json"]] {
        let mut c = hf(&sim);
        c.arg("run")
            .arg(&manifest)
            .args(FAST)
            .args(extra)
            .env("ONC_TOKEN", secret);
        let (code, out, err) = output(c);
        assert_eq!(code, 1, "{out}\n{err}");
        assert_clean(secret, &out, &err, dir.path());
    }
    // The 401s echoed the token too, and so did the 400s.
    let log = common::requests(&sim.log());
    assert!(log.iter().any(|r| r["status"] == 401), "{log:?}");
    assert!(echoed_faults(&sim) > 0);
}

#[test]
fn many_failed_items_print_a_bounded_report() {
    // Every answer is hostile: 60 spectrogram and 60 audio items all fail at once.
    let sim = Sim::start(&["--faults", "echo_token=1"]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("range.toml");
    let text = RANGE.replace("T12:15:00Z", "T17:00:00Z");
    std::fs::write(&manifest, text).unwrap();
    let mut c = hf(&sim);
    c.arg("run").arg(&manifest).args(FAST);
    let (code, out, err) = output(c);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("120 items"), "{err}");
    let failed = err.lines().filter(|l| l.contains("failed")).count();
    assert!(failed <= 2 * 50 + 4, "{failed} failure lines:\n{err}");
    assert!(err.contains("more failed items"), "{err}");
    assert_clean(TOKEN, &out, &err, dir.path());
}

#[test]
fn a_csv_with_100000_unknown_columns_prints_a_bounded_report() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("wide.csv");
    let mut header = String::from("deviceCode,timestamp");
    let mut row = String::from("ICLISTENHF6324,2024-04-01T12:30:00Z");
    for i in 0..100_000 {
        header.push_str(&format!(",extra_column_{i}"));
        row.push_str(",x");
    }
    std::fs::write(&csv, format!("{header}\n{row}\n")).unwrap();
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_hydrofetch"));
    c.arg("plan").arg(&csv);
    let (code, out, err) = output(c);
    assert_eq!(code, 2, "{out}");
    let lines = err.lines().count();
    assert!(lines <= 60, "{lines} lines, {} bytes on stderr", err.len());
    assert!(err.contains("has 100000 errors"), "{err}");
    assert!(err.contains("… and 99950 more errors"), "{err}");
    assert!(err.contains("extra_column_0"), "{err}");
}

#[test]
fn a_manifest_with_a_1_mb_key_prints_a_short_report() {
    let dir = tempfile::tempdir().unwrap();
    // The key ends with an escaped ESC (written the way each format spells it).
    let key = format!("data_dirr{}", "x".repeat(1 << 20));
    for (name, text) in [
        (
            "huge.yaml",
            // An explicit key: YAML limits simple keys to 1024 characters.
            format!("version: 1\ndata_dir: data\n? \"{key}\\x1b[2J\"\n: 1\n"),
        ),
        (
            "huge.toml",
            format!("version = 1\ndata_dir = \"data\"\n\"{key}\\u001b[2J\" = 1\n"),
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_hydrofetch"));
        c.arg("plan").arg(&path);
        let (code, _, err) = output(c);
        assert_eq!(code, 2, "{name}: {}", &err[..err.len().min(500)]);
        assert!(err.len() < 4_096, "{name}: {} bytes on stderr", err.len());
        assert!(err.contains("more characters"), "{name}: {err}");
        assert!(!err.contains('\u{1b}'), "{name}: {err}");
    }
}
