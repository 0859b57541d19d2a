//! The integration tests: one binary, one module per feature, so the crate is linked once
//! rather than once per file (the old layout linked ~24 binaries on every change).
//!
//! Shared support: `common` (the CLI, a `hydrofetch sim` subprocess, file checks), `harness`
//! (the `Hf` builder and `hf_snapshot!`), `sim_support` (an in-process simulator and reqwest
//! helpers). Snapshots live in `tests/it/snapshots/`. Add a new test file here as a module,
//! not as a new `tests/*.rs` binary. Run one module with `cargo test --test it MODULE::`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
#![allow(
    clippy::pedantic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    reason = "test code: casts and formatting on small fixed inputs, progress notes on stderr, std::fs on temporary folders"
)]

#[path = "../common/mod.rs"]
mod common;
mod harness;
#[path = "../sim_support/mod.rs"]
mod sim_support;

// `hydrofetch run`, end to end against the simulator.
mod clip_sim;
mod dataset_sim;
mod discover;
mod duplicates;
mod index_columns;
mod interrupt_sim;
mod run_sim;
mod watch_sim;

// The library API, the executor's scheduler, clip planning, the wire types.
mod clip_plan;
mod exec_poll;
mod exec_sched;
mod ops_api;
mod wire_roundtrip;

// Manifests: formats, errors, limits, fuzzing; plans of the examples; JSON Schemas.
mod manifest_errors;
mod manifest_formats;
mod manifest_fuzz;
mod manifest_limits;
mod plan_estimates;
mod plan_seed;
mod schemas;
mod server_work;

// Golden outputs: plans, lockfile text, item ids.
mod golden;

// File formats: round trips, interop fixtures, fuzzing, the hidden debug commands.
mod flac_fast;
mod formats_audio;
mod formats_cli;
mod formats_fuzz;
mod formats_interop;
mod formats_mat;
mod formats_png;

// Hostile servers, names and text.
mod hostile_files;
mod hostile_names;
mod hostile_text;

// The simulator itself: API, synthetic data, jobs.
mod sim_api;
mod sim_data;
mod sim_jobs;

// Which files a product request selects (overlap or start rule), and hydrofetch under both.
mod product_window;
mod sim_tiny;

// The command line: shortcuts that leave a manifest; help examples and -v.
mod help;
mod shortcuts;
