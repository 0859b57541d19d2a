//! Duplicate requests (issue #15): requests that resolve to the same clip are one clip item,
//! one file and one lockfile entry, and the index keeps one row per request; only different
//! clips on one path are refused. Plans are checked through the CLI, runs against the
//! simulator on 127.0.0.1; every test works in its own temporary folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{FAST, Sim, files_with, hf, lock_of, output};
use serde_json::Value;
use std::path::Path;

const HEADER: &str = "deviceCode,timestamp,pad_seconds,clip,download_audio,label,description\n";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `hydrofetch plan [--json] files…` (no network): (exit code, stdout, stderr).
fn plan(args: &[&Path], json: bool) -> (i32, String, String) {
    let mut c = assert_cmd::Command::cargo_bin("hydrofetch").unwrap();
    c.arg("plan").env_remove("HYDROFETCH_LOG");
    if json {
        c.arg("--json");
    }
    c.args(args);
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn plan_json(args: &[&Path]) -> Value {
    let (code, out, err) = plan(args, true);
    assert_eq!(code, 0, "stderr: {err}");
    serde_json::from_str(&out).unwrap()
}

fn clips<'a>(plan: &'a Value, product: &str) -> Vec<&'a Value> {
    plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "clip" && i["product"] == product)
        .collect()
}

fn run(sim: &Sim, manifests: &[&Path]) {
    let mut c = hf(sim);
    c.arg("run").args(manifests).args(FAST);
    let (code, out, err) = output(c);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
}

