//! The same requests written as TOML, YAML, JSON and CSV (any field order, any path, any
//! batching) give the same item ids; precedence follows request-format.md.
#![expect(clippy::unwrap_used, reason = "test helpers fail loudly")]

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

fn plan(path: &Path, extra: &[&str]) -> Value {
    let out = Command::cargo_bin("hydrofetch")
        .unwrap()
        .arg("plan")
        .arg("--json")
        .arg(path)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The seed JSON example, with the defaults written into each CSV row, in another column order.
const SEED_AS_CSV: &str = "label,start,end,timestamp,pad_before_seconds,pad_after_seconds,pad_seconds,deviceCode,download_audio,clip,data_product_options\r\n\
whale call 1,,,2024-04-01T12:34:50Z,,,15,ICLISTENHF6324,yes,1,\"{\"\"dpo_spectralDataDownsample\"\": 2.0}\"\r\n\
ship noise event,2024-04-01 12:30:00,2024-04-01T12:33:30+00:00,,10,20,15,ICLISTENHF6324,TRUE,true,\"{\"\"dpo_spectralDataDownsample\"\": \"\"2\"\", \"\"dpo_spectrogramConcatenation\"\": \"\"None\"\"}\"\r\n";

#[test]
fn same_requests_same_ids_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let json = plan(Path::new("manifests/requests-seed.json"), &[]);
    let reference = ids(&json);
    assert_eq!(reference.len(), 10);
    for f in [
        "manifests/requests-seed.yaml",
        "manifests/requests-seed.toml",
    ] {
        assert_eq!(ids(&plan(Path::new(f), &[])), reference, "{f}");
    }
    let csv = dir.path().join("seed.csv");
    std::fs::write(&csv, SEED_AS_CSV).unwrap();
    assert_eq!(ids(&plan(&csv, &[])), reference, "csv");
    // Another path, reversed field order in JSON.
    let sub = dir.path().join("elsewhere");
    std::fs::create_dir(&sub).unwrap();
    let reordered = r#"{"requests": [
      {"label": "ship noise event", "pad_after_seconds": 20, "pad_before_seconds": 10, "end": "2024-04-01T05:33:30-07:00", "start": "2024-04-01T12:30:00.000Z", "deviceCode": "ICLISTENHF6324"},
      {"label": "whale call 1", "timestamp": "2024-04-01T12:34:50Z", "deviceCode": "ICLISTENHF6324"}],
      "defaults": {"data_product_options": {"dpo_spectralDataDownsample": "2"}, "clip": true, "download_audio": true, "pad_seconds": 15}}"#;
    let p = sub.join("r.json");
    std::fs::write(&p, reordered).unwrap();
    let v = plan(&p, &[]);
    assert_eq!(ids(&v), reference);
    assert_eq!(v["plan_hash"], json["plan_hash"]);
}

