//! `api/dataProductDelivery/request|run|status|download|cancel|restart`.
//!
//! Decisions recorded here:
//! - Which source files a request selects is ONC's open question 15 (fact sheet §15), so it
//!   is a switch, [`ProductWindow`] (`hydrofetch sim --product-window`):
//!   - `overlap` (the default): the files overlapping `[dateFrom, dateTo)`, exactly as
//!     `archivefile` does by ONC's documentation (the file running across `dateFrom` is
//!     included, so `dateFrom = dateTo` selects the file holding that instant: on a drifting
//!     device, the one that started almost five minutes earlier);
//!   - `start`: the files whose start lies in `[dateFrom, dateTo]`, both ends included. The
//!     evidence for it: onc-hydrophone-data, written against the live API, asks for
//!     `dateTo = dateFrom + (n − 1) × 300 s` "to get precisely the requested number of
//!     spectrograms" and sends `dateFrom = dateTo` for one spectrogram, which only works
//!     if the start is what is selected and `dateTo` is inclusive.
//!
//!   Either way one product file per source file, named from it (see
//!   [`crate::data::ProductKind::file_name`]); archive listings always use overlap.
//! - Data source: `deviceCode`, or `locationCode` + `deviceCategoryCode=HYDROPHONE` (the
//!   first device deployed there in the span). A device with no files in the span, or options
//!   selecting no data, still get a request id; downloads then answer 204.
//! - `request` for archived products answers `fileSize` (an estimate in bytes);
//!   on-demand products answer `estimatedFileSize` (`"12 MB"`) and
//!   `estimatedProcessingTime` (`"<n> s"`, already multiplied by `--time-scale`, at least 1).
//!   `numFiles` is added (a simulator extension).
//! - `download`: 202 `{"message","status"}` while queued/running (and `status: "error"` for a
//!   failed run), 200 file, 204 no data, 404 past the last index, 410 after expiry, 400
//!   without `errors` after cancel, 127 for an unknown run or a bad index. `index=meta` gives
//!   `<device>_<from>_<to>-<code>_<EXT>_META.xml`. A GET answering 200 marks the request
//!   `COMPLETED` (HEAD does not).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use crate::time::UtcInstant;

use crate::api::{self, ApiError, ApiResult, Params};
use crate::archive::{estimate_size, file_response, product_bytes, url_of};
use crate::jobs::{RequestRec, RunState};
use crate::options;
use crate::server::SimState;
use crate::wire::{DownloadProgress, RequestResponse, RunEntry, RunStatusEntry, StatusResponse};

const REQUEST_PARAMS: &[&str] = &[
    "dataProductCode",
    "extension",
    "deviceCode",
    "locationCode",
    "deviceCategoryCode",
    "dateFrom",
    "dateTo",
];

/// Which source files a product request selects for `dateFrom..dateTo` (module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProductWindow {
    /// Files overlapping `[dateFrom, dateTo)`, like `archivefile`.
    #[default]
    Overlap,
    /// Files whose start lies in `[dateFrom, dateTo]`.
    Start,
}

impl ProductWindow {
    /// The setting's name, as `--product-window` takes it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Overlap => "overlap",
            Self::Start => "start",
        }
    }

    /// The source files of `device` (at `location`) this rule selects for `from..to`.
    #[must_use]
    pub fn select(
        self,
        cat: &crate::catalogue::Catalogue,
        device: &crate::catalogue::Device,
        location: Option<&str>,
        (from, to): (UtcInstant, UtcInstant),
        now: UtcInstant,
    ) -> Vec<crate::catalogue::SourceFile> {
        match self {
            Self::Overlap => cat.files(device, location, from, to, now),
            // Every file starting in `[from, to]` overlaps `[from, to + 1 ms)`.
            Self::Start => cat
                .files(device, location, from, to.add_millis(1), now)
                .into_iter()
                .filter(|f| f.start >= from && f.start <= to)
                .collect(),
        }
    }
}

impl std::fmt::Display for ProductWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ProductWindow {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "overlap" => Ok(Self::Overlap),
            "start" => Ok(Self::Start),
            _ => Err(format!(
                "unknown product window `{s}` (expected `overlap` or `start`)"
            )),
        }
    }
}

fn format_size(b: u64) -> String {
    match b {
        0..1_000 => format!("{b} B"),
        1_000..1_000_000 => format!("{} kB", b.div_ceil(1_000)),
        _ => format!("{} MB", b.div_ceil(1_000_000)),
    }
}

