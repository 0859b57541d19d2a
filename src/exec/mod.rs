//! The executor: turns pending fetch items into files on disk and lockfile entries.
//!
//! [`execute`] runs a [`Job`] (groups of fetch items) against an ONC [`Client`](crate::onc::Client):
//! spectrogram groups through `dataProductDelivery` (many requests in flight, each polled
//! adaptively, each file downloaded as soon as its run completes), audio groups through
//! archive listings and downloads, then clips from a ready queue. It reports [`ExecEvent`]s
//! and never prints. Finished items go to an append-only `record`; [`compact`] writes the
//! lockfile once at the end.

mod audio;
mod boundaries;
mod clipper;
mod clips;
pub(crate) mod events;
pub(crate) mod job;
pub(crate) mod journal;
pub(crate) mod layout;
pub(crate) mod prepare;
pub(crate) mod record;
mod runner;
mod scheduler;
mod spectro;

pub use events::{ExecEvent, Reporter, Silent};
pub use job::{AudioGroup, ClipJob, ClipKind, Job, SpectrogramGroup, WantedItem};
pub use journal::STATE_FILE_NAME;
pub use prepare::{Pending, pending};
pub use record::compact;
pub use runner::{ExecConfig, ExecError, ExecOutcome, Failure, RunPaths};
pub use scheduler::execute;
