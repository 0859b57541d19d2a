//! Golden outputs pinned as insta snapshots: `plan --json` of every example manifest, the
//! full lockfile text after a small simulator run, and one item id per item kind computed by
//! the library. A change to any of them is a change of a contract (item ids decide what is
//! downloaded again; the lockfile is committed by users), so it shows up as a snapshot diff
//! to review, not as a silent drift.

use crate::common::Sim;
use crate::harness::{EXAMPLES, Hf, hf_snapshot};
use hydrofetch::plan::{FetchProduct, Plan};

/// `plan --json` of each example, planned from a copy in a temporary folder (so no lockfile
/// beside the real examples is read), byte for byte as the command prints it.
#[test]
fn plan_json_of_every_example() {
    for name in EXAMPLES {
        let mut hf = Hf::new();
        for other in EXAMPLES {
            hf = hf.manifest(
                other,
                &std::fs::read_to_string(format!("manifests/{other}")).unwrap(),
            );
        }
        let out = hf.args(["plan", "--json", name]).run().stdout;
        hf_snapshot!(format!("plan_json__{name}"), out);
    }
}

/// A tiny request file: one padded event, clipped from the MAT spectrograms.
const EVENT_CSV: &str = "deviceCode,timestamp,pad_seconds,clip,label\n\
ICLISTENHF6324,2024-04-01T12:34:50Z,15,true,whale call 1\n";

/// The whole lockfile after a run against the simulator: fetch items with the files they
/// resolved to (drifting ONC names, sizes, SHA-256 of the simulator's deterministic bytes)
/// and the clip with its request. The format has no timestamps or run ids to redact.
#[test]
fn lockfile_text_after_a_small_run() {
    let sim = Sim::start(&["--time-scale", "0.002"]);
    let ran = Hf::new()
        .manifest("events.csv", EVENT_CSV)
        .sim(&sim)
        .args(["run", "events.csv", "--json"])
        .fast()
        .run();
    let summary = ran.json();
    assert_eq!(summary["items"]["failed"], 0, "{summary}");
    let lock = ran.lockfile("events.csv");
    hf_snapshot!("lockfile_after_small_run", &lock);
    // A re-run has nothing to do and leaves the lockfile byte for byte as it was.
    let again = ran
        .then()
        .args(["run", "events.csv", "--json"])
        .fast()
        .run();
    assert_eq!(again.json()["http_requests"], 0, "{}", again.stdout);
    assert_eq!(again.lockfile("events.csv"), lock);
}

/// One id per item kind, from the library's planner: a spectrogram fetch, an audio fetch and
/// a clip of the seed's JSON example.
#[test]
fn one_item_id_per_kind() {
    let m = hydrofetch::manifest::load(std::path::Path::new("manifests/requests-seed.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let plan = Plan::build(&[m]).unwrap_or_else(|e| panic!("{e:?}"));
    let mut lines = Vec::new();
    let spectro = plan
        .fetch_items()
        .find(|f| matches!(f.product, FetchProduct::Spectrogram(_)))
        .unwrap();
    let audio = plan
        .fetch_items()
        .find(|f| matches!(f.product, FetchProduct::Audio(_)))
        .unwrap();
    for f in [spectro, audio] {
        lines.push(format!(
            "fetch {} {} {} {}",
            f.product.kind(),
            f.device,
            f.window,
            f.id
        ));
    }
    let clip = plan.clip_items().next().unwrap();
    lines.push(format!(
        "clip {} {} {}..{} {}",
        clip.product.kind(),
        clip.device,
        clip.start,
        clip.end,
        clip.id
    ));
    hf_snapshot!("item_id_per_kind", lines.join("\n") + "\n");
    // The command line plans the same ids.
    let seed = std::fs::read_to_string("manifests/requests-seed.json").unwrap();
    let cli = Hf::new()
        .manifest("requests-seed.json", &seed)
        .args(["plan", "--json", "requests-seed.json"])
        .stdout_json();
    let cli_ids: Vec<&str> = cli["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    for id in [&spectro.id, &audio.id, &clip.id] {
        assert!(
            cli_ids.contains(&id.to_string().as_str()),
            "{id} not in {cli_ids:?}"
        );
    }
}
