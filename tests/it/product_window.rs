//! The simulator's product-request rule (`--product-window overlap|start`, issue #16): which
//! source files a request selects, over real HTTP on 127.0.0.1, and hydrofetch giving the
//! same data set under both rules.

use crate::sim_support::*;

use hydrofetch::sim::delivery::ProductWindow;
use hydrofetch::sim::{SimConfig, SimHandle};

/// ICLISTENHF6324 on 2024-04-01: files start 3 s past each 5-minute mark (`hh:m0:03`).
const DEV: &str = "ICLISTENHF6324";

/// Sends a spectrogram request for `from..to` and returns the starts of the source files the
/// simulator selected (as `HH:MM:SS`) and the `numFiles` it answered.
async fn selected(h: &SimHandle, from: &str, to: &str) -> (Vec<String>, u64) {
    let (s, v) = get_json(
        h,
        "api/dataProductDelivery/request",
        &[
            ("deviceCode", DEV),
            ("dataProductCode", "HSD"),
            ("extension", "mat"),
            ("dateFrom", from),
            ("dateTo", to),
            ("dpo_spectrogramConcatenation", "None"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let id = v["dpRequestId"].as_u64().unwrap();
    let jobs = h.state.jobs.lock().unwrap();
    let starts = jobs.requests[&id]
        .files
        .iter()
        .map(|f| f.start.to_string()[11..19].to_owned())
        .collect();
    (starts, v["numFiles"].as_u64().unwrap())
}

async fn sim(rule: ProductWindow) -> SimHandle {
    start(SimConfig {
        product_window: rule,
        ..SimConfig::default()
    })
    .await
}

#[tokio::test]
async fn each_rule_selects_its_files() {
    let overlap = sim(ProductWindow::Overlap).await;
    let start_rule = sim(ProductWindow::Start).await;
    let cases: &[(&str, &str, &[&str], &[&str])] = &[
        // dateFrom = dateTo on the grid: overlap gives the file holding that instant (it
        // started 4 min 57 s earlier); start gives none (no file starts at 12:35:00).
        (
            "2024-04-01T12:35:00.000Z",
            "2024-04-01T12:35:00.000Z",
            &["12:30:03"],
            &[],
        ),
        // dateFrom = dateTo at a file's real start: an empty window under overlap, that
        // one file under start.
        (
            "2024-04-01T12:35:03.000Z",
            "2024-04-01T12:35:03.000Z",
            &[],
            &["12:35:03"],
        ),
        // onc-hydrophone-data's n-window request, n = 3: dateTo = dateFrom + 2 × 300 s. Overlap
        // gives three files, the first from the slot before; start gives two, the slots'
        // own, and the file starting at dateTo only if it starts exactly there.
        (
            "2024-04-01T12:30:00.000Z",
            "2024-04-01T12:40:00.000Z",
            &["12:25:03", "12:30:03", "12:35:03"],
            &["12:30:03", "12:35:03"],
        ),
        // The same request shifted to the real starts: dateTo is inclusive under start.
        (
            "2024-04-01T12:30:03.000Z",
            "2024-04-01T12:40:03.000Z",
            &["12:30:03", "12:35:03"],
            &["12:30:03", "12:35:03", "12:40:03"],
        ),
    ];
    for (from, to, want_overlap, want_start) in cases {
        let (got, n) = selected(&overlap, from, to).await;
        assert_eq!(got, *want_overlap, "overlap, {from}..{to}");
        assert_eq!(n, got.len() as u64);
        let (got, n) = selected(&start_rule, from, to).await;
        assert_eq!(got, *want_start, "start, {from}..{to}");
        assert_eq!(n, got.len() as u64);
    }
}

#[test]
fn the_rule_parses_by_name() {
    assert_eq!("overlap".parse(), Ok(ProductWindow::Overlap));
    assert_eq!("start".parse(), Ok(ProductWindow::Start));
    assert_eq!(ProductWindow::default(), ProductWindow::Overlap);
    let err = "starts".parse::<ProductWindow>().unwrap_err();
    assert!(err.contains("`starts`") && err.contains("overlap"), "{err}");
}

/// Every file under `dir`, relative path → SHA-256.
fn tree(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, crate::common::sha256(&p))
        })
        .collect()
}

