//! The operations as library calls (`hydrofetch::ops`), against the simulator running
//! in-process on 127.0.0.1: typed summaries, the events a reporter receives, the files on disk
//! and the lockfile; verify, repair and gc; a plan summary; a watch re-planning on an edit and
//! stopped by its cancellation token. No CLI process is involved.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{TOKEN, check_lock, files_with, lock_of};
use hydrofetch::exec::{ExecConfig, ExecEvent};
use hydrofetch::ops::{
    self, Endpoint, GcOptions, Manifests, NetOptions, NoToken, OpEvent, OpsError, PlanOptions,
    RunOptions, StateOptions, VerifyOptions, WatchOptions,
};
use hydrofetch::plan::PlanLimits;
use hydrofetch::sim::{SimConfig, SimHandle};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

const DEVICE: &str = "ICLISTENHF6324";

/// Every event, as a short line; operation milestones are also sent on a channel so that a
/// test can wait for one.
struct Collect {
    lines: Mutex<Vec<String>>,
    milestones: UnboundedSender<String>,
}

impl Collect {
    fn new() -> (Arc<Self>, UnboundedReceiver<String>) {
        let (tx, rx) = unbounded_channel();
        let me = Self {
            lines: Mutex::new(Vec::new()),
            milestones: tx,
        };
        (Arc::new(me), rx)
    }

    fn count(&self, prefix: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with(prefix))
            .count()
    }

    fn push(&self, line: String) {
        self.lines.lock().unwrap().push(line);
    }
}

impl hydrofetch::exec::Reporter for Collect {
    fn event(&self, e: &ExecEvent) {
        let line = match e {
            ExecEvent::Started { total, .. } => format!("started {total}"),
            ExecEvent::Submitted { dp_request_id, .. } => format!("submitted {dp_request_id}"),
            ExecEvent::Downloaded { bytes, .. } => format!("downloaded {bytes}"),
            ExecEvent::ItemDone { id, .. } => format!("done {id}"),
            ExecEvent::ItemFailed { id, error } => format!("failed {id}: {error}"),
            ExecEvent::Notice { message } => format!("notice {message}"),
            other => format!("other {other:?}"),
        };
        self.push(line);
    }
}

impl ops::Reporter for Collect {
    fn op(&self, e: &OpEvent<'_>) {
        let line = match e {
            OpEvent::Ran(r) => format!("ran {} fetched", r.items.fetched),
            OpEvent::Verified(v) => format!("verified {} mismatches", v.mismatches.len()),
            OpEvent::Collected(g) => format!("collected {} removed", g.report.removed.len()),
            OpEvent::Invalid(e) => format!("invalid {e}"),
            OpEvent::UpToDate { .. } => "up to date".to_owned(),
            OpEvent::Changed { delta, .. } => format!("changed {delta:?}"),
            other => format!("op {other:?}"),
        };
        self.push(line.clone());
        let _ = self.milestones.send(line);
    }
}

/// Waits (bounded) for a milestone starting with `prefix`; returns it.
async fn until(rx: &mut UnboundedReceiver<String>, prefix: &str) -> String {
    let wait = async {
        while let Some(line) = rx.recv().await {
            if line.starts_with(prefix) {
                return line;
            }
        }
        panic!("the reporter went away before {prefix:?}");
    };
    tokio::time::timeout(Duration::from_secs(120), wait)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {prefix:?}"))
}

