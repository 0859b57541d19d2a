//! Manifests: the model ([`Manifest`]) and its loaders (TOML, YAML, JSON, CSV).
//!
//! `load` reads a file into located values ([`node`]), checks them table by table
//! ([`layer`], [`fields`]), applies precedence ([`resolve`]) and returns a valid
//! [`Manifest`] or every problem found ([`ManifestError`]). The JSON Schemas in `schemas/` are
//! generated from [`raw`].

pub mod error;
pub(crate) mod fields;
pub(crate) mod layer;
mod load;
pub mod model;
pub(crate) mod node;
pub mod raw;
mod requests;
pub(crate) mod resolve;
mod tables;

pub use error::{Diagnostic, Loc, ManifestError};
pub use load::{CliValue, Mode, from_command_line, load, load_with};
pub use model::{DeviceSpan, Job, Manifest, Origin, Request, Sourced, SpanField};
