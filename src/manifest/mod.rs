//! Manifests: the model ([`Manifest`]) and its loaders (TOML, YAML, JSON, CSV).
//!
//! `load` reads a file into located values (`node`), checks them table by table
//! (`layer`, `fields`), applies precedence (`resolve`) and returns a valid
//! [`Manifest`] or every problem found ([`ManifestError`]). The JSON Schemas in `schemas/` are
//! generated from `raw`.

pub(crate) mod error;
pub(crate) mod fields;
pub(crate) mod layer;
mod load;
pub(crate) mod model;
pub(crate) mod node;
pub(crate) mod raw;
mod requests;
pub(crate) mod resolve;
mod tables;

pub use error::{Diagnostic, Loc, ManifestError};
pub use load::{CliValue, Mode, from_command_line, load, load_with};
pub use model::{DeviceSpan, Job, Manifest, Origin, Request, Sourced, SpanField};

/// The JSON Schema of a manifest file (TOML, YAML or JSON), as published in `schemas/`.
#[must_use]
pub fn manifest_schema() -> schemars::Schema {
    schemars::schema_for!(raw::RawManifest)
}

/// The JSON Schema of a JSON request file (`{defaults, requests}`), as published in `schemas/`.
#[must_use]
pub fn requests_schema() -> schemars::Schema {
    schemars::schema_for!(raw::RawRequestDocument)
}
