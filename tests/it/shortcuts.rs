//! The shortcuts (`range`, `sample`, `events`, `audio`, `requests`) leave the manifest they
//! ran: `hydrofetch run` on it repeats the run with no HTTP request and the same lockfile and
//! index; `--print-manifest` prints it (a manifest that plans to the same plan); problems
//! name the flag; `events --clip --pad` cuts clips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{Sim, lock_of};
use crate::harness::Hf;
use hydrofetch::formats::{self, Samples};
use hydrofetch::sim::signal::{SignalSpec, samples};
use hydrofetch::time::UtcInstant;
use serde_json::Value;
use std::path::Path;

const DEVICE: &str = "ICLISTENHF6324";

const RANGE: &[&str] = &[
    "range",
    "--device",
    DEVICE,
    "--start",
    "2024-04-01T12:00:00Z",
    "--end",
    "2024-04-01T12:15:00Z",
    "--per-batch",
    "3",
    "--audio",
];

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
fn a_saved_manifest_reruns_with_no_requests_and_the_same_lockfile_and_index() {
    let sim = Sim::start(&["--time-scale", "0.001", "--tiny"]);
    let ran = Hf::new().sim(&sim).args(RANGE).fast().run();
    let manifest = ran.join("hydrofetch-range.toml");
    let text = read(&manifest);
    assert!(text.contains("[[range]]"), "{text}");
    assert!(text.contains("data_dir = \"data\""), "{text}");
    assert!(
        text.contains("hydrofetch run hydrofetch-range.toml"),
        "{text}"
    );
    let _ = hydrofetch::manifest::load(&manifest).expect("the saved manifest loads");
    assert!(
        lock_of(&manifest).exists(),
        "the lockfile sits beside the saved manifest"
    );
    let lock = ran.lockfile("hydrofetch-range.toml");
    let index_csv = read(&ran.join("data/index.csv"));
    let index_json = read(&ran.join("data/index.json"));
    assert!(lock.contains("kind"), "{lock}");

    // `hydrofetch run` on the saved manifest: nothing to do, no HTTP request at all.
    let before = sim.api_requests();
    let ran = ran
        .then()
        .args(["run", "hydrofetch-range.toml", "--json"])
        .fast()
        .run();
    let summary = ran.json();
    assert_eq!(summary["http_requests"], 0, "{summary}");
    assert_eq!(summary["items"]["done_before"], 6, "{summary}");
    assert_eq!(sim.api_requests(), before);
    assert_eq!(ran.lockfile("hydrofetch-range.toml"), lock);
    assert_eq!(read(&ran.join("data/index.csv")), index_csv);
    assert_eq!(read(&ran.join("data/index.json")), index_json);

    // The same shortcut again: the manifest is the same, so it stays; nothing is fetched.
    let ran = ran.then().args(RANGE).fast().run();
    assert_eq!(read(&manifest), text);
    assert_eq!(sim.api_requests(), before);

    // A different run into the same folder does not replace the manifest silently ...
    let mut other = RANGE.to_vec();
    other[6] = "2024-04-01T12:20:00Z";
    let ran = ran.then().args(&other).fast().expect_exit(2).run();
    assert!(ran.stderr.contains("--force"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("hydrofetch-range.toml"),
        "{}",
        ran.stderr
    );
    assert_eq!(read(&manifest), text);
    assert_eq!(sim.api_requests(), before, "refused before any request");
    // ... but with --force it does, or with --manifest it goes elsewhere.
    let ran = ran
        .then()
        .args(&other)
        .args(["--manifest", "more/later.toml"])
        .fast()
        .run();
    let later = read(&ran.join("more/later.toml"));
    assert!(later.contains("data_dir = \"../data\""), "{later}");
    assert!(ran.join("more/later.toml.lock").exists());
    let ran = ran.then().args(&other).args(["--force"]).fast().run();
    assert!(read(&manifest).contains("2024-04-01T12:20:00Z"));
    drop(ran);
}

/// `--print-manifest` output (written where the shortcut would write it) plans to the same
/// plan hash as the shortcut's own `--plan`; neither writes a file.
fn same_plan(args: &[&str], name: &str, files: &[(&str, &str)]) -> String {
    let mut hf = Hf::new();
    for (f, text) in files {
        hf = hf.file(f, text);
    }
    let ran = hf.args(args).args(["--print-manifest"]).run();
    let printed = ran.stdout.clone();
    let parsed: toml::Table =
        toml::from_str(&printed).unwrap_or_else(|e| panic!("{args:?}: not TOML ({e}):\n{printed}"));
    assert_eq!(parsed["version"].as_integer(), Some(1), "{printed}");
    assert!(!ran.join(name).exists(), "--print-manifest wrote {name}");
    let ran = ran.then().args(args).args(["--plan", "--json"]).run();
    assert!(!ran.join(name).exists(), "--plan wrote {name}");
    let shortcut: Value = ran.json();
    let ran = ran
        .then()
        .file(name, &printed)
        .args(["plan", "--json", name])
        .run();
    let file: Value = ran.json();
    assert_eq!(
        file["plan_hash"], shortcut["plan_hash"],
        "{args:?}:\n{printed}"
    );
    assert!(
        !file["items"].as_array().unwrap().is_empty(),
        "{args:?}: an empty plan"
    );
    printed
}

#[test]
fn print_manifest_gives_a_manifest_with_the_same_plan_for_every_shortcut() {
    same_plan(RANGE, "hydrofetch-range.toml", &[]);
    let printed = same_plan(
        &[
            "sample",
            "--device",
            DEVICE,
            "--start",
            "2024-04-01T00:00:00Z",
            "--end",
            "2024-04-02T00:00:00Z",
            "--total",
            "12",
            "--per-request",
            "3",
            "--format",
            "png",
            "--options",
            r#"{"dpo_spectralDataDownsample": 2}"#,
            "--data-dir",
            "out/sample",
        ],
        "out/hydrofetch-sample.toml",
        &[],
    );
    assert!(printed.contains("total_spectrograms = 12"), "{printed}");
    assert!(printed.contains("data_dir = \"sample\""), "{printed}");
    let printed = same_plan(
        &[
            "events",
            "--device",
            DEVICE,
            "--clip",
            "--pad",
            "2.5",
            "--audio",
            "2024-04-01T12:05:00Z",
            "2024-04-01T13:25:00Z",
        ],
        "hydrofetch-events.toml",
        &[],
    );
    assert!(printed.contains("clip = true"), "{printed}");
    assert!(printed.contains("pad_seconds = 2.5"), "{printed}");
    same_plan(
        &[
            "audio",
            "--device",
            DEVICE,
            "--start",
            "2024-04-01T12:00:00Z",
            "--end",
            "2024-04-01T12:30:00Z",
            "--audio-extension",
            "wav",
        ],
        "hydrofetch-audio.toml",
        &[],
    );
    // `requests` takes --data-dir too; the request file is named relative to the manifest.
    let csv = read(Path::new("manifests/requests-seed.csv"));
    let printed = same_plan(
        &[
            "requests",
            "in/seed.csv",
            "--default-pad-seconds",
            "10",
            "--download-audio",
            "--data-dir",
            "out",
        ],
        "hydrofetch-requests.toml",
        &[("in/seed.csv", &csv)],
    );
    assert!(printed.contains("file = \"in/seed.csv\""), "{printed}");
    assert!(printed.contains("data_dir = \"out\""), "{printed}");
    assert!(printed.contains("default_pad_seconds = 10"), "{printed}");
}

#[test]
fn problems_name_the_flag_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "range",
                "--start",
                "2024-04-01T12:00:00Z",
                "--end",
                "2024-04-01T13:00:00Z",
            ],
            "`--device`: is required",
        ),
        (
            &["range", "--device", DEVICE, "--end", "2024-04-01T13:00:00Z"],
            "`--start`: is required",
        ),
        (
            &[
                "sample",
                "--device",
                DEVICE,
                "--start",
                "2024-04-01T12:00:00Z",
                "--end",
                "2024-04-01T13:00:00Z",
            ],
            "`--total`: is required",
        ),
        (
            &["events", "2024-04-01T12:00:00Z", "--pad", "5"],
            "`--device`: is required",
        ),
        (
            &[
                "events",
                "--device",
                DEVICE,
                "2024-04-01T12:00:00Z",
                "--pad-seconds",
                "7200",
            ],
            "`--pad-seconds`: found \"7200\", expected at most 3600 seconds",
        ),
        (
            &[
                "events",
                "--device",
                DEVICE,
                "--clip",
                "2024-04-01T12:00:00Z",
            ],
            "`--clip`: needs padding",
        ),
        (
            &[
                "range",
                "--device",
                DEVICE,
                "--start",
                "2024-04-01T12:00:00Z",
                "--end",
                "2024-04-01T13:00:00Z",
                "--per-batch",
                "zero",
            ],
            "`--per-batch`",
        ),
    ];
    for (args, want) in cases {
        let ran = Hf::new().args(*args).expect_exit(2).run();
        assert!(ran.stderr.contains(want), "{args:?}:\n{}", ran.stderr);
        assert!(
            !ran.stderr.contains("range.") && !ran.stderr.contains("events."),
            "{args:?} names a manifest field:\n{}",
            ran.stderr
        );
        assert!(
            std::fs::read_dir(ran.join("")).unwrap().next().is_none(),
            "{args:?}: wrote a file"
        );
    }
    let seed = read(Path::new("manifests/requests-seed.csv"));
    let ran = Hf::new()
        .file("seed.csv", &seed)
        .args(["requests", "seed.csv", "--default-pad-seconds=-4"])
        .expect_exit(2)
        .run();
    assert!(
        ran.stderr.contains("`--default-pad-seconds`: found \"-4\""),
        "{}",
        ran.stderr
    );
}

