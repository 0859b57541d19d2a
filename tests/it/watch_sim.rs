//! `hydrofetch watch` end to end: appended rows are fetched alone, an invalid edit is reported
//! and survived, a rename-save is seen; once an edit is handled the watch stays quiet (its own
//! reads and writes are not changes), a data_dir inside the watched folder is not mistaken for
//! manifests, and SIGTERM stops it. Every wait is on a line the watcher prints, bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{FAST, Sim, hf, lock_of, wait_for};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// A running `hydrofetch watch` and the lines of its stderr.
struct Watch {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Watch {
    /// Starts `hydrofetch watch ARGS… --debounce-ms 100 --quiet` against `sim`.
    fn start<S: AsRef<OsStr>>(sim: &Sim, args: impl IntoIterator<Item = S>) -> Self {
        Self::spawn(sim, args, true)
    }

    /// Starts `hydrofetch watch ARGS… --debounce-ms 100`, with the run's progress lines unless
    /// `quiet`.
    fn spawn<S: AsRef<OsStr>>(sim: &Sim, args: impl IntoIterator<Item = S>, quiet: bool) -> Self {
        let mut c = hf(sim);
        c.arg("watch")
            .args(args)
            .args(["--debounce-ms", "100"])
            .args(FAST);
        if quiet {
            c.arg("--quiet");
        }
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
        Self {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Waits for a stderr line containing `needle`; returns every line read up to it.
    fn until(&mut self, needle: &str) -> Vec<String> {
        self.until_line(|l| l.contains(needle), needle)
    }

    /// Waits for a stderr line for which `hit` holds; returns every line read up to it.
    fn until_line(&mut self, hit: impl Fn(&str) -> bool, what: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    let found = hit(&l);
                    got.push(l);
                    if found {
                        return got;
                    }
                }
                Err(_) => panic!(
                    "no line with {what:?} within 120 s; output so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Every line printed during the next `window` (the window itself is what is tested).
    fn lines_during(&mut self, window: Duration) -> Vec<String> {
        let deadline = Instant::now() + window;
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    got.push(l);
                }
                Err(RecvTimeoutError::Timeout) => return got,
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("watch exited; output so far:\n{}", self.seen.join("\n"))
                }
            }
        }
    }

    /// Reads the lines left once the process has exited (bounded).
    fn read_to_end(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => panic!("stderr still open after exit"),
            }
        }
    }

    /// The lines seen so far that report a change.
    fn changes(&self) -> Vec<&String> {
        self.seen.iter().filter(|l| l.contains("changed")).collect()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Items recorded in the lockfile of `manifest`.
fn lock_items(manifest: &Path) -> usize {
    std::fs::read_to_string(lock_of(manifest))
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
    let mut w = Watch::start(&sim, [&csv]);

    w.until("up to date");
    assert_eq!(lock_items(&csv), 2);
    let requests = sim.count("dataProductDelivery/request");

    // Append a row: only its window is fetched, and the change is said once.
    std::fs::write(&csv, format!("{HEADER}{ROW1}{ROW2}{ROW3}")).unwrap();
    let lines = w.until("up to date");
    let said: Vec<&String> = lines.iter().filter(|l| l.contains("changed")).collect();
    assert_eq!(said.len(), 1, "{lines:?}");
    assert!(said[0].contains("events.csv (+1 items, -0)"), "{lines:?}");
    assert_eq!(sim.count("dataProductDelivery/request"), requests + 1);
    assert_eq!(lock_items(&csv), 3);

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
    assert_eq!(lock_items(&csv), 3);

    // Fix it the way editors save: write a temporary file, rename it over the original.
    let tmp = dir.path().join(".events.csv.tmp");
    std::fs::write(&tmp, format!("{HEADER}{ROW1}{ROW2}{ROW3}{ROW4}")).unwrap();
    std::fs::rename(&tmp, &csv).unwrap();
    let lines = w.until("up to date");
    assert!(
        lines.iter().any(|l| l.contains("(+1 items, -0)")),
        "{lines:?}"
    );
    assert_eq!(sim.count("dataProductDelivery/request"), requests + 2);
    assert_eq!(lock_items(&csv), 4);
}

#[test]
fn watch_stays_quiet_once_an_edit_is_handled() {
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("events.csv");
    std::fs::write(&csv, format!("{HEADER}{ROW1}")).unwrap();
    let mut w = Watch::start(&sim, [&csv]);
    w.until("up to date");

    std::fs::write(&csv, format!("{HEADER}{ROW1}{ROW2}")).unwrap();
    w.until("up to date");
    assert_eq!(lock_items(&csv), 2);
    assert_eq!(w.changes().len(), 1, "{:?}", w.seen);
    let requests = sim.api_requests();

    // Nothing changes any more: nothing may be re-planned, nothing asked of ONC.
    let lines = w.lines_during(Duration::from_secs(10));
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("changed") || l.contains("plan delta")),
        "re-planned with no change ({} lines), first ones: {:?}",
        lines.len(),
        &lines[..lines.len().min(12)]
    );
    assert_eq!(sim.api_requests(), requests, "{lines:?}");
}

