//! Simulator-only endpoints under `sim/` (never subject to faults, no token needed):
//! `sim/events?deviceCode=&dateFrom=&dateTo=` (synthetic events with exact times),
//! `sim/log` (the request log, token redacted, plus counters per path and per status),
//! `sim/reset-log`, and `sim/revoke?token=` (POST: every later API call with that token
//! answers 401, see [`crate::server`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};

use crate::api::{ApiError, ApiResult, Params};
use crate::data;
use crate::server::SimState;
use crate::time::UtcInstant;

/// `sim/events`.
pub(crate) async fn events(
    State(st): State<Arc<SimState>>,
    Query(p): Query<Params>,
) -> ApiResult<Json<Value>> {
    let dev = p
        .get("deviceCode")
        .ok_or_else(|| ApiError::code(128, "Missing required parameter", "deviceCode"))?;
    if st.cat.device(dev).is_none() {
        return Err(ApiError::invalid("deviceCode"));
    }
    let parse = |k: &str| -> ApiResult<UtcInstant> {
        let v = p
            .get(k)
            .ok_or_else(|| ApiError::code(128, "Missing required parameter", k))?;
        UtcInstant::parse(v).map_err(|_| ApiError::invalid(k))
    };
    let (from, to) = (parse("dateFrom")?, parse("dateTo")?);
    let evs = data::events(&st.cat, dev, from, to, st.cfg.data_seed);
    let items: Vec<Value> = evs
        .iter()
        .map(|e| {
            json!({
                "kind": e.kind,
                "start": e.start.to_onc_string(),
                "end": e.end().to_onc_string(),
                "durationMs": e.duration_ms,
                "fStartHz": e.f_start_hz,
                "fEndHz": e.f_end_hz,
                "harmonics": e.harmonics,
                "levelDb": e.level_db,
                "event": e,
            })
        })
        .collect();
    Ok(Json(
        json!({"deviceCode": dev, "dataSeed": st.cfg.data_seed, "events": items}),
    ))
}

/// `sim/log`.
pub(crate) async fn log(State(st): State<Arc<SimState>>) -> Json<Value> {
    let log = st.log();
    let mut by_path: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut faults: BTreeMap<String, u64> = BTreeMap::new();
    for r in &log {
        *by_path.entry(r.path.clone()).or_default() += 1;
        *by_status.entry(r.status.to_string()).or_default() += 1;
        if let Some(f) = &r.fault {
            *faults.entry(f.clone()).or_default() += 1;
        }
    }
    Json(json!({
        "requests": log,
        "counters": {"total": log.len(), "byPath": by_path, "byStatus": by_status, "faults": faults},
    }))
}

/// `sim/reset-log`.
pub(crate) async fn reset_log(State(st): State<Arc<SimState>>) -> Json<Value> {
    st.reset_log();
    Json(json!({"reset": true}))
}

/// `sim/revoke?token=` (POST).
pub(crate) async fn revoke(
    State(st): State<Arc<SimState>>,
    Query(p): Query<Params>,
) -> ApiResult<Json<Value>> {
    let token = p
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::code(128, "Missing required parameter", "token"))?;
    st.revoke(token);
    Ok(Json(json!({"revoked": true})))
}
