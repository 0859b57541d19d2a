//! `hydrofetch run`: execute a plan against ONC (or the built-in simulator) and report.
//!
//! The network options ([`NetArgs`]) and lockfile options ([`StateArgs`]) are shared by `run`,
//! `watch` and the shortcuts. The work itself is [`crate::dataset`]'s: this file maps flags to
//! its options and its reports to lines, JSON and exit codes. Ctrl-C or SIGTERM stops
//! submitting, cancels ONC jobs in flight, saves the lockfile and exits 130; a second Ctrl-C
//! exits at once.

use super::Outcome;
use super::error::UsageError;
use super::progress::{CliReporter, Verbosity};
use crate::dataset::guard::Wait;
use crate::dataset::{OpenOptions, StatePaths};
use crate::exec::{ExecConfig, ExecEvent, Reporter};
use crate::manifest::Manifest;
use crate::onc::{Client, Token};
use crate::plan::Plan;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How to reach ONC and how hard to push.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct NetArgs {
    /// ONC API token (else ONC_TOKEN, else .env).
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
    /// Longest wait between two polls of a request, in milliseconds.
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
    /// One line per event.
    #[arg(long, short)]
    verbose: bool,
}

impl OutputArgs {
    /// Whether JSON output was asked for.
    pub(crate) fn json(self) -> bool {
        self.json
    }

