//! Rendering the operations' milestones ([`OpEvent`]): a run's summary (lines on stderr, or
//! JSON collected for the end), verify and gc results (stdout), watch messages (stderr).

use super::progress::{CliReporter, MAX_FAILURE_LINES};
use crate::lock::Mismatch;
use crate::ops::{ManifestGc, ManifestRun, ManifestVerify, OpEvent, PlanDelta, Reporter};
use crate::plan::render::count;
use crate::watch::{Change, ChangeKind};
use std::io::Write as _;

impl Reporter for CliReporter {
    fn op(&self, event: &OpEvent<'_>) {
        match event {
            OpEvent::Ran(run) => {
                self.finish();
                print_run(run, self.json, self.quiet);
                if self.json
                    && let Ok(v) = serde_json::to_value(run)
                    && let Ok(mut s) = self.summaries.lock()
                {
                    s.push(v);
                }
            }
            OpEvent::Verified(v) => print_verified(v),
            OpEvent::Collected(g) => print_collected(g),
            OpEvent::Invalid(e) => super::plan::print_input_error(e),
            OpEvent::WaitingForFix => {
                self.say("the manifests have errors; fix them and save to start");
            }
            OpEvent::UpToDate { files } => self.say(&format!(
                "up to date; watching {files} files for changes (Ctrl-C to stop)"
            )),
            OpEvent::Changed { changes, delta } => {
                let what = match delta {
                    None => "errors above; keeping the last good plan and watching".to_owned(),
                    Some(d) => describe_delta(*d),
                };
                self.say(&format!("changed: {} ({what})", describe(changes)));
            }
        }
    }
}

impl CliReporter {
    /// Prints the `--json` summaries: one object for one manifest, an array for several.
    #[expect(clippy::print_stdout, reason = "the CLI prints the run summary")]
    pub(crate) fn print_json(&self) {
        self.finish();
        if !self.json {
            return;
        }
        let Ok(mut summaries) = self.summaries.lock() else {
            return;
        };
        let v = match summaries.len() {
            0 => return,
            1 => summaries.remove(0),
            _ => serde_json::Value::Array(std::mem::take(&mut *summaries)),
        };
        if let Ok(text) = serde_json::to_string_pretty(&v) {
            println!("{text}");
        }
    }

    /// A watch message (none with `--json`).
    #[expect(clippy::print_stderr, reason = "watch reports what it does")]
    fn say(&self, text: &str) {
        if !self.json {
            eprintln!("watch: {text}");
        }
    }
}

#[expect(clippy::print_stderr, reason = "the CLI prints the run summary")]
fn print_run(s: &ManifestRun, json: bool, quiet: bool) {
    if s.interrupted {
        eprintln!(
            "interrupted: {} items remain (run again to continue); finished items are in {}",
            s.remaining, s.lockfile
        );
    }
    if json || (quiet && s.failures.is_empty()) {
        return;
    }
    let i = &s.items;
    // The words and counts of `hydrofetch plan` (see `crate::plan::render`).
    let files = usize::try_from(s.files).unwrap_or(usize::MAX);
    eprintln!(
        "{}: {} already done, {} fetched, {} without data, {} failed; {}, {}, {}, {} in {:.1} s ({})",
        count(i.total, "item"),
        i.done_before,
        i.fetched,
        i.no_data,
        i.failed,
        count(
            usize::try_from(s.onc_requests).unwrap_or(usize::MAX),
            "ONC request"
        ),
        count(
            usize::try_from(s.audio_listings).unwrap_or(usize::MAX),
            "audio listing"
        ),
        count(files, "file"),
        crate::plan::estimate::format_bytes(s.bytes),
        s.wall_seconds,
        count(
            usize::try_from(s.http_requests).unwrap_or(usize::MAX),
            "HTTP request"
        ),
    );
    for f in s.failures.iter().take(MAX_FAILURE_LINES) {
        eprintln!("  failed {}: {}", &f.item[..f.item.len().min(12)], f.error);
    }
    if s.failures.len() > MAX_FAILURE_LINES {
        eprintln!(
            "  … and {} more failed items (--json lists them all)",
            s.failures.len() - MAX_FAILURE_LINES
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

/// Verify's lines for one manifest (stdout; a closed stdout is ignored).
fn print_verified(v: &ManifestVerify) {
    let mut out = std::io::stdout().lock();
    for mm in &v.mismatches {
        let (Mismatch::Missing { id, .. } | Mismatch::Changed { id, .. }) = mm;
        let _ = writeln!(out, "MISMATCH {mm} (item {})", &id[..id.len().min(12)]);
    }
    let _ = writeln!(
        out,
        "{} files in {} locked items checked against {}: {} mismatches",
        v.files,
        v.items,
        v.lockfile.display(),
        v.mismatches.len()
    );
    if let Some(forgotten) = v.forgotten {
        let _ = writeln!(
            out,
            "repair: {forgotten} items forgotten and their bad files removed; fetching them again"
        );
    }
}

/// Gc's lines for one manifest (stdout; a closed stdout is ignored).
fn print_collected(g: &ManifestGc) {
    let mut out = std::io::stdout().lock();
    let verb = if g.dry_run { "would remove" } else { "removed" };
    for p in &g.report.removed {
        let _ = writeln!(out, "{verb} {p}");
    }
    for p in &g.report.kept_for_others {
        let _ = writeln!(
            out,
            "kept {p} (another lockfile in this data_dir records it)"
        );
    }
    let _ = writeln!(
        out,
        "{}: {} orphaned items, {} files {verb}",
        g.lockfile.display(),
        g.report.orphans,
        g.report.removed.len()
    );
}

/// `+A items, -R`, for the items a new plan adds and removes.
fn describe_delta(d: PlanDelta) -> String {
    let note = if d.removed > 0 {
        "; removed items stay on disk: `hydrofetch gc` deletes them"
    } else {
        ""
    };
    format!("+{} items, -{}{note}", d.added, d.removed)
}

/// The changed files, relative to the current folder where they are under it.
fn describe(changes: &[Change]) -> String {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| fs_err::canonicalize(d).ok());
    let names: Vec<String> = changes
        .iter()
        .map(|c| {
            let shown = cwd
                .as_deref()
                .and_then(|d| c.path.strip_prefix(d).ok())
                .unwrap_or(&c.path)
                .display();
            match c.kind {
                ChangeKind::Edited => shown.to_string(),
                ChangeKind::Appeared => format!("{shown} (new)"),
                ChangeKind::Removed => format!("{shown} (deleted)"),
            }
        })
        .collect();
    names.join(", ")
}
