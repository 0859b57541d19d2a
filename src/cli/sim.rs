//! `hydrofetch sim`: serve the offline ONC simulator until interrupted.
//!
//! The first stdout line is `listening on http://HOST:PORT/` (flushed), so scripts can read
//! the port when `--port 0` is used. Without `--token`, the demo token
//! [`crate::sim::DEMO_TOKEN`] is accepted (printed on the second line).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use super::Outcome;
use crate::sim::delivery::ProductWindow;
use crate::sim::faults::FaultSpec;
use crate::sim::{DEMO_TOKEN, SimConfig};

/// Arguments of `hydrofetch sim`.
#[derive(Debug, clap::Args)]
pub(crate) struct SimArgs {
    /// Address to bind (loopback only unless --allow-remote).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to bind (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Accepted token (repeatable). Without any, the demo token is accepted.
    #[arg(long = "token")]
    tokens: Vec<String>,
    /// Factor applied to ONC-like processing times (0.001: 25 s become 25 ms).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Data-product jobs running at once per token.
    #[arg(long, default_value_t = 2)]
    capacity: usize,
    /// Seed of fault draws (does not change the data).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Seed of the synthetic data (same data seed: same bytes).
    #[arg(long, default_value_t = 0)]
    data_seed: u64,
    /// Faults, e.g. `500=0.05,503=0.05,429=0.05,reset=0.02,truncate=0.02,slow=0.01,short_body=0.02,run_error=0.02,drop_first=0.1`.
    /// `echo_token=RATE` answers with error documents that repeat the token (hostile server).
    #[arg(long, default_value = "")]
    faults: FaultSpec,
    /// Disk cache of generated files.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Append every request as a JSON line to this file (token redacted).
    #[arg(long)]
    request_log: Option<PathBuf>,
    /// Seconds a complete run stays downloadable (default: 21 days × time scale).
    #[arg(long)]
    run_ttl: Option<f64>,
    /// Allow binding a non-loopback address.
    #[arg(long)]
    allow_remote: bool,
    /// Which source files a product request returns: `overlap` (files overlapping
    /// [dateFrom, dateTo), like archive listings) or `start` (files whose start lies in
    /// [dateFrom, dateTo], both ends included). ONC's rule is unconfirmed; hydrofetch works
    /// under both. `hydrofetch run --simulate` takes it from `HYDROFETCH_SIM_PRODUCT_WINDOW`.
    #[arg(long, default_value_t = ProductWindow::Overlap)]
    product_window: ProductWindow,
    /// Serve tiny valid placeholder products (a few hundred bytes) instead of synthetic
    /// data, to benchmark orchestration apart from data generation.
    #[arg(long)]
    tiny: bool,
}

pub(crate) fn exec(args: SimArgs) -> anyhow::Result<Outcome> {
    let ttl = args
        .run_ttl
        .unwrap_or(21.0 * 86_400.0 * args.time_scale)
        .max(0.0);
    let cfg = SimConfig {
        host: args.host,
        port: args.port,
        tokens: args.tokens,
        time_scale: args.time_scale,
        capacity: args.capacity,
        seed: args.seed,
        data_seed: args.data_seed,
        faults: args.faults,
        cache_dir: args.cache_dir,
        request_log: args.request_log,
        run_ttl: Duration::from_secs_f64(ttl),
        allow_remote: args.allow_remote,
        product_window: args.product_window,
        tiny: args.tiny,
        ..SimConfig::default()
    };
    let demo = cfg.tokens.is_empty();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let handle = crate::sim::spawn(cfg).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", handle.base_url)?;
        if demo {
            writeln!(out, "demo token: {DEMO_TOKEN}")?;
        }
        out.flush()?;
        drop(out);
        tokio::select! {
            r = tokio::signal::ctrl_c() => { r?; handle.shutdown().await; Ok(Outcome::Interrupted) }
        }
    })
}
