//! The ONC Oceans 3.0 API client: the only code that knows HTTP.
//!
//! [`Client`] makes the calls, [`OncError`] says what went wrong and whether to retry,
//! [`Token`] keeps the secret out of every message. [`wire`] holds every JSON body of the
//! API: the client reads only those types and the simulator writes the same ones.

pub mod client;
pub(crate) mod error;
pub(crate) mod token;

/// The ONC JSON wire types, shared with the simulator (they live in `onc-core`).
pub use onc_core::wire;

pub use client::{
    ArchiveFile, Client, Downloaded, IndexOutcome, ProductRequest, RequestReceipt, RunState, Stats,
};
pub use error::{ApiErrorItem, FailureStreak, OncError, RetryPolicy};
pub use token::Token;