    fn verbosity(self) -> Verbosity {
        if self.quiet || self.json {
            Verbosity::Quiet
        } else if self.verbose {
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
}

impl StateArgs {
    /// The library's options for opening a manifest's state.
    pub(crate) fn open_options(&self) -> OpenOptions {
        OpenOptions {
            lockfile: self.lockfile.clone(),
            wait: if self.no_wait {
                Wait::NoWait
            } else {
                Wait::Block
            },
        }
    }

    /// Refuses `--lockfile` with several manifests.
    pub(crate) fn check(&self, manifests: usize) -> anyhow::Result<()> {
        if self.lockfile.is_some() && manifests > 1 {
            return Err(UsageError::new(
                "--lockfile names one lockfile: give it with one manifest at a time",
            )
            .into());
        }
        Ok(())
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
    out: OutputArgs,
    #[command(flatten)]
    limits: super::plan::LimitArgs,
}

/// `hydrofetch run`.
pub(crate) fn exec(args: RunArgs) -> anyhow::Result<Outcome> {
    let Some(manifests) = super::plan::load_all(&args.manifests) else {
        return Ok(Outcome::BadInput);
    };
    run_manifests(&manifests, &args.net, args.out, &args.state, args.limits)
}

/// Plans each manifest alone (each has its own lockfile), then runs them one after another.
pub(crate) fn run_manifests(
    manifests: &[Manifest],
    net: &NetArgs,
    out: OutputArgs,
    state: &StateArgs,
    limits: super::plan::LimitArgs,
) -> anyhow::Result<Outcome> {
    state.check(manifests.len())?;
    let mut plans = Vec::with_capacity(manifests.len());
    for m in manifests {
        let Some(plan) = super::plan::build_within(std::slice::from_ref(m), limits) else {
            return Ok(Outcome::BadInput);
        };
        plans.push(plan);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let mut ctx = RunCtx::new(net.clone(), out, state.clone());
        let r = ctx.run_all(manifests, plans).await;
        ctx.finish();
        r
    });
    // Stray connections (and a guard wait given up on Ctrl-C) must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    result
}

/// What consecutive runs of one command share: the connection (one embedded simulator for
/// all), the reporter, the signal watcher.
pub(crate) struct RunCtx {
    net: NetArgs,
    out: OutputArgs,
    state: StateArgs,
    reporter: Arc<CliReporter>,
    cancel: CancellationToken,
    client: Option<Client>,
    _sim: Option<super::simulate::Embedded>,
    _signals: Option<AbortOnDrop>,
    summaries: Vec<serde_json::Value>,
}

impl RunCtx {
    pub(crate) fn new(net: NetArgs, out: OutputArgs, state: StateArgs) -> Self {
        Self {
            net,
            out,
            state,
            reporter: Arc::new(CliReporter::new(out.verbosity()).with_notices(!out.quiet)),
            cancel: CancellationToken::new(),
            client: None,
            _sim: None,
            _signals: None,
            summaries: Vec::new(),
        }
    }

    /// The cancellation token that Ctrl-C and SIGTERM trigger (watching starts on first use).
    pub(crate) fn cancel(&mut self) -> CancellationToken {
        if self._signals.is_none() {
            self._signals = Some(AbortOnDrop(watch_signals(
                self.cancel.clone(),
                Arc::clone(&self.reporter) as Arc<dyn Reporter>,
            )));
        }
        self.cancel.clone()
    }

    async fn run_all(
        &mut self,
        manifests: &[Manifest],
        plans: Vec<Plan>,
    ) -> anyhow::Result<Outcome> {
        let mut worst = Outcome::Success;
        for (m, plan) in manifests.iter().zip(plans) {
            let o = self.run_one(m, plan).await?;
            worst = worst.max(o);
            if o == Outcome::Interrupted {
                break;
            }
        }
        Ok(worst)
    }

    /// Runs one manifest's plan: open its state, execute what is pending, print its summary.
    pub(crate) async fn run_one(
        &mut self,
        manifest: &Manifest,
        plan: Plan,
    ) -> anyhow::Result<Outcome> {
        let started = Instant::now();
        let cancel = self.cancel();
        let reporter = Arc::clone(&self.reporter) as Arc<dyn Reporter>;
        let options = self.state.open_options();
        // Waiting for another process's guard blocks: do it off the runtime, and give up on
        // Ctrl-C.
        let paths = StatePaths::for_manifest(manifest, options.lockfile.as_deref());
        let held = {
            let paths = paths.clone();
            let reporter = Arc::clone(&reporter);
            let wait = options.wait;
            let task = tokio::task::spawn_blocking(move || {
                crate::dataset::take_guard(&paths, wait, reporter.as_ref())
            });
            tokio::select! {
                r = task => r??,
                () = cancel.cancelled() => return Ok(Outcome::Interrupted),
            }
        };
        let mut session =
            crate::dataset::open_held(paths, held, &plan, &options, reporter.as_ref())?;
        let pending = crate::dataset::pending(&session, &plan);
        let client = if crate::dataset::needs_network(&pending.job) {
            Some(self.client().await?)
        } else {
            None
        };
        let config = self.exec_config();
        let report = crate::dataset::execute(
            &mut session,
            &plan,
            pending,
            client,
            config,
            Arc::clone(&reporter),
            cancel.clone(),
        )
        .await?;
        self.reporter.finish();
        let outcome = if report.outcome.interrupted || cancel.is_cancelled() {
            Outcome::Interrupted
        } else if report.outcome.failures.is_empty() {
            Outcome::Success
        } else {
            Outcome::ItemsFailed
        };
        let summary = Summary {
            manifest: manifest
                .sources
                .first()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            lockfile: session.paths.lock.display().to_string(),
            plan_hash: &plan.hash,
            items: ItemCounts {
                total: report.total,
                done_before: report.done_before,
                fetched: report.outcome.fetched,
                no_data: report.outcome.no_data,
                failed: report.outcome.failures.len(),
            },
            onc_requests: report.outcome.onc_requests,
            http_requests: report.http_requests,
            bytes: report.bytes,
            wall_seconds: started.elapsed().as_secs_f64(),
            interrupted: outcome == Outcome::Interrupted,
            remaining: report.outcome.remaining,
            index_rows: report.index_rows,
            failures: &report.outcome.failures,
        };
        print_summary(&summary, self.out);
        if self.out.json
            && let Ok(v) = serde_json::to_value(&summary)
        {
            self.summaries.push(v);
        }
        Ok(outcome)
    }

    /// Prints the `--json` summaries: one object for one manifest, an array for several.
    #[expect(clippy::print_stdout, reason = "the CLI prints the run summary")]
    pub(crate) fn finish(&mut self) {
        self.reporter.finish();
        if !self.out.json {
            return;
        }
        let v = match self.summaries.len() {
            0 => return,
            1 => self.summaries.remove(0),
            _ => serde_json::Value::Array(std::mem::take(&mut self.summaries)),
        };
        if let Ok(text) = serde_json::to_string_pretty(&v) {
            println!("{text}");
        }
        self.summaries.clear();
    }

    fn exec_config(&self) -> ExecConfig {
        ExecConfig {
            max_requests: self.net.max_requests.max(1),
            max_downloads: self.net.max_downloads.max(1),
            poll_min: Duration::from_millis(self.net.poll_min_ms),
            poll_max: Duration::from_millis(self.net.poll_max_ms.max(self.net.poll_min_ms)),
            ..ExecConfig::default()
        }
    }

    /// The client, connecting (or starting the simulator) on first use.
    async fn client(&mut self) -> anyhow::Result<Client> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let (client, sim) = connect(&self.net).await?;
        self.client = Some(client.clone());
        self._sim = sim;
        Ok(client)
    }
}

/// Aborts a task when dropped (the signal watcher of one command).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The `--json` summary of one manifest's run.
#[derive(Debug, serde::Serialize)]
struct Summary<'a> {
    manifest: String,
    lockfile: String,
    plan_hash: &'a str,
    items: ItemCounts,
    onc_requests: u64,
    http_requests: u64,
    bytes: u64,
    wall_seconds: f64,
    interrupted: bool,
    /// Items left for the next run (interrupted runs).
    remaining: usize,
    index_rows: usize,
    failures: &'a [crate::exec::Failure],
}