#[test]
fn manifest_reference_with_call_level_overrides() {
    // `requests.toml` names the seed CSV with default_pad_seconds = 10 and download_audio.
    let m = plan(Path::new("manifests/requests.toml"), &[]);
    let out = Command::cargo_bin("hydrofetch")
        .unwrap()
        .args([
            "requests",
            "manifests/requests-seed.csv",
            "--default-pad-seconds",
            "10",
            "--download-audio",
            "--plan",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The manifest's [defaults] add dpo_spectralDataDownsample = 2 below the CSV's own options,
    // and the CSV's third row has none: that is the one difference.
    let windows = |v: &Value, product: &str| -> Vec<String> {
        let mut w: Vec<String> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["product"] == product)
            .map(|i| i["window_start"].as_str().unwrap().to_owned())
            .collect();
        w.sort();
        w
    };
    assert_eq!(windows(&m, "audio"), windows(&cli, "audio"));
    // 12:30:00 ± 10 s → 12:25 and 12:30; 14:45:30 ± 10 s → 14:45; 08:15:00 ± 10 s → 08:10, 08:15.
    assert_eq!(windows(&cli, "audio").len(), 5);
    assert_eq!(windows(&cli, "spectrogram").len(), 5);
}

#[test]
fn request_fields_beat_call_level_which_beat_file_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.json");
    std::fs::write(
        &p,
        r#"{"defaults": {"pad_seconds": 400, "clip": true},
            "requests": [
              {"deviceCode": "X", "timestamp": "2024-04-01T12:02:00Z", "output_name": "own", "pad_seconds": 0},
              {"deviceCode": "X", "timestamp": "2024-04-01T12:02:00Z", "output_name": "call"}]}"#,
    )
    .unwrap();
    let run = |extra: &[&str]| -> Value {
        let out = Command::cargo_bin("hydrofetch")
            .unwrap()
            .arg("requests")
            .arg(&p)
            .args(extra)
            .args(["--plan", "--json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let clip = |v: &Value, name: &str| -> (String, String) {
        let c = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["output"] == format!("clips/{name}.mat"))
            .unwrap();
        (
            c["start"].as_str().unwrap().to_owned(),
            c["end"].as_str().unwrap().to_owned(),
        )
    };
    // File defaults: 400 s.
    let v = run(&[]);
    assert_eq!(clip(&v, "call").0, "2024-04-01T11:55:20.000Z");
    assert_eq!(clip(&v, "own").0, "2024-04-01T12:02:00.000Z");
    // Call-level 30 s beats the file's 400 s; the request's own 0 beats both.
    let v = run(&["--default-pad-seconds", "30"]);
    assert_eq!(
        clip(&v, "call"),
        (
            "2024-04-01T12:01:30.000Z".into(),
            "2024-04-01T12:02:30.000Z".into()
        )
    );
    assert_eq!(clip(&v, "own").0, "2024-04-01T12:02:00.000Z");
    // A one-sided call-level value beats the file's symmetric one only on its side.
    let v = run(&["--default-pad-before-seconds", "60"]);
    assert_eq!(
        clip(&v, "call"),
        (
            "2024-04-01T12:01:00.000Z".into(),
            "2024-04-01T12:08:40.000Z".into()
        )
    );
}

#[test]
fn naive_times_take_the_zone() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("z.csv");
    std::fs::write(&p, "deviceCode,timestamp,timezone\nX,2024-04-01 05:34:50,America/Vancouver\nX,2024-04-01T12:34:50Z,Asia/Tokyo\nX,2024-04-01 05:34:50,-07:00\n").unwrap();
    let v = plan(&p, &[]);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "all three rows are 12:34:50Z: {v}");
    assert_eq!(items[0]["window_start"], "2024-04-01T12:30:00.000Z");
}

#[test]
fn labels_are_not_identity_but_gap_is() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("g.csv");
    let clip_id = |rows: &str| -> String {
        std::fs::write(&p, format!("deviceCode,timestamp,clip,label,gap\n{rows}\n")).unwrap();
        let v = plan(&p, &[]);
        let c = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "clip")
            .unwrap();
        c["id"].as_str().unwrap().to_owned()
    };
    let a = clip_id("X,2024-04-01T12:00:00Z,yes,first,");
    let b = clip_id("X,2024-04-01T12:00:00Z,yes,second,fail");
    let c = clip_id("X,2024-04-01T12:00:00Z,yes,first,split");
    assert_eq!(a, b, "label is metadata and fail is the default gap policy");
    assert_ne!(a, c, "the gap policy changes the output");
    std::fs::write(
        &p,
        "deviceCode,timestamp,clip,gap\nX,2024-04-01T12:00:00Z,yes,bridge\n",
    )
    .unwrap();
    let out = Command::cargo_bin("hydrofetch")
        .unwrap()
        .arg("plan")
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "row 2, column `gap`: found \"bridge\", expected one of `split`, `pad`, `fail`"
        )
    );
}
