//! The offline ONC Oceans 3.0 simulator.
//!
//! Entry points: [`SimConfig`] + [`spawn`] (in-process server on a tokio runtime, returns a
//! [`SimHandle`]) and [`router`] (the axum router alone). `hydrofetch sim` wraps them.

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
