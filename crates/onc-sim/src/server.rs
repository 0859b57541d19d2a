//! The simulator's HTTP server: configuration, shared state, the router, the request log and
//! the fault middleware, and the in-process entry point [`spawn`].
//!
//! Decisions recorded here:
//! - With no token configured, the simulator accepts [`DEMO_TOKEN`] only.
//! - Non-loopback addresses are refused unless `allow_remote` is set.
//! - Every request is logged (method, path, parameters with `token` replaced by
//!   `REDACTED`, status, injected fault); `sim/log` returns the log and per-path counters,
//!   `sim/reset-log` clears it; `--request-log FILE` appends the same records as JSON lines.
//! - Two seeds: `seed` drives fault draws only, `data_seed` the synthetic data, so runs
//!   with and without faults (or with different fault seeds) serve identical files.
//! - The simulator's "now" (future-start checks, ongoing recordings) is the wall clock.
//! - `sim/revoke?token=` (POST) revokes a token mid-run, as when a user regenerates it on the
//!   ONC site: from then on every `api/*` call with it answers 401 with ONC's error document,
//!   before faults are drawn.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use tokio::sync::oneshot;

use crate::catalogue::Catalogue;
use crate::data::Cache;
use crate::faults::{FaultKind, FaultSpec};
use crate::jobs::Jobs;
use crate::time::UtcInstant;
use crate::{archive, delivery, discovery, extras, hostile};

/// Token accepted when none is configured.
pub const DEMO_TOKEN: &str = "00000000-5113-4d30-8000-000000de0000";

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to bind.
    pub host: String,
    /// Port (0: any free one).
    pub port: u16,
    /// Accepted tokens (empty: [`DEMO_TOKEN`]).
    pub tokens: Vec<String>,
    /// Factor applied to processing times.
    pub time_scale: f64,
    /// Running jobs per token.
    pub capacity: usize,
    /// Seed of fault draws.
    pub seed: u64,
    /// Seed of the synthetic data (independent of `seed`, so a faulty server serves the
    /// same bytes as a clean one).
    pub data_seed: u64,
    /// Faults to inject.
    pub faults: FaultSpec,
    /// Disk cache.
    pub cache_dir: Option<PathBuf>,
    /// JSON-lines request log.
    pub request_log: Option<PathBuf>,
    /// Lifetime of a complete run (then 410).
    pub run_ttl: Duration,
    /// Memory cache bound, bytes.
    pub mem_cache_bytes: usize,
    /// Allow non-loopback binds.
    pub allow_remote: bool,
    /// The job queue's clock (tests pass a [`crate::jobs::ManualClock`]).
    pub clock: crate::jobs::SharedClock,
    /// Which source files a product request selects (see [`crate::delivery`]).
    pub product_window: crate::delivery::ProductWindow,
    /// Serve tiny valid placeholder products (a few hundred bytes each) instead of the
    /// synthetic data, to measure orchestration apart from data generation.
    pub tiny: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 0,
            tokens: Vec::new(),
            time_scale: 1.0,
            capacity: 2,
            seed: 0,
            data_seed: 0,
            faults: FaultSpec::default(),
            cache_dir: None,
            request_log: None,
            run_ttl: Duration::from_secs(21 * 86_400),
            mem_cache_bytes: 1 << 30,
            allow_remote: false,
            clock: std::sync::Arc::new(crate::jobs::RealClock),
            product_window: crate::delivery::ProductWindow::Overlap,
            tiny: false,
        }
    }
}

/// One logged request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogRecord {
    /// Arrival number.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Parameters, token redacted.
    pub params: Vec<(String, String)>,
    /// Answered status.
    pub status: u16,
    /// Injected fault, if any.
    pub fault: Option<String>,
}

/// Shared state of a running simulator.
#[derive(Debug)]
pub struct SimState {
    /// Settings.
    pub cfg: SimConfig,
    /// Accepted tokens.
    pub tokens: Vec<String>,
    /// The world.
    pub cat: Catalogue,
    /// File cache.
    pub cache: Cache,
    /// Jobs.
    pub jobs: Mutex<Jobs>,
    log: Mutex<Vec<LogRecord>>,
    log_file: Option<Mutex<std::fs::File>>,
    seq: AtomicU64,
    api_seq: AtomicU64,
    revoked: Mutex<std::collections::HashSet<String>>,
}

