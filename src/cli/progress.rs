//! Rendering executor events: progress bars on a terminal, one plain line per event
//! otherwise (or with `--verbose`), nothing but errors with `--quiet`.
//!
//! Every line goes out with its control characters escaped: the events' server text is
//! already cleaned where it entered (token redacted, length capped), and this is the last
//! guard before the terminal. At most [`MAX_FAILURE_LINES`] failed items are printed one by
//! one; the rest are counted at the end.

use crate::exec::{ExecEvent, Reporter};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Failed items printed one line each; later ones are only counted.
pub(crate) const MAX_FAILURE_LINES: usize = 50;

/// How much to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Bars on a terminal, lines elsewhere.
pub(crate) struct CliReporter {
    verbosity: Verbosity,
    bars: Option<Bars>,
    bytes: AtomicU64,
    failures: AtomicUsize,
    lines: Mutex<()>,
    notices: bool,
    /// `--json`: run summaries are collected for the end, watch says nothing.
    pub(super) json: bool,
    /// `--quiet`: run summaries only when items failed.
    pub(super) quiet: bool,
    /// The `--json` summaries of the runs so far.
    pub(super) summaries: Mutex<Vec<serde_json::Value>>,
}

struct Bars {
    _multi: MultiProgress,
    requests: ProgressBar,
    items: ProgressBar,
}

impl CliReporter {
    pub(crate) fn new(verbosity: Verbosity) -> Self {
        let tty = std::io::stderr().is_terminal();
        let bars = (tty && verbosity == Verbosity::Normal).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let style = |t: &str| {
                ProgressStyle::with_template(t).unwrap_or_else(|_| ProgressStyle::default_bar())
            };
            let requests = multi.add(ProgressBar::new(0));
            requests.set_style(style("{prefix:>9} [{bar:30}] {pos}/{len} {msg}"));
            requests.set_prefix("requests");
            let items = multi.add(ProgressBar::new(0));
            items.set_style(style("{prefix:>9} [{bar:30}] {pos}/{len} {msg} ({eta})"));
            items.set_prefix("items");
            Bars {
                _multi: multi,
                requests,
                items,
            }
        });
        Self {
            verbosity,
            bars,
            bytes: AtomicU64::new(0),
            failures: AtomicUsize::new(0),
            lines: Mutex::new(()),
            notices: verbosity != Verbosity::Quiet,
            json: false,
            quiet: false,
            summaries: Mutex::new(Vec::new()),
        }
    }

    /// How run summaries are shown: collected for [`Self::print_json`] with `json`, else as
    /// lines (with `quiet`, only when items failed).
    pub(crate) fn with_summaries(mut self, json: bool, quiet: bool) -> Self {
        self.json = json;
        self.quiet = quiet;
        self
    }

    /// Whether notices (a wait for another process, a migration) are shown; they go to stderr,
    /// so `--json` keeps them, and only `--quiet` drops them.
    pub(crate) fn with_notices(mut self, on: bool) -> Self {
        self.notices = on;
        self
    }

    #[expect(clippy::print_stderr, reason = "the CLI renders progress")]
    pub(super) fn line(&self, text: &str) {
        let text = crate::text::escape_controls(text);
        let text = text.as_ref();
        let _guard = self.lines.lock();
        match &self.bars {
            Some(b) => b.items.println(text),
            None => eprintln!("{text}"),
        }
    }

    pub(crate) fn finish(&self) {
        let hidden = self
            .failures
            .swap(0, Ordering::Relaxed)
            .saturating_sub(MAX_FAILURE_LINES);
        if hidden > 0 && self.verbosity != Verbosity::Quiet {
            self.line(&format!("… and {hidden} more failed items"));
        }
        if let Some(b) = &self.bars {
            b.requests.finish_and_clear();
            b.items.finish_and_clear();
        }
    }
}

impl Reporter for CliReporter {
    #[expect(
        clippy::too_many_lines,
        reason = "one match over the executor's events, an arm each"
    )]
    fn event(&self, e: &ExecEvent) {
        let plain = self.bars.is_none() && self.verbosity != Verbosity::Quiet;
        match e {
            ExecEvent::Started {
                total,
                done_before,
                requests,
                listings,
            } => {
                if let Some(b) = &self.bars {
                    b.requests.set_length(*requests as u64);
                    b.items.set_length((total - done_before) as u64);
                }
                if plain {
                    self.line(&format!(
                        "{}, {done_before} already done; up to {}, {}",
                        crate::plan::render::count(*total, "item"),
                        crate::plan::render::count(*requests, "ONC request"),
                        crate::plan::render::count(*listings, "audio listing"),
                    ));
                }
            }
            ExecEvent::Submitted {
                what,
                dp_request_id,
                reattached,
            } => {
                if plain {
                    let verb = if *reattached {
                        "re-attached to"
                    } else {
                        "requested"
                    };
                    self.line(&format!("{verb} {what} (dpRequestId {dp_request_id})"));
                }
            }
            ExecEvent::Progress {
                dp_request_id,
                status,
                queue_position,
            } => {
                if self.verbosity == Verbosity::Verbose {
                    let q = queue_position
                        .map(|p| format!(", queue position {p}"))
                        .unwrap_or_default();
                    self.line(&format!("request {dp_request_id}: {status}{q}"));
                }
            }
            ExecEvent::Generated {
                dp_request_id,
                files,
            } => {
                if let Some(b) = &self.bars {
                    b.requests.inc(1);
                }
                if plain {
                    self.line(&format!("request {dp_request_id}: {files} files ready"));
                }
            }
            ExecEvent::Downloaded { path, bytes } => {
                let total = self.bytes.fetch_add(*bytes, Ordering::Relaxed) + bytes;
                if let Some(b) = &self.bars {
                    b.items
                        .set_message(format!("{}", indicatif::HumanBytes(total)));
                }
                if self.verbosity == Verbosity::Verbose {
                    self.line(&format!(
                        "wrote {} ({})",
                        path.display(),
                        indicatif::HumanBytes(*bytes)
                    ));
                }
            }
            ExecEvent::ItemDone { .. } => {
                if let Some(b) = &self.bars {
                    b.items.inc(1);
                }
            }
            ExecEvent::ItemFailed { id, error } => {
                if let Some(b) = &self.bars {
                    b.items.inc(1);
                }
                let n = self.failures.fetch_add(1, Ordering::Relaxed);
                if self.verbosity != Verbosity::Quiet && n < MAX_FAILURE_LINES {
                    self.line(&format!(
                        "failed: item {}: {error}",
                        &id[..id.len().min(12)]
                    ));
                }
            }
            ExecEvent::Retrying { what, error } => {
                if self.verbosity != Verbosity::Quiet {
                    self.line(&format!("retrying {what}: {error}"));
                }
            }
            ExecEvent::Interrupted => {
                if self.verbosity != Verbosity::Quiet {
                    self.line("interrupted: cancelling ONC jobs in flight and saving the lockfile (Ctrl-C again to quit at once)");
                }
            }
            ExecEvent::Notice { message } => {
                if self.notices {
                    self.line(message);
                }
            }
        }
    }
}
