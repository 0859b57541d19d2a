//! Discovery endpoints: `api/deployments`, `api/devices`, `api/locations`,
//! `api/dataProducts`.
//!
//! Decisions recorded here:
//! - Filters are matched exactly; `dateFrom`/`dateTo` select by overlap.
//! - Empty results follow ONC's asymmetries: `deployments` → 400/127, `dataProducts` → 404,
//!   `devices` and `locations` → 400/127 as well (not confirmed for ONC).
//! - Only the `HYDROPHONE` category exists; any other `deviceCategoryCode` matches nothing.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;

use crate::api::{self, ApiError, ApiResult, Params};
use crate::catalogue::overlaps;
use crate::options;
use crate::server::SimState;
use crate::time::UtcInstant;
use crate::wire::{self, Bbox, Citation, DataRating};

fn cat_ok(p: &Params) -> bool {
    p.get("deviceCategoryCode")
        .is_none_or(|c| c == "HYDROPHONE")
}

fn span(st: &SimState, p: &Params) -> ApiResult<(UtcInstant, UtcInstant)> {
    let now = st.now();
    api::span(
        p,
        UtcInstant::from_unix_millis(i64::MIN / 4),
        now.add_millis(86_400_000 * 3650),
    )
    .and_then(|(a, b)| {
        if a > now {
            Err(ApiError::code(
                25,
                "Invalid Time Range, Start Time is in the future.",
                "dateFrom",
            ))
        } else {
            Ok((a, b))
        }
    })
}

fn eq(p: &Params, k: &str, v: &str) -> bool {
    p.get(k).is_none_or(|x| x == v)
}

/// `deployments`.
pub(crate) async fn deployments(
    State(st): State<Arc<SimState>>,
    Query(p): Query<Params>,
) -> ApiResult<Json<Vec<wire::Deployment>>> {
    api::check(
        &p,
        &st.tokens,
        &[
            "locationCode",
            "deviceCategoryCode",
            "deviceCode",
            "propertyCode",
            "dateFrom",
            "dateTo",
        ],
        &[],
    )?;
    let (from, to) = span(&st, &p)?;
    let mut out = Vec::new();
    for d in &st.cat.devices {
        for dep in &d.deployments {
            if eq(&p, "deviceCode", d.code)
                && eq(&p, "locationCode", dep.location_code)
                && cat_ok(&p)
                && !p.contains_key("propertyCode")
                && overlaps(dep.begin, dep.end, from, to)
            {
                let (citation, doi) = st.cat.citation(d, dep);
                out.push(wire::Deployment {
                    begin: dep.begin.to_onc_string(),
                    end: dep.end.map(UtcInstant::to_onc_string),
                    citation: Citation {
                        citation,
                        landing_page_url: format!("https://doi.org/{doi}"),
                        doi,
                        query_pid: None,
                    },
                    depth: dep.depth,
                    device_category_code: "HYDROPHONE".into(),
                    device_code: d.code.into(),
                    has_device_data: true,
                    heading: None,
                    pitch: None,
                    roll: None,
                    lat: dep.lat,
                    lon: dep.lon,
                    location_code: dep.location_code.into(),
                });
            }
        }
    }
    if out.is_empty() {
        return Err(ApiError::invalid_msg(
            "deviceCode/locationCode",
            "No deployments found for the provided parameters",
        ));
    }
    Ok(Json(out))
}

/// `devices`.
pub(crate) async fn devices(
    State(st): State<Arc<SimState>>,
    Query(p): Query<Params>,
) -> ApiResult<Json<Vec<wire::Device>>> {
    api::check(
        &p,
        &st.tokens,
        &[
            "locationCode",
            "deviceCategoryCode",
            "deviceCode",
            "propertyCode",
            "dateFrom",
            "dateTo",
            "deviceName",
        ],
        &[],
    )?;
    let (from, to) = span(&st, &p)?;
    let out: Vec<wire::Device> = st
        .cat
        .devices
        .iter()
        .filter(|d| {
            eq(&p, "deviceCode", d.code)
                && eq(&p, "deviceName", d.name)
                && cat_ok(&p)
                && !p.contains_key("propertyCode")
                && d.deployments.iter().any(|dep| {
                    eq(&p, "locationCode", dep.location_code)
                        && overlaps(dep.begin, dep.end, from, to)
                })
        })
        .map(|d| wire::Device {
            data_rating: vec![DataRating {
                date_from: d
                    .deployments
                    .first()
                    .map(|x| x.begin.to_onc_string())
                    .unwrap_or_default(),
                date_to: None,
                sample_period: 1.0 / f64::from(d.sample_rate),
                sample_size: 1,
            }],
            device_category_code: "HYDROPHONE".into(),
            device_code: d.code.into(),
            device_id: d.id,
            device_link: format!(
                "https://data.oceannetworks.ca/DeviceListing?DeviceId={}",
                d.id
            ),
            device_name: d.name.into(),
            has_device_data: true,
        })
        .collect();
    if out.is_empty() {
        return Err(ApiError::invalid("deviceCode/locationCode"));
    }
    Ok(Json(out))
}

