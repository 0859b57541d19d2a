//! `hydrofetch verify` (re-hash every locked file) and `hydrofetch gc` (remove what no
//! manifest asks for any more).

use super::Outcome;
use crate::lock::{Lockfile, Mismatch};
use std::collections::{BTreeSet, HashSet};
use std::io::Write as _;
use std::path::PathBuf;

/// Arguments of `hydrofetch verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    /// Manifest files whose lockfile to check.
    #[arg(required = true)]
    manifests: Vec<PathBuf>,
}

/// Arguments of `hydrofetch gc`.
#[derive(Debug, clap::Args)]
pub(crate) struct GcArgs {
    /// Manifest files: lockfile items they no longer ask for are removed.
    #[arg(required = true)]
    manifests: Vec<PathBuf>,
    /// Only list what would be removed.
    #[arg(long)]
    dry_run: bool,
}

struct Loaded {
    plan: crate::plan::Plan,
    lock: Lockfile,
    lock_path: PathBuf,
}

fn load(paths: &[PathBuf]) -> anyhow::Result<Option<Loaded>> {
    let Some(manifests) = super::plan::load_all(paths) else {
        return Ok(None);
    };
    let Some(plan) = super::plan::build_or_report(&manifests) else {
        return Ok(None);
    };
    let lock_path = super::run::lock_path(&manifests, &plan.context.data_dir);
    let lock = Lockfile::load(&lock_path)?;
    Ok(Some(Loaded {
        plan,
        lock,
        lock_path,
    }))
}

/// `hydrofetch verify`: exit 0 when every locked file is present with its size and hash.
pub(crate) fn verify(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let Some(l) = load(&args.manifests)? else {
        return Ok(Outcome::BadInput);
    };
    let data_dir = &l.plan.context.data_dir;
    let mismatches = l.lock.verify(data_dir);
    let files: usize = l.lock.entries().map(|e| e.files.len()).sum();
    let mut out = std::io::stdout().lock();
    for m in &mismatches {
        let (id, _) = match m {
            Mismatch::Missing { id, path } | Mismatch::Changed { id, path, .. } => (id, path),
        };
        writeln!(out, "MISMATCH {m} (item {})", &id[..id.len().min(12)])?;
    }
    writeln!(
        out,
        "{} files in {} locked items checked against {}: {} mismatches",
        files,
        l.lock.len(),
        l.lock_path.display(),
        mismatches.len()
    )?;
    Ok(if mismatches.is_empty() {
        Outcome::Success
    } else {
        Outcome::ItemsFailed
    })
}

/// `hydrofetch gc`: forget locked items the plan no longer has, and delete their files unless
/// an item still in the plan uses them.
pub(crate) fn gc(args: GcArgs) -> anyhow::Result<Outcome> {
    let Some(mut l) = load(&args.manifests)? else {
        return Ok(Outcome::BadInput);
    };
    let data_dir = l.plan.context.data_dir.clone();
    let wanted: HashSet<String> = l.plan.items.iter().map(|i| i.id().to_string()).collect();
    let orphans: Vec<String> = l
        .lock
        .entries()
        .filter(|e| !wanted.contains(e.id.as_str()))
        .map(|e| e.id.clone())
        .collect();
    let kept: HashSet<String> = l
        .lock
        .entries()
        .filter(|e| wanted.contains(e.id.as_str()))
        .flat_map(|e| e.files.iter().map(|f| f.path.clone()))
        .collect();
    let mut doomed = BTreeSet::new();
    for id in &orphans {
        for f in l.lock.get(id).map(|e| e.files.clone()).unwrap_or_default() {
            if !kept.contains(&f.path) {
                doomed.insert(f.path);
            }
        }
    }
    let mut out = std::io::stdout().lock();
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    for p in &doomed {
        if !args.dry_run {
            match std::fs::remove_file(data_dir.join(p)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    anyhow::bail!("cannot remove {}: {e}", data_dir.join(p).display())
                }
                _ => {}
            }
        }
        writeln!(out, "{verb} {p}")?;
    }
    if !args.dry_run {
        for id in &orphans {
            let _ = l.lock.remove(id);
        }
        l.lock.save(&l.lock_path)?;
    }
    writeln!(
        out,
        "{} orphaned items, {} files {verb}",
        orphans.len(),
        doomed.len()
    )?;
    Ok(Outcome::Success)
}
