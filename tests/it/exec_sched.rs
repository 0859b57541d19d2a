//! The executor as a library, against the simulator on 127.0.0.1: what it writes while it
//! works (one record line per finished item, the lockfile only when compacted), and that a
//! clips-only run needs no ONC client.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{Sim, TOKEN};
use hydrofetch::exec::{ExecConfig, Job, RunPaths, Silent, SpectrogramGroup, WantedItem};
use hydrofetch::lock::Lockfile;
use hydrofetch::onc::{Client, Token};
use hydrofetch::time::{UtcInstant, Window5m};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// `n` contiguous 5-minute spectrogram slots from 2024-04-01T12:00Z, in groups of six.
pub(crate) fn spectrogram_job(n: usize) -> Job {
    let start = UtcInstant::parse("2024-04-01T12:00:00Z").unwrap();
    let items: Vec<WantedItem> = (0..n)
        .map(|i| WantedItem {
            id: format!("{:064x}", i + 1),
            window: Window5m::floor(start).offset(i as i64),
            clip_from: None,
        })
        .collect();
    Job {
        spectrograms: items
            .chunks(6)
            .map(|c| SpectrogramGroup {
                device: "ICLISTENHF6324".into(),
                format: "mat".into(),
                options: [("dpo_spectralDataDownsample".to_owned(), "2".to_owned())]
                    .into_iter()
                    .collect(),
                items: c.to_vec(),
            })
            .collect(),
        ..Job::default()
    }
}

fn fast_config() -> ExecConfig {
    ExecConfig {
        poll_min: Duration::from_millis(5),
        poll_max: Duration::from_millis(200),
        ..ExecConfig::default()
    }
}

fn paths(dir: &Path) -> RunPaths {
    let state = dir.join(".hydrofetch");
    RunPaths {
        data_dir: dir.join("data"),
        lock: dir.join("m.toml.lock"),
        journal: state.join("m.toml.lock.journal"),
        record: state.join("m.toml.lock.record"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `n` slots and returns the record's lines and size, and the lockfile, as execute left
/// them (before compaction).
fn run_slots(sim: &Sim, dir: &Path, n: usize) -> (Vec<String>, u64, Lockfile) {
    let client = Client::new(&sim.url, Token::new(TOKEN).unwrap()).unwrap();
    let p = paths(dir);
    let mut lock = Lockfile::default();
    let outcome = runtime()
        .block_on(hydrofetch::exec::execute(
            Some(client),
            spectrogram_job(n),
            &p,
            &mut lock,
            fast_config(),
            Arc::new(Silent),
            CancellationToken::new(),
        ))
        .unwrap();
    assert!(outcome.failures.is_empty(), "{outcome:?}");
    assert_eq!(outcome.fetched, n, "{outcome:?}");
    assert!(
        !p.lock.exists(),
        "the lockfile is written only when compacted, not while running"
    );
    let text = std::fs::read_to_string(&p.record).expect("the record of finished items");
    let size = std::fs::metadata(&p.record).unwrap().len();
    (text.lines().map(str::to_owned).collect(), size, lock)
}

#[test]
fn finished_items_cost_one_record_line_each_and_one_lockfile_write() {
    let sim = Sim::start(&["--time-scale", "0.002"]);
    let small = tempfile::tempdir().unwrap();
    let big = tempfile::tempdir().unwrap();
    let (lines6, bytes6, _) = run_slots(&sim, small.path(), 6);
    let (lines24, bytes24, mut lock24) = run_slots(&sim, big.path(), 24);
    // One line per finished item, each a whole entry.
    assert_eq!(lines6.len(), 6);
    assert_eq!(lines24.len(), 24);
    for l in &lines24 {
        let e: serde_json::Value = serde_json::from_str(l).unwrap();
        assert!(lock24.get(e["id"].as_str().unwrap()).is_some(), "{l}");
    }
    // Bytes grow linearly: four times the items, four times the bytes (lines differ only in
    // names and hashes).
    let per6 = bytes6 as f64 / 6.0;
    let per24 = bytes24 as f64 / 24.0;
    assert!(
        (per24 / per6 - 1.0).abs() < 0.05,
        "{per6} vs {per24} bytes per item"
    );

    // Compaction writes the lockfile once and removes the record.
    let p = paths(big.path());
    assert!(hydrofetch::exec::compact(&mut lock24, &p).unwrap());
    assert!(!p.record.exists());
    assert_eq!(Lockfile::load(&p.lock).unwrap(), lock24);
    assert!(
        !hydrofetch::exec::compact(&mut lock24, &p).unwrap(),
        "nothing changed"
    );
}
