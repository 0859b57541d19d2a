//! `hydrofetch plan`: show what a run would fetch, for people or as JSON.
//!
//! Manifest errors are printed one per line (with file, line/column or row, field and what
//! was expected), at most [`MAX_PRINTED`] per manifest and then a count of the rest, and the
//! command exits 2. Plan errors are bounded the same way.

use super::Outcome;
use crate::domain::ItemId;
use crate::lock::Lockfile;
use crate::manifest::error::MAX_PRINTED;
use crate::manifest::{self, Manifest, ManifestError};
use crate::plan::{Item, Plan, PlanLimits, render};
use std::collections::HashSet;
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

pub(crate) fn exec(args: PlanArgs) -> anyhow::Result<Outcome> {
    match load_all(&args.manifests) {
        Some(loaded) => {
            let outcome = print_plan(&loaded, args.json, args.limits);
            // The process exits next: skip freeing a million small allocations one by one.
            std::mem::forget(loaded);
            outcome
        }
        None => Ok(Outcome::BadInput),
    }
}

/// Loads every manifest, printing every error of every file; `None` if any failed.
pub(crate) fn load_all(paths: &[std::path::PathBuf]) -> Option<Vec<Manifest>> {
    let mut loaded = Vec::new();
    let mut failed = false;
    for path in paths {
        match manifest::load(path) {
            Ok(m) => loaded.push(m),
            Err(e) => {
                print_manifest_error(&e);
                failed = true;
            }
        }
    }
    (!failed).then_some(loaded)
}

/// Builds a plan within `limits`, printing its errors; `None` if there were any.
pub(crate) fn build_within(manifests: &[Manifest], limits: LimitArgs) -> Option<Plan> {
    match Plan::build_with(manifests, &limits.limits()) {
        Ok(p) => Some(p),
        Err(errors) => {
            let mut lines: Vec<String> = errors
                .iter()
                .take(MAX_PRINTED)
                .map(|e| format!("error: {e}"))
                .collect();
            if let Some(more) = errors.len().checked_sub(MAX_PRINTED).filter(|n| *n > 0) {
                lines.push(format!("… and {more} more error{}", plural(more)));
            }
            print_lines(&lines);
            None
        }
    }
}

/// Builds and prints a plan; plan errors are printed and give [`Outcome::BadInput`].
pub(crate) fn print_plan(
    manifests: &[Manifest],
    json: bool,
    limits: LimitArgs,
) -> anyhow::Result<Outcome> {
    let Some(plan) = build_within(manifests, limits) else {
        return Ok(Outcome::BadInput);
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = if json {
        render::write_json(&plan, &mut out)
    } else {
        // Done: locked by the lockfile of a manifest that asks for it, files present.
        let data_dir = &plan.context.data_dir;
        let locks: Vec<Lockfile> = manifests
            .iter()
            .map(|m| {
                let paths = crate::dataset::StatePaths::for_manifest(m, None);
                paths.load_lock().unwrap_or_default()
            })
            .collect();
        let done: HashSet<ItemId> = plan
            .items
            .iter()
            .map(Item::id)
            .filter(|id| {
                locks
                    .iter()
                    .any(|l| l.is_satisfied(id.hex().as_str(), data_dir))
            })
            .copied()
            .collect();
        out.write_all(render::to_human(&plan, &done).as_bytes())
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    // Printing the plan is the last thing the process does: leave it to the OS to free (for a
    // million-row request file that saves about a second of `free` calls).
    std::mem::forget(plan);
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
