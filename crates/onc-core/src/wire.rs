//! Serde types of the ONC Oceans 3.0 JSON wire format: the one set of types the simulator
//! writes and the client reads, so the two cannot drift apart. Every JSON body of the API is
//! here, with the `Content-Disposition` form of file downloads and the run status words.
//!
//! Decisions recorded here:
//! - Field names are ONC's camelCase spellings, including its inconsistencies
//!   (`queryURL` in the `request` response, `queryUrl` elsewhere).
//! - Writing is exact: optional fields are `Option` and skipped when `None`, so a response
//!   carries only what ONC would send, and a value serialises to the bytes the simulator
//!   serves.
//! - Reading is tolerant, as a client of a live service must be: unknown fields are ignored
//!   (no `deny_unknown_fields`), and a field the client does not need can never fail a
//!   whole answer: when it is missing or of another type it takes its default
//!   ([`lenient`]). Only what the client acts on is required (ids, file names, `begin`).
//! - ONC's quirks the reader accepts, each tested in `tests/wire_roundtrip.rs`: booleans as
//!   strings in discovery answers, sizes as numbers or numeric strings, non-string values
//!   in a listing's `next.parameters`, listing entries as names or objects (and entries of
//!   neither kind skipped), a 400 without `errors` (download of a cancelled run), a 202
//!   without `message`, a `restart` answer as one object instead of a list.
//! - Option values, defaults and range bounds are strings, as ONC sends them.
//! - This module depends on nothing but serde, so it can move to a crate of its own.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Run status words of `run`, `status`, `cancel` and `restart` answers.
pub mod status {
    /// Waiting for a slot.
    pub const QUEUED: &str = "queued";
    /// Being generated (ONC's live wording; its wiki says `running`).
    pub const RUNNING: &str = "data product running";
    /// Files ready for `download`.
    pub const COMPLETE: &str = "complete";
    /// Cancelled by the user.
    pub const CANCELLED: &str = "cancelled";
    /// Generation failed.
    pub const ERROR: &str = "error";
}

/// The `Content-Disposition` header of a downloaded file, as ONC sends it.
#[must_use]
pub fn content_disposition(file_name: &str) -> String {
    format!("attachment; filename={file_name}")
}

/// The file name of a `Content-Disposition` header: what follows `filename=` up to a `;`,
/// quotes stripped (ONC's own tutorials parse it with a misspelt `attachement`, so nothing
/// before `filename=` is relied on). Not checked: the caller validates it as a path part.
#[must_use]
pub fn content_disposition_file_name(header: &str) -> Option<&str> {
    let raw = header.split_once("filename=")?.1;
    Some(raw.split(';').next()?.trim().trim_matches('"'))
}

/// An answer that ONC sends as a list, or in some versions as a single object (MATLAB's
/// client reads `restart` as one object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// The documented form: a list.
    Many(Vec<T>),
    /// A single object.
    One(T),
}

impl<T> OneOrMany<T> {
    /// The items, in order.
    #[must_use]
    pub fn into_vec(self) -> Vec<T> {
        match self {
            Self::Many(v) => v,
            Self::One(x) => vec![x],
        }
    }
}

/// The body of an ONC 400/401 error. A 400 without `errors` (the download of a cancelled
/// run) reads as an empty list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// One item per problem.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub errors: Vec<ErrorItem>,
}

/// One problem in an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorItem {
    /// ONC error code (127 invalid value, 128 missing, 129 unknown name, 96 no file, ...).
    pub error_code: u32,
    /// Free text.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub error_message: String,
    /// The parameter(s) involved, joined with `/`.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub parameter: String,
}

impl std::fmt::Display for ErrorItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "API Error {}: {}", self.error_code, self.error_message)?;
        if !self.parameter.is_empty() {
            write!(f, " (parameter: {})", self.parameter)?;
        }
        Ok(())
    }
}

/// `dataProductDelivery/request` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestResponse {
    /// The request id.
    pub dp_request_id: u64,
    /// Size in bytes of a pre-generated (archived) product.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub file_size: Option<u64>,
    /// Formatted size of a product generated on demand, e.g. `"185 kB"`.
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub estimated_file_size: Option<String>,
    /// `"<int> <unit>"` with unit `s`, `min` or `hour`.
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub estimated_processing_time: Option<String>,
    /// Number of product files (simulator extension; name not confirmed for ONC).
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub num_files: Option<u64>,
    /// Free-text disclaimer.
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub disclaimer: Option<String>,
    /// Warnings.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub messages: Vec<String>,
    /// Query id.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub query_pids: Option<u64>,
    /// Echo of the query, token included.
    #[serde(
        rename = "queryURL",
        default,
        deserialize_with = "lenient::or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub query_url: Option<String>,
}