#[derive(Debug, serde::Serialize)]
struct ItemCounts {
    total: usize,
    done_before: usize,
    fetched: usize,
    no_data: usize,
    failed: usize,
}

#[expect(clippy::print_stderr, reason = "the CLI prints the run summary")]
fn print_summary(s: &Summary<'_>, out: OutputArgs) {
    if s.interrupted {
        eprintln!(
            "interrupted: {} items remain (run again to continue); finished items are in {}",
            s.remaining, s.lockfile
        );
    }
    if out.json || (out.quiet && s.failures.is_empty()) {
        return;
    }
    let i = &s.items;
    eprintln!(
        "{} items: {} already done, {} fetched, {} without data, {} failed; {} ONC requests, {} HTTP requests, {} in {:.1} s",
        i.total,
        i.done_before,
        i.fetched,
        i.no_data,
        i.failed,
        s.onc_requests,
        s.http_requests,
        indicatif::HumanBytes(s.bytes),
        s.wall_seconds
    );
    let shown = super::progress::MAX_FAILURE_LINES;
    for f in s.failures.iter().take(shown) {
        eprintln!("  failed {}: {}", &f.item[..f.item.len().min(12)], f.error);
    }
    if s.failures.len() > shown {
        eprintln!(
            "  … and {} more failed items (--json lists them all)",
            s.failures.len() - shown
        );
    }
    if s.interrupted {
        eprintln!(
            "interrupted: finished items are in {}; run again to continue",
            s.lockfile
        );
    } else if i.fetched + i.no_data > 0 {
        eprintln!("lockfile: {}", s.lockfile);
    }
}

/// The client to use, and the in-process simulator behind it with `--simulate`.
async fn connect(net: &NetArgs) -> anyhow::Result<(Client, Option<super::simulate::Embedded>)> {
    if net.simulate {
        let (client, sim) = super::simulate::start().await?;
        return Ok((client, Some(sim)));
    }
    let token: Token =
        super::token::resolve(net.token.as_deref()).map_err(|e| UsageError::new(e.to_string()))?;
    Ok((Client::new(&net.onc_url, token)?, None))
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