async fn sim() -> SimHandle {
    hydrofetch::sim::spawn(SimConfig {
        tokens: vec![TOKEN.to_owned()],
        time_scale: 0.002,
        capacity: 4,
        cache_dir: Some(common::sim_cache_dir()),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn net(sim: &SimHandle) -> NetOptions {
    let mut n = NetOptions::onc(
        sim.base_url.clone(),
        hydrofetch::onc::Token::new(TOKEN).unwrap(),
    );
    n.exec = ExecConfig {
        poll_min: Duration::from_millis(5),
        poll_max: Duration::from_millis(200),
        ..ExecConfig::default()
    };
    n
}

fn range_manifest(dir: &Path, start: &str, end: &str) -> PathBuf {
    let p = dir.join("range.toml");
    std::fs::write(
        &p,
        format!(
            "version = 1\ndata_dir = \"data\"\n\n[defaults]\ndevice = \"{DEVICE}\"\n\
             spectrogram_format = \"mat\"\n\n[[range]]\nstart = \"{start}\"\nend = \"{end}\"\n\
             spectrograms_per_batch = 6\n"
        ),
    )
    .unwrap();
    p
}

fn run_options(manifest: &Path, net: NetOptions) -> RunOptions {
    RunOptions {
        manifests: Manifests::Files(vec![manifest.to_path_buf()]),
        data_dir: None,
        state: StateOptions::default(),
        limits: PlanLimits::default(),
        net,
        max_bytes: None,
    }
}

fn dpd_requests(sim: &SimHandle) -> usize {
    sim.request_log()
        .iter()
        .filter(|r| r.path.ends_with("dataProductDelivery/request"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_returns_a_summary_matching_the_disk_the_lockfile_and_the_events() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let m = range_manifest(dir.path(), "2024-04-01T12:00:00Z", "2024-04-01T12:15:00Z");
    let data = dir.path().join("data");

    // The plan first: three windows in one ONC request, nothing done, no network used.
    let planned = ops::plan(&PlanOptions {
        manifests: Manifests::Files(vec![m.clone()]),
        limits: PlanLimits::default(),
        check_done: true,
    })
    .unwrap();
    assert_eq!(
        (planned.items(), planned.fetch_items, planned.clip_items),
        (3, 3, 0)
    );
    assert_eq!((planned.done.len(), planned.pending()), (0, 3));
    assert_eq!(planned.onc_requests, 1);
    assert!(sim.request_log().is_empty(), "plan touched the network");

    let (rep, _rx) = Collect::new();
    let summary = ops::run(
        run_options(&m, net(&sim)),
        rep.clone(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(summary.success(), "{summary:?}");
    assert_eq!((summary.done, summary.failed, summary.no_data), (3, 0, 0));
    assert_eq!(summary.done_before, 0);
    assert_eq!(summary.onc_requests, 1);
    assert_eq!(
        dpd_requests(&sim),
        1,
        "the summary counts what the server saw"
    );
    let mats = files_with(&data, "mat");
    assert_eq!(mats.len(), 3, "{mats:?}");
    let on_disk: u64 = mats
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert_eq!(summary.bytes, on_disk);
    assert_eq!(summary.manifests.len(), 1);
    let one = &summary.manifests[0];
    assert_eq!(one.plan_hash, planned.plan.hash);
    assert_eq!(Path::new(&one.lockfile), lock_of(&m));
    assert_eq!(check_lock(&lock_of(&m), &data), 3);
    assert_eq!(one.index_rows, 3);
    // The reporter saw each item finish, and the run's milestone once.
    assert_eq!(rep.count("done "), 3);
    assert_eq!(rep.count("failed "), 0);
    assert_eq!(rep.count("ran 3 fetched"), 1);

    // Again: nothing to do, no request; the plan now shows everything done.
    let (rep2, _rx2) = Collect::new();
    let again = ops::run(run_options(&m, net(&sim)), rep2, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(
        (again.done, again.done_before, again.onc_requests),
        (0, 3, 0)
    );
    assert_eq!(again.http_requests, 0);
    assert_eq!(dpd_requests(&sim), 1);
    let replanned = ops::plan(&PlanOptions {
        manifests: Manifests::Files(vec![m.clone()]),
        limits: PlanLimits::default(),
        check_done: true,
    })
    .unwrap();
    assert_eq!((replanned.done.len(), replanned.pending()), (3, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_token_matters_only_when_something_must_be_fetched() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let m = range_manifest(dir.path(), "2024-04-01T12:00:00Z", "2024-04-01T12:05:00Z");
    let mut no_token = net(&sim);
    no_token.endpoint = Endpoint::Onc {
        url: sim.base_url.clone(),
        token: Err(NoToken("no ONC token here".into())),
    };
    let err = ops::run(
        run_options(&m, no_token.clone()),
        Arc::new(hydrofetch::exec::Silent),
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, OpsError::Usage(m) if m == "no ONC token here"),
        "{err:?}"
    );
    assert!(err.is_bad_input());
    assert!(sim.request_log().is_empty());

    let first = ops::run(
        run_options(&m, net(&sim)),
        Arc::new(hydrofetch::exec::Silent),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(first.done, 1);
    // Everything done: no token needed.
    let s = ops::run(
        run_options(&m, no_token),
        Arc::new(hydrofetch::exec::Silent),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!((s.done, s.done_before), (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_manifests_and_usage_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "version = 1\n[[range]]\nstart = \"yesterday\"\n").unwrap();
    let good = range_manifest(dir.path(), "2024-04-01T12:00:00Z", "2024-04-01T12:05:00Z");
    let missing = dir.path().join("missing.toml");
    let options = PlanOptions {
        manifests: Manifests::Files(vec![bad.clone(), good.clone(), missing]),
        limits: PlanLimits::default(),
        check_done: false,
    };
    match ops::plan(&options) {
        Err(ops::InputError::Manifests(errors)) => assert_eq!(errors.len(), 2, "{errors:?}"),
        other => panic!("{other:?}"),
    }
    let tiny = PlanOptions {
        manifests: Manifests::Files(vec![good.clone()]),
        limits: PlanLimits { max_items: 0 },
        check_done: false,
    };
    assert!(matches!(ops::plan(&tiny), Err(ops::InputError::Plan(_))));

    let mut two = run_options(
        &good,
        NetOptions::onc(
            "http://127.0.0.1:9/",
            hydrofetch::onc::Token::new(TOKEN).unwrap(),
        ),
    );
    two.manifests = Manifests::Files(vec![good.clone(), good.clone()]);
    two.state.lockfile = Some(dir.path().join("x.lock"));
    let err = ops::run(
        two,
        Arc::new(hydrofetch::exec::Silent),
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, OpsError::Usage(_)), "{err:?}");
    assert!(!dir.path().join("x.lock").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_repair_and_gc_report_what_they_did() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let m = range_manifest(dir.path(), "2024-04-01T12:00:00Z", "2024-04-01T12:15:00Z");
    let data = dir.path().join("data");
    let silent = Arc::new(hydrofetch::exec::Silent);
    let first = ops::run(
        run_options(&m, net(&sim)),
        silent.clone(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(first.done, 3);
    let verify = |repair| VerifyOptions {
        manifests: Manifests::Files(vec![m.clone()]),
        state: StateOptions::default(),
        limits: PlanLimits::default(),
        repair,
    };

    // Clean: three files, no mismatch.
    let (rep, _rx) = Collect::new();
    let clean = ops::verify(&verify(false), rep.as_ref()).unwrap();
    assert_eq!(clean.mismatches(), 0);
    assert_eq!((clean.manifests[0].files, clean.manifests[0].items), (3, 3));
    assert!(!clean.unrepaired());
    assert_eq!(rep.count("verified 0 mismatches"), 1);

    // A same-size corruption is found; without repair nothing changes.
    let mats = files_with(&data, "mat");
    let victim = mats[1].clone();
    let mut bytes = std::fs::read(&victim).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&victim, &bytes).unwrap();
    let found = ops::verify(&verify(false), silent.as_ref()).unwrap();
    assert_eq!(found.mismatches(), 1);
    assert!(found.unrepaired());
    assert!(found.to_repair().is_empty());
    assert!(victim.exists());

    // Repair forgets the item and removes the bad file; running the manifest again fetches it.
    let repaired = ops::verify(&verify(true), silent.as_ref()).unwrap();
    assert_eq!(repaired.manifests[0].forgotten, Some(1));
    assert!(!repaired.unrepaired());
    assert!(!victim.exists());
    let again = RunOptions {
        manifests: Manifests::Loaded(repaired.to_repair()),
        ..run_options(&m, net(&sim))
    };
    let s = ops::run(again, silent.clone(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!((s.done, s.done_before), (1, 2));
    assert_eq!(check_lock(&lock_of(&m), &data), 3);
    assert_eq!(
        ops::verify(&verify(false), silent.as_ref())
            .unwrap()
            .mismatches(),
        0
    );

    // The manifest shrinks to one window: gc (dry) lists two files, then removes them.
    range_manifest(dir.path(), "2024-04-01T12:00:00Z", "2024-04-01T12:05:00Z");
    let gc = |dry_run| GcOptions {
        manifests: Manifests::Files(vec![m.clone()]),
        state: StateOptions::default(),
        limits: PlanLimits::default(),
        dry_run,
    };
    let dry = ops::gc(&gc(true), silent.as_ref()).unwrap();
    assert_eq!(dry.removed(), 2);
    assert_eq!(dry.manifests[0].report.orphans, 2);
    assert_eq!(
        files_with(&data, "mat").len(),
        3,
        "a dry run removes nothing"
    );
    let (rep, _rx) = Collect::new();
    let done = ops::gc(&gc(false), rep.as_ref()).unwrap();
    assert_eq!(
        done.manifests[0].report.removed,
        dry.manifests[0].report.removed
    );
    assert_eq!(rep.count("collected 2 removed"), 1);
    assert_eq!(files_with(&data, "mat").len(), 1);
    for p in &done.manifests[0].report.removed {
        assert!(!data.join(p).exists(), "{p}");
    }
    assert_eq!(check_lock(&lock_of(&m), &data), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_replans_on_an_edit_and_stops_on_its_token() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let m = range_manifest(dir.path(), "2024-04-01T12:00:00Z", "2024-04-01T12:05:00Z");
    let data = dir.path().join("data");
    let (rep, mut rx) = Collect::new();
    let cancel = CancellationToken::new();
    let options = WatchOptions {
        paths: vec![m.clone()],
        debounce: Duration::from_millis(100),
        limits: PlanLimits::default(),
        net: net(&sim),
    };
    let task = tokio::spawn(ops::watch(options, rep.clone(), cancel.clone()));

    assert_eq!(until(&mut rx, "ran ").await, "ran 1 fetched");
    until(&mut rx, "up to date").await;
    assert_eq!(files_with(&data, "mat").len(), 1);

    // One more window: the watch re-plans, fetches it alone, and is up to date again.
    range_manifest(dir.path(), "2024-04-01T12:00:00Z", "2024-04-01T12:10:00Z");
    let changed = until(&mut rx, "changed").await;
    assert_eq!(changed, "changed Some(PlanDelta { added: 1, removed: 0 })");
    assert_eq!(until(&mut rx, "ran ").await, "ran 1 fetched");
    until(&mut rx, "up to date").await;
    cancel.cancel();
    let summary = tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the watch stops when its token is cancelled")
        .unwrap()
        .unwrap();
    assert!(summary.interrupted);
    assert_eq!(summary.replans, 1);
    assert_eq!(summary.runs.len(), 2);
    assert_eq!(summary.runs[1].items.done_before, 1);
    assert!(!summary.last_failed);
    assert_eq!(check_lock(&lock_of(&m), &data), 2);
    assert_eq!(files_with(&data, "mat").len(), 2);
}

/// The thin CLI installs the log subscriber: with `-v`, the client's retries show at debug
/// level with their cause; without it, they do not.
#[test]
fn the_cli_logs_retries_and_their_cause_with_v() {
    let sim = common::Sim::start(&[
        "--time-scale",
        "0.002",
        "--faults",
        "503=0.5",
        "--seed",
        "1",
    ]);
    let faults = |sim: &common::Sim| {
        common::requests(&sim.log())
            .iter()
            .filter(|r| r["fault"] == "503")
            .count()
    };
    let client_lines = |err: &str| -> Vec<String> {
        err.lines()
            .filter(|l| l.contains("DEBUG") && l.contains("hydrofetch::onc::client"))
            .map(str::to_owned)
            .collect()
    };
    let run = |dir: &Path, verbose: bool| {
        let m = range_manifest(dir, "2024-04-01T12:00:00Z", "2024-04-01T12:15:00Z");
        let mut c = common::hf(&sim);
        c.arg("run")
            .arg(&m)
            .args(common::FAST)
            .env_remove("RUST_LOG");
        if verbose {
            c.arg("-v");
        }
        common::output(c)
    };

    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(dir.path(), true);
    assert_eq!(code, 0, "{err}");
    let injected = faults(&sim);
    assert!(injected > 0, "no fault was injected");
    let lines = client_lines(&err);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("retrying") && l.contains("503")),
        "no retry logged with its cause:\n{err}"
    );

    let quiet_dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(quiet_dir.path(), false);
    assert_eq!(code, 0, "{err}");
    assert!(
        faults(&sim) > injected,
        "no fault was injected in the second run"
    );
    assert!(client_lines(&err).is_empty(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_dir_override_puts_outputs_and_index_elsewhere() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let m = range_manifest(dir.path(), "2024-04-01T12:00:00Z", "2024-04-01T12:10:00Z");
    let elsewhere = dir.path().join("elsewhere");
    let options = RunOptions {
        data_dir: Some(elsewhere.clone()),
        ..run_options(&m, net(&sim))
    };
    let s = ops::run(
        options,
        Arc::new(hydrofetch::exec::Silent),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(s.done, 2);
    assert_eq!(files_with(&elsewhere, "mat").len(), 2);
    assert!(elsewhere.join("index.json").is_file());
    assert!(!dir.path().join("data").exists());
    assert_eq!(check_lock(&lock_of(&m), &elsewhere), 2);
}
