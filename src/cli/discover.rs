//! `hydrofetch devices`, `deployments` and `coverage`: what exists before anything is
//! fetched. The work is [`crate::ops::devices`], [`crate::ops::deployments`] and
//! [`crate::ops::coverage`]; this file maps flags and prints, as a table or (`--json`) as JSON.

use super::Outcome;
use super::run::NetArgs;
use crate::ops::{self, CoverageTarget, Manifests};
use crate::time::UtcInstant;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

/// Arguments of `hydrofetch devices`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  hydrofetch devices --search 6324 --category HYDROPHONE")]
pub(crate) struct DevicesArgs {
    /// Keep devices whose code or name contains this text (case-insensitive).
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// ONC device category.
    #[arg(long, default_value = "HYDROPHONE")]
    category: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    net: NetArgs,
}

/// Arguments of `hydrofetch deployments`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  hydrofetch deployments ICLISTENHF6324 --json")]
pub(crate) struct DeploymentsArgs {
    /// Device code.
    device: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    net: NetArgs,
}

/// Arguments of `hydrofetch coverage`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  hydrofetch coverage ICLISTENHF6324 --from 2024-04-02T02:00:00Z --to 2024-04-02T08:00:00Z\n  hydrofetch coverage range.toml"
)]
pub(crate) struct CoverageArgs {
    /// A manifest file, or a device code.
    target: String,
    /// Span start (UTC, e.g. 2024-04-01T12:00:00Z); a manifest's plan gives a default.
    #[arg(long)]
    from: Option<String>,
    /// Span end, exclusive.
    #[arg(long)]
    to: Option<String>,
    /// Archive file extension to look for.
    #[arg(long, default_value = "flac")]
    extension: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    net: NetArgs,
}

/// `hydrofetch devices`.
pub(crate) fn devices(args: DevicesArgs) -> anyhow::Result<Outcome> {
    let options = ops::DevicesOptions {
        search: args.search,
        category: Some(args.category),
        net: args.net.options(),
    };
    let list = match block_on(ops::devices(options))? {
        Ok(l) => l,
        Err(e) => return super::run::fail(e),
    };
    if args.json {
        return print(&serde_json::to_string_pretty(&list)?);
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<16} {:>8}  {:<24}  NAME",
        "DEVICE", "RATE", "DATA FROM"
    );
    for d in &list {
        let rate = d.sample_rate.map(|r| format!("{r} Hz")).unwrap_or_default();
        let _ = writeln!(
            s,
            "{:<16} {:>8}  {:<24}  {}",
            d.code, rate, d.data_from, d.name
        );
    }
    let _ = writeln!(s, "{} device{}", list.len(), plural(list.len()));
    print(&s)
}

/// `hydrofetch deployments`.
pub(crate) fn deployments(args: DeploymentsArgs) -> anyhow::Result<Outcome> {
    let DeploymentsArgs { device, json, net } = args;
    let list = match block_on(ops::deployments(&device, net.options()))? {
        Ok(l) => l,
        Err(e) => return super::run::fail(e),
    };
    if json {
        return print(&serde_json::to_string_pretty(&list)?);
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<24}  {:<24}  {:<8} {:>9} {:>10} {:>7}  NAME",
        "BEGIN", "END", "LOCATION", "LAT", "LON", "DEPTH"
    );
    for d in &list {
        let _ = writeln!(
            s,
            "{:<24}  {:<24}  {:<8} {:>9.4} {:>10.4} {:>6}m  {}",
            d.begin,
            d.end.as_deref().unwrap_or("(deployed)"),
            d.location_code,
            d.lat,
            d.lon,
            d.depth,
            d.location_name
        );
    }
    let _ = writeln!(
        s,
        "{} deployment{} of {}",
        list.len(),
        plural(list.len()),
        device
    );
    print(&s)
}

/// `hydrofetch coverage`.
pub(crate) fn coverage(args: CoverageArgs) -> anyhow::Result<Outcome> {
    let parse = |flag: &str, v: Option<&String>| -> Result<Option<UtcInstant>, String> {
        v.map(|s| UtcInstant::parse(s).map_err(|e| format!("{flag} {s:?}: {e}")))
            .transpose()
    };
    let (from, to) = match (
        parse("--from", args.from.as_ref()),
        parse("--to", args.to.as_ref()),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Err(super::error::UsageError::new(e).into()),
    };
    let path = PathBuf::from(&args.target);
    let target = if path.is_file() {
        CoverageTarget::Manifests(Manifests::Files(vec![path]))
    } else {
        CoverageTarget::Device(args.target.clone())
    };
    let options = ops::CoverageOptions {
        target,
        from,
        to,
        extension: args.extension,
        net: args.net.options(),
    };
    let list = match block_on(ops::coverage(options))? {
        Ok(l) => l,
        Err(e) => return super::run::fail(e),
    };
    if args.json {
        return print(&serde_json::to_string_pretty(&list)?);
    }
    let mut s = String::new();
    for c in &list {
        let _ = writeln!(
            s,
            "{} {} – {}: {} of {} windows hold .{} files ({} files)",
            c.device, c.from, c.to, c.covered_windows, c.windows, c.extension, c.files
        );
        for g in &c.gaps {
            let _ = writeln!(
                s,
                "  gap {} – {} ({} window{})",
                g.from,
                g.to,
                g.windows,
                plural(g.windows)
            );
        }
        if c.gaps.is_empty() {
            let _ = writeln!(s, "  no gaps");
        }
    }
    print(&s)
}

fn block_on<F: std::future::Future>(f: F) -> anyhow::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let out = rt.block_on(f);
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    Ok(out)
}

fn print(text: &str) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match out
        .write_all(text.as_bytes())
        .and_then(|()| {
            if text.ends_with('\n') {
                Ok(())
            } else {
                out.write_all(b"\n")
            }
        })
        .and_then(|()| out.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(Outcome::Success),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
