//! `hydrofetch watch MANIFEST… | DIR`: run, then re-plan and fetch only what changed whenever
//! a manifest or a request file it references changes. The work is [`crate::ops::watch`]'s;
//! this file maps flags to its options and its summary to an exit code. Ctrl-C or SIGTERM
//! during a run stops as `run` does; while idle it exits at once; either way with 130.

use super::Outcome;
use super::run::{NetArgs, OutputArgs, fail, run_outcome, with_runtime};
use crate::ops;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `hydrofetch watch`.
#[derive(Debug, clap::Args)]
pub(crate) struct WatchArgs {
    /// Manifest files, or folders whose manifest files to watch.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Quiet time before a change is acted on, in milliseconds.
    #[arg(long, default_value_t = 300)]
    debounce_ms: u64,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    pub(super) out: OutputArgs,
    #[command(flatten)]
    limits: super::plan::LimitArgs,
}

/// `hydrofetch watch`.
pub(crate) fn exec(args: WatchArgs) -> anyhow::Result<Outcome> {
    let options = ops::WatchOptions {
        paths: args.paths,
        debounce: Duration::from_millis(args.debounce_ms),
        limits: args.limits.limits(),
        net: args.net.options(),
    };
    let reporter = Arc::new(args.out.reporter());
    let r = Arc::clone(&reporter);
    let result = with_runtime(&reporter, |cancel| ops::watch(options, r, cancel))?;
    reporter.print_json();
    match result {
        Ok(s) => Ok(run_outcome(s.interrupted, s.last_failed)),
        Err(e) => fail(e),
    }
}
