//! `hydrofetch watch` end to end: appended rows are fetched alone, an invalid edit is reported
//! and survived, a rename-save is seen. Every wait is on a line the watcher prints, bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{FAST, Sim, hf};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

struct Watch {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Watch {
    /// Waits for a stderr line containing `needle`; returns every line read up to it.
    fn until(&mut self, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    let hit = l.contains(needle);
                    got.push(l);
                    if hit {
                        return got;
                    }
                }
                Err(_) => panic!(
                    "no line with {needle:?} within 120 s; output so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lock_items(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("hydrofetch.lock"))
        .map(|t| t.matches("[[item]]").count())
        .unwrap_or(0)
}

const HEADER: &str = "deviceCode,timestamp,label\n";
const ROW1: &str = "ICLISTENHF6324,2024-04-01T12:02:00Z,a\n";
const ROW2: &str = "ICLISTENHF6324,2024-04-01T12:41:00Z,b\n";
const ROW3: &str = "ICLISTENHF6324,2024-04-01T13:17:00Z,c\n";
const ROW4: &str = "ICLISTENHF6324,2024-04-01T13:52:00Z,d\n";

#[test]
fn watch_fetches_only_what_changed_and_survives_bad_edits() {
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("events.csv");
    std::fs::write(&csv, format!("{HEADER}{ROW1}{ROW2}")).unwrap();

    let mut c = hf(&sim);
    c.arg("watch")
        .arg(&csv)
        .args(["--debounce-ms", "100"])
        .args(FAST)
        .arg("--quiet");
    c.stderr(Stdio::piped()).stdout(Stdio::null());
    let mut child = c.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut w = Watch {
        child,
        lines: rx,
        seen: Vec::new(),
    };

    w.until("up to date");
    assert_eq!(lock_items(dir.path()), 2);
    let requests = sim.count("dataProductDelivery/request");

    // Append a row: only its window is fetched.
    std::fs::write(&csv, format!("{HEADER}{ROW1}{ROW2}{ROW3}")).unwrap();
    let lines = w.until("up to date");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("plan delta: +1 items, -0 items")),
        "{lines:?}"
    );
    assert_eq!(sim.count("dataProductDelivery/request"), requests + 1);
    assert_eq!(lock_items(dir.path()), 3);

    // An invalid row: its row and field are reported, the watch goes on with the last plan.
    std::fs::write(
        &csv,
        format!("{HEADER}{ROW1}{ROW2}{ROW3}ICLISTENHF6324,not-a-time,d\n"),
    )
    .unwrap();
    let lines = w.until("keeping the last good plan");
    let text = lines.join("\n");
    assert!(
        text.contains("row 5") && text.contains("timestamp"),
        "{text}"
    );
    assert_eq!(lock_items(dir.path()), 3);

    // Fix it the way editors save: write a temporary file, rename it over the original.
    let tmp = dir.path().join(".events.csv.tmp");
    std::fs::write(&tmp, format!("{HEADER}{ROW1}{ROW2}{ROW3}{ROW4}")).unwrap();
    std::fs::rename(&tmp, &csv).unwrap();
    let lines = w.until("up to date");
    assert!(
        lines.iter().any(|l| l.contains("plan delta: +1 items")),
        "{lines:?}"
    );
    assert_eq!(sim.count("dataProductDelivery/request"), requests + 2);
    assert_eq!(lock_items(dir.path()), 4);
}