/// One element of the `dataProductDelivery/run` response array (and of `status`'s `runs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunEntry {
    /// The run id.
    pub dp_run_id: u64,
    /// Number of product files (0 until complete), metadata excluded.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub file_count: u64,
    /// One of the [`status`] words.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub status: String,
    /// Position in the queue (1-based) while queued.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub queue_position: Option<u64>,
}

/// One element of the `cancel` / `restart` response arrays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunStatusEntry {
    /// The run id.
    pub dp_run_id: u64,
    /// The run's status after the call.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub status: String,
}

/// `dataProductDelivery/status` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusResponse {
    /// The request id.
    pub dp_request_id: u64,
    /// `OPEN` until a file was downloaded, then `COMPLETED`.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub search_hdr_status: String,
    /// Runs of the request.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub runs: Vec<RunEntry>,
}

/// Body of a 202 from `dataProductDelivery/download`, and of the 400 that answers the
/// download of a cancelled run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadProgress {
    /// Human-readable progress (empty when ONC sent none).
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub message: String,
    /// `queued`, `running`, `error` or `cancelled`.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub status: String,
}

/// `archivefile/device|location` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveFileList {
    /// File names, or objects with `returnOptions=all`.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub files: Vec<ArchiveFileEntry>,
    /// The next page, `null` on the last one.
    #[serde(default)]
    pub next: Option<NextPage>,
    /// Echo of the query, token included.
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub query_url: Option<String>,
}

/// A file in an archive listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ArchiveFileEntry {
    /// Plain listing: the file name.
    Name(String),
    /// `returnOptions=all`.
    Info(ArchiveFileInfo),
    /// Anything else (an object without `filename`, a number...): read so that the rest of
    /// the page survives, and skipped by the client. The simulator never writes it.
    Other(serde_json::Value),
}

/// A file of a `returnOptions=all` listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveFileInfo {
    /// File name.
    pub filename: String,
    /// First instant covered, ONC form (empty when ONC sent none).
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub date_from: String,
    /// End of the file, ONC form (empty when ONC sent none).
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub date_to: String,
    /// Size in bytes as served.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub uncompressed_file_size: Option<u64>,
    /// Size in bytes as archived (compressed), when ONC gives it.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub file_size: Option<u64>,
    /// Product code (`AD`, `HSD`).
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub data_product_code: String,
    /// Device code.
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_code: Option<String>,
}

/// The `next` object of a paged listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextPage {
    /// Every parameter of the query (token included) with `page` advanced; all strings (a
    /// number or boolean is read as its JSON text).
    #[serde(deserialize_with = "lenient::string_map")]
    pub parameters: BTreeMap<String, String>,
    /// The full URL of the next page.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub url: String,
}

/// A citation object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Citation {
    /// Citation text.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub citation: String,
    /// DOI.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub doi: String,
    /// Landing page.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub landing_page_url: String,
    /// Query pid (may be null).
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub query_pid: Option<u64>,
}

/// An item of `api/deployments`. The client needs `deviceCode` and `begin`; every other
/// field is read leniently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// Start, ONC form.
    pub begin: String,
    /// End, `null` while deployed.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub end: Option<String>,
    /// Citation.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub citation: Citation,
    /// Depth, metres.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub depth: f64,
    /// `HYDROPHONE`.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub device_category_code: String,
    /// Device code.
    pub device_code: String,
    /// Data exist.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub has_device_data: bool,
    /// Heading (may be null).
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub heading: Option<f64>,
    /// Pitch (may be null).
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub pitch: Option<f64>,
    /// Roll (may be null).
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub roll: Option<f64>,
    /// Latitude.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub lat: f64,
    /// Longitude.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub lon: f64,
    /// Location code.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub location_code: String,
}
/// A `dataRating` item of a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataRating {
    /// Start, ONC form.
    pub date_from: String,
    /// End (null: open).
    pub date_to: Option<String>,
    /// Seconds between samples.
    pub sample_period: f64,
    /// Samples per reading.
    pub sample_size: u32,
}

