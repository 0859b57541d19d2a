//! Executor benchmarks against the in-process simulator on 127.0.0.1. Prints figures; asserts
//! nothing. Run with `cargo bench --bench exec`.
//!
//! 1. One day (288 windows) of on-demand MAT spectrograms, 6 per request, simulator capacity C
//!    and per-file processing time t: wall time against the server-side lower bound
//!    `ceil(48/C)·6·t` plus the transfer time (a run of the same plan with t = 0, on a warm
//!    cache).
//! 2. Re-running a completed 10,000-item plan: time and HTTP requests.
//! 3. Peak RSS while streaming a 1 GiB download to disk.
//! 4. `poll` (#17): 4 hours of MAT, 6 per request, capacity 2, 1.67 s per file, pacing scaled
//!    (`poll_min`/`poll_max` times the time scale), tiny products: wall against the server
//!    bound `ceil(8/2)·6·1.67 s`, and status polls per ONC run from the simulator's log.
//!    Targets: ≤ 1.05 × the bound, ≤ 8 polls per run. Without a bench build:
//!    `cargo test --release --bench exec -- poll` (or without `--release`).
#![allow(
    clippy::pedantic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    reason = "benchmarks print their figures, cast measured counts, use std::fs on temporary folders"
)]
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::cast_precision_loss
)]

use hydrofetch::exec::{ExecConfig, RunPaths, Silent, execute, pending};
use hydrofetch::lock::{ItemKind, LockEntry, LockedFile, Lockfile, Status};
use hydrofetch::manifest;
use hydrofetch::onc::{Client, Token};
use hydrofetch::plan::Plan;
use hydrofetch::sim::{DEMO_TOKEN, SimConfig, spawn};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

fn plan_for(dir: &std::path::Path, days: i64) -> Plan {
    let end = hydrofetch::time::UtcInstant::parse("2024-04-01T00:00:00Z")
        .expect("start")
        .add_millis(days * 86_400_000);
    let text = format!(
        "version = 1\ndata_dir = \"data\"\n[defaults]\ndevice = \"ICLISTENHF6324\"\nspectrogram_format = \"mat\"\n\
         data_product_options = {{ dpo_spectralDataDownsample = 2 }}\n\
         [[range]]\nstart = \"2024-04-01T00:00:00Z\"\nend = \"{end}\"\nspectrograms_per_batch = 6\n"
    );
    let path = dir.join("m.toml");
    std::fs::write(&path, text).expect("write manifest");
    let m = manifest::load(&path).expect("manifest");
    Plan::build(&[m]).expect("plan")
}

/// `hours` of 5-minute MAT windows from 2024-04-01T12:00Z, 6 per request.
fn plan_for_hours(dir: &std::path::Path, hours: u32) -> Plan {
    let text = format!(
        "version = 1\ndata_dir = \"data\"\n[defaults]\ndevice = \"ICLISTENHF6324\"\nspectrogram_format = \"mat\"\n\
         data_product_options = {{ dpo_spectralDataDownsample = 2 }}\n\
         [[range]]\nstart = \"2024-04-01T12:00:00Z\"\nend = \"2024-04-01T{:02}:00:00Z\"\nspectrograms_per_batch = 6\n",
        12 + hours
    );
    let path = dir.join("hours.toml");
    std::fs::write(&path, text).expect("write manifest");
    let m = manifest::load(&path).expect("manifest");
    Plan::build(&[m]).expect("plan")
}

