//! onc-sim: the offline ONC Oceans 3.0 simulator.
//!
//! Entry points: [`SimConfig`] + [`spawn`] (in-process server on a tokio runtime, returns a
//! [`SimHandle`]) and [`router`] (the axum router alone). `hydrofetch sim` and
//! `hydrofetch run --simulate` wrap them; the client re-exports this crate as `hydrofetch::sim`
//! behind its default `sim` feature.
//!
//! Why a crate of its own: the simulator stands in for ONC, so it may know only what ONC
//! publishes: the wire types, instants and file formats of `onc-core`, never the client's
//! plan, executor or lockfile (the compiler now enforces that). It is also the heaviest part
//! of the build (axum, FFTs, spectrogram rendering): as its own crate it is not recompiled when
//! the client changes, and `hydrofetch --no-default-features` builds without it at all.

// The shared core under the paths the modules use (`crate::time::UtcInstant`, ...).
use onc_core::{atomic, formats, time, wire};

// Synthetic data (signal helper): keep these lines together.
pub mod events;
pub mod products;
pub mod render;
pub mod signal;
pub mod spectro;

// Server (sim helper): keep these lines together.
pub mod api;
pub mod archive;
pub mod catalogue;
pub mod data;
pub mod delivery;
pub mod discovery;
pub mod extras;
pub mod faults;
pub mod hostile;
pub mod jobs;
pub mod options;
pub mod server;

pub use server::{DEMO_TOKEN, LogRecord, SimConfig, SimError, SimHandle, SimState, router, spawn};
