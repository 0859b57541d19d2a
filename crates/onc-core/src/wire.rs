//! Serde types of the ONC Oceans 3.0 JSON wire format, shared by the simulator (which writes
//! them) and the client (which reads them).
//!
//! Decisions recorded here:
//! - Field names are ONC's camelCase spellings, including its inconsistencies
//!   (`queryURL` in the `request` response, `queryUrl` elsewhere).
//! - Optional fields are `Option` and skipped when `None`, so a response carries only what
//!   ONC would send; readers tolerate unknown fields (no `deny_unknown_fields`).
//! - Option values, defaults and range bounds are strings, as ONC sends them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The body of an ONC 400/401 error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// One item per problem.
    pub errors: Vec<ErrorItem>,
}

/// One problem in an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorItem {
    /// ONC error code (127 invalid value, 128 missing, 129 unknown name, 96 no file, ...).
    pub error_code: u32,
    /// Free text.
    pub error_message: String,
    /// The parameter(s) involved, joined with `/`.
    pub parameter: String,
}

/// `dataProductDelivery/request` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestResponse {
    /// The request id.
    pub dp_request_id: u64,
    /// Size in bytes of a pre-generated (archived) product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
    /// Formatted size of a product generated on demand, e.g. `"185 kB"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_file_size: Option<String>,
    /// `"<int> <unit>"` with unit `s`, `min` or `hour`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_processing_time: Option<String>,
    /// Number of product files (simulator extension; name not confirmed for ONC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_files: Option<u64>,
    /// Free-text disclaimer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclaimer: Option<String>,
    /// Warnings.
    #[serde(default)]
    pub messages: Vec<String>,
    /// Query id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_pids: Option<u64>,
    /// Echo of the query, token included.
    #[serde(rename = "queryURL", default, skip_serializing_if = "Option::is_none")]
    pub query_url: Option<String>,
}

/// One element of the `dataProductDelivery/run` response array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunEntry {
    /// The run id.
    pub dp_run_id: u64,
    /// Number of product files (0 until complete), metadata excluded.
    pub file_count: u64,
    /// `queued`, `data product running`, `complete`, `cancelled` or `error`.
    pub status: String,
    /// Position in the queue (1-based) while queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u64>,
}

/// One element of the `cancel` / `restart` response arrays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunStatusEntry {
    /// The run id.
    pub dp_run_id: u64,
    /// The run's status after the call.
    pub status: String,
}

/// `dataProductDelivery/status` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusResponse {
    /// The request id.
    pub dp_request_id: u64,
    /// `OPEN` until a file was downloaded, then `COMPLETED`.
    pub search_hdr_status: String,
    /// Runs of the request.
    #[serde(default)]
    pub runs: Vec<RunEntry>,
}

/// Body of a 202 from `dataProductDelivery/download`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadProgress {
    /// Human-readable progress.
    pub message: String,
    /// `queued`, `running` or `error`.
    pub status: String,
}

/// `archivefile/device|location` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveFileList {
    /// File names, or objects with `returnOptions=all`.
    pub files: Vec<ArchiveFileEntry>,
    /// The next page, `null` on the last one.
    pub next: Option<NextPage>,
    /// Echo of the query, token included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
}

/// A file of a `returnOptions=all` listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveFileInfo {
    /// File name.
    pub filename: String,
    /// First instant covered, ONC form.
    pub date_from: String,
    /// End of the file, ONC form.
    pub date_to: String,
    /// Size in bytes as served.
    pub uncompressed_file_size: u64,
    /// Product code (`AD`, `HSD`).
    pub data_product_code: String,
    /// Device code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_code: Option<String>,
}

/// The `next` object of a paged listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextPage {
    /// Every parameter of the query (token included) with `page` advanced; all strings.
    pub parameters: BTreeMap<String, String>,
    /// The full URL of the next page.
    pub url: String,
}

/// A citation object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Citation {
    /// Citation text.
    pub citation: String,
    /// DOI.
    pub doi: String,
    /// Landing page.
    pub landing_page_url: String,
    /// Query pid (may be null).
    pub query_pid: Option<u64>,
}

/// An item of `api/deployments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// Start, ONC form.
    pub begin: String,
    /// End, `null` while deployed.
    pub end: Option<String>,
    /// Citation.
    pub citation: Citation,
    /// Depth, metres.
    pub depth: f64,
    /// `HYDROPHONE`.
    pub device_category_code: String,
    /// Device code.
    pub device_code: String,
    /// Data exist.
    pub has_device_data: bool,
    /// Heading (may be null).
    pub heading: Option<f64>,
    /// Pitch (may be null).
    pub pitch: Option<f64>,
    /// Roll (may be null).
    pub roll: Option<f64>,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Location code.
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
    pub has_device_data: bool,
    /// Longitude.
    pub lon: f64,
    /// Code.
    pub location_code: String,
    /// Property data exist.
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
    pub has_device_data: bool,
    /// Property data.
    pub has_property_data: bool,
    /// Help page.
    pub help_document: String,
    /// Options, sorted by name.
    pub data_product_options: Vec<DataProductOption>,
}
