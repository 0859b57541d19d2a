//! What `plan` says a run will cost, checked against what the run does: estimated bytes
//! (offline from the built-in table, and `--online` from the archive listing) within ±20 % of
//! the bytes on disk afterwards; the same counts of ONC requests, audio listings and files in
//! `plan --json` and in the run's summary; `plan --json`'s statuses, totals and order;
//! `run --max-bytes` refusing before anything is requested. Against the simulator.

use crate::common::Sim;
use crate::harness::{Hf, Ran};
use serde_json::Value;
use std::path::Path;

const QUICKSTART: &str = include_str!("../../manifests/quickstart.toml");
const EVENTS: &str = include_str!("../../manifests/events.toml");

/// Bytes of every file under `dir`, the state folder and the index left out.
fn bytes_on_disk(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_dir() {
                if name != ".hydrofetch" {
                    stack.push(e.path());
                }
            } else if !name.starts_with("index.") {
                total += e.metadata().unwrap().len();
            }
        }
    }
    total
}

fn within_20_percent(estimate: u64, actual: u64, what: &str) {
    let ratio = estimate as f64 / actual as f64;
    assert!(
        (0.8..=1.2).contains(&ratio),
        "{what}: estimated {estimate} bytes, downloaded {actual} (ratio {ratio:.3})"
    );
}

fn sim_requests(sim: &Sim, suffix: &str) -> usize {
    sim.count(suffix)
}

