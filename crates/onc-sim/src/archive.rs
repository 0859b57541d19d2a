//! `api/archivefile/device`, `api/archivefile/location` and `api/archivefile/download`.
//!
//! Decisions recorded here:
//! - The archive holds, for every source file, four products in this order: `AD` `.flac`,
//!   `AD` `.wav`, `HSD` `-spect.mat` (one-minute averages, downsample 1), `HSD` `-spect.png`
//!   (default plot). Listings are chronological (location listings: by start, then name) and
//!   can be narrowed with `fileExtension` and `dataProductCode`.
//! - Selection by overlap with `[dateFrom, dateTo)` (see [`crate::catalogue`]); `dateFrom`
//!   defaults to 2000-01-01, `dateTo` to now.
//! - Paging: `rowLimit` (default and maximum 100 000) and `page` (1-based). When rows remain,
//!   `next.parameters` echoes every query parameter (token included) with `page` advanced, as
//!   a string, and `next.url` is the full URL of that page.
//! - `returnOptions=all`: `uncompressedFileSize` is an estimate for products not yet generated
//!   (exact for files already in the cache is not attempted: the value is stable instead).
//! - `download` answers 200 with explicit `Content-Length` and `Content-Disposition`.
//! - With the `evil_name` fault, listings carry hostile names for some files (see
//!   [`crate::faults`]); `download` accepts them and serves the real file.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::api::{self, ApiError, ApiResult, Params};
use crate::catalogue::SourceFile;
use crate::data::{self, ProductKind};
use crate::products::AudioExt;
use crate::render::RenderOptions;
use crate::server::SimState;
use crate::spectro::Resolution;
use crate::time::UtcInstant;
use crate::wire::{ArchiveFileEntry, ArchiveFileInfo, ArchiveFileList, NextPage};

const LIST_PARAMS: &[&str] = &[
    "dateFrom",
    "dateTo",
    "dateArchivedFrom",
    "dateArchivedTo",
    "fileExtension",
    "dataProductCode",
    "returnOptions",
    "rowLimit",
    "page",
    "getLatest",
];
const MAX_ROWS: u64 = 100_000;

/// The archived products of a source file: (code, extension, kind).
fn archived(src: &SourceFile) -> [(&'static str, &'static str, ProductKind); 4] {
    [
        (
            "AD",
            "flac",
            ProductKind::Audio {
                ext: AudioExt::Flac,
                rate: src.sample_rate,
            },
        ),
        (
            "AD",
            "wav",
            ProductKind::Audio {
                ext: AudioExt::Wav,
                rate: src.sample_rate,
            },
        ),
        ("HSD", "mat", ProductKind::Mat(Resolution::Minute)),
        ("HSD", "png", ProductKind::Png(RenderOptions::default())),
    ]
}

/// Rough size of a product (for listings and request estimates), calibrated on the
/// `sim_serve` bench output for a 64 kHz file.
#[must_use]
pub fn estimate_size(src: &SourceFile, kind: &ProductKind) -> u64 {
    let frames = src.frames as u64;
    match kind {
        ProductKind::Audio {
            ext: AudioExt::Wav,
            rate,
        } => 44 + frames * u64::from(*rate) / u64::from(src.sample_rate.max(1)) * 3,
        ProductKind::Audio { rate, .. } => {
            frames * u64::from(*rate) / u64::from(src.sample_rate.max(1)) * 2
        }
        ProductKind::Mat(Resolution::Full) => frames * 3 / 2,
        ProductKind::Mat(Resolution::Plot) => 5_400_000,
        ProductKind::Mat(Resolution::Minute) => 100_000,
        ProductKind::Png(_) => 950_000,
    }
}

/// The base URL of the server as the client addressed it.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}/")
}

/// Full URL of `path` with `p` as query.
pub(crate) fn url_of(headers: &HeaderMap, path: &str, p: &Params) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(p.iter())
        .finish();
    format!("{}{path}?{q}", base_url(headers))
}

fn listing(
    st: &SimState,
    p: &Params,
    headers: &HeaderMap,
    path: &str,
    files: &[SourceFile],
) -> ApiResult<ArchiveFileList> {
    let ext = p.get("fileExtension").map(String::as_str);
    let code = p.get("dataProductCode").map(String::as_str);
    let all = match p.get("returnOptions").map(String::as_str) {
        None => false,
        Some("all") => true,
        Some(_) => return Err(ApiError::invalid("returnOptions")),
    };
    let row_limit = api::uint(p, "rowLimit")?
        .unwrap_or(MAX_ROWS)
        .clamp(1, MAX_ROWS);
    let page = api::uint(p, "page")?.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::invalid("page"));
    }
    let skip = (page - 1).saturating_mul(row_limit);
    let mut rows = Vec::new();
    let mut total: u64 = 0;
    for src in files {
        for (c, e, kind) in archived(src) {
            if ext.is_some_and(|x| x != e) || code.is_some_and(|x| x != c) {
                continue;
            }
            total += 1;
            if total <= skip || total > skip + row_limit {
                continue;
            }
            let filename = kind.file_name(src);
            let filename = st
                .cfg
                .faults
                .evil_name(
                    st.cfg.seed,
                    src.device,
                    src.start.unix_millis(),
                    &filename,
                    false,
                )
                .unwrap_or(filename);
            rows.push(if all {
                ArchiveFileEntry::Info(ArchiveFileInfo {
                    filename,
                    date_from: src.start.to_onc_string(),
                    date_to: src.end.to_onc_string(),
                    uncompressed_file_size: Some(estimate_size(src, &kind)),
                    file_size: None,
                    data_product_code: c.to_owned(),
                    device_code: Some(src.device.to_owned()),
                })
            } else {
                ArchiveFileEntry::Name(filename)
            });
        }
    }
    let next = (total > skip + row_limit).then(|| {
        let mut params = p.clone();
        params.insert("page".into(), (page + 1).to_string());
        NextPage {
            url: url_of(headers, path, &params),
            parameters: params,
        }
    });
    Ok(ArchiveFileList {
        files: rows,
        next,
        query_url: Some(url_of(headers, path, p)),
    })
}