const TOML_HEAD: &str = r#"version = 1
data_dir = "."

[defaults]
device = "ICLISTENHF6324"
spectrogram_format = "mat"

[[events]]
"#;

#[test]
fn outputs_in_the_watched_folder_are_not_manifests() {
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("events.toml");
    let times = |t: &[&str]| {
        let quoted: Vec<String> = t.iter().map(|t| format!("{t:?}")).collect();
        format!("{TOML_HEAD}times = [{}]\n", quoted.join(", "))
    };
    std::fs::write(&toml, times(&["2024-04-01T12:05:00Z"])).unwrap();
    let mut w = Watch::start(&sim, [dir.path()]);
    w.until("up to date");
    // The run wrote its index and lockfile into the watched folder.
    assert!(dir.path().join("index.csv").is_file());
    assert!(dir.path().join("index.json").is_file());
    assert_eq!(lock_items(&toml), 1);

    // Each edit is the only change seen, and it names only the manifest.
    let edits = [
        times(&["2024-04-01T12:05:00Z", "2024-04-01T13:25:00Z"]),
        times(&[
            "2024-04-01T12:05:00Z",
            "2024-04-01T13:25:00Z",
            "2024-04-01T14:10:00Z",
        ]),
    ];
    for (n, edit) in edits.iter().enumerate() {
        std::fs::write(&toml, edit).unwrap();
        w.until_line(
            |l| l.contains("changed") && l.contains("events.toml"),
            "changed: events.toml",
        );
        let changes = w.changes();
        assert_eq!(changes.len(), n + 1, "{:?}", w.seen);
        for l in changes {
            assert!(
                !l.contains("index.") && !l.contains(".lock") && !l.contains("state"),
                "{:?}",
                w.seen
            );
        }
        w.until("up to date");
        assert_eq!(lock_items(&toml), n + 2);
    }
}

/// Sends SIGTERM to the watch and returns its exit code, waiting at most `limit`.
fn terminate(w: &mut Watch, limit: Duration) -> Option<i32> {
    let status = Command::new("kill")
        .args(["-TERM", &w.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut code = None;
    wait_for("watch to exit after SIGTERM", limit, || {
        code = w.child.try_wait().unwrap();
        code.is_some()
    });
    code.and_then(|c| c.code())
}

#[test]
fn sigterm_stops_an_idle_watch_with_130() {
    let sim = Sim::start(&["--time-scale", "0.001"]);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("events.csv");
    std::fs::write(&csv, format!("{HEADER}{ROW1}")).unwrap();
    let mut w = Watch::start(&sim, [&csv]);
    w.until("up to date");
    let code = terminate(&mut w, Duration::from_secs(2));
    assert_eq!(code, Some(130), "{:?}", w.seen);
}

#[test]
fn sigterm_during_a_run_cancels_it_and_stops_the_watch_with_130() {
    // Slow jobs, so that the run is still going when the signal comes: options that the
    // simulator (like ONC) generates on demand take scaled processing time on the server.
    let sim = Sim::start(&["--time-scale", "0.05"]);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("events.csv");
    let with_options = |row: &str| {
        format!(
            "{},\"{{\"\"dpo_spectralDataDownsample\"\": 2}}\"\n",
            row.trim_end()
        )
    };
    std::fs::write(
        &csv,
        format!(
            "deviceCode,timestamp,label,data_product_options\n{}{}{}{}",
            with_options(ROW1),
            with_options(ROW2),
            with_options(ROW3),
            with_options(ROW4)
        ),
    )
    .unwrap();
    let mut w = Watch::spawn(&sim, [&csv], false);
    w.until("requested");
    let code = terminate(&mut w, Duration::from_secs(30));
    assert_eq!(code, Some(130), "{:?}", w.seen);
    w.read_to_end();
    assert!(
        w.seen.iter().any(|l| l.contains("interrupted")),
        "{:?}",
        w.seen
    );
    assert!(
        !w.seen.iter().any(|l| l.contains("up to date")),
        "{:?}",
        w.seen
    );
}