impl SimState {
    /// State for `cfg` (opens the request log file).
    pub fn new(cfg: SimConfig) -> std::io::Result<Arc<Self>> {
        let tokens = if cfg.tokens.is_empty() {
            vec![DEMO_TOKEN.to_owned()]
        } else {
            cfg.tokens.clone()
        };
        let log_file = match &cfg.request_log {
            Some(p) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?,
            )),
            None => None,
        };
        Ok(Arc::new(Self {
            tokens,
            cat: Catalogue::builtin(),
            cache: Cache::new(cfg.mem_cache_bytes, cfg.cache_dir.clone()),
            jobs: Mutex::new(
                Jobs::new(cfg.capacity, cfg.run_ttl, cfg.time_scale).with_clock(cfg.clock.clone()),
            ),
            log: Mutex::new(Vec::new()),
            log_file,
            seq: AtomicU64::new(0),
            api_seq: AtomicU64::new(0),
            revoked: Mutex::default(),
            cfg,
        }))
    }

    /// The simulator's "now".
    #[must_use]
    pub fn now(&self) -> UtcInstant {
        UtcInstant::now()
    }

    /// A copy of the log.
    #[must_use]
    pub fn log(&self) -> Vec<LogRecord> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Clears the log.
    pub fn reset_log(&self) {
        if let Ok(mut l) = self.log.lock() {
            l.clear();
        }
    }

    /// Revokes `token`: every later API call with it answers 401.
    pub fn revoke(&self, token: &str) {
        if let Ok(mut r) = self.revoked.lock() {
            r.insert(token.to_owned());
        }
    }

    /// Whether `token` was revoked.
    #[must_use]
    pub fn is_revoked(&self, token: &str) -> bool {
        self.revoked.lock().is_ok_and(|r| r.contains(token))
    }

    fn record(&self, rec: LogRecord) {
        if let Some(f) = &self.log_file
            && let Ok(mut f) = f.lock()
            && let Ok(line) = serde_json::to_string(&rec)
        {
            use std::io::Write;
            let _ = writeln!(f, "{line}");
        }
        if let Ok(mut l) = self.log.lock() {
            l.push(rec);
        }
    }
}

/// Errors starting the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Non-loopback address without `allow_remote`.
    #[error("refusing to bind non-loopback address {host} (use --allow-remote)")]
    Remote {
        /// The host.
        host: String,
    },
    /// Bad host.
    #[error("invalid host {host}")]
    Host {
        /// The host.
        host: String,
    },
    /// I/O.
    #[error("cannot start the simulator")]
    Io(#[from] std::io::Error),
}

/// The router over `state`.
pub fn router(state: Arc<SimState>) -> Router {
    let api = Router::new()
        .route("/api/dataProductDelivery/request", get(delivery::request))
        .route("/api/dataProductDelivery/run", get(delivery::run))
        .route("/api/dataProductDelivery/status", get(delivery::status))
        .route("/api/dataProductDelivery/download", get(delivery::download))
        .route("/api/dataProductDelivery/cancel", get(delivery::cancel))
        .route("/api/dataProductDelivery/restart", get(delivery::restart))
        .route("/api/archivefile/device", get(archive::by_device))
        .route("/api/archivefile/location", get(archive::by_location))
        .route("/api/archivefile/download", get(archive::download))
        .route("/api/deployments", get(discovery::deployments))
        .route("/api/devices", get(discovery::devices))
        .route("/api/locations", get(discovery::locations))
        .route("/api/dataProducts", get(discovery::data_products))
        .route("/sim/events", get(extras::events))
        .route("/sim/log", get(extras::log))
        .route("/sim/revoke", axum::routing::post(extras::revoke))
        .route(
            "/sim/reset-log",
            get(extras::reset_log).post(extras::reset_log),
        );
    api.layer(middleware::from_fn_with_state(
        state.clone(),
        log_and_faults,
    ))
    .with_state(state)
}