async fn run_once(
    url: &str,
    plan: &Plan,
    data: &std::path::Path,
    config: ExecConfig,
) -> (Duration, u64) {
    let _ = std::fs::remove_dir_all(data);
    let paths = RunPaths {
        data_dir: data.to_path_buf(),
        lock: data.join("bench.toml.lock"),
        journal: data.join("state.json"),
        record: data.join("state.record"),
    };
    let mut lock = Lockfile::default();
    let job = pending(plan, &lock, data).job;
    let client = Client::new(url, Token::new(DEMO_TOKEN).expect("token")).expect("client");
    let t = Instant::now();
    let out = execute(
        Some(client.clone()),
        job,
        &paths,
        &mut lock,
        config,
        Arc::new(Silent),
        CancellationToken::new(),
    )
    .await
    .expect("run");
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    (
        t.elapsed(),
        client
            .stats()
            .bytes
            .load(std::sync::atomic::Ordering::Relaxed),
    )
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    // `cargo bench --bench exec -- rss|range|rerun` runs one part; no name runs all.
    let parts: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |p: &str| parts.is_empty() || parts.iter().any(|a| a == p);
    let tmp = tempfile::tempdir().expect("tmp");
    if want("rss") {
        // First, while the process is small: peak RSS of a 1 GiB streamed download.
        let before = vm_hwm_kib();
        let app = axum::Router::new().route(
            "/api/archivefile/download",
            axum::routing::get(|| async {
                let chunk = bytes::Bytes::from(vec![7_u8; 1 << 20]);
                let stream = futures::stream::iter(
                    (0..1024).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
                );
                axum::response::Response::builder()
                    .header("content-length", (1_u64 << 30).to_string())
                    .body(axum::body::Body::from_stream(stream))
                    .expect("response")
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = Client::new(&format!("http://{addr}/"), Token::new("x").expect("token"))
            .expect("client");
        let t = Instant::now();
        let d = client
            .download_archive(
                &hydrofetch::safe_name::SafeName::new("big.bin").expect("a safe name"),
                &tmp.path().join("big.bin"),
                None,
            )
            .await
            .expect("download");
        println!(
            "1 GiB download: {:.2} s ({:.0} MB/s); peak RSS {} MiB (before: {} MiB)",
            t.elapsed().as_secs_f64(),
            d.size as f64 / 1e6 / t.elapsed().as_secs_f64(),
            vm_hwm_kib() / 1024,
            before / 1024
        );
    }
    if want("range") {
        let cache = tmp.path().join("cache");
        let plan = plan_for(tmp.path(), 1);
        let (capacity, scale) = (4_usize, 0.01_f64);
        let t_file = 25.0 * scale;
        let config = ExecConfig {
            max_requests: 48,
            max_downloads: 8,
            poll_min: Duration::from_millis(5),
            poll_max: Duration::from_millis(100),
            ..ExecConfig::default()
        };

        // Warm the simulator's disk cache and measure transfer time with no processing time.
        let fast = spawn(SimConfig {
            time_scale: 0.0,
            capacity: 48,
            cache_dir: Some(cache.clone()),
            ..SimConfig::default()
        })
        .await
        .expect("sim");
        let (cold, _) = run_once(
            &fast.base_url,
            &plan,
            &tmp.path().join("warm"),
            config.clone(),
        )
        .await;
        let (transfer, bytes) = run_once(
            &fast.base_url,
            &plan,
            &tmp.path().join("transfer"),
            config.clone(),
        )
        .await;
        fast.shutdown().await;

        let sim = spawn(SimConfig {
            time_scale: scale,
            capacity,
            cache_dir: Some(cache),
            ..SimConfig::default()
        })
        .await
        .expect("sim");
        let (wall, _) = run_once(
            &sim.base_url,
            &plan,
            &tmp.path().join("run"),
            config.clone(),
        )
        .await;
        sim.shutdown().await;
        let server_bound = (48.0 / capacity as f64).ceil() * 6.0 * t_file;
        let bound = server_bound + transfer.as_secs_f64();
        println!(
            "range of 288 windows, 6 per request, capacity {capacity}, t = {t_file:.2} s per file:"
        );
        println!(
            "  cold generation pass {:.1} s (not part of the figure)",
            cold.as_secs_f64()
        );
        println!(
            "  transfer pass (t = 0, warm cache) {:.2} s for {:.1} MB",
            transfer.as_secs_f64(),
            bytes as f64 / 1e6
        );
        println!(
            "  wall {:.2} s; lower bound {server_bound:.2} + {:.2} = {bound:.2} s; ratio {:.3}",
            wall.as_secs_f64(),
            transfer.as_secs_f64(),
            wall.as_secs_f64() / bound
        );
    }
    if want("poll") {
        let scale = 1.67 / 25.0;
        let plan = plan_for_hours(tmp.path(), 4);
        let config = ExecConfig {
            poll_min: Duration::from_secs(1).mul_f64(scale),
            poll_max: Duration::from_secs(10).mul_f64(scale),
            ..ExecConfig::default()
        };
        let sim = spawn(SimConfig {
            time_scale: scale,
            capacity: 2,
            tiny: true,
            ..SimConfig::default()
        })
        .await
        .expect("sim");
        let (wall, _) = run_once(&sim.base_url, &plan, &tmp.path().join("poll"), config).await;
        let log = sim.request_log();
        sim.shutdown().await;
        let count = |end: &str| log.iter().filter(|r| r.path.ends_with(end)).count();
        let runs = count("dataProductDelivery/request");
        let polls = count("dataProductDelivery/run") + count("dataProductDelivery/status");
        let bound = (runs as f64 / 2.0).ceil() * 6.0 * 1.67;
        println!(
            "poll: 4 h of MAT, 6 per request, capacity 2, 1.67 s per file: wall {:.2} s, server bound {bound:.2} s, ratio {:.3}; {polls} status polls for {runs} ONC runs ({:.1} per run)",
            wall.as_secs_f64(),
            wall.as_secs_f64() / bound,
            polls as f64 / runs.max(1) as f64
        );
    }
    if want("rerun") {
        // Re-run of a completed 10,000-item plan: everything locked and present.
        let big = plan_for(tmp.path(), 35);
        let data = tmp.path().join("big");
        std::fs::create_dir_all(&data).expect("dir");
        let mut lock = Lockfile::default();
        for (i, f) in big.fetch_items().enumerate() {
            let path = format!("f/{i}.mat");
            std::fs::create_dir_all(data.join("f")).expect("dir");
            std::fs::write(data.join(&path), b"x").expect("file");
            lock.insert(LockEntry {
                id: f.id.to_string(),
                kind: ItemKind::Fetch,
                device: f.device.as_str().to_owned(),
                product: "spectrogram/mat".into(),
                window: f.window.start().to_onc_string(),
                status: Status::Done,
                files: vec![LockedFile {
                    path,
                    size: 1,
                    sha256: "00".into(),
                    ..LockedFile::default()
                }],
                ..LockEntry::default()
            });
        }
        let lock_path = data.join("bench.toml.lock");
        lock.save(&lock_path).expect("save");
        let t = Instant::now();
        let reread = Lockfile::load(&lock_path).expect("load");
        let left = pending(&big, &reread, &data);
        let rerun = t.elapsed();
        println!(
            "re-run of a completed {}-item plan: {:.3} s to load the lockfile and check every file; {} items left, 0 HTTP requests",
            left.total,
            rerun.as_secs_f64(),
            left.job.item_count()
        );
    }
}