/// `locations`.
pub(crate) async fn locations(
    State(st): State<Arc<SimState>>,
    Query(p): Query<Params>,
) -> ApiResult<Json<Vec<wire::Location>>> {
    api::check(
        &p,
        &st.tokens,
        &[
            "locationCode",
            "deviceCategoryCode",
            "deviceCode",
            "propertyCode",
            "dataProductCode",
            "dateFrom",
            "dateTo",
            "locationName",
            "includeChildren",
        ],
        &[],
    )?;
    let (from, to) = span(&st, &p)?;
    let out: Vec<wire::Location> = st
        .cat
        .locations
        .iter()
        .filter_map(|l| {
            let deps: Vec<_> = st
                .cat
                .devices
                .iter()
                .flat_map(|d| d.deployments.iter().map(move |dep| (d, dep)))
                .filter(|(d, dep)| {
                    dep.location_code == l.code
                        && eq(&p, "deviceCode", d.code)
                        && overlaps(dep.begin, dep.end, from, to)
                })
                .collect();
            let keep = eq(&p, "locationCode", l.code)
                && eq(&p, "locationName", l.name)
                && cat_ok(&p)
                && !p.contains_key("propertyCode")
                && p.get("dataProductCode")
                    .is_none_or(|c| c == "AD" || c == "HSD")
                && !deps.is_empty();
            keep.then(|| wire::Location {
                deployments: u32::try_from(deps.len()).unwrap_or(u32::MAX),
                location_name: l.name.into(),
                depth: l.depth,
                bbox: Bbox {
                    max_depth: l.depth,
                    max_lat: l.lat,
                    max_lon: l.lon,
                    min_depth: l.depth,
                    min_lat: l.lat,
                    min_lon: l.lon,
                },
                description: format!("{} (simulated)", l.name),
                has_device_data: true,
                lon: l.lon,
                location_code: l.code.into(),
                has_property_data: false,
                lat: l.lat,
                data_search_url: format!(
                    "https://data.oceannetworks.ca/DataSearch?location={}",
                    l.code
                ),
            })
        })
        .collect();
    if out.is_empty() {
        return Err(ApiError::invalid("locationCode"));
    }
    Ok(Json(out))
}

/// `dataProducts`.
pub(crate) async fn data_products(
    State(st): State<Arc<SimState>>,
    Query(p): Query<Params>,
) -> ApiResult<Json<Vec<wire::DataProduct>>> {
    api::check(
        &p,
        &st.tokens,
        &[
            "dataProductCode",
            "extension",
            "dataProductName",
            "propertyCode",
            "locationCode",
            "deviceCategoryCode",
            "deviceCode",
        ],
        &[],
    )?;
    if let Some(c) = p.get("dataProductCode")
        && ![
            "AD", "HSD", "HSPD", "HARD", "HACC", "HCF", "LF", "TSSD", "SHV",
        ]
        .contains(&c.as_str())
    {
        return Err(ApiError::invalid("dataProductCode"));
    }
    if let Some(d) = p.get("deviceCode")
        && st.cat.device(d).is_none()
    {
        return Err(ApiError::invalid("deviceCode"));
    }
    if let Some(l) = p.get("locationCode")
        && st.cat.location(l).is_none()
    {
        return Err(ApiError::invalid("locationCode"));
    }
    let out: Vec<wire::DataProduct> = options::catalogue()
        .into_iter()
        .filter(|d| {
            eq(&p, "dataProductCode", &d.data_product_code)
                && eq(&p, "extension", &d.extension)
                && eq(&p, "dataProductName", &d.data_product_name)
                && cat_ok(&p)
                && !p.contains_key("propertyCode")
        })
        .collect();
    if out.is_empty() {
        return Err(ApiError::Status(StatusCode::NOT_FOUND));
    }
    Ok(Json(out))
}
