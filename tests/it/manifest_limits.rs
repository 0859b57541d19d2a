//! Plans are bounded: a manifest asking for more items than the limit (5,000,000 unless
//! `--max-items` says otherwise), or for padding over an hour, is a manifest error (exit 2)
//! naming the file, line or row, and field, found before anything is allocated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs hydrofetch with `args` in `dir` (no token, no ONC); returns (exit code, stderr).
fn hydrofetch(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::cargo_bin("hydrofetch")
        .unwrap()
        .current_dir(dir)
        .env_remove("ONC_TOKEN")
        .env("ONC_URL", "http://127.0.0.1:9/")
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const YEAR_1_TO_9999: &str = r#"version = 1

[[range]]
device = "ICLISTENHF6324"
start = "0001-01-01T00:00:00Z"
end = "9999-12-31T00:00:00Z"
download_audio = true
"#;

#[test]
fn a_plan_over_the_item_limit_is_a_manifest_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "huge.toml", YEAR_1_TO_9999);
    let (code, err) = hydrofetch(dir.path(), &["plan", "huge.toml"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("huge.toml:3:1: `range[0].end`: found 9999-12-31T00:00:00.000Z"),
        "{err}"
    );
    assert!(
        err.contains("× 2 products = 2103585408 plan items, expected at most 5000000 items"),
        "{err}"
    );
    assert!(err.contains("--max-items"), "{err}");

    // A request whose duration runs for millennia, in JSON and in CSV; a sample asking for
    // billions of windows.
    write(
        dir.path(),
        "long.json",
        r#"{"requests": [
  {"deviceCode": "X", "timestamp": "2024-04-01T12:00:00Z"},
  {"deviceCode": "X", "start": "2024-04-01T12:00:00Z", "duration_seconds": 999999999999}
]}"#,
    );
    let (code, err) = hydrofetch(dir.path(), &["plan", "long.json"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("long.json:3:3: `requests[1].duration_seconds`: found the padded span 2024-04-01T12:00:00.000Z to"),
        "{err}"
    );
    write(
        dir.path(),
        "long.csv",
        "deviceCode,start,end\nX,2024-04-01T12:00:00Z,2024-04-01T12:10:00Z\nX,0001-01-01T00:00:00Z,9999-01-01T00:00:00Z\n",
    );
    let (code, err) = hydrofetch(dir.path(), &["plan", "long.csv"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("long.csv: row 3, column `end`: found the padded span 0001-01-01T00:00:00.000Z to 9999-01-01T00:00:00.000Z"),
        "{err}"
    );
    write(
        dir.path(),
        "sample.yaml",
        "sample:\n  - device: X\n    start: 0001-01-01T00:00:00Z\n    end: 9999-01-01T00:00:00Z\n    total_spectrograms: 4000000000\n",
    );
    let (code, err) = hydrofetch(dir.path(), &["plan", "sample.yaml"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("sample.yaml:2:5: `sample[0].total_spectrograms`: found 4000000000"),
        "{err}"
    );
}

#[test]
fn padding_over_an_hour_is_a_manifest_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pad.csv",
        "deviceCode,timestamp,pad_seconds\nX,2024-04-01T12:00:00Z,3600\nX,2024-04-01T12:00:00Z,99999999999\n",
    );
    let (code, err) = hydrofetch(dir.path(), &["plan", "pad.csv"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("pad.csv: row 3, column `pad_seconds`: found \"99999999999\", expected at most 3600 seconds (one hour) of padding"),
        "{err}"
    );
    assert!(!err.contains("row 2"), "an hour is allowed: {err}");
    write(
        dir.path(),
        "ev.toml",
        "[[events]]\ndevice = \"X\"\ntimes = [\"2024-04-01T12:00:00Z\"]\npad_before_seconds = 3600.5\n",
    );
    let (code, err) = hydrofetch(dir.path(), &["plan", "ev.toml"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("ev.toml:4:22: `events[0].pad_before_seconds`: found 3600.5, expected at most 3600 seconds"),
        "{err}"
    );
    let (code, err) = hydrofetch(
        dir.path(),
        &[
            "events",
            "--device",
            "X",
            "2024-04-01T12:00:00Z",
            "--pad-seconds",
            "7200",
            "--plan",
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "<command line>: `--pad-seconds`: found \"7200\", expected at most 3600 seconds"
        ),
        "{err}"
    );
}

/// A day of one product: 288 items.
const ONE_DAY: &str = r#"[[range]]
device = "X"
start = "2024-04-01T00:00:00Z"
end = "2024-04-02T00:00:00Z"
"#;

#[test]
fn max_items_sets_the_limit_on_every_command_that_plans() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "day.toml", ONE_DAY);
    let expect_refused = |args: &[&str]| {
        let (code, err) = hydrofetch(dir.path(), args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(
            err.contains("288 5-minute windows from 2024-04-01T00:00:00.000Z × 1 product = 288 plan items, expected at most 287 items"),
            "{args:?}: {err}"
        );
    };
    expect_refused(&["plan", "--max-items", "287", "day.toml"]);
    expect_refused(&["plan", "--json", "--max-items", "287", "day.toml"]);
    // `run` refuses before it needs a token or the network.
    expect_refused(&["run", "--max-items", "287", "day.toml"]);
    expect_refused(&[
        "range",
        "--device",
        "X",
        "--start",
        "2024-04-01T00:00:00Z",
        "--end",
        "2024-04-02T00:00:00Z",
        "--plan",
        "--max-items",
        "287",
    ]);
    let (code, err) = hydrofetch(dir.path(), &["plan", "--max-items", "288", "day.toml"]);
    assert_eq!(code, Some(0), "{err}");

    // `watch` reports it like any manifest error and keeps watching.
    let log = dir.path().join("watch.err");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hydrofetch"))
        .current_dir(dir.path())
        .env_remove("ONC_TOKEN")
        .env("ONC_URL", "http://127.0.0.1:9/")
        .args(["watch", "--max-items", "287", "day.toml"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    common::wait_for("watch to report the limit", Duration::from_secs(30), || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("expected at most 287 items")
    });
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_request_that_takes_the_plan_over_the_limit_is_named() {
    let dir = tempfile::tempdir().unwrap();
    // Rows 2 and 3 share a window: two items up to row 4, three with row 5, four with row 6.
    write(
        dir.path(),
        "many.csv",
        "deviceCode,timestamp\nX,2024-04-01T12:00:00Z\nX,2024-04-01T12:01:00Z\nX,2024-04-01T13:00:00Z\nX,2024-04-01T14:00:00Z\nX,2024-04-01T15:00:00Z\n",
    );
    let (code, err) = hydrofetch(dir.path(), &["plan", "--max-items", "2", "many.csv"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err.trim(),
        "error: many.csv: row 5, column `timestamp`: the plan reaches 3 items with this request, \
         expected at most 2 items in a plan (raise the limit with `--max-items N` if the plan is \
         meant to be this large)"
    );
    let (code, err) = hydrofetch(dir.path(), &["plan", "--max-items", "3", "many.csv"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("row 6"), "{err}");
    let (code, err) = hydrofetch(dir.path(), &["plan", "--max-items", "4", "many.csv"]);
    assert_eq!(code, Some(0), "{err}");
}
