//! Shared helpers for end-to-end tests: a simulator subprocess on 127.0.0.1, the CLI, and
//! file checks. Every wait is bounded and waits on something observable.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The test token the simulator is started with.
pub const TOKEN: &str = "0000aaaa-test-token-1111bbbb";

/// A `hydrofetch sim` process, killed on drop.
pub struct Sim {
    child: Child,
    pub url: String,
}

/// The environment variable choosing the product-request rule of every test simulator
/// (`overlap`, the default, or `start`); scripts/test.sh runs the end-to-end modules under both.
pub const PRODUCT_WINDOW_ENV: &str = "HYDROFETCH_TEST_PRODUCT_WINDOW";

/// `--product-window RULE` from [`PRODUCT_WINDOW_ENV`], unless `extra` sets one itself.
fn product_window(extra: &[&str]) -> Vec<String> {
    match std::env::var(PRODUCT_WINDOW_ENV) {
        Ok(rule) if !rule.is_empty() && !extra.contains(&"--product-window") => {
            vec!["--product-window".into(), rule]
        }
        _ => Vec::new(),
    }
}

impl Sim {
    /// Starts `hydrofetch sim --port 0 --token TOKEN <extra>` and reads its address. Generated
    /// files are cached on disk across tests and runs ([`sim_cache_dir`]).
    pub fn start(extra: &[&str]) -> Self {
        let cache = sim_cache_dir();
        let mut child = Command::new(env!("CARGO_BIN_EXE_hydrofetch"))
            .args([
                "sim",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--token",
                TOKEN,
            ])
            .arg("--cache-dir")
            .arg(&cache)
            .args(product_window(extra))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the simulator");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, url }
    }

    /// The simulator's request log (`sim/log`).
    pub fn log(&self) -> serde_json::Value {
        let url = format!("{}sim/log", self.url);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let body = rt
            .block_on(async { reqwest::get(url).await?.text().await })
            .expect("sim/log");
        serde_json::from_str(&body).expect("sim/log is JSON")
    }

    /// API requests in the log whose path ends with `suffix`.
    pub fn count(&self, suffix: &str) -> usize {
        requests(&self.log())
            .iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
            .count()
    }

    /// Number of API requests (not `sim/*`) in the log.
    pub fn api_requests(&self) -> usize {
        requests(&self.log())
            .iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.contains("/api/")))
            .count()
    }
}

/// The simulator's disk cache for tests: generated files are a pure function of the generator's
/// code and the data seed, so tests share them across runs (`target/tmp/sim-cache-<hash>`);
/// the folder's name hashes the generator's sources (the `onc-sim` crate, and `formats` and
/// `time.rs` of `onc-core`), so a change to them starts a fresh cache.
pub fn sim_cache_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for d in ["crates/onc-sim/src", "crates/onc-core/src/formats"] {
            // A moved folder would silently drop out of the key and leave a stale cache.
            assert!(root.join(d).is_dir(), "sim_cache_dir: {d} is gone");
            collect_rs(root, Path::new(d), &mut files);
        }
        files.push(PathBuf::from("crates/onc-core/src/time.rs"));
        files.sort();
        let mut h = Sha256::new();
        for f in &files {
            // The relative path, so that checkouts at different places share the cache.
            h.update(f.to_string_lossy().as_bytes());
            let text = std::fs::read(root.join(f));
            h.update(text.unwrap_or_else(|e| panic!("sim_cache_dir: {}: {e}", f.display())));
        }
        let tag = hex::encode(h.finalize());
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sim-cache-{}", &tag[..16]))
    })
    .clone()
}

/// The `.rs` files under `root/dir`, as paths relative to `root`.
fn collect_rs(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
        return;
    };
    for e in rd.flatten() {
        let rel = dir.join(e.file_name());
        if e.path().is_dir() {
            collect_rs(root, &rel, out);
        } else if rel.extension().is_some_and(|x| x == "rs") {
            out.push(rel);
        }
    }
}

/// The list of requests in a `sim/log` answer (a list, or an object with `requests`).
pub fn requests(log: &serde_json::Value) -> Vec<serde_json::Value> {
    log.as_array()
        .cloned()
        .or_else(|| log["requests"].as_array().cloned())
        .unwrap_or_default()
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The CLI, pointed at a simulator.
pub fn hf(sim: &Sim) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hydrofetch"));
    c.env("ONC_URL", &sim.url)
        .env("ONC_TOKEN", TOKEN)
        .env_remove("HYDROFETCH_LOG");
    c
}

/// Fast polling flags for runs against a simulator.
pub const FAST: &[&str] = &["--poll-min-ms", "5", "--poll-max-ms", "200"];

/// Runs a command, returning (exit code, stdout, stderr).
pub fn output(mut c: Command) -> (i32, String, String) {
    let o = c.output().expect("run hydrofetch");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// What changes when a file is written again: its inode (an atomic rewrite replaces it) and
/// its modification time.
pub fn written_identity(path: &Path) -> (u64, i64) {
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(path).expect("stat");
    (m.ino(), m.mtime_nsec())
}

/// SHA-256 of a file, hex.
pub fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("read file")))
}

/// Files under `dir` with extension `ext`, sorted.
pub fn files_with(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_with(&p, ext));
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Waits until `cond` holds, up to `limit`; panics with `what` otherwise.
pub fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Checks every file of a lockfile against the disk; returns the number of files.
pub fn check_lock(lock: &Path, data_dir: &Path) -> usize {
    let text = std::fs::read_to_string(lock).expect("lockfile");
    let v: toml::Value = toml::from_str(&text).expect("lockfile is TOML");
    let mut n = 0;
    for item in v["item"].as_array().expect("items") {
        for f in item
            .get("files")
            .and_then(|f| f.as_array())
            .cloned()
            .unwrap_or_default()
        {
            let path = data_dir.join(f["path"].as_str().expect("path"));
            assert_eq!(
                sha256(&path),
                f["sha256"].as_str().expect("sha"),
                "{}",
                path.display()
            );
            assert_eq!(
                std::fs::metadata(&path).expect("meta").len(),
                f["size"].as_integer().expect("size") as u64
            );
            n += 1;
        }
    }
    n
}

/// The lockfile of a manifest: `<manifest file name>.lock` beside it (for example
/// `range.toml` → `range.toml.lock`); falls back to the old shared `hydrofetch.lock` in the
/// same folder while that naming is still in use.
pub fn lock_of(manifest: &Path) -> PathBuf {
    let name = manifest
        .file_name()
        .expect("manifest file name")
        .to_string_lossy()
        .into_owned();
    let own = manifest.with_file_name(format!("{name}.lock"));
    if own.exists() {
        return own;
    }
    let shared = manifest.with_file_name("hydrofetch.lock");
    if shared.exists() { shared } else { own }
}

/// Writes `text` as `manifest.toml` in `dir` and returns its path.
pub fn write_manifest(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("manifest.toml");
    std::fs::write(&p, text).expect("write the manifest");
    p
}

/// `hydrofetch run MANIFEST --json` with fast polling and `extra` flags: (exit code, the JSON
/// summary, stderr).
pub fn run_json(sim: &Sim, manifest: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut c = hf(sim);
    c.arg("run")
        .arg(manifest)
        .arg("--json")
        .args(FAST)
        .args(extra);
    let (code, out, err) = output(c);
    let v = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("--json output ({e}): {out}\nstderr: {err}"));
    (code, v, err)
}
