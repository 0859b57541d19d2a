//! ONC-shaped errors and query-parameter checks shared by every simulator endpoint.
//!
//! Decisions recorded here:
//! - Check order: token (401) first, then unknown names (129), then missing required (128),
//!   then values (127, 25, 23), so one request gets one predictable error.
//! - `token` is accepted on every endpoint and never counted as unknown.
//! - Dates: ISO 8601 as accepted by [`UtcInstant::parse`] (date-only means midnight UTC);
//!   relative durations (`-P1D`) are not simulated and answer 127.
//! - `dateFrom` after `dateTo` → 23; equal dates are accepted (empty span); `dateFrom` after
//!   the simulator's "now" → 25.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::time::UtcInstant;
use crate::wire::{ErrorBody, ErrorItem};

/// Query parameters of one request (last value wins for repeated names).
pub type Params = BTreeMap<String, String>;

/// A failed API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400 with the ONC error document.
    Bad(Vec<ErrorItem>),
    /// 401 (bad or missing token).
    Unauthorized,
    /// A bare status (204, 404, 410, 500, ...), empty body.
    Status(StatusCode),
    /// 400 without an `errors` key (download of a cancelled run).
    Cancelled,
}

impl ApiError {
    /// One-item 400.
    #[must_use]
    pub fn code(code: u32, message: &str, parameter: &str) -> Self {
        Self::Bad(vec![ErrorItem {
            error_code: code,
            error_message: message.to_owned(),
            parameter: parameter.to_owned(),
        }])
    }

    /// 400/127 for `parameter`.
    #[must_use]
    pub fn invalid(parameter: &str) -> Self {
        Self::code(127, "Invalid parameter value", parameter)
    }

    /// 400/127 with a specific message.
    #[must_use]
    pub fn invalid_msg(parameter: &str, message: &str) -> Self {
        Self::code(127, message, parameter)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Bad(errors) => {
                (StatusCode::BAD_REQUEST, Json(ErrorBody { errors })).into_response()
            }
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                Json(ErrorBody {
                    errors: vec![ErrorItem {
                        error_code: 127,
                        error_message: "Invalid parameter value".into(),
                        parameter: "token".into(),
                    }],
                }),
            )
                .into_response(),
            Self::Status(s) => s.into_response(),
            Self::Cancelled => (
                StatusCode::BAD_REQUEST,
                Json(crate::wire::DownloadProgress {
                    message: "The data product run was cancelled".into(),
                    status: crate::wire::status::CANCELLED.into(),
                }),
            )
                .into_response(),
        }
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// Checks the token, then that every name is in `allowed` (129), then that every name of
/// `required` is present (128).
pub fn check(p: &Params, tokens: &[String], allowed: &[&str], required: &[&str]) -> ApiResult<()> {
    match p.get("token") {
        Some(t) if tokens.iter().any(|x| x == t) => {}
        _ => return Err(ApiError::Unauthorized),
    }
    let unknown: Vec<&str> = p
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "token" && !allowed.contains(k))
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::Bad(
            unknown
                .into_iter()
                .map(|k| ErrorItem {
                    error_code: 129,
                    error_message: "Invalid parameter name".into(),
                    parameter: k.to_owned(),
                })
                .collect(),
        ));
    }
    for r in required {
        if p.get(*r).is_none_or(std::string::String::is_empty) {
            return Err(ApiError::code(128, "Missing required parameter", r));
        }
    }
    Ok(())
}

/// Parses an optional date parameter.
pub fn date(p: &Params, name: &str) -> ApiResult<Option<UtcInstant>> {
    match p.get(name) {
        None => Ok(None),
        Some(v) => UtcInstant::parse(v)
            .map(Some)
            .map_err(|_| ApiError::invalid(name)),
    }
}

/// The `[dateFrom, dateTo)` span with defaults, checked for 23 and 25.
pub fn span(
    p: &Params,
    default_from: UtcInstant,
    now: UtcInstant,
) -> ApiResult<(UtcInstant, UtcInstant)> {
    let from = date(p, "dateFrom")?.unwrap_or(default_from);
    let to = date(p, "dateTo")?.unwrap_or(now);
    if from > now {
        return Err(ApiError::code(
            25,
            "Invalid Time Range, Start Time is in the future.",
            "dateFrom",
        ));
    }
    if from > to {
        return Err(ApiError::code(
            23,
            "Invalid time range, dateFrom is after dateTo.",
            "dateFrom/dateTo",
        ));
    }
    Ok((from, to))
}

/// Parses an optional unsigned integer parameter (127 when malformed).
pub fn uint(p: &Params, name: &str) -> ApiResult<Option<u64>> {
    match p.get(name) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| ApiError::invalid(name)),
    }
}
