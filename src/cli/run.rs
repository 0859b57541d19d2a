//! `hydrofetch run`: execute a plan against ONC (or the built-in simulator) and report.
//!
//! The network options ([`NetArgs`]) are shared by `run`, `watch` and the shortcuts. Ctrl-C or
//! SIGTERM stops submitting, cancels ONC jobs in flight, saves the lockfile and exits 130; a
//! second Ctrl-C exits at once.

use super::Outcome;
use super::progress::{CliReporter, Verbosity};
use crate::exec::{ExecConfig, ExecEvent, ExecOutcome, Job, Reporter, RunPaths};
use crate::lock::Lockfile;
use crate::manifest::Manifest;
use crate::onc::{Client, Token};
use std::path::{Path, PathBuf};
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

/// Arguments of `hydrofetch run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Manifest files (TOML, YAML, JSON or CSV).
    #[arg(required = true)]
    manifests: Vec<PathBuf>,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    out: OutputArgs,
}

/// `hydrofetch run`.
pub(crate) fn exec(args: RunArgs) -> anyhow::Result<Outcome> {
    let Some(manifests) = super::plan::load_all(&args.manifests) else {
        return Ok(Outcome::BadInput);
    };
    run_manifests(&manifests, &args.net, args.out)
}

/// Plans `manifests`, diffs against the lockfile and executes what is left.
pub(crate) fn run_manifests(
    manifests: &[Manifest],
    net: &NetArgs,
    out: OutputArgs,
) -> anyhow::Result<Outcome> {
    let Some(plan) = super::plan::build_or_report(manifests) else {
        return Ok(Outcome::BadInput);
    };
    execute(prepare(manifests, plan)?, net, out)
}

/// Diffs a plan against its lockfile: what is left to do, and where things go.
pub(crate) fn prepare(manifests: &[Manifest], plan: crate::plan::Plan) -> anyhow::Result<Prepared> {
    let data_dir = plan.context.data_dir.clone();
    let lock_path = lock_path(manifests, &data_dir);
    let lock = Lockfile::load(&lock_path)?;
    let pending = crate::exec::pending(&plan, &lock, &data_dir);
    let journal = lock_path.with_file_name(crate::exec::STATE_FILE_NAME);
    Ok(Prepared {
        plan_hash: plan.hash.clone(),
        plan,
        total_items: pending.total,
        done_before: pending.done_before,
        job: pending.job,
        paths: RunPaths {
            data_dir,
            lock: lock_path,
            journal,
        },
        lock,
    })
}

/// `hydrofetch.lock` beside the first manifest file, or in `data_dir` when the manifest came
/// from the command line.
pub(crate) fn lock_path(manifests: &[Manifest], data_dir: &Path) -> PathBuf {
    let beside = manifests
        .first()
        .and_then(|m| m.sources.first())
        .map(|p| p.parent().map(Path::to_path_buf).unwrap_or_default());
    let dir = match beside {
        Some(d) if d.as_os_str().is_empty() => PathBuf::from("."),
        Some(d) => d,
        None => data_dir.to_path_buf(),
    };
    dir.join(crate::lock::LOCK_FILE_NAME)
}

/// Aborts a task when dropped (the signal watcher of one run).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What `run` needs once a plan exists.
pub(crate) struct Prepared {
    pub(crate) plan: crate::plan::Plan,
    pub(crate) plan_hash: String,
    pub(crate) total_items: usize,
    pub(crate) done_before: usize,
    pub(crate) job: Job,
    pub(crate) paths: RunPaths,
    pub(crate) lock: Lockfile,
}

/// The `--json` summary.
#[derive(Debug, serde::Serialize)]
struct Summary<'a> {
    plan_hash: &'a str,
    items: ItemCounts,
    onc_requests: u64,
    http_requests: u64,
    bytes: u64,
    wall_seconds: f64,
    failures: &'a [crate::exec::Failure],
    interrupted: bool,
    /// Items left for the next run (interrupted runs).
    remaining: usize,
}

#[derive(Debug, serde::Serialize)]
struct ItemCounts {
    total: usize,
    done_before: usize,
    fetched: usize,
    no_data: usize,
    failed: usize,
}

/// Runs a prepared plan: connects (or starts the simulator), executes, prints the summary.
pub(crate) fn execute(
    prepared: Prepared,
    net: &NetArgs,
    out: OutputArgs,
) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(execute_prepared(prepared, net, out));
    // Stray connections must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    result
}

/// Runs a prepared plan inside a runtime (used by `run` and, repeatedly, by `watch`).
pub(crate) async fn execute_prepared(
    prepared: Prepared,
    net: &NetArgs,
    out: OutputArgs,
) -> anyhow::Result<Outcome> {
    let reporter = Arc::new(CliReporter::new(out.verbosity()));
    let result = execute_async(prepared, net, out, Arc::clone(&reporter), Instant::now()).await;
    reporter.finish();
    result
}