/// Plans (offline and online), runs, and compares; returns the finished command's folder.
fn estimate_then_run(sim: &Sim, name: &str, text: &str) -> Ran {
    let offline = Hf::new()
        .sim(sim)
        .manifest(name, text)
        .args(["plan", "--json", name])
        .run();
    let plan = offline.json();
    let online = offline
        .then()
        .args(["plan", "--online", "--json", name])
        .run();
    let online_plan = online.json();
    assert_eq!(online_plan["totals"]["size_source"], "listing");
    assert_eq!(plan["totals"]["size_source"], "table");
    // Planning, even online, submits nothing.
    assert_eq!(sim_requests(sim, "dataProductDelivery/request"), 0);
    let ran = online
        .then()
        .args(["run", "--json", "--max-bytes", "1GiB", name])
        .fast()
        .run();
    let run = ran.json();
    let actual = bytes_on_disk(&ran.join("data"));
    assert!(actual > 0);
    let t = &plan["totals"];
    within_20_percent(t["estimated_bytes"].as_u64().unwrap(), actual, "offline");
    within_20_percent(
        online_plan["totals"]["estimated_bytes"].as_u64().unwrap(),
        actual,
        "online",
    );
    // One vocabulary: the plan's counts are the run's.
    assert_eq!(t["requests"], run["onc_requests"], "{t}\n{run}");
    assert_eq!(t["audio_listings"], run["audio_listings"], "{t}\n{run}");
    assert_eq!(t["files"], run["files"], "{t}\n{run}");
    assert_eq!(
        t["requests"].as_u64().unwrap() as usize,
        sim_requests(sim, "dataProductDelivery/request")
    );
    // Afterwards everything is done and nothing is left to fetch.
    let after = ran.then().args(["plan", "--json", name]).run();
    let done = after.json();
    assert_eq!(done["totals"]["to_fetch"], 0);
    assert_eq!(done["totals"]["estimated_bytes"], 0);
    assert_eq!(done["totals"]["done"], done["totals"]["items"]);
    assert!(
        done["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "done")
    );
    after
}

#[test]
fn quickstart_estimates_match_the_download_and_the_run_counts() {
    let sim = Sim::start(&[]);
    let after = estimate_then_run(&sim, "quickstart.toml", QUICKSTART);
    let human = after.then().args(["plan", "quickstart.toml"]).run().stdout;
    assert!(
        human.contains("audio flac > wav: 12 windows, all already in the lockfile"),
        "{human}"
    );
    assert!(human.contains("2024-04-01 12:00–13:00 UTC"), "{human}");
}

#[test]
fn events_estimates_match_the_download_and_the_run_counts() {
    let sim = Sim::start(&[]);
    let _ = estimate_then_run(&sim, "events.toml", EVENTS);
}

#[test]
fn plan_says_what_the_run_will_do_in_the_runs_words() {
    let out = Hf::new()
        .manifest("quickstart.toml", QUICKSTART)
        .args(["plan", "quickstart.toml"])
        .run()
        .stdout;
    // Audio is listed and downloaded, not requested; default options are not shown; grammar.
    assert!(
        out.contains("  + audio flac > wav: 12 windows (12 to fetch, 0 already in the lockfile) in 2 audio listings: 12 files"),
        "{out}"
    );
    assert!(
        out.contains("  + spectrogram mat: 12 windows (12 to fetch, 0 already in the lockfile) in 2 ONC requests: 12 files"),
        "{out}"
    );
    assert!(!out.contains("dpo_spectrogramConcatenation"), "{out}");
    assert!(
        out.contains("To fetch: 2 ONC requests, 2 audio listings, 24 files, ≈ "),
        "{out}"
    );
    assert!(out.contains("      2024-04-01 12:00–13:00 UTC\n"), "{out}");
    // One request, not "1 ONC requests"; non-default options shown once, with a server-time
    // model for what ONC makes on demand.
    let out = Hf::new()
        .manifest("events.toml", EVENTS)
        .args(["plan", "events.toml"])
        .run()
        .stdout;
    assert!(
        out.contains("spectrogram mat (dpo_spectralDataDownsample=2): 2 windows"),
        "{out}"
    );
    assert_eq!(
        out.matches("dpo_spectralDataDownsample=2").count(),
        1,
        "{out}"
    );
    assert!(out.contains("ONC processing ≈ 50 s"), "{out}");
    let out = Hf::new()
        .manifest(
            "one.csv",
            "deviceCode,timestamp\nICLISTENHF6324,2024-04-01T12:30:00Z\n",
        )
        .args(["plan", "one.csv"])
        .run()
        .stdout;
    assert!(out.contains("in 1 ONC request: 1 file,"), "{out}");
    assert!(
        out.contains("To fetch: 1 ONC request, 0 audio listings, 1 file"),
        "{out}"
    );
}

/// Audio and spectrograms, one window in the simulator's archive gap (2024-04-02 02:57:40 to
/// 07:20:06) and one with data, planned out of order.
const MIXED: &str = r#"
version = 1
data_dir = "data"

[defaults]
device = "ICLISTENHF6324"
spectrogram_format = "mat"

[[events]]
times = ["2024-04-02T04:00:00Z", "2024-04-01T12:10:00Z", "2024-04-01T12:00:00Z"]
download_audio = true
"#;

#[test]
fn plan_json_has_status_totals_paths_and_order() {
    let sim = Sim::start(&[]);
    let hf = Hf::new()
        .sim(&sim)
        .manifest("mixed.toml", MIXED)
        .args(["plan", "--json", "mixed.toml"])
        .run();
    let plan = hf.json();
    assert_eq!(plan["data_dir"], "./data");
    assert_eq!(plan["lockfile"], "mixed.toml.lock");
    let t = &plan["totals"];
    assert_eq!(
        (
            t["items"].as_u64(),
            t["to_fetch"].as_u64(),
            t["done"].as_u64()
        ),
        (Some(6), Some(6), Some(0))
    );
    assert_eq!(t["requests"], 3);
    assert_eq!(t["audio_listings"], 3);
    assert_eq!(t["files"], 6);
    assert!(t["estimated_bytes"].as_u64().unwrap() > 3 * 30_000_000);
    assert_eq!(t["estimated_server_seconds"], 0);
    let order = |plan: &Value| -> Vec<(String, String, String)> {
        plan["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["product"].as_str().unwrap().to_owned(),
                    i["window_start"].as_str().unwrap().to_owned(),
                    i["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let items = order(&plan);
    let expected_times = [
        "2024-04-01T12:00:00.000Z",
        "2024-04-01T12:10:00.000Z",
        "2024-04-02T04:00:00.000Z",
    ];
    let expect = |statuses: [&str; 3]| -> Vec<(String, String, String)> {
        ["audio", "spectrogram"]
            .iter()
            .flat_map(|p| {
                expected_times
                    .iter()
                    .zip(statuses)
                    .map(|(t, s)| ((*p).to_owned(), (*t).to_owned(), s.to_owned()))
            })
            .collect()
    };
    assert_eq!(items, expect(["pending"; 3]));
    let ran = hf.then().args(["run", "mixed.toml"]).fast().run();
    let plan = ran
        .then()
        .args(["plan", "--json", "mixed.toml"])
        .run()
        .json();
    assert_eq!(order(&plan), expect(["done", "done", "no_data"]));
    let t = &plan["totals"];
    assert_eq!(
        (
            t["done"].as_u64(),
            t["no_data"].as_u64(),
            t["to_fetch"].as_u64()
        ),
        (Some(6), Some(2), Some(0))
    );
    assert_eq!(
        (t["requests"].as_u64(), t["files"].as_u64()),
        (Some(0), Some(0))
    );
}

#[test]
fn max_bytes_refuses_before_any_request() {
    let sim = Sim::start(&[]);
    let ran = Hf::new()
        .sim(&sim)
        .manifest("quickstart.toml", QUICKSTART)
        .args(["run", "--max-bytes", "100MB", "quickstart.toml"])
        .fast()
        .expect_exit(2)
        .run();
    assert!(
        ran.stderr
            .contains("more than --max-bytes allows (95.4 MiB)"),
        "{}",
        ran.stderr
    );
    assert_eq!(sim.count("dataProductDelivery/request"), 0);
    assert_eq!(sim.api_requests(), 0);
    assert!(!ran.join("data").exists() || bytes_on_disk(&ran.join("data")) == 0);
    // A bad size is a usage error naming the flag.
    let bad = ran
        .then()
        .args(["run", "--max-bytes", "12XB", "quickstart.toml"])
        .expect_exit(2)
        .run();
    assert!(bad.stderr.contains("--max-bytes"), "{}", bad.stderr);
    assert!(bad.stderr.contains("is not a size"), "{}", bad.stderr);
    assert_eq!(sim.api_requests(), 0);
}
