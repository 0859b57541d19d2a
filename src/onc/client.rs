//! The ONC Oceans 3.0 HTTP client: data product delivery, archive files, discovery.
//!
//! Every call is a GET with query parameters and the token as `token=`. A call is retried
//! ([`RetryPolicy`]) on transport errors, 5xx, 429 (honouring `Retry-After`) and truncated
//! bodies; 400 and 401 are returned at once. `cancel` is the exception: one attempt, bounded
//! in time, because it is sent while shutting down. Downloads stream to a temporary file
//! beside their destination while hashing, check the size, fsync and rename: memory stays
//! flat whatever the file size, and a file on disk is always whole.
//!
//! Decision recorded here: no short body is ever kept. The received size is compared with what
//! the server announced for this body: its `Content-Length`, else the archive listing's size of
//! the file; when neither announced one (a chunked body that ended early looks whole to HTTP),
//! the file's own structure decides ([`crate::formats::check_complete`]). A mismatch is a
//! retryable error, so the call is tried again.
//!
//! The client counts its HTTP requests and bytes ([`Stats`]) for run summaries and tests.

use super::error::{ApiErrorItem, OncError, RetryPolicy};
use super::token::{Token, redact};
use super::wire;
use crate::atomic::AtomicFile;
use crate::formats::{FormatError, check_complete};
use crate::safe_name::{self, SafeName};
use crate::time::UtcInstant;
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::num::TryFromIntError;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// ONC's production API root.
pub const ONC_PRODUCTION_URL: &str = "https://data.oceannetworks.ca/";

/// Counters shared by all clones of a [`Client`].
#[derive(Debug, Default)]
pub struct Stats {
    /// HTTP requests sent (retries included).
    pub http_requests: AtomicU64,
    /// Body bytes written to disk by downloads.
    pub bytes: AtomicU64,
}

/// An ONC API client. Cheap to clone; clones share the connection pool and [`Stats`].
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Token,
    policy: RetryPolicy,
    stats: Arc<Stats>,
}

/// What `dataProductDelivery/request` answered.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestReceipt {
    /// The request id, for `run`, `cancel`, `restart`.
    pub dp_request_id: i64,
    /// ONC's processing estimate, if the product is generated on demand.
    pub estimated_processing: Option<Duration>,
    /// Whether ONC said the product is archived (ready at once).
    pub archived: bool,
}

impl TryFrom<wire::RequestResponse> for RequestReceipt {
    type Error = TryFromIntError;

    /// Fails when the id does not fit the executor's `i64`.
    fn try_from(w: wire::RequestResponse) -> Result<Self, Self::Error> {
        Ok(Self {
            dp_request_id: i64::try_from(w.dp_request_id)?,
            estimated_processing: w
                .estimated_processing_time
                .as_deref()
                .and_then(parse_processing_time),
            archived: w.file_size.is_some(),
        })
    }
}

/// One run of a product request, as `dataProductDelivery/run` reports it
/// ([`wire::RunEntry`] with the executor's integer types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunState {
    /// The run id, for `download`.
    pub dp_run_id: i64,
    /// One of the [`wire::status`] words (or another ONC may add).
    pub status: String,
    /// Number of product files (0 until complete).
    pub file_count: i64,
    /// Position in ONC's queue, when queued.
    pub queue_position: Option<i64>,
}

impl TryFrom<wire::RunEntry> for RunState {
    type Error = TryFromIntError;

    /// Fails when the run id does not fit `i64`; counts beyond it saturate.
    fn try_from(w: wire::RunEntry) -> Result<Self, Self::Error> {
        let saturate = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        Ok(Self {
            dp_run_id: i64::try_from(w.dp_run_id)?,
            status: w.status,
            file_count: saturate(w.file_count),
            queue_position: w.queue_position.map(saturate),
        })
    }
}

impl RunState {
    /// The run finished and its files can be downloaded.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.status.eq_ignore_ascii_case(wire::status::COMPLETE)
    }

    /// The run ended without files: cancelled or failed.
    #[must_use]
    pub fn is_failed(&self) -> bool {
        let s = self.status.to_ascii_lowercase();
        s == wire::status::CANCELLED || s == wire::status::ERROR || s == "failed"
    }
}