async fn execute_async(
    prepared: Prepared,
    net: &NetArgs,
    out: OutputArgs,
    reporter: Arc<CliReporter>,
    started: Instant,
) -> anyhow::Result<Outcome> {
    let Prepared {
        plan,
        plan_hash,
        total_items,
        done_before,
        job,
        paths,
        mut lock,
    } = prepared;
    reporter.event(&ExecEvent::Started {
        total: total_items,
        done_before,
        requests: job.spectrograms.len(),
        listings: job.audio.len(),
    });
    let config = ExecConfig {
        max_requests: net.max_requests.max(1),
        max_downloads: net.max_downloads.max(1),
        poll_min: Duration::from_millis(net.poll_min_ms),
        poll_max: Duration::from_millis(net.poll_max_ms.max(net.poll_min_ms)),
        ..ExecConfig::default()
    };
    let (outcome, http_requests, bytes) = if job.item_count() == 0 {
        // Everything is locked and present: no network at all.
        (ExecOutcome::default(), 0, 0)
    } else {
        let needs_network = !job.spectrograms.is_empty() || !job.audio.is_empty();
        let (client, _sim) = if needs_network {
            connect(net).await?
        } else {
            // Only clips of sources already on disk: no request will be made, so no token is
            // needed; the client is never called.
            let unused = Token::new("unused").ok_or_else(|| anyhow::anyhow!("token"))?;
            (Client::new("http://127.0.0.1:9/", unused)?, None)
        };
        let cancel = CancellationToken::new();
        let signals = watch_signals(cancel.clone(), Arc::clone(&reporter) as Arc<dyn Reporter>);
        let _stop_watching = AbortOnDrop(signals);
        let outcome = crate::exec::execute(
            client.clone(),
            job,
            &paths,
            &mut lock,
            config,
            reporter.clone(),
            cancel,
        )
        .await?;
        let stats = client.stats();
        (
            outcome,
            stats
                .http_requests
                .load(std::sync::atomic::Ordering::Relaxed),
            stats.bytes.load(std::sync::atomic::Ordering::Relaxed),
        )
    };
    reporter.finish();
    if outcome.fetched + outcome.no_data > 0 || !paths.data_dir.join("index.json").exists() {
        let mut rows = crate::index::rows(&plan, &lock);
        if !rows.is_empty() || paths.data_dir.exists() {
            crate::index::write_index(&paths.data_dir, &mut rows)?;
        }
    }
    let summary = Summary {
        plan_hash: &plan_hash,
        items: ItemCounts {
            total: total_items,
            done_before,
            fetched: outcome.fetched,
            no_data: outcome.no_data,
            failed: outcome.failures.len(),
        },
        onc_requests: outcome.onc_requests,
        http_requests,
        bytes,
        wall_seconds: started.elapsed().as_secs_f64(),
        failures: &outcome.failures,
        interrupted: outcome.interrupted,
        remaining: outcome.remaining,
    };
    print_summary(&summary, out, &paths);
    Ok(if outcome.interrupted {
        Outcome::Interrupted
    } else if outcome.failures.is_empty() {
        Outcome::Success
    } else {
        Outcome::ItemsFailed
    })
}

#[expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the CLI prints the run summary"
)]
fn print_summary(s: &Summary<'_>, out: OutputArgs, paths: &RunPaths) {
    if s.interrupted {
        eprintln!(
            "interrupted: {} items remain (run again to continue)",
            s.remaining
        );
    }
    if out.json {
        if let Ok(text) = serde_json::to_string_pretty(s) {
            println!("{text}");
        }
        return;
    }
    if out.quiet && s.failures.is_empty() {
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
    for f in s.failures {
        eprintln!("  failed {}: {}", &f.item[..f.item.len().min(12)], f.error);
    }
    if i.fetched + i.no_data > 0 {
        eprintln!("lockfile: {}", paths.lock.display());
    }
}

/// The client to use, and the in-process simulator behind it with `--simulate`.
async fn connect(net: &NetArgs) -> anyhow::Result<(Client, Option<crate::sim::SimHandle>)> {
    if net.simulate {
        // The embedded simulator: ONC's processing times scaled down 50× so a first run
        // takes seconds, not minutes, while still queueing like ONC.
        let cfg = crate::sim::SimConfig {
            time_scale: 0.02,
            capacity: 4,
            ..crate::sim::SimConfig::default()
        };
        let sim = crate::sim::spawn(cfg).await?;
        let token =
            Token::new(crate::sim::DEMO_TOKEN).ok_or_else(|| anyhow::anyhow!("bad demo token"))?;
        let client = Client::new(&sim.base_url, token)?;
        return Ok((client, Some(sim)));
    }
    let token: Token = super::token::resolve(net.token.as_deref())?;
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
