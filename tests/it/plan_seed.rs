//! The seed's examples plan as the seed's users expect, and every example manifest plans.
//!
//! Hermetic: `manifests/` is where people run the examples, so it may hold their outputs,
//! lockfiles and anything else. Tests never list it or write into it: they read the named
//! examples, and copy them into a temporary folder to plan them where a lockfile would be read.
#![expect(clippy::unwrap_used, reason = "test helpers fail loudly")]

use crate::harness::EXAMPLES;
use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;

/// A temporary folder holding a copy of every example.
fn examples_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in EXAMPLES {
        std::fs::copy(format!("manifests/{name}"), dir.path().join(name)).unwrap();
    }
    dir
}

fn plan_json(args: &[&str]) -> Value {
    let out = Command::cargo_bin("hydrofetch")
        .unwrap()
        .arg("plan")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn items<'a>(plan: &'a Value, kind: &str, product: &str) -> Vec<&'a Value> {
    plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == kind && i["product"] == product)
        .collect()
}

fn windows(plan: &Value, product: &str) -> BTreeSet<String> {
    items(plan, "fetch", product)
        .iter()
        .map(|i| i["window_start"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn seed_json_example_shares_windows() {
    let plan = plan_json(&["manifests/requests-seed.json"]);
    // 12:34:50 ± 15 s needs 12:30 and 12:35; 12:30:00−10 s to 12:33:30+20 s needs 12:25 and 12:30.
    let expected: BTreeSet<String> = [
        "2024-04-01T12:25:00.000Z",
        "2024-04-01T12:30:00.000Z",
        "2024-04-01T12:35:00.000Z",
    ]
    .map(String::from)
    .into();
    assert_eq!(windows(&plan, "spectrogram"), expected);
    assert_eq!(
        items(&plan, "fetch", "spectrogram").len(),
        3,
        "three shared fetch items, not four"
    );
    assert_eq!(windows(&plan, "audio"), expected);
    let clips = items(&plan, "clip", "spectrogram");
    assert_eq!(clips.len(), 2);
    let whale = clips.iter().find(|c| c["label"] == "whale call 1").unwrap();
    assert_eq!(whale["start"], "2024-04-01T12:34:35.000Z");
    assert_eq!(whale["end"], "2024-04-01T12:35:05.000Z");
    assert_eq!(
        whale["output"],
        "clips/ICLISTENHF6324_20240401T123435.000Z_30s.mat"
    );
    assert_eq!(whale["sources"].as_array().unwrap().len(), 2);
    let ship = clips
        .iter()
        .find(|c| c["label"] == "ship noise event")
        .unwrap();
    assert_eq!(ship["start"], "2024-04-01T12:29:50.000Z");
    assert_eq!(ship["end"], "2024-04-01T12:33:50.000Z");
    // Options from the defaults, with the executor's default concatenation filled in.
    let f = items(&plan, "fetch", "spectrogram")[0];
    assert_eq!(f["options"]["dpo_spectralDataDownsample"], "2");
    assert_eq!(f["options"]["dpo_spectrogramConcatenation"], "None");
    // Every clip source is a fetch item of the plan.
    let ids: BTreeSet<&str> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    for c in items(&plan, "clip", "spectrogram")
        .iter()
        .chain(items(&plan, "clip", "audio").iter())
    {
        for s in c["sources"].as_array().unwrap() {
            assert!(ids.contains(s.as_str().unwrap()));
        }
    }
}

#[test]
fn seed_range_example_gives_24_items_in_4_requests() {
    let common = [
        "range",
        "--device",
        "ICLISTENHF6324",
        "--start",
        "2024-04-01T12:00:00Z",
        "--end",
        "2024-04-01T14:00:00Z",
        "--per-batch",
        "6",
        "--plan",
        "--json",
    ];
    let run = |extra: &[&str]| -> Value {
        let out = Command::cargo_bin("hydrofetch")
            .unwrap()
            .args(common)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let plan = run(&[]);
    assert_eq!(items(&plan, "fetch", "spectrogram").len(), 24);
    assert_eq!(plan["items"].as_array().unwrap().len(), 24);
    let reqs = plan["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[0]["date_from"], "2024-04-01T12:00:00.000Z");
    assert_eq!(reqs[0]["date_to"], "2024-04-01T12:30:00.000Z");
    assert!(
        reqs.iter()
            .all(|r| r["items"].as_array().unwrap().len() == 6)
    );
    let with_audio = run(&["--audio"]);
    assert_eq!(with_audio["items"].as_array().unwrap().len(), 48);
    // Batching is not part of any id.
    let out = Command::cargo_bin("hydrofetch")
        .unwrap()
        .args(&common[..7])
        .args(["--per-batch", "12", "--plan", "--json"])
        .output()
        .unwrap();
    let twelve: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(twelve["plan_hash"], plan["plan_hash"]);
    assert_eq!(twelve["requests"].as_array().unwrap().len(), 2);
}

#[test]
fn manifest_range_matches_the_shortcut() {
    let file = plan_json(&["manifests/quickstart.toml"]);
    let out = Command::cargo_bin("hydrofetch")
        .unwrap()
        .args([
            "range",
            "--device",
            "ICLISTENHF6324",
            "--start",
            "2024-04-01T12:00:00Z",
            "--end",
            "2024-04-01T13:00:00Z",
            "--per-batch",
            "6",
            "--audio",
            "--plan",
            "--json",
        ])
        .output()
        .unwrap();
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(file["plan_hash"], cli["plan_hash"]);
    assert_eq!(file["items"].as_array().unwrap().len(), 24);
}

#[test]
fn every_example_plans() {
    let copy = examples_copy();
    for name in EXAMPLES {
        let path = copy.path().join(name);
        let plan = plan_json(&[path.to_str().unwrap()]);
        assert!(!plan["items"].as_array().unwrap().is_empty(), "{name}");
        assert_eq!(plan["plan_hash"].as_str().unwrap().len(), 64);
        // Items are ordered by device, product, format, then fetch before clip; ids are unique.
        let keys: Vec<(&str, &str, &str, bool)> = plan["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["device"].as_str().unwrap(),
                    i["product"].as_str().unwrap(),
                    i["format"].as_str().unwrap(),
                    i["kind"] == "clip",
                )
            })
            .collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{name}");
        let ids: std::collections::BTreeSet<&str> = plan["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), keys.len(), "{name}");
    }
    // Human output too.
    Command::cargo_bin("hydrofetch")
        .unwrap()
        .current_dir(copy.path())
        .args(["plan", "quickstart.toml"])
        .assert()
        .success()
        .stdout(predicates::str::contains("24 fetch items"));
}

#[test]
fn sample_and_events_examples() {
    let plan = plan_json(&["manifests/sample.toml"]);
    let w: Vec<String> = windows(&plan, "spectrogram").into_iter().collect();
    assert_eq!(w.len(), 24);
    assert_eq!(w[0], "2024-04-01T00:00:00.000Z");
    assert_eq!(w[23], "2024-04-07T23:55:00.000Z");
    assert_eq!(plan["requests"].as_array().unwrap().len(), 4);
    let plan = plan_json(&["manifests/events.toml"]);
    let expected: BTreeSet<String> = ["2024-04-01T12:05:00.000Z", "2024-04-01T13:25:00.000Z"]
        .map(String::from)
        .into();
    assert_eq!(windows(&plan, "spectrogram"), expected);
}

#[test]
fn shortcuts_without_plan_run_and_need_a_token() {
    // Without --plan a shortcut runs; with no token anywhere it stops before any network use.
    let empty = tempfile::tempdir().unwrap();
    let csv = empty.path().join("requests-seed.csv");
    std::fs::copy("manifests/requests-seed.csv", &csv).unwrap();
    Command::cargo_bin("hydrofetch")
        .unwrap()
        .current_dir(empty.path())
        .env_remove("ONC_TOKEN")
        .args(["requests".as_ref(), csv.as_os_str()])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no ONC token"));
}

#[test]
fn human_summary_snapshot() {
    // In a copy: a run of the quickstart leaves its lockfile beside the example.
    let copy = examples_copy();
    let out = Command::cargo_bin("hydrofetch")
        .unwrap()
        .current_dir(copy.path())
        .args(["plan", "quickstart.toml"])
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap(), @r"
    ICLISTENHF6324
      + spectrogram mat: 12 windows (12 to fetch, 0 already in the lockfile) in 2 ONC requests: 12 files, ≈ 1.1 MiB, ONC processing ≈ 0 s
          2024-04-01 12:00–13:00 UTC
      + audio flac > wav: 12 windows (12 to fetch, 0 already in the lockfile) in 2 audio listings: 12 files, ≈ 378.3 MiB, ONC processing ≈ 0 s
          2024-04-01 12:00–13:00 UTC

    Plan 41cb265bf2c9: 24 fetch items (24 to fetch, 0 already in the lockfile), 0 clip items (0 to make).
    To fetch: 2 ONC requests, 2 audio listings, 24 files, ≈ 379.5 MiB; ONC processing ≈ 0 s.
    Estimates: sizes of typical files (`plan --online` reads ONC's archive listing); processing time is a model (about 25 s per spectrogram ONC makes on demand).
    Outputs under ./data.
    ");
}

/// The item ids of every example, pinned: ids are the lockfile's keys, so a refactor that
/// changes one orphans every dataset built before it. Taken before the #14 restructuring.
#[test]
fn example_item_ids_are_pinned() {
    let copy = examples_copy();
    let mut text = String::new();
    for name in EXAMPLES {
        let path = copy.path().join(name);
        let plan = plan_json(&[path.to_str().unwrap()]);
        let mut lines: Vec<String> = plan["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                format!(
                    "{} {} {} {}",
                    i["id"].as_str().unwrap(),
                    i["kind"].as_str().unwrap(),
                    i["product"].as_str().unwrap(),
                    i["window_start"]
                        .as_str()
                        .or_else(|| i["start"].as_str())
                        .unwrap_or("-"),
                )
            })
            .collect();
        lines.sort();
        text.push_str(&format!(
            "# {name} plan_hash {}\n",
            plan["plan_hash"].as_str().unwrap()
        ));
        for l in lines {
            text.push_str(&l);
            text.push('\n');
        }
    }
    insta::assert_snapshot!("example_item_ids", text);
}

/// Requests of a request file cover the windows each request asked for together: rows whose
/// windows are adjacent but shared by no request are separate ONC requests (so that a token's
/// slots work on them side by side, and each clip's sources arrive as soon as they are done);
/// rows that share or span windows are one request. A range still batches its windows.
#[test]
fn adjacent_windows_asked_for_by_different_requests_are_separate_requests() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("events.csv");
    // 12:01 and 12:07 need 12:00 and 12:05 (adjacent, not shared); 12:14:50 ± 15 s spans
    // 12:10 and 12:15; 12:16 shares 12:15.
    std::fs::write(
        &csv,
        "deviceCode,timestamp,pad_seconds,clip,spectrogram_format\n\
         ICLISTENHF6324,2024-04-01T12:01:00Z,15,true,mat\n\
         ICLISTENHF6324,2024-04-01T12:07:00Z,15,true,mat\n\
         ICLISTENHF6324,2024-04-01T12:14:50Z,15,true,mat\n\
         ICLISTENHF6324,2024-04-01T12:16:00Z,15,true,mat\n",
    )
    .unwrap();
    let plan = plan_json(&[csv.to_str().unwrap()]);
    let spans: Vec<(String, String)> = plan["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["product"] == "spectrogram")
        .map(|r| {
            (
                r["date_from"].as_str().unwrap()[11..16].to_owned(),
                r["date_to"].as_str().unwrap()[11..16].to_owned(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        [("12:00", "12:05"), ("12:05", "12:10"), ("12:10", "12:20")]
            .map(|(a, b)| (a.to_owned(), b.to_owned())),
        "{plan:#}"
    );
}