/// A file written to disk by a download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The file's name as ONC gave it.
    pub name: String,
    /// Where it was written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// The outcome of asking for one index of a product run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexOutcome {
    /// The file was downloaded.
    File(Downloaded),
    /// ONC is still producing it (HTTP 202).
    NotReady {
        /// ONC's progress message.
        message: String,
    },
    /// The product has no data (HTTP 204).
    NoData,
    /// The index is past the last file (HTTP 404).
    End,
    /// The file was not wanted (`dest` returned `None`); its body was not read.
    Skipped {
        /// ONC's file name.
        name: String,
    },
    /// ONC named the file with a name that is not a [`SafeName`]; nothing was written. Not
    /// retried: the server would name it the same way again.
    Unsafe {
        /// What is wrong, naming the header, with the name escaped.
        message: String,
    },
}

/// A file in an archive listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile {
    /// ONC's file name.
    pub filename: String,
    /// Its start, from the listing or the name.
    pub start: Option<UtcInstant>,
    /// Its end, if the listing gave one.
    pub end: Option<UtcInstant>,
    /// Its size, if the listing gave one.
    pub size: Option<u64>,
}

impl From<wire::ArchiveFileInfo> for ArchiveFile {
    /// Times from the listing, the start falling back to the one in the file's name; the
    /// size as served, else as archived.
    fn from(w: wire::ArchiveFileInfo) -> Self {
        Self {
            start: UtcInstant::parse(&w.date_from)
                .ok()
                .or_else(|| UtcInstant::from_file_name(&w.filename)),
            end: UtcInstant::parse(&w.date_to).ok(),
            size: w.uncompressed_file_size.or(w.file_size),
            filename: w.filename,
        }
    }
}

impl ArchiveFile {
    /// The file of a listing entry, its start read from its name when the listing gave only
    /// a name; `None` for an entry that names no file.
    #[must_use]
    pub fn from_entry(entry: wire::ArchiveFileEntry) -> Option<Self> {
        match entry {
            wire::ArchiveFileEntry::Name(filename) => Some(Self {
                start: UtcInstant::from_file_name(&filename),
                end: None,
                size: None,
                filename,
            }),
            wire::ArchiveFileEntry::Info(info) => Some(info.into()),
            wire::ArchiveFileEntry::Other(_) => None,
        }
    }
}

/// A deployment of a device: what the client uses of a [`wire::Deployment`].
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// Device code.
    pub device_code: String,
    /// Location code.
    pub location_code: String,
    /// Start, ONC form.
    pub begin: String,
    /// End, `None` while deployed.
    pub end: Option<String>,
}

impl From<wire::Deployment> for Deployment {
    fn from(w: wire::Deployment) -> Self {
        Self {
            device_code: w.device_code,
            location_code: w.location_code,
            begin: w.begin,
            end: w.end,
        }
    }
}

/// Parameters of a product request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRequest {
    /// Device code.
    pub device: String,
    /// `HSD` or `AD`.
    pub product_code: String,
    /// `mat`, `png`, `flac`, `wav`…
    pub extension: String,
    /// Span start.
    pub date_from: UtcInstant,
    /// Span end.
    pub date_to: UtcInstant,
    /// `dpo_*` options, as strings.
    pub options: Vec<(String, String)>,
}

