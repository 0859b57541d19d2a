//! What the executor reports while it works. The executor never prints: it sends
//! [`ExecEvent`]s to a [`Reporter`], and the command line renders them (progress bars on a
//! terminal, plain lines otherwise, JSON at the end).
//!
//! Text in events that came from ONC (statuses, error messages, file names in messages) is
//! already cleaned by the client where it entered ([`crate::text::clean_server_text`]: token
//! redacted, control characters escaped, length capped), so a reporter may show it as is.

use std::path::PathBuf;

/// Something that happened during a run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExecEvent {
    /// The run starts.
    Started {
        /// Fetch items in the plan.
        total: usize,
        /// Items already in the lockfile with their files present.
        done_before: usize,
        /// ONC product requests to make.
        requests: usize,
        /// Audio listings to make.
        listings: usize,
    },
    /// An ONC product request was submitted (or re-attached after a restart).
    Submitted {
        /// What it is for, e.g. `ICLISTENHF6324 spectrogram/mat 12:00–12:30`.
        what: String,
        /// ONC's request id.
        dp_request_id: i64,
        /// Whether it is a job from an earlier, interrupted run.
        reattached: bool,
    },
    /// ONC reports a request's progress.
    Progress {
        /// ONC's request id.
        dp_request_id: i64,
        /// ONC's status text (cleaned).
        status: String,
        /// Position in ONC's queue.
        queue_position: Option<i64>,
    },
    /// ONC finished generating a request's files.
    Generated {
        /// ONC's request id.
        dp_request_id: i64,
        /// Number of files.
        files: i64,
    },
    /// A file was written.
    Downloaded {
        /// Where, under `data_dir`.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
    /// An item is done (files on disk, or ONC has no data for it).
    ItemDone {
        /// Item id.
        id: String,
        /// Whether ONC had no data.
        no_data: bool,
    },
    /// An item failed.
    ItemFailed {
        /// Item id.
        id: String,
        /// Why (server text in it cleaned).
        error: String,
    },
    /// Something is being tried again.
    Retrying {
        /// What.
        what: String,
        /// Why.
        error: String,
    },
    /// The run was interrupted; in-flight ONC jobs are being cancelled.
    Interrupted,
    /// Something the user should know (a wait, a migration, a clean-up).
    Notice {
        /// What, for people.
        message: String,
    },
}

/// Receives events. Implementations must be cheap: they are called from the scheduler.
pub trait Reporter: Send + Sync {
    /// Handles one event.
    fn event(&self, event: &ExecEvent);
}

/// A reporter that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Reporter for Silent {
    fn event(&self, _event: &ExecEvent) {}
}
