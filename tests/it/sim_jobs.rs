//! Simulator data-product jobs over real HTTP: request → run → download status paths,
//! queue capacity and timing, cancel/restart, expiry, determinism of bytes, and faults.
//!
//! Job time is the simulator's injected clock ([`ManualClock`]): a test moves it past a run's
//! processing time or a TTL and looks, instead of waiting on the wall clock.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

use std::sync::Arc;
use std::time::Duration;

use crate::sim_support::*;
use hydrofetch::sim::SimConfig;
use hydrofetch::sim::jobs::ManualClock;
use serde_json::Value;
use sha2::{Digest, Sha256};

const AF: &str = "ICLISTENAF2523";

/// A tiny on-demand product: 256 Hz WAV from the AF device (15 s per file before scaling).
fn tiny(from: &'static str, to: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("deviceCode", AF),
        ("dataProductCode", "AD"),
        ("extension", "wav"),
        ("dateFrom", from),
        ("dateTo", to),
        ("dpo_audioDownsample", "256"),
    ]
}

async fn request(h: &hydrofetch::sim::SimHandle, q: &[(&str, &str)]) -> (u64, Value) {
    let (s, v) = get_json(h, "api/dataProductDelivery/request", q).await;
    assert_eq!(s, 200, "{v}");
    (v["dpRequestId"].as_u64().unwrap(), v)
}

async fn run(h: &hydrofetch::sim::SimHandle, req: u64) -> (u16, Value) {
    let id = req.to_string();
    let (s, v) = get_json(h, "api/dataProductDelivery/run", &[("dpRequestId", &id)]).await;
    (s, v[0].clone())
}

async fn download(h: &hydrofetch::sim::SimHandle, run: u64, index: &str) -> reqwest::Response {
    get(
        h,
        "api/dataProductDelivery/download",
        &[("dpRunId", &run.to_string()), ("index", index)],
    )
    .await
}

/// Runs `req`, moves `clock` an hour on (far past any tiny run) and returns the complete run.
async fn finish(h: &hydrofetch::sim::SimHandle, clock: &ManualClock, req: u64) -> Value {
    run(h, req).await;
    clock.advance(Duration::from_secs(3600));
    let (s, v) = run(h, req).await;
    assert_eq!(s, 200, "not complete: {v}");
    v
}

/// A simulator whose job queue reads `clock`, with processing at real scale (15 s per tiny
/// file) so that every step below is an exact instant, not a race with the wall clock.
async fn start_at(clock: &Arc<ManualClock>, cfg: SimConfig) -> hydrofetch::sim::SimHandle {
    start(SimConfig {
        time_scale: 1.0,
        clock: clock.clone(),
        ..cfg
    })
    .await
}

