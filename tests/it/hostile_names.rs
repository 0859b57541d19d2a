//! Hostile names: a server whose listings and run files carry traversal, separators, control
//! bytes and over-long names (`--faults evil_name=RATE`), and manifests whose `output_*`
//! values or `data_dir` would leave the dataset. Nothing is written outside `data_dir`, no
//! unsafe path is locked, a bad server name fails its item (exit 1) naming the server field,
//! and a bad manifest value is a plan error (exit 2) naming file and field.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{FAST, Sim, hf, lock_of, output};
use hydrofetch::safe_name::SafeName;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every file and folder under `root`, relative, except those under `skip`.
fn tree(root: &Path, skip: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.starts_with(skip) {
                continue;
            }
            out.insert(p.strip_prefix(root).unwrap().to_path_buf());
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            }
        }
    }
    out
}

/// Every component of every path under `dir` is a safe name (temporary files aside).
fn all_components_safe(dir: &Path) {
    for p in tree(dir, Path::new("/nonexistent")) {
        for c in p.components() {
            let c = c.as_os_str().to_str().unwrap_or_else(|| panic!("{p:?}"));
            if c == ".hydrofetch" {
                continue;
            }
            assert!(SafeName::new(c).is_ok(), "unsafe name on disk: {p:?}");
        }
    }
}

/// Every path the lockfile records is a safe relative path.
fn lock_paths_safe(lock: &Path) -> usize {
    let text = std::fs::read_to_string(lock).unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    let mut n = 0;
    for item in v["item"].as_array().unwrap() {
        for f in item
            .get("files")
            .and_then(|f| f.as_array())
            .cloned()
            .unwrap_or_default()
        {
            let path = f["path"].as_str().unwrap();
            for c in path.split('/') {
                assert!(SafeName::new(c).is_ok(), "unsafe locked path {path:?}");
            }
            n += 1;
        }
    }
    n
}

/// Runs `manifest` (in `root/a/b/c/`, so that a traversal of a few levels stays inside the
/// test's own temp dir where it can be seen) and returns (exit, --json summary, stderr).
fn run_nested(sim: &Sim, root: &Path, text: &str) -> (i32, serde_json::Value, String, PathBuf) {
    let dir = root.join("a/b/c");
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("m.toml");
    std::fs::write(&manifest, text).unwrap();
    let before = tree(root, &dir);
    let mut c = hf(sim);
    c.arg("run").arg(&manifest).arg("--json").args(FAST);
    let (code, out, err) = output(c);
    let summary: serde_json::Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("--json output ({e}): {out}\nstderr: {err}"));
    assert_eq!(
        tree(root, &dir),
        before,
        "files appeared outside the manifest's folder\n{err}"
    );
    // Beside the manifest: only the manifest, its lockfile, the data_dir and state.
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(
            ["m.toml", "m.toml.lock", "data"].contains(&name.as_str())
                || name.starts_with(".hydrofetch")
                || name.starts_with("m.toml"),
            "unexpected {name:?} beside the manifest\n{err}"
        );
    }
    (code, summary, err, manifest)
}