async fn log_and_faults(State(st): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let seq = st.seq.fetch_add(1, Ordering::SeqCst);
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let mut revoked = false;
    let mut token = String::new();
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .map(|(k, v)| {
                let v = if k == "token" {
                    revoked |= st.is_revoked(&v);
                    token = v.clone().into_owned();
                    "REDACTED".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
    let is_api = path.starts_with("/api/");
    if is_api && revoked {
        st.api_seq.fetch_add(1, Ordering::SeqCst);
        let resp = crate::api::ApiError::Unauthorized.into_response();
        st.record(LogRecord {
            seq,
            method,
            path,
            params,
            status: resp.status().as_u16(),
            fault: None,
        });
        return resp;
    }
    let fault = if is_api && !st.cfg.faults.is_empty() {
        let n = st.api_seq.fetch_add(1, Ordering::SeqCst);
        st.cfg.faults.draw(st.cfg.seed, n)
    } else {
        if is_api {
            st.api_seq.fetch_add(1, Ordering::SeqCst);
        }
        None
    };
    let is_file =
        path == "/api/archivefile/download" || path == "/api/dataProductDelivery/download";
    let (resp, applied) = match fault {
        Some(FaultKind::EchoToken) if path == "/api/dataProductDelivery/run" => {
            let r = next.run(req).await;
            (hostile::echo_run_status(r, &token).await, fault)
        }
        Some(FaultKind::EchoToken) => (hostile::echo_error(StatusCode::BAD_REQUEST, &token), fault),
        Some(FaultKind::Status500) => (StatusCode::INTERNAL_SERVER_ERROR.into_response(), fault),
        Some(FaultKind::Status503) => (StatusCode::SERVICE_UNAVAILABLE.into_response(), fault),
        Some(FaultKind::Status429) => {
            let mut r = StatusCode::TOO_MANY_REQUESTS.into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            (r, fault)
        }
        Some(
            k @ (FaultKind::Reset | FaultKind::Truncate | FaultKind::Slow | FaultKind::ShortBody),
        ) if is_file => {
            let r = next.run(req).await;
            if r.status() == StatusCode::OK {
                (damage(r, k).await, fault)
            } else {
                (r, None)
            }
        }
        _ => (next.run(req).await, None),
    };
    let resp = if resp.status() == StatusCode::UNAUTHORIZED
        && st.cfg.faults.rate(FaultKind::EchoToken) > 0.0
    {
        hostile::echo_error(StatusCode::UNAUTHORIZED, &token)
    } else {
        resp
    };
    st.record(LogRecord {
        seq,
        method,
        path,
        params,
        status: resp.status().as_u16(),
        fault: applied.map(|k| k.word().to_owned()),
    });
    resp
}

async fn damage(resp: Response, kind: FaultKind) -> Response {
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let half = bytes.slice(..bytes.len() / 2);
    let body = match kind {
        FaultKind::Reset => Body::from_stream(futures::stream::iter([
            Ok(half),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "injected reset",
            )),
        ])),
        FaultKind::Truncate => {
            Body::from_stream(futures::stream::iter([Ok::<_, std::io::Error>(half)]))
        }
        FaultKind::ShortBody => {
            // No length announced: a chunked body that ends cleanly after half the file.
            let mut r = Response::from_parts(
                parts,
                Body::from_stream(futures::stream::iter([Ok::<_, std::io::Error>(half)])),
            );
            r.headers_mut().remove(header::CONTENT_LENGTH);
            return r;
        }
        _ => {
            let chunks: Vec<bytes::Bytes> = bytes
                .chunks(64 * 1024)
                .map(bytes::Bytes::copy_from_slice)
                .collect();
            Body::from_stream(futures::stream::unfold(
                chunks.into_iter(),
                |mut it| async move {
                    let c = it.next()?;
                    tokio::time::sleep(Duration::from_millis(60)).await;
                    Some((Ok::<_, std::io::Error>(c), it))
                },
            ))
        }
    };
    let mut r = Response::from_parts(parts, body);
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    r
}

/// A running in-process simulator.
#[derive(Debug)]
pub struct SimHandle {
    /// `http://HOST:PORT/`.
    pub base_url: String,
    /// Bound address.
    pub addr: SocketAddr,
    /// Shared state.
    pub state: Arc<SimState>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl SimHandle {
    /// The request log so far.
    #[must_use]
    pub fn request_log(&self) -> Vec<LogRecord> {
        self.state.log()
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Waits until the server stops (for the CLI).
    pub async fn wait(self) -> std::io::Result<()> {
        self.task.await.map_err(std::io::Error::other)?
    }
}

/// Binds and serves `cfg` on the current tokio runtime.
pub async fn spawn(cfg: SimConfig) -> Result<SimHandle, SimError> {
    let ip: std::net::IpAddr = if cfg.host == "localhost" {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        cfg.host.parse().map_err(|_| SimError::Host {
            host: cfg.host.clone(),
        })?
    };
    if !ip.is_loopback() && !cfg.allow_remote {
        return Err(SimError::Remote {
            host: cfg.host.clone(),
        });
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, cfg.port)).await?;
    let addr = listener.local_addr()?;
    let state = SimState::new(cfg)?;
    let app = router(state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    Ok(SimHandle {
        base_url: format!("http://{addr}/"),
        addr,
        state,
        stop: Some(tx),
        task,
    })
}
