//! `hydrofetch run`: execute a plan against ONC (or the built-in simulator) and report.
//!
//! The network options ([`NetArgs`]) and lockfile options ([`StateArgs`]) are shared by `run`,
//! `watch` and the shortcuts. The work itself is [`crate::ops::run`]'s: this file maps flags to
//! its options and its summary to an exit code; [`CliReporter`] prints. Ctrl-C or SIGTERM
//! cancels the operation's token (it stops submitting, cancels ONC jobs in flight, saves the
//! lockfile, and the command exits 130); a second Ctrl-C exits at once.

use super::Outcome;
use super::error::UsageError;
use super::progress::{CliReporter, Verbosity};
use crate::exec::{ExecConfig, ExecEvent, Reporter};
use crate::ops::{self, Endpoint, Manifests, NetOptions, NoToken, OpsError, StateOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The environment variable naming the embedded simulator's product-request rule for
/// `--simulate` (`overlap` or `start`, as `hydrofetch sim --product-window`).
const SIM_PRODUCT_WINDOW_ENV: &str = "HYDROFETCH_SIM_PRODUCT_WINDOW";

/// How to reach ONC and how hard to push.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct NetArgs {
    /// ONC API token (else `ONC_TOKEN`, else .env).
    #[arg(long, hide_env_values = true)]
    token: Option<String>,
    /// ONC API root.
    #[arg(long, env = "ONC_URL", default_value = crate::onc::client::ONC_PRODUCTION_URL)]
    onc_url: String,
    /// Run against the built-in simulator on a free loopback port (no token needed).
    #[arg(long)]
    simulate: bool,
    /// ONC product requests in flight at once.
    #[arg(long, default_value_t = 8)]
    max_requests: usize,
    /// File transfers at once.
    #[arg(long, default_value_t = 8)]
    max_downloads: usize,
    /// Shortest wait between two polls of a request, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    poll_min_ms: u64,
    /// Longest wait between two polls of a request that has no ONC estimate of its processing
    /// time, in milliseconds (with an estimate, polls follow it: first at 90 % of it, then
    /// every 5 %).
    #[arg(long, default_value_t = 10_000)]
    poll_max_ms: u64,
}

/// How to show progress and results.
#[derive(Debug, Clone, Copy, clap::Args)]
pub(crate) struct OutputArgs {
    /// Print a machine-readable summary at the end.
    #[arg(long)]
    json: bool,
    /// Only errors.
    #[arg(long, short, conflicts_with = "verbose")]
    quiet: bool,
    /// One line per event; -v also shows debug logs (retries and their causes), -vv traces.
    #[arg(long, short, action = clap::ArgAction::Count)]
    verbose: u8,
}

impl OutputArgs {
    /// Whether JSON output was asked for.
    pub(crate) fn json(self) -> bool {
        self.json
    }

    /// How many times `-v` was given.
    pub(crate) fn verbose(self) -> u8 {
        self.verbose
    }

    /// The reporter these flags ask for: bars or lines, notices unless `--quiet`, summaries
    /// as lines or (with `--json`) collected for the end.
    pub(crate) fn reporter(self) -> CliReporter {
        CliReporter::new(self.verbosity())
            .with_notices(!self.quiet)
            .with_summaries(self.json, self.quiet)
    }

    fn verbosity(self) -> Verbosity {
        if self.quiet || self.json {
            Verbosity::Quiet
        } else if self.verbose > 0 {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        }
    }
}

/// Which lockfile, and what to do when another process holds it.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct StateArgs {
    /// Use this lockfile instead of the manifest's own `NAME.lock` (one manifest only).
    #[arg(long)]
    lockfile: Option<PathBuf>,
    /// Fail at once, instead of waiting, when another hydrofetch works on the same lockfile.
    #[arg(long)]
    no_wait: bool,
    /// Try again the items the lockfile records as having no data (outside a deployment, or
    /// not archived when last asked).
    #[arg(long)]
    retry_no_data: bool,
}

impl StateArgs {
    /// The library's state options.
    pub(crate) fn options(&self) -> StateOptions {
        StateOptions {
            lockfile: self.lockfile.clone(),
            no_wait: self.no_wait,
            retry_no_data: self.retry_no_data,
        }
    }
}

impl NetArgs {
    /// The library's network options: the token is looked up now (flag, environment, `.env`),
    /// and missing only matters when something must be fetched.
    pub(crate) fn options(&self) -> NetOptions {
        let endpoint = if self.simulate {
            Endpoint::Simulate {
                product_window: std::env::var(SIM_PRODUCT_WINDOW_ENV).ok(),
            }
        } else {
            Endpoint::Onc {
                url: self.onc_url.clone(),
                token: super::token::resolve(self.token.as_deref())
                    .map_err(|e| NoToken(e.to_string())),
            }
        };
        NetOptions {
            endpoint,
            exec: ExecConfig {
                max_requests: self.max_requests.max(1),
                max_downloads: self.max_downloads.max(1),
                poll_min: Duration::from_millis(self.poll_min_ms),
                poll_max: Duration::from_millis(self.poll_max_ms.max(self.poll_min_ms)),
                ..ExecConfig::default()
            },
        }
    }
}