impl Client {
    /// A client for the API rooted at `base` (e.g. `https://data.oceannetworks.ca/`).
    ///
    /// # Errors
    /// [`OncError::Transport`] if the HTTP stack cannot be set up.
    pub fn new(base: &str, token: Token) -> Result<Self, OncError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .read_timeout(Duration::from_secs(90))
            .user_agent(concat!("hydrofetch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OncError::Transport {
                endpoint: "client".into(),
                message: e.to_string(),
            })?;
        let mut base = base.trim().to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        Ok(Self {
            http,
            base,
            token,
            policy: RetryPolicy::default(),
            stats: Arc::default(),
        })
    }

    /// Replaces the retry policy.
    #[must_use]
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The shared counters.
    #[must_use]
    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// The API root, for messages (contains no token).
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `dataProductDelivery/request`.
    ///
    /// # Errors
    /// [`OncError`] after retries, or at once for 400/401.
    pub async fn request_product(&self, req: &ProductRequest) -> Result<RequestReceipt, OncError> {
        let endpoint = "dataProductDelivery/request";
        let mut params = vec![
            ("deviceCode".to_owned(), req.device.clone()),
            ("dataProductCode".to_owned(), req.product_code.clone()),
            ("extension".to_owned(), req.extension.clone()),
            ("dateFrom".to_owned(), req.date_from.to_onc_string()),
            ("dateTo".to_owned(), req.date_to.to_onc_string()),
        ];
        params.extend(req.options.iter().cloned());
        let (_, w): (_, wire::RequestResponse) = self.get_json(endpoint, &params).await?;
        RequestReceipt::try_from(w).map_err(|e| out_of_range(endpoint, "dpRequestId", &e))
    }

    /// `dataProductDelivery/run`: starts the run, or reports its state when called again.
    ///
    /// # Errors
    /// [`OncError`]; an empty run list is [`OncError::Decode`].
    pub async fn run_product(&self, dp_request_id: i64) -> Result<RunState, OncError> {
        let endpoint = "dataProductDelivery/run";
        let params = [("dpRequestId".to_owned(), dp_request_id.to_string())];
        let (_, runs): (_, Vec<wire::RunEntry>) = self.get_json(endpoint, &params).await?;
        let run = runs.into_iter().next().ok_or_else(|| OncError::Decode {
            endpoint: endpoint.into(),
            message: "empty run list".into(),
        })?;
        let mut run = RunState::try_from(run).map_err(|e| out_of_range(endpoint, "dpRunId", &e))?;
        // The status is shown (progress, errors): it is server text.
        run.status = self.clean(&run.status);
        Ok(run)
    }

    /// `dataProductDelivery/cancel`, one attempt bounded by `within`: it is sent while
    /// shutting down, when a prompt exit matters more than ONC hearing about every job (an
    /// unheard cancel only leaves ONC to finish a job nobody downloads).
    ///
    /// # Errors
    /// [`OncError`]; [`OncError::Transport`] when no answer came within `within`.
    pub async fn cancel(&self, dp_request_id: i64, within: Duration) -> Result<(), OncError> {
        let endpoint = "dataProductDelivery/cancel";
        let params = [("dpRequestId".to_owned(), dp_request_id.to_string())];
        let once = async {
            let resp = self.send(endpoint, &params).await?;
            if resp.status().is_success() {
                Ok(())
            } else {
                Err(self.status_error(endpoint, resp).await)
            }
        };
        tokio::time::timeout(within, once)
            .await
            .unwrap_or_else(|_| {
                Err(OncError::Transport {
                    endpoint: endpoint.into(),
                    message: format!("no answer within {} ms", within.as_millis()),
                })
            })
    }

    /// `dataProductDelivery/restart` (ONC re-queues the same run id; its answer is a list of
    /// runs, or one run object).
    ///
    /// # Errors
    /// [`OncError`].
    pub async fn restart(&self, dp_request_id: i64) -> Result<(), OncError> {
        let params = [("dpRequestId".to_owned(), dp_request_id.to_string())];
        let _: (_, wire::OneOrMany<wire::RunStatusEntry>) = self
            .get_json("dataProductDelivery/restart", &params)
            .await?;
        Ok(())
    }

    /// `dataProductDelivery/download` of one index. `dest` maps ONC's file name (the
    /// `Content-Disposition` name, which must be a [`SafeName`]) to the path to write, or
    /// `None` to skip the file.
    ///
    /// # Errors
    /// [`OncError`]; [`OncError::Gone`] for 410.
    pub async fn download_index(
        &self,
        dp_run_id: i64,
        index: u32,
        dest: &(dyn Fn(&SafeName) -> Option<PathBuf> + Sync),
    ) -> Result<IndexOutcome, OncError> {
        let endpoint = "dataProductDelivery/download";
        let params = [
            ("dpRunId".to_owned(), dp_run_id.to_string()),
            ("index".to_owned(), index.to_string()),
        ];
        self.retrying(endpoint, || async {
            let resp = self.send(endpoint, &params).await?;
            match resp.status() {
                StatusCode::OK => {
                    let raw = content_disposition_name(&resp).ok_or_else(|| OncError::Decode {
                        endpoint: endpoint.into(),
                        message: "file without a Content-Disposition file name".into(),
                    })?;
                    let name = match SafeName::new(&raw) {
                        Ok(n) => n,
                        Err(why) => {
                            return Ok(IndexOutcome::Unsafe {
                                message: safe_name::refused(
                                    "Content-Disposition filename",
                                    &raw,
                                    why,
                                ),
                            });
                        }
                    };
                    match dest(&name) {
                        Some(path) => self
                            .stream_to(endpoint, resp, name.as_str().to_owned(), path, None)
                            .await
                            .map(IndexOutcome::File),
                        None => Ok(IndexOutcome::Skipped {
                            name: name.as_str().to_owned(),
                        }),
                    }
                }
                StatusCode::ACCEPTED => {
                    let body = read_at_most(resp, MAX_ERROR_BODY).await;
                    let message = serde_json::from_slice::<wire::DownloadProgress>(&body)
                        .ok()
                        .map(|p| p.message)
                        .filter(|m| !m.is_empty())
                        .map_or_else(|| "generating".to_owned(), |m| self.clean(&m));
                    Ok(IndexOutcome::NotReady { message })
                }
                StatusCode::NO_CONTENT => Ok(IndexOutcome::NoData),
                StatusCode::NOT_FOUND => Ok(IndexOutcome::End),
                StatusCode::GONE => Err(OncError::Gone {
                    endpoint: endpoint.into(),
                }),
                _ => Err(self.status_error(endpoint, resp).await),
            }
        })
        .await
    }

    /// `archivefile/device`, every page, with `returnOptions=all`.
    ///
    /// # Errors
    /// [`OncError`].
    pub async fn list_archive(
        &self,
        device: &str,
        from: UtcInstant,
        to: UtcInstant,
        extension: &str,
    ) -> Result<Vec<ArchiveFile>, OncError> {
        let endpoint = "archivefile/device";
        let mut params = vec![
            ("deviceCode".to_owned(), device.to_owned()),
            ("dateFrom".to_owned(), from.to_onc_string()),
            ("dateTo".to_owned(), to.to_onc_string()),
            ("fileExtension".to_owned(), extension.to_owned()),
            ("returnOptions".to_owned(), "all".to_owned()),
        ];
        let mut out = Vec::new();
        for _page in 0..100_000 {
            let (_, page): (_, wire::ArchiveFileList) = self.get_json(endpoint, &params).await?;
            out.extend(page.files.into_iter().filter_map(ArchiveFile::from_entry));
            let Some(next) = page.next else {
                return Ok(out);
            };
            params = next
                .parameters
                .into_iter()
                .filter(|(k, _)| k != "token")
                .collect();
        }
        Err(OncError::Decode {
            endpoint: endpoint.into(),
            message: "listing never ended".into(),
        })
    }

    /// `archivefile/download` of one file to `path`. The name is a [`SafeName`]: a listing
    /// name is checked before anything is fetched or written under it. `size` is the file's
    /// size from the listing, checked when the body comes without `Content-Length`.
    ///
    /// # Errors
    /// [`OncError`].
    pub async fn download_archive(
        &self,
        filename: &SafeName,
        path: &Path,
        size: Option<u64>,
    ) -> Result<Downloaded, OncError> {
        let endpoint = "archivefile/download";
        let filename = filename.as_str();
        let params = [("filename".to_owned(), filename.to_owned())];
        self.retrying(endpoint, || async {
            let resp = self.send(endpoint, &params).await?;
            if resp.status() == StatusCode::OK {
                self.stream_to(endpoint, resp, filename.to_owned(), path.to_owned(), size)
                    .await
            } else {
                Err(self.status_error(endpoint, resp).await)
            }
        })
        .await
    }

    /// `deployments?deviceCode=`; ONC's "no match" (400/127) is an empty list.
    ///
    /// # Errors
    /// [`OncError`].
    pub async fn deployments(&self, device: &str) -> Result<Vec<Deployment>, OncError> {
        let params = [("deviceCode".to_owned(), device.to_owned())];
        match self
            .get_json::<Vec<wire::Deployment>>("deployments", &params)
            .await
        {
            Ok((_, d)) => Ok(d.into_iter().map(Deployment::from).collect()),
            Err(OncError::Rejected { errors, .. })
                if errors.iter().any(|e| {
                    e.error_code == 127 && e.parameter != "token" && e.parameter != "deviceCode"
                }) =>
            {
                Ok(Vec::new())
            }
            Err(e) => Err(e),
        }
    }

    /// `deployments?deviceCode=` with every field ONC gives (location, coordinates, depth,
    /// citation); ONC's "no match" (400/127 on a parameter other than the token) is an empty
    /// list, so an unknown device code is an empty list too.
    ///
    /// # Errors
    /// [`OncError`].
    pub async fn device_deployments(
        &self,
        device: &str,
    ) -> Result<Vec<wire::Deployment>, OncError> {
        let params = [("deviceCode".to_owned(), device.to_owned())];
        empty_on_no_match(self.get_json("deployments", &params).await)
    }

    /// `devices`, optionally of one `deviceCategoryCode`; ONC's "no match" is an empty list.
    ///
    /// # Errors
    /// [`OncError`].
    pub async fn devices(&self, category: Option<&str>) -> Result<Vec<wire::Device>, OncError> {
        let params: Vec<(String, String)> = category
            .map(|c| ("deviceCategoryCode".to_owned(), c.to_owned()))
            .into_iter()
            .collect();
        empty_on_no_match(self.get_json("devices", &params).await)
    }

    /// `locations?locationCode=`; ONC's "no match" is an empty list.
    ///
    /// # Errors
    /// [`OncError`].
    pub async fn locations(&self, location: &str) -> Result<Vec<wire::Location>, OncError> {
        let params = [("locationCode".to_owned(), location.to_owned())];
        empty_on_no_match(self.get_json("locations", &params).await)
    }

    /// GET returning JSON on 200 or 202 (`run` answers 202 while running), with retries.
    async fn get_json<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        params: &[(String, String)],
    ) -> Result<(u16, T), OncError> {
        self.retrying(endpoint, || async {
            let resp = self.send(endpoint, params).await?;
            let status = resp.status();
            if status == StatusCode::OK || status == StatusCode::ACCEPTED {
                let bytes = resp
                    .bytes()
                    .await
                    .map_err(|e| self.transport(endpoint, &e))?;
                // serde's message may quote the body: server text.
                let v = serde_json::from_slice(&bytes).map_err(|e| OncError::Decode {
                    endpoint: endpoint.into(),
                    message: self.clean(&e.to_string()),
                })?;
                Ok((status.as_u16(), v))
            } else {
                Err(self.status_error(endpoint, resp).await)
            }
        })
        .await
    }

    async fn retrying<T, F, Fut>(&self, endpoint: &str, mut attempt: F) -> Result<T, OncError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, OncError>>,
    {
        let mut n = 1;
        loop {
            match attempt().await {
                Err(e) if e.is_retryable() && n < self.policy.max_attempts => {
                    let delay = self.policy.delay(n, rand::random::<f64>(), e.retry_after());
                    tracing::debug!(endpoint, attempt = n, ?delay, error = %e, "retrying");
                    tokio::time::sleep(delay).await;
                    n += 1;
                }
                other => return other,
            }
        }
    }

    async fn send(
        &self,
        endpoint: &str,
        params: &[(String, String)],
    ) -> Result<reqwest::Response, OncError> {
        let query = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain([("token", self.token.expose())]);
        let url = url::Url::parse_with_params(&format!("{}api/{endpoint}", self.base), query)
            .map_err(|e| OncError::Transport {
                endpoint: endpoint.into(),
                message: format!("bad API URL {}: {e}", self.base),
            })?;
        self.stats.http_requests.fetch_add(1, Ordering::Relaxed);
        self.http
            .request(Method::GET, url)
            .send()
            .await
            .map_err(|e| self.transport(endpoint, &e))
    }

    fn transport(&self, endpoint: &str, e: &reqwest::Error) -> OncError {
        // reqwest's messages quote the URL, token included: strip it.
        let mut message = redact(&e.to_string(), self.token.expose());
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            message.push_str(": ");
            message.push_str(&redact(&s.to_string(), self.token.expose()));
            src = s.source();
        }
        OncError::Transport {
            endpoint: endpoint.into(),
            message: self.clean(&message),
        }
    }

    /// Server text made fit to show: token redacted, control characters escaped, length
    /// capped ([`crate::text::clean_server_text`]).
    fn clean(&self, text: &str) -> String {
        crate::text::clean_server_text(text, self.token.expose())
    }

    async fn status_error(&self, endpoint: &str, resp: reqwest::Response) -> OncError {
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        match status {
            400 => {
                let body = read_at_most(resp, MAX_ERROR_BODY).await;
                // The document is server text: cleaned here, before anyone can show it.
                let errors = serde_json::from_slice::<wire::ErrorBody>(&body)
                    .map(|d| d.errors)
                    .unwrap_or_default()
                    .into_iter()
                    .take(MAX_ERROR_ITEMS)
                    .map(|e| ApiErrorItem {
                        error_code: e.error_code,
                        error_message: self.clean(&e.error_message),
                        parameter: self.clean(&e.parameter),
                    })
                    .collect();
                OncError::Rejected {
                    endpoint: endpoint.into(),
                    errors,
                }
            }
            401 => OncError::Unauthorized {
                endpoint: endpoint.into(),
            },
            410 => OncError::Gone {
                endpoint: endpoint.into(),
            },
            _ => OncError::Status {
                endpoint: endpoint.into(),
                status,
                retry_after,
            },
        }
    }

    /// Streams a response body to `path` (temporary name, hash while writing, size check,
    /// fsync, rename). `announced` is the size the listing gave, if any.
    async fn stream_to(
        &self,
        endpoint: &str,
        resp: reqwest::Response,
        name: String,
        path: PathBuf,
        announced: Option<u64>,
    ) -> Result<Downloaded, OncError> {
        let content_length = resp.content_length();
        let io_err = |source: std::io::Error| OncError::Io {
            path: path.clone(),
            source,
        };
        let mut file = AtomicFile::create(&path).map_err(io_err)?;
        let mut hasher = Sha256::new();
        let mut size = 0_u64;
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| match content_length.or(announced) {
                Some(exp) => OncError::Truncated {
                    endpoint: endpoint.into(),
                    expected: exp,
                    got: size,
                },
                None => self.transport(endpoint, &e),
            })?;
            hasher.update(&chunk);
            file.write_all(&chunk).map_err(io_err)?;
            size += chunk.len() as u64;
        }
        match content_length.or(announced) {
            Some(exp) if exp != size => {
                return Err(if size < exp {
                    OncError::Truncated {
                        endpoint: endpoint.into(),
                        expected: exp,
                        got: size,
                    }
                } else {
                    OncError::Decode {
                        endpoint: endpoint.into(),
                        message: format!("{name}: got {size} bytes, {exp} announced"),
                    }
                });
            }
            Some(_) => {}
            None => {
                // Nothing announced a size: the file's structure says whether it is whole.
                file.flush().map_err(io_err)?;
                let tmp = file.temp_path().to_owned();
                let checked = tokio::task::spawn_blocking(move || check_complete(&tmp))
                    .await
                    .map_err(|e| io_err(std::io::Error::other(e.to_string())))?;
                match checked {
                    Ok(_) => {}
                    Err(FormatError::Io { source, .. }) => return Err(io_err(source)),
                    Err(e) => {
                        return Err(OncError::Decode {
                            endpoint: endpoint.into(),
                            message: format!(
                                "{name}: body without Content-Length is incomplete ({size} bytes): {e}"
                            ),
                        });
                    }
                }
            }
        }
        // fsync and rename inline, not in a blocking task: a download whose future is dropped
        // (Ctrl-C) then never lands on disk afterwards, so every file on disk was reported to
        // the executor before it stopped and can be locked.
        file.commit().map_err(io_err)?;
        self.stats.bytes.fetch_add(size, Ordering::Relaxed);
        Ok(Downloaded {
            name,
            path,
            size,
            sha256: hex::encode(hasher.finalize()),
        })
    }
}