/// The product requests a simulator received, as `dateFrom..dateTo`.
fn product_requests(sim: &crate::common::Sim) -> Vec<String> {
    crate::common::requests(&sim.log())
        .iter()
        .filter(|r| r["path"] == "/api/dataProductDelivery/request")
        .map(|r| {
            let p = r["params"].as_array().unwrap();
            let get = |k: &str| {
                p.iter()
                    .find(|kv| kv[0] == k)
                    .and_then(|kv| kv[1].as_str())
                    .unwrap_or("")
                    .to_owned()
            };
            format!("{}..{}", get("dateFrom"), get("dateTo"))
        })
        .collect()
}

/// Runs the seed JSON example against a simulator with `rule`; returns the checkout-free
/// temp dir, the product requests sent, and the run's log.
fn seed_under(rule: &str) -> (tempfile::TempDir, Vec<String>) {
    seed_with(&["--product-window", rule])
}

/// [`seed_under`] with any simulator flags.
fn seed_with(flags: &[&str]) -> (tempfile::TempDir, Vec<String>) {
    use crate::common::{FAST, Sim, hf, output};
    let rule = flags.join(" ");
    let mut args = vec!["--time-scale", "0.001"];
    args.extend_from_slice(flags);
    let sim = Sim::start(&args);
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("requests.json");
    std::fs::copy("manifests/requests-seed.json", &manifest).unwrap();
    let mut c = hf(&sim);
    c.arg("run").arg(&manifest).args(FAST).arg("--verbose");
    let (code, out, err) = output(c);
    assert_eq!(code, 0, "{rule}: {out}\n{err}");
    let mut c = hf(&sim);
    c.arg("verify").arg(&manifest);
    let (code, out, err) = output(c);
    assert_eq!(code, 0, "verify under {rule}: {out}\n{err}");
    let requests = product_requests(&sim);
    eprintln!(
        "{rule}: {} API requests, product requests {requests:?}, {} product downloads, {} \
         archive listings, {} archive downloads",
        sim.api_requests(),
        sim.count("dataProductDelivery/download"),
        sim.count("archivefile/device"),
        sim.count("archivefile/download"),
    );
    (dir, requests)
}

