//! The executor: turns pending fetch items into files on disk and lockfile entries.
//!
//! [`execute`] runs a [`Job`] (groups of fetch items) against an ONC [`Client`](crate::onc::Client):
//! spectrogram groups through `dataProductDelivery` (many requests in flight, each polled
//! adaptively, each file downloaded as soon as its run completes), audio groups through
//! archive listings and downloads. It reports [`ExecEvent`]s and never prints.

mod audio;
mod clipper;
pub mod events;
pub mod job;
pub mod journal;
pub mod layout;
pub mod prepare;
mod runner;
mod spectro;

pub use events::{ExecEvent, Reporter, Silent};
pub use job::{AudioGroup, ClipJob, ClipKind, Job, SpectrogramGroup, WantedItem};
pub use journal::STATE_FILE_NAME;
pub use prepare::{Pending, pending};
pub use runner::{ExecConfig, ExecError, ExecOutcome, Failure, RunPaths, execute};