fn index(data: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(data.join("index.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The clip rows of the index: (path, label, request file, request row), in index order.
fn clip_rows(rows: &[Value]) -> Vec<(String, String, String, u64)> {
    rows.iter()
        .filter(|r| r["kind"] == "clip")
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_owned(),
                r["label"].as_str().unwrap().to_owned(),
                r["request_file"].as_str().unwrap().to_owned(),
                r["request_row"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn lock_items(lock: &Path) -> Vec<toml::Value> {
    let text = std::fs::read_to_string(lock).unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    v["item"].as_array().unwrap().clone()
}

#[test]
fn duplicate_rows_with_the_same_label_plan_one_clip_per_product() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        dir.path(),
        "big.csv",
        &format!(
            "{HEADER}\
             ICLISTENHF6324,2024-04-01T12:34:50Z,15,yes,true,whale,\n\
             ICLISTENHF6324,2024-04-01T12:34:50Z,15,yes,true,whale,\n\
             ICLISTENHF6324,2024-04-01T12:50:00Z,15,yes,true,ship,\n"
        ),
    );
    let p = plan_json(&[&csv]);
    for product in ["audio", "spectrogram"] {
        let c = clips(&p, product);
        assert_eq!(c.len(), 2, "{product}: {c:#?}");
        let shared = c
            .iter()
            .find(|c| c["start"] == "2024-04-01T12:34:35.000Z")
            .unwrap();
        assert_eq!(shared["label"], "whale");
        assert_eq!(shared["labels"], serde_json::json!(["whale", "whale"]));
        let single = c
            .iter()
            .find(|c| c["start"] == "2024-04-01T12:49:45.000Z")
            .unwrap();
        assert!(single.get("labels").is_none(), "{single}");
    }
    let (code, human, err) = plan(&[&csv], false);
    assert_eq!(code, 0, "{err}");
    assert!(
        human.contains("6 clip requests → 4 clips; 2 duplicates share a file."),
        "{human}"
    );
}

#[test]
fn naive_local_and_offset_forms_of_one_instant_are_one_clip() {
    let dir = tempfile::tempdir().unwrap();
    // 05:34:50 in Vancouver on 1 April 2024 (PDT, −07:00) is 12:34:50Z.
    let json = write(
        dir.path(),
        "events.json",
        r#"{
  "defaults": { "pad_seconds": 15, "clip": true, "download_audio": true,
                "timezone": "America/Vancouver" },
  "requests": [
    { "deviceCode": "ICLISTENHF6324", "timestamp": "2024-04-01T05:34:50", "label": "local" },
    { "deviceCode": "ICLISTENHF6324", "timestamp": "2024-04-01T05:34:50-07:00", "label": "offset" },
    { "deviceCode": "ICLISTENHF6324", "timestamp": "2024-04-01T12:34:50Z", "label": "utc" }
  ]
}"#,
    );
    let p = plan_json(&[&json]);
    for product in ["audio", "spectrogram"] {
        let c = clips(&p, product);
        assert_eq!(c.len(), 1, "{product}: {c:#?}");
        assert_eq!(c[0]["start"], "2024-04-01T12:34:35.000Z");
        assert_eq!(c[0]["label"], "local");
        assert_eq!(
            c[0]["labels"],
            serde_json::json!(["local", "offset", "utc"])
        );
    }
}

#[test]
fn different_labels_share_one_file_and_the_index_keeps_each_request() {
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        dir.path(),
        "events.csv",
        &format!(
            "{HEADER}\
             ICLISTENHF6324,2024-04-01T12:34:50Z,15,yes,true,humpback,annotator A\n\
             ICLISTENHF6324,2024-04-01T12:50:00Z,15,yes,true,ship,\n\
             ICLISTENHF6324,2024-04-01T12:34:50Z,15,yes,true,humpback whale,annotator B\n"
        ),
    );
    run(&sim, &[&csv]);
    let data = dir.path().join("data");
    // One file per distinct clip and product.
    assert_eq!(files_with(&data.join("clips"), "flac").len(), 2);
    assert_eq!(files_with(&data.join("clips"), "mat").len(), 2);

    // One lockfile entry per clip, listing both requests in the order given.
    let lock = lock_of(&csv);
    let shared: Vec<toml::Value> = lock_items(&lock)
        .into_iter()
        .filter(|i| i["kind"].as_str() == Some("clip") && i.get("requests").is_some())
        .filter(|i| i["requests"].as_array().unwrap().len() > 1)
        .collect();
    assert_eq!(shared.len(), 2, "{shared:#?}");
    for e in &shared {
        let r = e["requests"].as_array().unwrap();
        assert_eq!(r.len(), 2, "{e:#?}");
        assert_eq!(r[0]["file"].as_str(), Some("events.csv"));
        assert_eq!(r[0]["row"].as_integer(), Some(2));
        assert_eq!(r[0]["label"].as_str(), Some("humpback"));
        assert_eq!(r[1]["row"].as_integer(), Some(4));
        assert_eq!(r[1]["label"].as_str(), Some("humpback whale"));
        assert_eq!(r[1]["description"].as_str(), Some("annotator B"));
        assert_eq!(e["label"].as_str(), Some("humpback"));
    }

    // The index: one row per request, both pointing to the shared file.
    let rows = index(&data);
    let clip = clip_rows(&rows);
    assert_eq!(clip.len(), 6, "{clip:#?}");
    for ext in ["flac", "mat"] {
        let path = format!("clips/ICLISTENHF6324_20240401T123435.000Z_30s.{ext}");
        let mine: Vec<_> = clip.iter().filter(|r| r.0 == path).collect();
        assert_eq!(
            mine,
            vec![
                &(path.clone(), "humpback".into(), "events.csv".into(), 2),
                &(
                    path.clone(),
                    "humpback whale".into(),
                    "events.csv".into(),
                    4
                ),
            ]
        );
        let hashes: Vec<&Value> = rows
            .iter()
            .filter(|r| r["path"] == path.as_str())
            .map(|r| &r["sha256"])
            .collect();
        assert_eq!(hashes[0], hashes[1]);
    }
    let csv_index = std::fs::read_to_string(data.join("index.csv")).unwrap();
    assert!(
        csv_index
            .lines()
            .next()
            .unwrap()
            .contains("label,description,request_file,request_row"),
        "{csv_index}"
    );

    // A second run has nothing to do and writes the same index.
    let before = std::fs::read(data.join("index.json")).unwrap();
    run(&sim, &[&csv]);
    assert_eq!(std::fs::read(data.join("index.json")).unwrap(), before);
}

#[test]
fn a_json_and_a_csv_file_given_together_share_outputs() {
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let dir = tempfile::tempdir().unwrap();
    let json = write(
        dir.path(),
        "a.json",
        r#"{"defaults": {"pad_seconds": 15, "clip": true, "download_spectrogram": false,
                         "download_audio": true},
            "requests": [
              {"deviceCode": "ICLISTENHF6324", "timestamp": "2024-04-01T12:34:50Z", "label": "from json"}
            ]}"#,
    );
    let csv = write(
        dir.path(),
        "b.csv",
        "deviceCode,timestamp,pad_seconds,clip,download_spectrogram,download_audio,label\n\
         ICLISTENHF6324,2024-04-01T12:34:50Z,15,yes,false,true,from csv\n",
    );
    // Planned together: one clip serving both files.
    let p = plan_json(&[&json, &csv]);
    let c = clips(&p, "audio");
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0]["labels"], serde_json::json!(["from json", "from csv"]));

    // Run together: each manifest has its own lockfile; the index lists both requests.
    run(&sim, &[&json, &csv]);
    let data = dir.path().join("data");
    assert_eq!(files_with(&data.join("clips"), "flac").len(), 1);
    let path = "clips/ICLISTENHF6324_20240401T123435.000Z_30s.flac".to_owned();
    assert_eq!(
        clip_rows(&index(&data)),
        vec![
            (path.clone(), "from json".into(), "a.json".into(), 4),
            (path, "from csv".into(), "b.csv".into(), 2),
        ]
    );
}

#[test]
fn a_real_conflict_is_still_refused_naming_both_rows() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        dir.path(),
        "big.csv",
        "deviceCode,timestamp,pad_seconds,clip,output_name,label\n\
         ICLISTENHF6324,2024-04-01T12:34:50Z,15,yes,,a\n\
         ICLISTENHF6324,2024-04-01T12:34:50Z,15,yes,,b\n\
         ICLISTENHF6324,2024-04-01T13:00:00Z,15,yes,call,c\n\
         ICLISTENHF6324,2024-04-01T14:00:00Z,15,yes,call,d\n",
    );
    let (code, out, err) = plan(&[&csv], false);
    assert_eq!(code, 2, "stdout: {out}\nstderr: {err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    let e = errors[0];
    assert!(e.contains("two clips would write clips/call.mat"), "{e}");
    assert!(
        e.contains("big.csv: row 4") && e.contains("big.csv: row 5"),
        "{e}"
    );
    assert!(e.contains("`output_name` or `output_tag`"), "{e}");
}