/// Issue #16 acceptance: the seed JSON example (whale call 1 at 12:34:50 ± 15 s; the ship-noise
/// window) gives the same data set under both rules, byte for byte, its audio clips equal to
/// the continuous signal sample for sample, and `verify` passes for both.
#[test]
fn the_seed_example_is_the_same_under_both_rules() {
    use hydrofetch::formats::{self, Samples};
    use hydrofetch::sim::signal::{SignalSpec, samples};
    use hydrofetch::time::UtcInstant;
    let (overlap, sent_overlap) = seed_under("overlap");
    let (start, sent_start) = seed_under("start");
    // One request for both clips' slots (12:25–12:40), shaped from the archive listing to
    // exactly the three files the padded windows overlap (ship noise 12:29:50–12:33:50:
    // 12:25:03 and 12:30:03; whale call 12:34:35–12:35:05: 12:30:03 and 12:35:03): from the
    // first file's real start to 1 ms past the last one's. Under either rule the server
    // processes those three and nothing more (reaching back a nominal 300 s to 12:20:00, as
    // hydrofetch once did, made it process 12:15:03 and 12:20:03 too under overlap).
    let want = ["2024-04-01T12:25:03.000Z..2024-04-01T12:35:03.001Z"];
    assert_eq!(sent_overlap, want);
    assert_eq!(sent_start, want);
    // The guard is per-run state (who ran when), not the data set.
    let data = |d: &tempfile::TempDir| {
        let mut t = tree(&d.path().join("data"));
        t.remove(".hydrofetch/guard");
        t.remove(".hydrofetch/index.stamp");
        t
    };
    let (a, b) = (data(&overlap), data(&start));
    assert!(!a.is_empty());
    assert_eq!(a, b, "the data sets differ between the rules");
    assert_eq!(
        std::fs::read(crate::common::lock_of(
            &overlap.path().join("requests.json")
        ))
        .unwrap(),
        std::fs::read(crate::common::lock_of(&start.path().join("requests.json"))).unwrap(),
        "the lockfiles differ between the rules"
    );
    // Decode the audio clips of both and compare with the continuous signal.
    let rows: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(start.path().join("data/index.json")).unwrap(),
    )
    .unwrap();
    let spec = SignalSpec::new(DEV, 64_000, 24, 0);
    let mut clips = 0;
    for r in rows
        .iter()
        .filter(|r| r["kind"] == "clip" && r["product"] == "audio")
    {
        let from = UtcInstant::parse(r["start"].as_str().unwrap()).unwrap();
        let to = UtcInstant::parse(r["end"].as_str().unwrap()).unwrap();
        let n = usize::try_from((to.unix_millis() - from.unix_millis()) * 64).unwrap();
        let want = samples(&spec, from, n);
        for dir in [&overlap, &start] {
            let path = dir.path().join("data").join(r["path"].as_str().unwrap());
            let a = formats::read_flac(&path)
                .or_else(|_| formats::read_wav(&path))
                .unwrap();
            let Samples::Int(got) = a.samples else {
                panic!("float samples in {}", path.display())
            };
            assert!(got == want, "{} differs from the signal", path.display());
        }
        clips += 1;
    }
    assert_eq!(clips, 2, "whale call 1 and the ship noise event");
}

/// A server whose rule is stricter than either reading (`drop_first`: a request selecting
/// several files leaves out its first, here the file running across the covering slot's
/// start): hydrofetch sees after download that the clip's span is not covered, asks for
/// exactly the missing file, and ends with the same data set as against a faithful server.
#[test]
fn a_file_the_server_left_out_is_fetched_again() {
    let (clean, _) = seed_under("overlap");
    for rule in ["overlap", "start"] {
        let (dir, sent) = seed_with(&["--product-window", rule, "--faults", "drop_first=1"]);
        assert_eq!(
            sent,
            [
                "2024-04-01T12:25:03.000Z..2024-04-01T12:35:03.001Z",
                "2024-04-01T12:25:03.000Z..2024-04-01T12:25:03.001Z",
            ],
            "{rule}: one request, then exactly the file it lacked"
        );
        let data = |d: &tempfile::TempDir| {
            let mut t = tree(&d.path().join("data"));
            t.remove(".hydrofetch/guard");
            t.remove(".hydrofetch/index.stamp");
            t
        };
        assert_eq!(data(&clean), data(&dir), "{rule}: the data sets differ");
        assert_eq!(
            std::fs::read(crate::common::lock_of(&clean.path().join("requests.json"))).unwrap(),
            std::fs::read(crate::common::lock_of(&dir.path().join("requests.json"))).unwrap(),
            "{rule}: the lockfiles differ"
        );
    }
}

/// `--simulate` takes the rule from `HYDROFETCH_SIM_PRODUCT_WINDOW`; an unknown one is bad
/// usage (exit 2) naming the value, before anything is fetched.
#[test]
fn an_unknown_rule_for_the_embedded_simulator_is_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("requests.json");
    std::fs::copy("manifests/requests-seed.json", &manifest).unwrap();
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_hydrofetch"));
    c.arg("run")
        .arg(&manifest)
        .arg("--simulate")
        .env("HYDROFETCH_SIM_PRODUCT_WINDOW", "starts")
        .env_remove("HYDROFETCH_LOG");
    let (code, out, err) = crate::common::output(c);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("unknown product window `starts`"), "{err}");
    assert!(!dir.path().join("data").join("clips").exists());
}
