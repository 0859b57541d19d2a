//! ONC server work (issue #17 item 1, #16): the files a run makes the server process, read
//! from the in-process simulator's job table on 127.0.0.1, against the files the request
//! needs, under both product-window rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{self, TOKEN};
use hydrofetch::exec::ExecConfig;
use hydrofetch::ops::{self, Manifests, NetOptions, RunOptions, StateOptions};
use hydrofetch::plan::PlanLimits;
use hydrofetch::sim::delivery::ProductWindow;
use hydrofetch::sim::{SimConfig, SimHandle};
use hydrofetch::time::UtcInstant;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const DEVICE: &str = "ICLISTENHF6324";
const PAD_MS: i64 = 15_000;

/// 20 timestamps over two hours at uneven steps (7 min 13 s), so the padded windows fall at
/// every position in their files: inside one, across a file boundary, across a slot boundary.
fn timestamps() -> Vec<UtcInstant> {
    let t0 = UtcInstant::parse("2024-04-01T10:00:40Z").unwrap();
    (0..20).map(|k| t0.add_millis(k * 433_000)).collect()
}

/// Runs `manifest` through the library against `sim`, polling fast.
async fn run(sim: &SimHandle, manifest: &std::path::Path) -> hydrofetch::ops::RunSummary {
    let mut net = NetOptions::onc(
        sim.base_url.clone(),
        hydrofetch::onc::Token::new(TOKEN).unwrap(),
    );
    net.exec = ExecConfig {
        poll_min: Duration::from_millis(5),
        poll_max: Duration::from_millis(200),
        ..ExecConfig::default()
    };
    ops::run(
        RunOptions {
            manifests: Manifests::Files(vec![manifest.to_path_buf()]),
            data_dir: None,
            state: StateOptions::default(),
            limits: PlanLimits::default(),
            max_bytes: None,
            net,
        },
        std::sync::Arc::new(hydrofetch::exec::Silent),
        CancellationToken::new(),
    )
    .await
    .unwrap()
}

/// Runs the 20-event request CSV (15 s padding, MAT clips) against a simulator with `rule`;
/// returns the files the server processed (summed over the runs started) and the distinct
/// source files the padded windows overlap.
async fn run_events(rule: ProductWindow) -> (usize, usize) {
    let sim: SimHandle = hydrofetch::sim::spawn(SimConfig {
        tokens: vec![TOKEN.to_owned()],
        time_scale: 0.001,
        capacity: 4,
        product_window: rule,
        cache_dir: Some(common::sim_cache_dir()),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("deviceCode,timestamp,pad_seconds,clip,label\n");
    for (k, t) in timestamps().iter().enumerate() {
        csv.push_str(&format!("{DEVICE},{t},15,true,event {k}\n"));
    }
    let manifest = dir.path().join("events.csv");
    std::fs::write(&manifest, csv).unwrap();
    let summary = run(&sim, &manifest).await;
    assert!(summary.success(), "{rule}: {summary:?}");
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("data/index.json")).unwrap())
            .unwrap();
    assert_eq!(
        rows.iter().filter(|r| r["kind"] == "clip").count(),
        20,
        "{rule}: every event clipped"
    );
    let processed: usize = {
        let jobs = sim.state.jobs.lock().unwrap();
        jobs.requests
            .values()
            .filter(|r| r.run.is_some())
            .map(|r| r.files.len())
            .sum()
    };
    let device = sim.state.cat.device(DEVICE).unwrap();
    let now = sim.state.now();
    let needed: BTreeSet<UtcInstant> = timestamps()
        .iter()
        .flat_map(|t| {
            sim.state.cat.files(
                device,
                None,
                t.add_millis(-PAD_MS),
                t.add_millis(PAD_MS),
                now,
            )
        })
        .map(|f| f.start)
        .collect();
    (processed, needed.len())
}

/// The server processes no file the padded windows do not overlap, under either rule (it
/// once processed up to twice as many: each request reached back a nominal file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cost_the_server_only_the_files_their_windows_overlap() {
    for rule in [ProductWindow::Overlap, ProductWindow::Start] {
        let (processed, needed) = run_events(rule).await;
        eprintln!("{rule}: server processed {processed} files, windows overlap {needed}");
        assert!(needed >= 20, "{needed}");
        assert!(
            processed <= needed,
            "{rule}: the server processed {processed} files for {needed} needed"
        );
    }
}

/// Slots inside an archive gap (ICLISTENHF6324 has none between 2024-04-02 02:57:40 and
/// 07:20:06, within a deployment) cost ONC nothing: they are locked as having no data from the
/// archive listing, without a product request; slots beside the gap are fetched as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_gap_submits_no_job() {
    let sim: SimHandle = hydrofetch::sim::spawn(SimConfig {
        tokens: vec![TOKEN.to_owned()],
        time_scale: 0.001,
        capacity: 4,
        cache_dir: Some(common::sim_cache_dir()),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("gap.toml");
    // 03:00–03:30 lies inside the gap; 02:50–03:00 holds the last files before it.
    std::fs::write(
        &manifest,
        format!(
            "version = 1\ndata_dir = \"data\"\n[defaults]\ndevice = \"{DEVICE}\"\n\
             spectrogram_format = \"mat\"\n\
             [[range]]\nstart = \"2024-04-02T03:00:00Z\"\nend = \"2024-04-02T03:30:00Z\"\n\
             spectrograms_per_batch = 6\n\
             [[range]]\nstart = \"2024-04-02T02:50:00Z\"\nend = \"2024-04-02T03:00:00Z\"\n\
             spectrograms_per_batch = 6\n"
        ),
    )
    .unwrap();
    let summary = run(&sim, &manifest).await;
    assert!(summary.success(), "{summary:?}");
    // `done` counts the items settled, those without data included.
    assert_eq!((summary.done, summary.no_data), (8, 6), "{summary:?}");
    let sent: Vec<String> = sim
        .request_log()
        .iter()
        .filter(|r| r.path.ends_with("dataProductDelivery/request"))
        .map(|r| {
            let get = |k: &str| {
                r.params
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            format!("{}..{}", get("dateFrom"), get("dateTo"))
        })
        .collect();
    assert_eq!(
        sent,
        ["2024-04-02T02:50:03.000Z..2024-04-02T02:55:03.001Z"],
        "one request, for the two files before the gap"
    );
    let lock = std::fs::read_to_string(common::lock_of(&manifest)).unwrap();
    assert_eq!(
        lock.matches("no archived source files in this slot")
            .count(),
        6,
        "{lock}"
    );
}