/// `request`.
pub(crate) async fn request(
    State(st): State<Arc<SimState>>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> ApiResult<Json<RequestResponse>> {
    let mut allowed: Vec<&str> = REQUEST_PARAMS.to_vec();
    allowed.extend(
        p.keys()
            .filter(|k| k.starts_with("dpo_"))
            .map(String::as_str),
    );
    api::check(
        &p,
        &st.tokens,
        &allowed,
        &["dataProductCode", "extension", "dateFrom", "dateTo"],
    )?;
    let now = st.now();
    let (from, to) = api::span(&p, now, now)?;
    let (device, location) = match (p.get("deviceCode"), p.get("locationCode")) {
        (Some(d), _) => (
            st.cat
                .device(d)
                .ok_or_else(|| ApiError::invalid("deviceCode"))?,
            None,
        ),
        (None, Some(l)) => {
            if !p.contains_key("deviceCategoryCode") {
                return Err(ApiError::code(
                    128,
                    "Missing required parameter",
                    "deviceCategoryCode",
                ));
            }
            if p["deviceCategoryCode"] != "HYDROPHONE" || st.cat.location(l).is_none() {
                return Err(ApiError::invalid("locationCode/deviceCategoryCode"));
            }
            let d = st.cat.devices_at(l, from, to).into_iter().next().ok_or_else(|| {
                ApiError::invalid_msg(
                    "dateFrom/dateTo",
                    &format!("A device with category HYDROPHONE was deployed at location {l} but not during the provided time range"),
                )
            })?;
            (d, Some(l.as_str()))
        }
        (None, None) => {
            return Err(ApiError::code(
                128,
                "Missing required parameter",
                "deviceCode/locationCode",
            ));
        }
    };
    let choice = options::choose(&p, device)?;
    let files = if choice.no_data {
        Vec::new()
    } else {
        selected(&st, device, location, (from, to), now)
    };
    let size: u64 = files.iter().map(|f| estimate_size(f, &choice.kind)).sum();
    let n = files.len() as u64;
    let rec = RequestRec {
        token: p["token"].clone(),
        files,
        choice,
        run: None,
        downloaded: false,
        params: p
            .iter()
            .filter(|(k, _)| k.as_str() != "token")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    let mut jobs = st
        .jobs
        .lock()
        .map_err(|_| ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR))?;
    let secs = jobs.duration_of(&rec).as_secs_f64().ceil().max(1.0);
    let on_demand = rec.choice.on_demand;
    let id = jobs.add_request(rec);
    drop(jobs);
    Ok(Json(RequestResponse {
        dp_request_id: id,
        file_size: (!on_demand).then_some(size),
        estimated_file_size: on_demand.then(|| format_size(size)),
        estimated_processing_time: on_demand.then(|| format!("{secs} s")),
        num_files: Some(n),
        disclaimer: Some("Simulated: sizes and times are rough estimates.".into()),
        messages: Vec::new(),
        query_pids: Some(25_848_930 + id % 1000),
        query_url: Some(url_of(&headers, "api/dataProductDelivery/request", &p)),
    }))
}

/// The source files a product request selects: the rule's, less the first with the
/// `drop_first` fault.
fn selected(
    st: &SimState,
    device: &crate::catalogue::Device,
    location: Option<&str>,
    (from, to): (UtcInstant, UtcInstant),
    now: UtcInstant,
) -> Vec<crate::catalogue::SourceFile> {
    let mut files = st
        .cfg
        .product_window
        .select(&st.cat, device, location, (from, to), now);
    if files.len() > 1
        && st.cfg.faults.drop_first(
            st.cfg.seed,
            device.code,
            from.unix_millis(),
            to.unix_millis(),
        )
    {
        files.remove(0);
    }
    files
}

fn will_error(st: &SimState) -> impl Fn(u64, u32) -> bool + '_ {
    move |run, attempt| st.cfg.faults.run_error(st.cfg.seed, run, attempt)
}

fn req_id(p: &Params) -> ApiResult<u64> {
    api::uint(p, "dpRequestId")?.ok_or_else(|| ApiError::invalid("dpRequestId"))
}

fn run_entry(jobs: &crate::jobs::Jobs, run: u64) -> Option<RunEntry> {
    let r = jobs.runs.get(&run)?;
    let files = jobs.requests.get(&r.request)?.files.len() as u64;
    Some(RunEntry {
        dp_run_id: run,
        file_count: if matches!(r.state, RunState::Complete(_)) {
            files
        } else {
            0
        },
        status: r.state.word().to_owned(),
        queue_position: jobs.queue_position(run),
    })
}

