//! onc-core: what the hydrofetch client and the ONC simulator (`onc-sim`) both need, and
//! nothing else.
//!
//! Why a crate boundary here: the simulator must not depend on the client (it stands in for
//! ONC, so it may only know what ONC publishes), and the client must build without the
//! simulator (`--no-default-features`: no axum, no synthetic-data generator). What both sides
//! read and write therefore lives below both of them, and depends on nothing of hydrofetch.
//! Keeping it small also keeps builds cheap: an edit in the client's executor recompiles
//! neither this crate nor the simulator.
//!
//! Modules:
//! - [`time`]: UTC instants, time zones, 5-minute windows.
//! - [`formats`]: WAV, FLAC, MAT v5 and PNG readers and writers (the simulator generates ONC's
//!   files with them, the client clips and checks them).
//! - [`atomic`]: nothing half-written (temporary name, fsync, rename).
//! - [`wire`]: serde types of the ONC Oceans 3.0 JSON bodies, so that server and client cannot
//!   drift apart.
//!
//! `hydrofetch` re-exports these modules under their old paths (`hydrofetch::time`,
//! `hydrofetch::formats`, `hydrofetch::atomic`, `hydrofetch::onc::wire`).
#![expect(
    clippy::disallowed_methods,
    reason = "std::fs here: every I/O error is wrapped with its path in this crate's own types (FormatError::Io, atomic::with_path), which fs_err would repeat"
)]

pub mod atomic;
pub mod formats;
pub mod time;
pub mod wire;