fn failures_text(summary: &serde_json::Value) -> Vec<String> {
    summary["failures"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| f["error"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn hostile_archive_listing_names_fail_their_slots_and_write_nothing_outside() {
    let sim = Sim::start(&[
        "--time-scale",
        "0.002",
        "--faults",
        "evil_name=0.5",
        "--seed",
        "3",
    ]);
    let root = tempfile::tempdir().unwrap();
    let (code, summary, err, manifest) = run_nested(
        &sim,
        root.path(),
        r#"
version = 1
data_dir = "data"
[defaults]
device = "ICLISTENHF6324"
[[audio]]
start = "2024-04-01T12:00:00Z"
end   = "2024-04-01T13:00:00Z"
"#,
    );
    assert_eq!(code, 1, "{summary}\n{err}");
    let failed = summary["items"]["failed"].as_u64().unwrap();
    let fetched = summary["items"]["fetched"].as_u64().unwrap();
    assert!(failed > 0 && fetched > 0, "{summary}");
    let errors = failures_text(&summary);
    assert_eq!(errors.len() as u64, failed);
    for e in &errors {
        assert!(
            e.contains("archivefile listing: filename `") && e.contains("is not a safe file name"),
            "{e}"
        );
        assert!(!e.chars().any(char::is_control), "raw control bytes: {e:?}");
    }
    assert!(!err.contains('\u{1b}'), "escape reached stderr: {err:?}");
    let data = manifest.parent().unwrap().join("data");
    all_components_safe(&data);
    assert_eq!(lock_paths_safe(&lock_of(&manifest)) as u64, fetched);
}

#[test]
fn hostile_run_file_names_fail_the_run_and_write_nothing_outside() {
    let sim = Sim::start(&[
        "--time-scale",
        "0.002",
        "--faults",
        "evil_name=0.3",
        "--seed",
        "5",
    ]);
    let root = tempfile::tempdir().unwrap();
    let (code, summary, err, manifest) = run_nested(
        &sim,
        root.path(),
        r#"
version = 1
data_dir = "data"
[defaults]
device = "ICLISTENHF6324"
spectrogram_format = "mat"
[[range]]
start = "2024-04-01T12:00:00Z"
end   = "2024-04-01T16:00:00Z"
spectrograms_per_batch = 2
"#,
    );
    assert_eq!(code, 1, "{summary}\n{err}");
    assert!(
        summary["items"]["fetched"].as_u64().unwrap() > 0,
        "{summary}"
    );
    let errors = failures_text(&summary);
    assert!(!errors.is_empty());
    assert!(
        errors
            .iter()
            .all(|e| e.contains("Content-Disposition filename `")
                && e.contains("is not a safe file name")),
        "{errors:?}"
    );
    let data = manifest.parent().unwrap().join("data");
    all_components_safe(&data);
    lock_paths_safe(&lock_of(&manifest));
}

fn plan_err(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hydrofetch"))
        .arg("plan")
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&p.display().to_string()), "{err}");
    err
}

const CLIP_CSV_HEAD: &str = "deviceCode,timestamp,clip,output_tag,output_name\n";

#[test]
fn a_long_output_name_is_a_plan_error() {
    let dir = tempfile::tempdir().unwrap();
    let long = "n".repeat(240);
    let err = plan_err(
        dir.path(),
        "long.csv",
        &format!("{CLIP_CSV_HEAD}X,2024-04-01T12:00:00Z,yes,,{long}\n"),
    );
    assert!(err.contains("row 2, column `output_name`"), "{err}");
    assert!(err.contains("bytes long"), "{err}");
}

#[test]
fn an_output_tag_with_traversal_is_a_plan_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = plan_err(
        dir.path(),
        "tag.csv",
        &format!(
            "{CLIP_CSV_HEAD}X,2024-04-01T12:00:00Z,yes,../../up,\nX,2024-04-01T12:00:00Z,yes,..,\n"
        ),
    );
    assert!(err.contains("row 2, column `output_tag`"), "{err}");
    assert!(err.contains("row 3, column `output_tag`"), "{err}");
    assert!(err.contains("expected a single file name"), "{err}");
}

#[test]
fn an_output_name_with_a_separator_or_control_byte_is_a_plan_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = plan_err(
        dir.path(),
        "m.toml",
        "version = 1\n[defaults]\ndevice = \"X\"\n[[events]]\ntimes = [\"2024-04-01T12:00:00Z\"]\noutput_tag = \"a/b\"\n",
    );
    assert!(err.contains("`events[0].output_tag`"), "{err}");
    let err = plan_err(
        dir.path(),
        "c.csv",
        &format!("{CLIP_CSV_HEAD}X,2024-04-01T12:00:00Z,yes,,\"a\u{1b}[2Jb\"\n"),
    );
    assert!(err.contains("column `output_name`"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn a_root_or_system_data_dir_is_a_plan_error_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let m =
        "version = 1\n[defaults]\ndevice = \"X\"\n[[events]]\ntimes = [\"2024-04-01T12:00:00Z\"]\n";
    for d in ["/", "/etc", "/usr/", "/var", "/tmp/../bin"] {
        let err = plan_err(dir.path(), "m.toml", &format!("data_dir = \"{d}\"\n{m}"));
        assert!(err.contains("`data_dir`"), "{d}: {err}");
        assert!(err.contains("allow_system_data_dir"), "{d}: {err}");
    }
    let err = plan_err(
        dir.path(),
        "m.toml",
        &format!("data_dir = \"da\\u0000ta\"\n{m}"),
    );
    assert!(err.contains("`data_dir`") && err.contains("NUL"), "{err}");
    // Explicitly allowed: the plan goes ahead (nothing is written by `plan`).
    let p = dir.path().join("ok.toml");
    std::fs::write(
        &p,
        format!("data_dir = \"/var\"\nallow_system_data_dir = true\n{m}"),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hydrofetch"))
        .arg("plan")
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_system_data_dir_on_the_command_line_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hydrofetch"))
        .current_dir(dir.path())
        .args([
            "range",
            "--device",
            "X",
            "--start",
            "2024-04-01T00:00:00Z",
            "--end",
            "2024-04-01T01:00:00Z",
            "--data-dir",
            "/etc",
            "--plan",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`--data-dir`") && err.contains("/etc"),
        "{err}"
    );
}
