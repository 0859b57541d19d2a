//! `hydrofetch plan`: show what a run would fetch and what it costs (time spans, ONC
//! requests and audio listings, files, estimated bytes and ONC processing time), for people
//! or as JSON (see [`crate::plan::render`] for the words and the JSON shape).
//!
//! Manifest errors are printed one per line (with file, line/column or row, field and what
//! was expected), at most [`MAX_PRINTED`] per manifest and then a count of the rest, and the
//! command exits 2. Plan errors are bounded the same way.

use super::Outcome;
use crate::manifest::ManifestError;
use crate::manifest::error::MAX_PRINTED;
use crate::ops::{self, InputError, Manifests};
use crate::plan::{PlanLimits, render};
use std::io::Write as _;

/// Arguments of `hydrofetch plan`.
#[derive(Debug, clap::Args)]
pub(crate) struct PlanArgs {
    /// Manifest files (TOML, YAML, JSON or CSV).
    #[arg(required = true)]
    manifests: Vec<std::path::PathBuf>,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    limits: LimitArgs,
    /// Also check online what `run` checks before submitting: every device is known to ONC
    /// (else exit 2, with a "did you mean"), and which windows lie outside every deployment;
    /// and estimate bytes from ONC's archive listing (`fileSize` of each file) instead of the
    /// built-in table of typical sizes. Nothing is submitted to ONC's product service.
    #[arg(long)]
    online: bool,
    #[command(flatten)]
    net: super::run::NetArgs,
}

/// How large a plan may be: shared by `plan`, `run`, `watch` and the shortcuts.
#[derive(Debug, Clone, Copy, clap::Args)]
pub(crate) struct LimitArgs {
    /// Refuse a plan of more than N items (fetch and clip items), before making them.
    #[arg(long, value_name = "N", default_value_t = PlanLimits::DEFAULT_MAX_ITEMS)]
    max_items: u64,
}

impl LimitArgs {
    /// The limits for [`Plan::build_with`].
    pub(crate) const fn limits(self) -> PlanLimits {
        PlanLimits {
            max_items: self.max_items,
        }
    }
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "each subcommand's exec takes its parsed arguments"
)]
pub(crate) fn exec(args: PlanArgs) -> anyhow::Result<Outcome> {
    let options = ops::PlanOptions {
        manifests: Manifests::Files(args.manifests.clone()),
        limits: args.limits.limits(),
        check_done: true,
    };
    let mut summary = match ops::plan(&options) {
        Ok(s) => s,
        Err(e) => {
            print_input_error(&e);
            return Ok(Outcome::BadInput);
        }
    };
    if args.online {
        let outcome = check_online(&args, &mut summary)?;
        if outcome != Outcome::Success {
            return Ok(outcome);
        }
    }
    print_summary(summary, args.json)
}

/// `plan --online`: the checks `run` makes before submitting, then the sizes from ONC's
/// archive listing (no product request is submitted). Findings go to stderr, so that the plan
/// (also `--json`) stays as it is on stdout.
fn check_online(args: &PlanArgs, summary: &mut ops::PlanSummary) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let checked = runtime.block_on(async {
        let check = ops::check_plan(&summary.plan, args.net.options()).await?;
        let listed = ops::measure(&summary.plan, &summary.done, args.net.options()).await?;
        Ok::<_, ops::OpsError>((check, listed))
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    let check = match checked {
        Ok((c, listed)) => {
            summary.use_listing(&listed);
            c
        }
        Err(e) => return super::run::fail(e),
    };
    let mut lines = vec![format!(
        "online: {} device{} known to ONC ({})",
        check.devices.len(),
        plural(check.devices.len()),
        check.devices.join(", ")
    )];
    lines.extend(check.outside.iter().map(|o| {
        format!(
            "online: {} {} – {}: no data (outside deployment), {} window{} a run skips",
            o.device,
            o.from,
            o.to,
            o.windows,
            plural(o.windows)
        )
    }));
    print_lines(&lines);
    Ok(Outcome::Success)
}

/// Prints a bad-input error the way `plan` prints it: every problem of every manifest, at
/// most [`MAX_PRINTED`] plan errors.
pub(crate) fn print_input_error(e: &InputError) {
    match e {
        InputError::Manifests(errors) => errors.iter().for_each(print_manifest_error),
        InputError::Plan(errors) => {
            let mut lines: Vec<String> = errors
                .iter()
                .take(MAX_PRINTED)
                .map(|e| format!("error: {e}"))
                .collect();
            if let Some(more) = errors.len().checked_sub(MAX_PRINTED).filter(|n| *n > 0) {
                lines.push(format!("… and {more} more error{}", plural(more)));
            }
            print_lines(&lines);
        }
    }
}

/// Plans and prints; bad input is printed and gives [`Outcome::BadInput`].
pub(crate) fn print_plan(
    manifests: Manifests,
    json: bool,
    limits: LimitArgs,
) -> anyhow::Result<Outcome> {
    let options = ops::PlanOptions {
        manifests,
        limits: limits.limits(),
        check_done: true,
    };
    match ops::plan(&options) {
        Ok(s) => print_summary(s, json),
        Err(e) => {
            print_input_error(&e);
            Ok(Outcome::BadInput)
        }
    }
}

/// Prints a plan with its status and estimate, for people or as JSON, on stdout.
fn print_summary(summary: ops::PlanSummary, json: bool) -> anyhow::Result<Outcome> {
    let status = summary.status();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = if json {
        render::write_json(&summary.plan, &status, &mut out)
    } else {
        out.write_all(render::to_human(&summary.plan, &status).as_bytes())
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    // Printing the plan is the last thing the process does: leave it to the OS to free (for a
    // million-row request file that saves about a second of `free` calls).
    std::mem::forget(summary);
    std::mem::forget(status);
    Ok(Outcome::Success)
}

/// Prints every problem of a manifest error to stderr.
pub(crate) fn print_manifest_error(e: &ManifestError) {
    let mut lines = vec![format!("error: {e}")];
    let diags = e.diagnostics();
    lines.extend(diags.iter().take(MAX_PRINTED).map(|d| format!("  {d}")));
    if let Some(more) = diags.len().checked_sub(MAX_PRINTED).filter(|n| *n > 0) {
        lines.push(format!("  … and {more} more error{}", plural(more)));
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        lines.push(format!("  caused by: {s}"));
        source = s.source();
    }
    print_lines(&lines);
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn print_lines(lines: &[String]) {
    let mut err = std::io::stderr().lock();
    for l in lines {
        let _ = writeln!(err, "{l}");
    }
}