/// Arguments of `hydrofetch run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Manifest files (TOML, YAML, JSON or CSV).
    #[arg(required = true)]
    manifests: Vec<PathBuf>,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    state: StateArgs,
    #[command(flatten)]
    pub(super) out: OutputArgs,
    #[command(flatten)]
    limits: super::plan::LimitArgs,
    /// Refuse the run, before any request is made, when the estimate of the bytes still to
    /// download is larger than SIZE (bytes, or with a unit: `500MB`, `2GiB`). The estimate is
    /// `hydrofetch plan`'s, from typical file sizes. A refused run exits 2, as a plan over
    /// `--max-items` does: nothing ran, and the fix is in the command or the manifest.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_bytes: Option<u64>,
}

fn parse_size(text: &str) -> Result<u64, String> {
    crate::plan::estimate::parse_size(text)
}

/// `hydrofetch run`.
pub(crate) fn exec(args: RunArgs) -> anyhow::Result<Outcome> {
    run_manifests_with(
        Manifests::Files(args.manifests),
        &args.net,
        args.out,
        &args.state,
        args.limits,
        args.max_bytes,
    )
}

/// Plans each manifest alone (each has its own lockfile), then runs them one after another.
pub(crate) fn run_manifests(
    manifests: Manifests,
    net: &NetArgs,
    out: OutputArgs,
    state: &StateArgs,
    limits: super::plan::LimitArgs,
) -> anyhow::Result<Outcome> {
    run_manifests_with(manifests, net, out, state, limits, None)
}

/// [`run_manifests`] with a limit on the estimated download.
fn run_manifests_with(
    manifests: Manifests,
    net: &NetArgs,
    out: OutputArgs,
    state: &StateArgs,
    limits: super::plan::LimitArgs,
    max_bytes: Option<u64>,
) -> anyhow::Result<Outcome> {
    let options = ops::RunOptions {
        manifests,
        data_dir: None,
        state: state.options(),
        limits: limits.limits(),
        net: net.options(),
        max_bytes,
    };
    let reporter = Arc::new(out.reporter());
    let r = Arc::clone(&reporter);
    let result = with_runtime(&reporter, |cancel| ops::run(options, r, cancel))?;
    reporter.print_json();
    match result {
        Ok(summary) => Ok(run_outcome(summary.interrupted, summary.failed > 0)),
        Err(e) => fail(e),
    }
}

/// The exit status of runs.
pub(crate) fn run_outcome(interrupted: bool, failed: bool) -> Outcome {
    if interrupted {
        Outcome::Interrupted
    } else if failed {
        Outcome::ItemsFailed
    } else {
        Outcome::Success
    }
}

/// Turns an operation's error into the command's result: bad input is printed and gives
/// [`Outcome::BadInput`]; usage errors exit 2, the rest 1 (see `error.rs`).
pub(crate) fn fail(e: OpsError) -> anyhow::Result<Outcome> {
    match e {
        OpsError::Input(e) => {
            super::plan::print_input_error(&e);
            Ok(Outcome::BadInput)
        }
        OpsError::Usage(m) => Err(UsageError::new(m).into()),
        e @ OpsError::OverBudget { .. } => Err(UsageError::new(e.to_string()).into()),
        OpsError::Dataset(e) => Err(e.into()),
        OpsError::Onc(e) => Err(e.into()),
        #[cfg(feature = "sim")]
        OpsError::Sim(e) => Err(e.into()),
        OpsError::Watch(e) => Err(e.into()),
        OpsError::Task(e) => Err(e.into()),
    }
}

/// Runs an operation on a fresh runtime, with the signal watcher cancelling its token, and
/// does not let stray connections (or a guard wait given up on Ctrl-C) hold the exit.
pub(crate) fn with_runtime<F, Fut>(
    reporter: &Arc<CliReporter>,
    op: F,
) -> anyhow::Result<Fut::Output>
where
    F: FnOnce(CancellationToken) -> Fut,
    Fut: std::future::Future,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let cancel = CancellationToken::new();
    let out = runtime.block_on(async {
        let _signals = AbortOnDrop(watch_signals(
            cancel.clone(),
            Arc::clone(reporter) as Arc<dyn Reporter>,
        ));
        op(cancel).await
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
    Ok(out)
}

/// Aborts a task when dropped (the signal watcher of one command).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// First Ctrl-C or SIGTERM: cancel gracefully. Second Ctrl-C: exit at once.
fn watch_signals(
    cancel: CancellationToken,
    reporter: Arc<dyn Reporter>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let term = async {
            #[cfg(unix)]
            if let Ok(mut s) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                s.recv().await;
                return;
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            r = tokio::signal::ctrl_c() => if r.is_err() { return },
            () = term => {}
        }
        reporter.event(&ExecEvent::Interrupted);
        cancel.cancel();
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    })
}
