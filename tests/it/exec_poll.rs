//! Polling that follows the queue (#17): the executor schedules each status poll from the
//! run's state (queue position, ONC's estimate, elapsed time, the token's other runs), so a
//! run costs a few polls however long it waits, not one per `poll_max`.

use crate::common;

use common::{Sim, TOKEN};
use hydrofetch::exec::{ExecConfig, Job, RunPaths, Silent};
use hydrofetch::lock::Lockfile;
use hydrofetch::onc::{Client, Token};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// `groups` requests of six contiguous 5-minute MAT slots from 2024-04-01T12:00Z.
fn job(groups: usize) -> Job {
    crate::exec_sched::spectrogram_job(groups * 6)
}

/// Four runs of six files at 0.25 s per file (1.5 s each) on a token that runs two at once:
/// the last two wait a whole run in the queue. With polls bounded by a 100 ms `poll_max`, a
/// fixed ladder polls each run every 100 ms (15 to 30 times); following the queue, a run polls
/// a handful of times.
#[test]
fn status_polls_follow_the_queue_not_a_ladder() {
    let sim = Sim::start(&["--tiny", "--time-scale", "0.01", "--capacity", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join(".hydrofetch");
    let paths = RunPaths {
        data_dir: dir.path().join("data"),
        lock: dir.path().join("m.toml.lock"),
        journal: state.join("m.toml.lock.journal"),
        record: state.join("m.toml.lock.record"),
    };
    let config = ExecConfig {
        poll_min: Duration::from_millis(5),
        poll_max: Duration::from_millis(100),
        ..ExecConfig::default()
    };
    let client = Client::new(&sim.url, Token::new(TOKEN).unwrap()).unwrap();
    let mut lock = Lockfile::default();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(hydrofetch::exec::execute(
            Some(client),
            job(4),
            &paths,
            &mut lock,
            config,
            Arc::new(Silent),
            CancellationToken::new(),
        ))
        .unwrap();
    assert!(outcome.failures.is_empty(), "{outcome:?}");
    assert_eq!(outcome.fetched, 24, "{outcome:?}");

    let requests = sim.count("dataProductDelivery/request");
    let polls = sim.count("dataProductDelivery/run") + sim.count("dataProductDelivery/status");
    assert_eq!(requests, 4, "one ONC request per six slots");
    let per_run = polls as f64 / requests as f64;
    assert!(
        per_run <= 5.0,
        "{polls} status polls for {requests} runs ({per_run:.1} per run): the polls do not follow the queue"
    );
}
