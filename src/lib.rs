//! hydrofetch: reproducible datasets of Ocean Networks Canada hydrophone data.
//!
//! The pipeline (see `DESIGN.md` in the shared folder): manifest files are loaded into a
//! [`manifest::Manifest`], resolved into a content-hashed plan, diffed against the lockfile,
//! and executed against the ONC API (or the built-in simulator, `sim`).
//!
//! The workspace has three crates: `onc-core` (what client and simulator share: [`time`],
//! [`formats`], [`atomic`], [`onc::wire`]), `onc-sim` (the simulator, on top of `onc-core`
//! only) and this one, the client, which re-exports both under their old paths. The simulator
//! is an optional dependency behind the default `sim` feature: `--no-default-features` builds
//! a client without axum and without `hydrofetch sim`/`--simulate`.
//!
//! Module map, in pipeline order:
//! - [`time`]: UTC instants, time zones, 5-minute windows (from `onc-core`).
//! - [`domain`]: leaf types every stage shares (device codes, products, formats, gap policy,
//!   item ids).
//! - [`manifest`]: manifest model and loaders (TOML, YAML, JSON, CSV).
//! - [`plan`]: fetch and clip items, their content ids, ONC request batching.
//! - [`onc`]: the ONC Oceans 3.0 API client.
//! - [`exec`]: the executor (submit, poll, download, clip).
//! - [`ops`]: the operations as library calls (`run`, `plan`, `verify`, `gc`, `watch`) with
//!   typed options, a reporter and typed summaries; the CLI is a thin layer over them.
//! - `dataset` (crate-private): the dataset state under the operations: lockfile ownership,
//!   cross-process guards, the record of finished items, the `data_dir` index (`index`) and
//!   the manifest watcher (`watch`).
//! - [`clip`]: cutting audio, MAT and PNG outputs to a window.
//! - [`formats`]: WAV, FLAC, MAT v5 and PNG readers and writers (from `onc-core`).
//! - [`atomic`]: nothing half-written (from `onc-core`).
//! - `sim`: the offline ONC simulator (the `onc-sim` crate, feature `sim`).
//! - [`safe_name`]: the one gate a name from outside passes before it becomes a path.
//! - [`cli`]: the command-line front end (the only place that reads the environment or prints):
//!   it maps flags to [`ops`] options, picks a reporter and the exit code.
//!
//! The public surface is what a program driving hydrofetch needs ([`ops`], [`manifest`],
//! [`plan`], [`lock`], [`domain`], the client in [`onc`], the cutters in [`clip`] and the
//! executor's entry points in [`exec`]); the rest is `pub(crate)`.

pub mod cli;
pub mod clip;
pub(crate) mod dataset;
pub mod domain;
pub mod exec;
pub(crate) mod index;
pub mod lock;
pub mod manifest;
pub mod onc;
pub mod ops;
pub mod plan;
pub mod safe_name;
pub(crate) mod text;
pub(crate) mod watch;

// Shared with the simulator: `onc-core`, under the paths the modules use (`crate::time::...`).
pub use onc_core::{atomic, formats, time};

/// The offline ONC simulator (the `onc-sim` crate).
#[cfg(feature = "sim")]
pub use onc_sim as sim;