/// `run`.
pub(crate) async fn run(
    State(st): State<Arc<SimState>>,
    Query(p): Query<Params>,
) -> ApiResult<Response> {
    api::check(&p, &st.tokens, &["dpRequestId"], &["dpRequestId"])?;
    let id = req_id(&p)?;
    let mut jobs = st
        .jobs
        .lock()
        .map_err(|_| ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR))?;
    let now = jobs.now();
    match jobs.requests.get(&id) {
        Some(r) if r.token == p["token"] => {}
        _ => return Err(ApiError::invalid("dpRequestId")),
    }
    let run = jobs
        .run(id, now, will_error(&st))
        .ok_or_else(|| ApiError::invalid("dpRequestId"))?;
    jobs.advance(&p["token"], now);
    let e = run_entry(&jobs, run).ok_or_else(|| ApiError::invalid("dpRequestId"))?;
    let code = if e.status == crate::wire::status::COMPLETE {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((code, Json(vec![e])).into_response())
}

/// `status`.
pub(crate) async fn status(
    State(st): State<Arc<SimState>>,
    Query(p): Query<Params>,
) -> ApiResult<Json<StatusResponse>> {
    api::check(&p, &st.tokens, &["dpRequestId"], &["dpRequestId"])?;
    let id = req_id(&p)?;
    let mut jobs = st
        .jobs
        .lock()
        .map_err(|_| ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR))?;
    let now = jobs.now();
    jobs.advance(&p["token"], now);
    let r = jobs
        .requests
        .get(&id)
        .filter(|r| r.token == p["token"])
        .ok_or_else(|| ApiError::invalid("dpRequestId"))?;
    let runs = r
        .run
        .and_then(|x| run_entry(&jobs, x))
        .into_iter()
        .collect();
    Ok(Json(StatusResponse {
        dp_request_id: id,
        search_hdr_status: if r.downloaded { "COMPLETED" } else { "OPEN" }.into(),
        runs,
    }))
}

/// `cancel`.
pub(crate) async fn cancel(
    State(st): State<Arc<SimState>>,
    Query(p): Query<Params>,
) -> ApiResult<Json<Vec<RunStatusEntry>>> {
    api::check(&p, &st.tokens, &["dpRequestId"], &["dpRequestId"])?;
    let id = req_id(&p)?;
    let mut jobs = st
        .jobs
        .lock()
        .map_err(|_| ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR))?;
    if jobs.requests.get(&id).is_none_or(|r| r.token != p["token"]) {
        return Err(ApiError::invalid("dpRequestId"));
    }
    let now = jobs.now();
    Ok(Json(
        jobs.cancel(id, now)
            .map(|run| RunStatusEntry {
                dp_run_id: run,
                status: crate::wire::status::CANCELLED.into(),
            })
            .into_iter()
            .collect(),
    ))
}

/// `restart`.
pub(crate) async fn restart(
    State(st): State<Arc<SimState>>,
    Query(p): Query<Params>,
) -> ApiResult<Json<Vec<RunStatusEntry>>> {
    api::check(&p, &st.tokens, &["dpRequestId"], &["dpRequestId"])?;
    let id = req_id(&p)?;
    let mut jobs = st
        .jobs
        .lock()
        .map_err(|_| ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR))?;
    if jobs.requests.get(&id).is_none_or(|r| r.token != p["token"]) {
        return Err(ApiError::invalid("dpRequestId"));
    }
    let now = jobs.now();
    let out = match jobs.restart(id, now, will_error(&st)) {
        Some(run) => {
            let status = jobs
                .runs
                .get(&run)
                .map_or(crate::wire::status::QUEUED, |r| r.state.word())
                .to_owned();
            vec![RunStatusEntry {
                dp_run_id: run,
                status,
            }]
        }
        None => Vec::new(),
    };
    Ok(Json(out))
}

fn progress(code: StatusCode, message: &str, status: &str) -> Response {
    (
        code,
        Json(DownloadProgress {
            message: message.into(),
            status: status.into(),
        }),
    )
        .into_response()
}