async fn status_of(h: &hydrofetch::sim::SimHandle, req: u64) -> (u16, String) {
    let (s, r) = run(h, req).await;
    (s, r["status"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn queue_capacity_orders_runs() {
    // Capacity 1: A (two files, 30 s) runs first, B (one file, 15 s) waits for its slot.
    let clock = Arc::new(ManualClock::new());
    let h = start_at(
        &clock,
        SimConfig {
            capacity: 1,
            ..SimConfig::default()
        },
    )
    .await;
    let (a, _) = request(
        &h,
        &tiny("2024-04-01T12:00:00.000Z", "2024-04-01T12:10:00.000Z"),
    )
    .await;
    let (b, _) = request(
        &h,
        &tiny("2024-04-01T13:00:00.000Z", "2024-04-01T13:05:00.000Z"),
    )
    .await;
    let (_, ra) = run(&h, a).await;
    assert_eq!(ra["status"], "data product running");
    let (_, rb) = run(&h, b).await;
    assert_eq!(rb["status"], "queued");
    assert_eq!(rb["queuePosition"], 1);
    let running = (202, "data product running".to_owned());
    let queued = (202, "queued".to_owned());
    let complete = (200, "complete".to_owned());
    clock.advance(Duration::from_millis(29_999));
    assert_eq!(status_of(&h, a).await, running);
    assert_eq!(status_of(&h, b).await, queued);
    // A ends at 30 s and B takes the slot then, not when next polled.
    clock.advance(Duration::from_millis(1));
    assert_eq!(status_of(&h, a).await, complete);
    assert_eq!(status_of(&h, b).await, running);
    clock.advance(Duration::from_millis(14_999));
    assert_eq!(status_of(&h, b).await, running);
    clock.advance(Duration::from_millis(1));
    assert_eq!(status_of(&h, b).await, complete);
    h.shutdown().await;
}

#[tokio::test]
async fn cancel_restart_and_expiry() {
    let clock = Arc::new(ManualClock::new());
    let ttl = Duration::from_secs(600);
    let h = start_at(
        &clock,
        SimConfig {
            run_ttl: ttl,
            ..SimConfig::default()
        },
    )
    .await;
    let (req, _) = request(
        &h,
        &tiny("2024-04-01T12:00:00.000Z", "2024-04-01T12:05:00.000Z"),
    )
    .await;
    let (_, r) = run(&h, req).await;
    let run_id = r["dpRunId"].as_u64().unwrap();
    let (s, c) = get_json(
        &h,
        "api/dataProductDelivery/cancel",
        &[("dpRequestId", &req.to_string())],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        c,
        serde_json::json!([{"dpRunId": run_id, "status": "cancelled"}])
    );
    let d = download(&h, run_id, "1").await;
    assert_eq!(d.status().as_u16(), 400);
    let body: Value = d.json().await.unwrap();
    assert!(body.get("errors").is_none());
    // A cancelled run stays cancelled however long one waits.
    clock.advance(Duration::from_secs(3600));
    assert_eq!(status_of(&h, req).await, (202, "cancelled".to_owned()));
    // Restart: same run id, running for one file's 15 s, then complete.
    let (s, rs) = get_json(
        &h,
        "api/dataProductDelivery/restart",
        &[("dpRequestId", &req.to_string())],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(rs[0]["dpRunId"].as_u64(), Some(run_id));
    clock.advance(Duration::from_millis(14_999));
    assert_eq!(
        status_of(&h, req).await,
        (202, "data product running".to_owned())
    );
    clock.advance(Duration::from_millis(1));
    let (s, done) = run(&h, req).await;
    assert_eq!((s, done["dpRunId"].as_u64()), (200, Some(run_id)));
    assert_eq!(download(&h, run_id, "meta").await.status().as_u16(), 200);
    // The run expires exactly `ttl` after it completed.
    clock.advance(ttl - Duration::from_millis(1));
    assert_eq!(download(&h, run_id, "meta").await.status().as_u16(), 200);
    clock.advance(Duration::from_millis(1));
    assert_eq!(download(&h, run_id, "1").await.status().as_u16(), 410);
    h.shutdown().await;
}

#[tokio::test]
async fn on_demand_lifecycle_status_paths() {
    let clock = Arc::new(ManualClock::new());
    let h = start_at(&clock, SimConfig::default()).await;
    let (req, v) = request(
        &h,
        &tiny("2024-04-01T12:00:00.000Z", "2024-04-01T12:10:00.000Z"),
    )
    .await;
    assert_eq!(v["estimatedProcessingTime"], "30 s");
    assert!(v["estimatedFileSize"].as_str().unwrap().ends_with("kB"));
    assert!(v.get("fileSize").is_none());
    let (s, st) = get_json(
        &h,
        "api/dataProductDelivery/status",
        &[("dpRequestId", &req.to_string())],
    )
    .await;
    assert_eq!((s, st["searchHdrStatus"].as_str()), (200, Some("OPEN")));
    let (s, r) = run(&h, req).await;
    assert_eq!(s, 202);
    assert_eq!(r["fileCount"], 0);
    let run_id = r["dpRunId"].as_u64().unwrap();
    // While running, download answers 202 with a JSON progress body.
    let d = download(&h, run_id, "1").await;
    assert_eq!(d.status().as_u16(), 202);
    let p: Value = d.json().await.unwrap();
    assert!(p["message"].is_string() && p["status"].is_string());
    clock.advance(Duration::from_secs(30));
    let (s, done) = run(&h, req).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["dpRunId"].as_u64(), Some(run_id));
    assert_eq!(done["fileCount"], 2);
    // HEAD counts files without marking the request complete.
    let head = client()
        .head(with_query(
            &format!("{}api/dataProductDelivery/download", h.base_url),
            &[
                ("dpRunId", run_id.to_string().as_str()),
                ("index", "1"),
                ("token", TOKEN),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 200);
    let (_, st) = get_json(
        &h,
        "api/dataProductDelivery/status",
        &[("dpRequestId", &req.to_string())],
    )
    .await;
    assert_eq!(st["searchHdrStatus"], "OPEN");
    // Files 1 and 2, then 404; names and headers.
    let mut names = Vec::new();
    for i in ["1", "2"] {
        let d = download(&h, run_id, i).await;
        assert_eq!(d.status().as_u16(), 200);
        let cd = d.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        let len: usize = d.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let body = d.bytes().await.unwrap();
        assert_eq!(body.len(), len);
        let name = cd.split("filename=").nth(1).unwrap().to_owned();
        assert!(cd.starts_with("attachment; "));
        // Decode: 256 Hz mono, 300 s.
        let r = hound::WavReader::new(std::io::Cursor::new(body.to_vec())).unwrap();
        assert_eq!(r.spec().sample_rate, 256);
        assert_eq!(r.duration(), 300 * 256);
        names.push(name);
    }
    assert_eq!(
        names,
        [
            "ICLISTENAF2523_20240401T120000.000Z-256Hz.wav",
            "ICLISTENAF2523_20240401T120500.000Z-256Hz.wav"
        ]
    );
    assert_eq!(download(&h, run_id, "3").await.status().as_u16(), 404);
    let m = download(&h, run_id, "meta").await;
    assert_eq!(m.status().as_u16(), 200);
    let cd = m.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cd.ends_with("-AD_WAV_META.xml"), "{cd}");
    let xml = m.text().await.unwrap();
    assert!(xml.contains("ICLISTENAF2523_20240401T120500.000Z"));
    assert!(xml.contains(r#"<parameter name="dpo_audioDownsample">256</parameter>"#));
    assert!(!xml.contains(TOKEN));
    let (_, st) = get_json(
        &h,
        "api/dataProductDelivery/status",
        &[("dpRequestId", &req.to_string())],
    )
    .await;
    assert_eq!(st["searchHdrStatus"], "COMPLETED");
    h.shutdown().await;
}

#[tokio::test]
async fn archived_is_immediate_and_empty_gives_204() {
    let h = start(SimConfig {
        time_scale: 1.0,
        ..SimConfig::default()
    })
    .await;
    let (req, v) = request(
        &h,
        &[
            ("deviceCode", "ICLISTENHF6324"),
            ("dataProductCode", "HSD"),
            ("extension", "png"),
            ("dateFrom", "2024-04-02T04:00:00.000Z"),
            ("dateTo", "2024-04-02T05:00:00.000Z"),
        ],
    )
    .await;
    assert!(v["fileSize"].is_u64(), "{v}");
    assert!(v.get("estimatedProcessingTime").is_none());
    let (s, r) = run(&h, req).await;
    assert_eq!(
        (s, r["status"].as_str(), r["fileCount"].as_u64()),
        (200, Some("complete"), Some(0))
    );
    let run_id = r["dpRunId"].as_u64().unwrap();
    assert_eq!(download(&h, run_id, "1").await.status().as_u16(), 204);
    // Options that select no data (channel H2) also give 204.
    let mut q = tiny("2024-04-01T12:00:00.000Z", "2024-04-01T12:05:00.000Z");
    q.retain(|(k, _)| *k != "dpo_audioDownsample");
    q.push(("dpo_hydrophoneChannel", "H2"));
    let (req, _) = request(&h, &q).await;
    let (s, r) = run(&h, req).await;
    assert_eq!(s, 200);
    assert_eq!(
        download(&h, r["dpRunId"].as_u64().unwrap(), "1")
            .await
            .status()
            .as_u16(),
        204
    );
    h.shutdown().await;
}

async fn sha_of_archive_file(data_seed: u64, seed: u64, name: &str) -> (String, usize) {
    let h = start(SimConfig {
        data_seed,
        seed,
        ..SimConfig::default()
    })
    .await;
    let r = get(&h, "api/archivefile/download", &[("filename", name)]).await;
    assert_eq!(r.status().as_u16(), 200);
    let len: usize = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        r.headers()["content-disposition"].to_str().unwrap(),
        format!("attachment; filename={name}")
    );
    let b = r.bytes().await.unwrap();
    assert_eq!(b.len(), len);
    h.shutdown().await;
    (hex::encode(Sha256::digest(&b)), len)
}

#[tokio::test]
async fn same_seed_same_bytes() {
    // The short file before the gap keeps this quick.
    let name = "ICLISTENHF6324_20240402T025503.000Z.wav";
    let (a, len) = sha_of_archive_file(5, 1, name).await;
    let (b, _) = sha_of_archive_file(5, 2, name).await;
    let (c, _) = sha_of_archive_file(6, 1, name).await;
    // Same data seed, different fault seeds: same bytes; another data seed: other bytes.
    assert_eq!(a, b);
    assert_ne!(a, c);
    // 157 s of 64 kHz 24-bit mono.
    assert!(len >= 157 * 64_000 * 3);
}

async fn statuses(seed: u64, faults: &str, n: usize) -> Vec<u16> {
    let h = start(SimConfig {
        seed,
        faults: faults.parse().unwrap(),
        ..SimConfig::default()
    })
    .await;
    let mut out = Vec::new();
    let c = client();
    let url = with_query(&format!("{}api/devices", h.base_url), &[("token", TOKEN)]);
    for i in 0..n {
        let r = c.get(&url).send().await.unwrap();
        if r.status().as_u16() == 429 {
            assert_eq!(r.headers()["retry-after"], "1");
        }
        out.push(r.status().as_u16());
        // sim/* never faults.
        let path = if i % 25 == 0 {
            "sim/log"
        } else {
            "sim/reset-log"
        };
        let s = c.get(format!("{}{path}", h.base_url)).send().await.unwrap();
        assert_eq!(s.status().as_u16(), 200);
    }
    h.shutdown().await;
    out
}

#[tokio::test]
async fn faults_rate_and_determinism() {
    let spec = "500=0.1,503=0.1,429=0.1";
    let a = statuses(3, spec, 300).await;
    let b = statuses(3, spec, 300).await;
    let c = statuses(4, spec, 300).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    let bad = a.iter().filter(|s| **s != 200).count();
    // 30 % expected: 90 of 300; allow a wide band.
    assert!((60..=120).contains(&bad), "{bad}");
    for code in [500, 503, 429] {
        assert!(a.contains(&code));
    }
}

#[tokio::test]
async fn body_faults_break_downloads() {
    let clock = Arc::new(ManualClock::new());
    let h = start_at(
        &clock,
        SimConfig {
            seed: 1,
            faults: "reset=0.3,truncate=0.3".parse().unwrap(),
            ..SimConfig::default()
        },
    )
    .await;
    let (req, _) = request(
        &h,
        &tiny("2024-04-01T12:00:00.000Z", "2024-04-01T12:05:00.000Z"),
    )
    .await;
    // `request` itself is never hit by body faults (they only act on file bodies).
    let done = finish(&h, &clock, req).await;
    let run_id = done["dpRunId"].as_u64().unwrap();
    let (mut ok, mut broken) = (0, 0);
    for _ in 0..30 {
        let url = with_query(
            &format!("{}api/dataProductDelivery/download", h.base_url),
            &[
                ("dpRunId", run_id.to_string().as_str()),
                ("index", "1"),
                ("token", TOKEN),
            ],
        );
        // A reset may drop the connection before the head is flushed.
        let Ok(r) = client().get(url).send().await else {
            broken += 1;
            continue;
        };
        assert_eq!(r.status().as_u16(), 200);
        let len: usize = r.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        match r.bytes().await {
            Ok(b) if b.len() == len => ok += 1,
            _ => broken += 1,
        }
    }
    assert!(ok > 0 && broken > 5, "ok {ok} broken {broken}");
    let log = h.request_log();
    let faults = log.iter().filter(|r| r.fault.is_some()).count();
    assert_eq!(faults, broken);
    h.shutdown().await;
}

#[tokio::test]
async fn run_error_fault_ends_runs_in_error() {
    let clock = Arc::new(ManualClock::new());
    let h = start_at(
        &clock,
        SimConfig {
            faults: "run_error=1".parse().unwrap(),
            ..SimConfig::default()
        },
    )
    .await;
    let (req, _) = request(
        &h,
        &tiny("2024-04-01T12:00:00.000Z", "2024-04-01T12:05:00.000Z"),
    )
    .await;
    let (s, r) = run(&h, req).await;
    assert_eq!(
        (s, r["status"].as_str()),
        (202, Some("data product running"))
    );
    // The fault shows when the run ends (15 s), not before.
    clock.advance(Duration::from_millis(14_999));
    assert_eq!(
        status_of(&h, req).await,
        (202, "data product running".to_owned())
    );
    clock.advance(Duration::from_millis(1));
    let (s, r) = run(&h, req).await;
    assert_eq!((s, r["status"].as_str()), (202, Some("error")));
    let d = download(&h, r["dpRunId"].as_u64().unwrap(), "1").await;
    assert_eq!(d.status().as_u16(), 202);
    let v: Value = d.json().await.unwrap();
    assert_eq!(v["status"], "error");
    h.shutdown().await;
}

#[tokio::test]
async fn disk_cache_is_written_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut bodies = Vec::new();
    for round in 0..2 {
        if round == 1 {
            // Replace the cached file: the second server must serve it from disk.
            let cached: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            assert_eq!(cached.len(), 1, "{cached:?}");
            assert_eq!(std::fs::read(&cached[0]).unwrap(), bodies[0]);
            std::fs::write(&cached[0], b"from the disk cache").unwrap();
        }
        let clock = Arc::new(ManualClock::new());
        let h = start_at(
            &clock,
            SimConfig {
                cache_dir: Some(dir.path().to_path_buf()),
                ..SimConfig::default()
            },
        )
        .await;
        let (req, _) = request(
            &h,
            &tiny("2024-04-01T12:00:00.000Z", "2024-04-01T12:05:00.000Z"),
        )
        .await;
        let done = finish(&h, &clock, req).await;
        let d = download(&h, done["dpRunId"].as_u64().unwrap(), "1").await;
        assert_eq!(d.status().as_u16(), 200);
        bodies.push(d.bytes().await.unwrap().to_vec());
        h.shutdown().await;
    }
    assert_eq!(bodies[1], b"from the disk cache");
}