/// An item of `api/devices`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// Ratings.
    pub data_rating: Vec<DataRating>,
    /// `HYDROPHONE`.
    pub device_category_code: String,
    /// Device code.
    pub device_code: String,
    /// Numeric id.
    pub device_id: u32,
    /// Link to the device page.
    pub device_link: String,
    /// Name.
    pub device_name: String,
    /// Data exist.
    #[serde(deserialize_with = "lenient::boolean")]
    pub has_device_data: bool,
}

/// A bounding box of a location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bbox {
    /// Deepest.
    pub max_depth: f64,
    /// North.
    pub max_lat: f64,
    /// East.
    pub max_lon: f64,
    /// Shallowest.
    pub min_depth: f64,
    /// South.
    pub min_lat: f64,
    /// West.
    pub min_lon: f64,
}

/// An item of `api/locations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// Number of deployments.
    pub deployments: u32,
    /// Name.
    pub location_name: String,
    /// Depth.
    pub depth: f64,
    /// Box.
    pub bbox: Bbox,
    /// Description.
    pub description: String,
    /// Data exist.
    #[serde(deserialize_with = "lenient::boolean")]
    pub has_device_data: bool,
    /// Longitude.
    pub lon: f64,
    /// Code.
    pub location_code: String,
    /// Property data exist.
    #[serde(deserialize_with = "lenient::boolean")]
    pub has_property_data: bool,
    /// Latitude.
    pub lat: f64,
    /// Data search link.
    #[serde(rename = "dataSearchURL")]
    pub data_search_url: String,
}

/// The `allowableRange` of a product option (bounds are strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllowableRange {
    /// Lower bound.
    pub lower_bound: String,
    /// Upper bound.
    pub upper_bound: String,
    /// Integers only.
    #[serde(deserialize_with = "lenient::boolean")]
    pub only_integers: bool,
    /// Unit (may be null).
    pub unit_of_measure: Option<String>,
}

/// A `dataProductOptions` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataProductOption {
    /// `dpo_...` name.
    pub option: String,
    /// Allowed values (unsorted, strings).
    pub allowable_values: Vec<String>,
    /// Default value.
    pub default_value: String,
    /// Numeric range, when free values are allowed.
    pub allowable_range: Option<AllowableRange>,
    /// Help links.
    #[serde(default)]
    pub documentation: Vec<String>,
    /// Always null here.
    #[serde(default)]
    pub suboptions: Option<serde_json::Value>,
}

/// An item of `api/dataProducts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataProduct {
    /// Code (`AD`, `HSD`).
    pub data_product_code: String,
    /// Name.
    pub data_product_name: String,
    /// Extension.
    pub extension: String,
    /// Device data.
    #[serde(deserialize_with = "lenient::boolean")]
    pub has_device_data: bool,
    /// Property data.
    #[serde(deserialize_with = "lenient::boolean")]
    pub has_property_data: bool,
    /// Help page.
    pub help_document: String,
    /// Options, sorted by name.
    pub data_product_options: Vec<DataProductOption>,
}

/// Tolerant readers for fields whose type ONC does not keep to.
pub mod lenient {
    use std::collections::BTreeMap;

    use serde::de::{Deserialize, DeserializeOwned, Deserializer};
    use serde_json::Value;

    /// The value if it has the field's type, else the type's default: a field the client does
    /// not need never fails a whole answer.
    ///
    /// # Errors
    /// Only when the input is not JSON at all.
    pub fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: DeserializeOwned + Default,
    {
        let v = Value::deserialize(d)?;
        Ok(T::deserialize(v).unwrap_or_default())
    }

    /// A boolean sent as `true`/`false` or as the strings `"true"`/`"false"` (ONC's
    /// discovery answers do both); anything else is `false`.
    ///
    /// # Errors
    /// Only when the input is not JSON at all.
    pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Bool(b) => b,
            Value::String(s) => s.trim().eq_ignore_ascii_case("true"),
            _ => false,
        })
    }

    /// A count or size sent as a number or as a numeric string; anything else is `None`.
    ///
    /// # Errors
    /// Only when the input is not JSON at all.
    pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
    }

    /// A map of strings whose values may come as other JSON values: those are read as their
    /// JSON text (`2` → `"2"`).
    ///
    /// # Errors
    /// When the input is not an object.
    pub fn string_map<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, String>, D::Error> {
        let m = serde_json::Map::<String, Value>::deserialize(d)?;
        Ok(m.into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect())
    }
}