/// `download` (GET and HEAD).
#[expect(
    clippy::too_many_lines,
    reason = "one handler for ONC's request endpoint, validating parameters in ONC's own order"
)]
pub(crate) async fn download(
    State(st): State<Arc<SimState>>,
    method: Method,
    Query(p): Query<Params>,
) -> ApiResult<Response> {
    api::check(&p, &st.tokens, &["dpRunId", "index"], &["dpRunId", "index"])?;
    let run = api::uint(&p, "dpRunId")?.ok_or_else(|| ApiError::invalid("dpRunId"))?;
    let (state, req_id, files, kind, code, ext) = {
        let mut jobs = st
            .jobs
            .lock()
            .map_err(|_| ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR))?;
        let now = jobs.now();
        jobs.advance(&p["token"], now);
        let r = jobs
            .runs
            .get(&run)
            .filter(|r| r.token == p["token"])
            .ok_or_else(|| ApiError::invalid("dpRunId"))?;
        let (state, req_id) = (r.state, r.request);
        if jobs.expired(state, now) {
            return Err(ApiError::Status(StatusCode::GONE));
        }
        let q = jobs
            .requests
            .get(&req_id)
            .ok_or_else(|| ApiError::invalid("dpRunId"))?;
        (
            state,
            req_id,
            q.files.clone(),
            q.choice.kind.clone(),
            q.choice.code.clone(),
            q.choice.ext.clone(),
        )
    };
    match state {
        RunState::Cancelled => return Err(ApiError::Cancelled),
        RunState::Queued => {
            let pos = st
                .jobs
                .lock()
                .ok()
                .and_then(|j| j.queue_position(run))
                .unwrap_or(1);
            return Ok(progress(
                StatusCode::ACCEPTED,
                &format!("Queued (position {pos})"),
                crate::wire::status::QUEUED,
            ));
        }
        RunState::Running(_) => return Ok(progress(StatusCode::ACCEPTED, "Running", "running")),
        RunState::Error => {
            return Ok(progress(
                StatusCode::ACCEPTED,
                "Error: data product generation failed",
                crate::wire::status::ERROR,
            ));
        }
        RunState::Complete(_) => {}
    }
    let index = &p["index"];
    let resp = if index == "meta" {
        let params = st
            .jobs
            .lock()
            .ok()
            .and_then(|j| j.requests.get(&req_id).map(|r| r.params.clone()))
            .unwrap_or_default();
        let (name, xml) = meta_xml(&st, &params, &files, &code, &ext, run);
        file_response(&name, xml.into(), "application/xml")
    } else {
        let i: usize = index.parse().map_err(|_| ApiError::invalid("index"))?;
        if i == 0 {
            return Err(ApiError::invalid("index"));
        }
        if files.is_empty() {
            return Err(ApiError::Status(StatusCode::NO_CONTENT));
        }
        let src = files
            .get(i - 1)
            .ok_or(ApiError::Status(StatusCode::NOT_FOUND))?;
        let body = product_bytes(&st, src, &kind).await?;
        let real = kind.file_name(src);
        let name = st
            .cfg
            .faults
            .evil_name(
                st.cfg.seed,
                src.device,
                src.start.unix_millis(),
                &real,
                true,
            )
            .unwrap_or(real);
        file_response(&name, body, "application/octet-stream")
    };
    if method == Method::GET
        && let Ok(mut jobs) = st.jobs.lock()
        && let Some(r) = jobs.requests.get_mut(&req_id)
    {
        r.downloaded = true;
    }
    Ok(resp)
}

fn meta_xml(
    st: &SimState,
    p: &[(String, String)],
    files: &[crate::catalogue::SourceFile],
    code: &str,
    ext: &str,
    run: u64,
) -> (String, String) {
    let dev = files.first().map_or("SIM", |f| f.device);
    let (a, b) = match (files.first(), files.last()) {
        (Some(a), Some(b)) => (a.start, b.end),
        _ => (st.now(), st.now()),
    };
    let name = format!(
        "{dev}_{}_{}-{code}_{}_META.xml",
        a.to_file_stamp(),
        b.to_file_stamp(),
        ext.to_uppercase()
    );
    let kind = crate::jobs::RunState::word(RunState::Complete(Instant::now()));
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<dataProductMetadata simulated=\"true\">\n",
    );
    let _ = writeln!(x, "  <dpRunId>{run}</dpRunId>\n  <status>{kind}</status>");
    let _ = writeln!(
        x,
        "  <dataProductCode>{code}</dataProductCode>\n  <extension>{ext}</extension>"
    );
    let _ = writeln!(
        x,
        "  <deviceCode>{dev}</deviceCode>\n  <dataSeed>{}</dataSeed>",
        st.cfg.data_seed
    );
    x.push_str("  <parameters>\n");
    for (k, v) in p.iter().filter(|(k, _)| k.as_str() != "token") {
        let _ = writeln!(
            x,
            "    <parameter name=\"{}\">{}</parameter>",
            xml_escape(k),
            xml_escape(v)
        );
    }
    x.push_str("  </parameters>\n  <files>\n");
    for f in files {
        let _ = writeln!(
            x,
            "    <file dateFrom=\"{}\" dateTo=\"{}\">{}</file>",
            f.start.to_onc_string(),
            f.end.to_onc_string(),
            xml_escape(&f.base_name())
        );
    }
    x.push_str("  </files>\n</dataProductMetadata>\n");
    (name, x)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