fn read_ints(path: &Path) -> Vec<i32> {
    let a = formats::read_flac(path).unwrap();
    assert_eq!((a.spec.sample_rate, a.spec.bits_per_sample), (64_000, 24));
    match a.samples {
        Samples::Int(v) => v,
        Samples::Float(_) => panic!("float samples"),
    }
}

#[test]
fn events_clip_cuts_each_padded_instant_and_reruns_with_no_requests() {
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let ran = Hf::new()
        .sim(&sim)
        .args([
            "events",
            "--device",
            DEVICE,
            "--clip",
            "--pad",
            "5",
            "--audio",
            "--no-spectrograms",
            "2024-04-01T12:34:50Z",
            "2024-04-01T13:02:00Z",
        ])
        .fast()
        .run();
    let rows: Vec<Value> =
        serde_json::from_str(&read(&ran.join("data/index.json"))).expect("index.json");
    let clips: Vec<&Value> = rows.iter().filter(|r| r["kind"] == "clip").collect();
    assert_eq!(clips.len(), 2, "{rows:#?}");
    let spec = SignalSpec::new(DEVICE, 64_000, 24, 0);
    for (start, end) in [
        ("2024-04-01T12:34:45.000Z", "2024-04-01T12:34:55.000Z"),
        ("2024-04-01T13:01:55.000Z", "2024-04-01T13:02:05.000Z"),
    ] {
        let row = clips
            .iter()
            .find(|r| r["start"] == start)
            .unwrap_or_else(|| panic!("no clip from {start}: {clips:#?}"));
        assert_eq!(row["end"], end);
        assert_eq!(row["product"], "audio");
        let got = read_ints(&ran.join("data").join(row["path"].as_str().unwrap()));
        let want = samples(&spec, UtcInstant::parse(start).unwrap(), 10 * 64_000);
        assert_eq!(got.len(), want.len());
        assert!(got == want, "the clip from {start} differs from the signal");
    }
    let before = sim.api_requests();
    let ran = ran
        .then()
        .args(["run", "hydrofetch-events.toml", "--json"])
        .fast()
        .run();
    assert_eq!(ran.json()["http_requests"], 0);
    assert_eq!(sim.api_requests(), before);
}
