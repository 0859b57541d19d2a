//! `Hf`: one `hydrofetch` invocation in its own temporary folder, in the spirit of just's
//! `Test` and ripgrep's `rgtest!`.
//!
//! ```ignore
//! let plan = Hf::new()
//!     .manifest("range.toml", RANGE)
//!     .args(["plan", "--json", "range.toml"])
//!     .stdout_json();
//! ```
//! The command runs with the temporary folder as its working directory, so relative paths in
//! arguments name files written with [`Hf::file`]/[`Hf::manifest`], and messages that name
//! those files read the same on every machine. The environment is cleared of `ONC_URL`,
//! `ONC_TOKEN` and `HYDROFETCH_LOG`: a test talks to a simulator only through [`Hf::sim`].
//! The exit code is checked by [`Hf::run`] (0 unless [`Hf::expect_exit`] says otherwise).

use crate::common::{FAST, Sim, TOKEN, lock_of};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use tempfile::TempDir;

/// Every example in `manifests/`, request files that other examples reference included.
pub(crate) const EXAMPLES: &[&str] = &[
    "audio.json",
    "audio.toml",
    "audio.yaml",
    "events.json",
    "events.toml",
    "events.yaml",
    "quickstart.toml",
    "range.json",
    "range.toml",
    "range.yaml",
    "requests-seed.csv",
    "requests-seed.json",
    "requests-seed.toml",
    "requests-seed.yaml",
    "requests.json",
    "requests.toml",
    "requests.yaml",
    "sample.json",
    "sample.toml",
    "sample.yaml",
];

/// A `hydrofetch` command being built; nothing runs until [`Hf::run`].
#[must_use = "an Hf does nothing until .run()"]
pub(crate) struct Hf {
    dir: TempDir,
    args: Vec<OsString>,
    env: Vec<(&'static str, String)>,
    expect: i32,
}

impl Hf {
    /// A command in a new, empty temporary folder.
    pub(crate) fn new() -> Self {
        Self::in_dir(tempfile::tempdir().expect("temporary folder"))
    }

    fn in_dir(dir: TempDir) -> Self {
        Self {
            dir,
            args: Vec::new(),
            env: Vec::new(),
            expect: 0,
        }
    }

    /// Writes `text` at `rel` inside the folder (parent folders created).
    pub(crate) fn file(self, rel: &str, text: &str) -> Self {
        let p = self.dir.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create the parent folder");
        }
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        self
    }

    /// Writes a manifest (or request file) named `name`; the same as [`Hf::file`], named for
    /// what the test means.
    pub(crate) fn manifest(self, name: &str, text: &str) -> Self {
        self.file(name, text)
    }

    /// Points the command at `sim`: its URL and the test token.
    pub(crate) fn sim(mut self, sim: &Sim) -> Self {
        self.env.push(("ONC_URL", sim.url.clone()));
        self.env.push(("ONC_TOKEN", TOKEN.to_owned()));
        self
    }

    /// Appends arguments.
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Appends the fast polling flags used against a simulator.
    pub(crate) fn fast(self) -> Self {
        self.args(FAST.iter().copied())
    }

    /// The exit code [`Hf::run`] asserts (0 by default).
    pub(crate) fn expect_exit(mut self, code: i32) -> Self {
        self.expect = code;
        self
    }

    /// Runs the command and checks its exit code, showing stdout and stderr when it differs.
    pub(crate) fn run(self) -> Ran {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hydrofetch"));
        c.current_dir(self.dir.path())
            .args(&self.args)
            .env_remove("ONC_URL")
            .env_remove("ONC_TOKEN")
            .env_remove("HYDROFETCH_LOG");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        let o = c.output().expect("start hydrofetch");
        let ran = Ran {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            env: self.env,
            dir: self.dir,
        };
        assert_eq!(
            ran.code, self.expect,
            "hydrofetch {:?}: exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.args, ran.stdout, ran.stderr
        );
        ran
    }

    /// Runs the command (see [`Hf::run`]) and parses its stdout as JSON.
    pub(crate) fn stdout_json(self) -> serde_json::Value {
        self.run().json()
    }
}

/// A finished command: its exit code, output, and the folder it ran in (kept until dropped).
#[must_use]
pub(crate) struct Ran {
    /// Exit code (-1: killed by a signal).
    pub(crate) code: i32,
    /// Standard output.
    pub(crate) stdout: String,
    /// Standard error.
    pub(crate) stderr: String,
    env: Vec<(&'static str, String)>,
    dir: TempDir,
}

impl Ran {
    /// Stdout parsed as JSON.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n--- stderr\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// A path inside the folder.
    pub(crate) fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The text of the lockfile of manifest `name` (see [`lock_of`]).
    pub(crate) fn lockfile(&self, name: &str) -> String {
        let p = lock_of(&self.join(name));
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
    }

    /// Another command in the same folder, with the same simulator.
    pub(crate) fn then(self) -> Hf {
        let mut next = Hf::in_dir(self.dir);
        next.env = self.env;
        next
    }
}

/// Insta settings that redact what varies between runs: temporary folders (`[TEMP]`) and
/// loopback ports (`127.0.0.1:[PORT]`).
pub(crate) fn redactions() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    let tmp = std::env::temp_dir();
    let tmp = tmp.to_string_lossy();
    let escaped: String = tmp
        .trim_end_matches('/')
        .chars()
        .flat_map(|c| {
            let esc = c.is_ascii_punctuation().then_some('\\');
            esc.into_iter().chain(std::iter::once(c))
        })
        .collect();
    settings.add_filter(&format!(r"{escaped}/\.tmp[A-Za-z0-9]+"), "[TEMP]");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings
}

/// Asserts a named insta snapshot of command output, with [`redactions`] applied.
macro_rules! hf_snapshot {
    ($name:expr, $value:expr $(,)?) => {{
        $crate::harness::redactions().bind(|| insta::assert_snapshot!($name, $value));
    }};
}
pub(crate) use hf_snapshot;