/// A discovery answer, ONC's "no match" (400/127 on a parameter other than the token) read as
/// an empty list.
fn empty_on_no_match<T>(r: Result<(u16, Vec<T>), OncError>) -> Result<Vec<T>, OncError> {
    match r {
        Ok((_, v)) => Ok(v),
        Err(OncError::Rejected { errors, .. })
            if !errors.is_empty()
                && errors
                    .iter()
                    .all(|e| e.error_code == 127 && e.parameter != "token") =>
        {
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

/// Parses ONC's `estimatedProcessingTime` ("25 s", "2 min", "1 hour").
#[must_use]
pub fn parse_processing_time(s: &str) -> Option<Duration> {
    let mut parts = s.split_whitespace();
    let n: f64 = parts.next()?.parse().ok()?;
    let unit = parts.next().unwrap_or("s").to_ascii_lowercase();
    let secs = match unit.trim_end_matches('s') {
        "" | "sec" | "second" => n,
        "min" | "minute" => n * 60.0,
        "hour" | "hr" | "h" => n * 3600.0,
        "day" => n * 86400.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(secs).ok()
}

/// Bytes of an error document read; the rest is not worth reading.
const MAX_ERROR_BODY: usize = 256 * 1024;

/// Entries of an error document kept.
const MAX_ERROR_ITEMS: usize = 20;

/// The first `max` bytes of a body (fewer if it ends or breaks first).
async fn read_at_most(mut resp: reqwest::Response, max: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= max {
            body.truncate(max);
            break;
        }
    }
    body
}

/// The file name ONC gives in `Content-Disposition` ([`wire::content_disposition_file_name`]).
/// Not yet checked: the caller passes it through [`SafeName::new`].
fn content_disposition_name(resp: &reqwest::Response) -> Option<String> {
    let header = resp
        .headers()
        .get(reqwest::header::CONTENT_DISPOSITION)?
        .to_str()
        .ok()?;
    wire::content_disposition_file_name(header).map(str::to_owned)
}

/// An id ONC sent that does not fit the executor's `i64`.
fn out_of_range(endpoint: &str, field: &str, e: &TryFromIntError) -> OncError {
    OncError::Decode {
        endpoint: endpoint.into(),
        message: format!("{field} out of range: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processing_times() {
        assert_eq!(parse_processing_time("25 s"), Some(Duration::from_secs(25)));
        assert_eq!(
            parse_processing_time("2 min"),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_processing_time("1 hour"),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            parse_processing_time("0.5 s"),
            Some(Duration::from_millis(500))
        );
        assert_eq!(parse_processing_time("soon"), None);
        // A hostile or broken server's estimate beyond what a `Duration` holds is no estimate.
        assert_eq!(parse_processing_time("1e30 s"), None);
        assert_eq!(parse_processing_time("1e300 day"), None);
    }

    fn entry(v: serde_json::Value) -> Option<ArchiveFile> {
        ArchiveFile::from_entry(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn run_entries_convert_to_the_executors_integers() {
        let entry = |dp_run_id, file_count| wire::RunEntry {
            dp_run_id,
            file_count,
            status: wire::status::COMPLETE.into(),
            queue_position: Some(u64::MAX),
        };
        let s = RunState::try_from(entry(40_531_302, 3)).unwrap();
        assert!(s.is_complete() && !s.is_failed());
        assert_eq!((s.dp_run_id, s.file_count), (40_531_302, 3));
        // Counts saturate; an id that does not fit is refused, never wrapped.
        assert_eq!(s.queue_position, Some(i64::MAX));
        assert!(RunState::try_from(entry(u64::MAX, 1)).is_err());
    }

    #[test]
    fn archive_listing_entries() {
        let s = serde_json::json!("ICLISTENHF6324_20240401T120003.000Z.flac");
        let f = entry(s).unwrap();
        assert_eq!(f.start, UtcInstant::parse("2024-04-01T12:00:03Z").ok());
        let o = serde_json::json!({"filename": "X_20240401T120003.000Z.wav", "dateFrom": "2024-04-01T12:00:03.000Z",
            "dateTo": "2024-04-01T12:05:03.000Z", "uncompressedFileSize": 42});
        let f = entry(o).unwrap();
        assert_eq!(
            (f.size, f.end),
            (Some(42), UtcInstant::parse("2024-04-01T12:05:03Z").ok())
        );
    }
}