/// `api/archivefile/device`.
pub(crate) async fn by_device(
    State(st): State<Arc<SimState>>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> ApiResult<Json<ArchiveFileList>> {
    let mut allowed = vec!["deviceCode"];
    allowed.extend_from_slice(LIST_PARAMS);
    api::check(&p, &st.tokens, &allowed, &["deviceCode"])?;
    let dev = st
        .cat
        .device(&p["deviceCode"])
        .ok_or_else(|| ApiError::invalid("deviceCode"))?;
    let now = st.now();
    let (from, to) = api::span(&p, default_from(), now)?;
    let files = st.cat.files(dev, None, from, to, now);
    Ok(Json(listing(
        &st,
        &p,
        &headers,
        "api/archivefile/device",
        &files,
    )?))
}

fn default_from() -> UtcInstant {
    UtcInstant::from_unix_millis(946_684_800_000)
}

/// `api/archivefile/location`.
pub(crate) async fn by_location(
    State(st): State<Arc<SimState>>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> ApiResult<Json<ArchiveFileList>> {
    let mut allowed = vec!["locationCode", "deviceCategoryCode"];
    allowed.extend_from_slice(LIST_PARAMS);
    api::check(
        &p,
        &st.tokens,
        &allowed,
        &["locationCode", "deviceCategoryCode"],
    )?;
    let loc = &p["locationCode"];
    if st.cat.location(loc).is_none() {
        return Err(ApiError::invalid("locationCode"));
    }
    if p["deviceCategoryCode"] != "HYDROPHONE" {
        return Err(ApiError::invalid("deviceCategoryCode"));
    }
    let now = st.now();
    let (from, to) = api::span(&p, default_from(), now)?;
    let devices = st.cat.devices_at(loc, from, to);
    if devices.is_empty() {
        return Err(ApiError::invalid_msg(
            "dateFrom/dateTo",
            &format!(
                "A device with category HYDROPHONE was deployed at location {loc} but not during the provided time range"
            ),
        ));
    }
    let mut files: Vec<SourceFile> = devices
        .into_iter()
        .flat_map(|d| st.cat.files(d, Some(loc), from, to, now))
        .collect();
    files.sort_by(|a, b| (a.start, a.device).cmp(&(b.start, b.device)));
    Ok(Json(listing(
        &st,
        &p,
        &headers,
        "api/archivefile/location",
        &files,
    )?))
}

/// Resolves an archive file name to its source file and product.
pub(crate) fn resolve(st: &SimState, name: &str) -> Option<(SourceFile, ProductKind)> {
    let (dev, rest) = name.split_once('_')?;
    let stamp = rest.get(..20)?;
    let start = UtcInstant::parse_file_stamp(stamp).ok()?;
    let device = st.cat.device(dev)?;
    let src = st.cat.file_at(device, start, st.now())?;
    archived(&src)
        .into_iter()
        .map(|(_, _, k)| k)
        .find(|k| k.file_name(&src) == name)
        .map(|k| (src, k))
}

/// The bytes of `kind` from `src`, through the cache.
pub(crate) async fn product_bytes(
    st: &Arc<SimState>,
    src: &SourceFile,
    kind: &ProductKind,
) -> ApiResult<bytes::Bytes> {
    let key = data::product_key(src, kind, st.cfg.data_seed, st.cfg.tiny);
    let name = kind.file_name(src);
    let (st2, src2, kind2) = (st.clone(), src.clone(), kind.clone());
    st.cache
        .get_or_make(key, name, move || {
            data::make_product(&st2.cat, &src2, &kind2, st2.cfg.data_seed, st2.cfg.tiny)
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "product generation failed");
            ApiError::Status(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
        })
}

/// A 200 file response.
pub(crate) fn file_response(
    name: &str,
    body: bytes::Bytes,
    content_type: &'static str,
) -> Response {
    use axum::http::header;
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_LENGTH, body.len().to_string()),
            (
                header::CONTENT_DISPOSITION,
                crate::wire::content_disposition(name),
            ),
        ],
        body,
    )
        .into_response()
}

/// `api/archivefile/download`.
pub(crate) async fn download(
    State(st): State<Arc<SimState>>,
    Query(p): Query<Params>,
) -> ApiResult<Response> {
    api::check(&p, &st.tokens, &["filename"], &["filename"])?;
    // A hostile listing's name (`evil_name`) still names its file.
    let name = crate::faults::real_name(&p["filename"]);
    let (src, kind) = resolve(&st, name)
        .ok_or_else(|| ApiError::code(96, "No file could be found.", "filename"))?;
    let body = product_bytes(&st, &src, &kind).await?;
    Ok(file_response(name, body, "application/octet-stream"))
}
