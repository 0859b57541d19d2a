//! Online checks before any ONC job is submitted: every device of the job must be one ONC
//! knows, and windows outside every deployment of their device are recorded as "no data"
//! without asking ONC for them.
//!
//! Decisions recorded here:
//! - An unknown device stops the manifest's run with one usage error (exit 2) naming the
//!   closest known device; nothing has been submitted yet.
//! - A window is outside deployments when no deployment of its device overlaps it. Such items
//!   are locked as no data with the deployments in the reason, so a re-run skips them and
//!   `--retry-no-data` tries them again.
//! - When the discovery service itself fails (a fault, a token it refuses), the check is
//!   skipped with a warning: the run goes on as it would without it, and the data requests
//!   report what is wrong.

use super::OpsError;
use super::discover::{known_devices, unknown_error};
use crate::exec::job::WantedItem;
use crate::exec::{ExecEvent, Job};
use crate::lock::{ItemKind, LockEntry, Lockfile, Status};
use crate::onc::Client;
use crate::time::{UtcInstant, Window5m};
use std::collections::{BTreeMap, BTreeSet};

/// A deployment's span: begin, end (`None` while deployed).
type Span = (UtcInstant, Option<UtcInstant>);

/// What [`screen`] took out of the job.
#[derive(Debug, Default)]
pub(super) struct Screened {
    /// Items recorded as no data (outside every deployment).
    pub(super) skipped: usize,
    /// ONC's deployments of each device checked (recorded on the items that finish).
    pub(super) deployments: crate::dataset::describe::Deployments,
}

/// Checks the job's devices and takes out (locking them as no data) the windows outside every
/// deployment of their device.
///
/// # Errors
/// [`OpsError::Usage`] when a device is unknown to ONC.
pub(super) async fn screen(
    client: &Client,
    manifest: &str,
    job: &mut Job,
    lock: &mut Lockfile,
    reporter: &dyn crate::exec::Reporter,
) -> Result<Screened, OpsError> {
    let devices: BTreeSet<String> = job
        .spectrograms
        .iter()
        .map(|g| g.device.clone())
        .chain(job.audio.iter().map(|g| g.device.clone()))
        .collect();
    let (spans, unknown, deployments) = deployment_spans(client, devices).await;
    confirm_unknown(client, &unknown, Some(manifest)).await?;
    let mut out = Screened {
        deployments,
        ..Screened::default()
    };
    let mut skipped: BTreeMap<String, Vec<Window5m>> = BTreeMap::new();
    let mut take =
        |device: &str, product: String, items: Vec<WantedItem>| -> Vec<Vec<WantedItem>> {
            let Some(deps) = spans.get(device) else {
                return vec![items];
            };
            let mut runs: Vec<Vec<WantedItem>> = vec![Vec::new()];
            for it in items {
                if deps.iter().any(|s| overlaps(*s, it.window)) {
                    if let Some(last) = runs.last_mut() {
                        last.push(it);
                    }
                } else {
                    if runs.last().is_some_and(|r| !r.is_empty()) {
                        runs.push(Vec::new());
                    }
                    out.skipped += 1;
                    skipped
                        .entry(device.to_owned())
                        .or_default()
                        .push(it.window);
                    lock.insert(LockEntry {
                        id: it.id.clone(),
                        kind: ItemKind::Fetch,
                        device: device.to_owned(),
                        product: product.clone(),
                        window: it.window.start().to_onc_string(),
                        status: Status::NoData,
                        reason: format!("no data (outside deployment: {})", describe(deps)),
                        ..LockEntry::default()
                    });
                }
            }
            runs.retain(|r| !r.is_empty());
            runs
        };
    let mut spectrograms = Vec::with_capacity(job.spectrograms.len());
    for g in std::mem::take(&mut job.spectrograms) {
        let product = format!("spectrogram/{}", g.format);
        let mut g = g;
        let items = std::mem::take(&mut g.items);
        for run in take(&g.device, product.clone(), items) {
            let mut part = g.clone();
            part.items = run;
            spectrograms.push(part);
        }
    }
    job.spectrograms = spectrograms;
    let mut audio = Vec::with_capacity(job.audio.len());
    for g in std::mem::take(&mut job.audio) {
        let product = format!(
            "audio/{}",
            g.extensions.first().map(String::as_str).unwrap_or_default()
        );
        let mut g = g;
        let items = std::mem::take(&mut g.items);
        for run in take(&g.device, product.clone(), items) {
            let mut part = g.clone();
            part.items = run;
            audio.push(part);
        }
    }
    job.audio = audio;
    notify(reporter, skipped);
    Ok(out)
}

/// Devices without deployments are unknown only when ONC's device list, read now, lacks them:
/// a discovery service that answers oddly (a fault, a refused token) does not stop a run, whose
/// data requests then report what is wrong.
async fn confirm_unknown(
    client: &Client,
    candidates: &[String],
    manifest: Option<&str>,
) -> Result<(), OpsError> {
    if candidates.is_empty() {
        return Ok(());
    }
    let Some(known) = known_devices(client).await else {
        tracing::warn!("the device list is unavailable: devices not checked");
        return Ok(());
    };
    let unknown: Vec<String> = candidates
        .iter()
        .filter(|c| !known.contains(c))
        .cloned()
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(unknown_error(&unknown, &known, manifest))
    }
}

/// Each device's deployment spans, the devices ONC knows no deployment of, and ONC's
/// deployments themselves.
async fn deployment_spans(
    client: &Client,
    devices: BTreeSet<String>,
) -> (
    BTreeMap<String, Vec<Span>>,
    Vec<String>,
    crate::dataset::describe::Deployments,
) {
    let mut spans: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    let mut unknown = Vec::new();
    let mut all = crate::dataset::describe::Deployments::new();
    for d in devices {
        match client.device_deployments(&d).await {
            Ok(deps) if deps.is_empty() => unknown.push(d),
            Ok(deps) => {
                let s = deps
                    .iter()
                    .filter_map(|x| {
                        let begin = UtcInstant::parse(&x.begin).ok()?;
                        let end = match x.end.as_deref() {
                            Some(e) => Some(UtcInstant::parse(e).ok()?),
                            None => None,
                        };
                        Some((begin, end))
                    })
                    .collect();
                spans.insert(d.clone(), s);
                all.insert(d, deps);
            }
            Err(e) => {
                tracing::warn!(device = %d, error = %e, "deployments unavailable: not checked");
            }
        }
    }
    (spans, unknown, all)
}

/// One notice per run of skipped windows.
fn notify(reporter: &dyn crate::exec::Reporter, skipped: BTreeMap<String, Vec<Window5m>>) {
    for (device, mut windows) in skipped {
        windows.sort();
        windows.dedup();
        for (a, b, n) in window_runs(&windows) {
            reporter.event(&ExecEvent::Notice {
                message: format!(
                    "{device} {} – {}: no data (outside deployment), {n} window{} skipped before submitting",
                    a.to_onc_string(),
                    b.to_onc_string(),
                    if n == 1 { "" } else { "s" }
                ),
            });
        }
    }
}

fn overlaps((begin, end): Span, w: Window5m) -> bool {
    begin < w.end() && end.is_none_or(|e| e > w.start())
}

fn describe(deps: &[Span]) -> String {
    deps.iter()
        .map(|(b, e)| {
            format!(
                "{}–{}",
                b.to_onc_string(),
                e.map(UtcInstant::to_onc_string).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs of consecutive windows: (start, end, windows).
fn window_runs(windows: &[Window5m]) -> Vec<(UtcInstant, UtcInstant, usize)> {
    let mut out: Vec<(UtcInstant, UtcInstant, usize)> = Vec::new();
    for w in windows {
        match out.last_mut() {
            Some((_, end, n)) if *end == w.start() => {
                *end = w.end();
                *n += 1;
            }
            _ => out.push((w.start(), w.end(), 1)),
        }
    }
    out
}

/// Fetch items of a plan that fall outside every deployment of their device, by span.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutsideSpan {
    /// Device code.
    pub device: String,
    /// Start of the first window, ONC form.
    pub from: String,
    /// End of the last window, ONC form.
    pub to: String,
    /// Windows in the span.
    pub windows: usize,
}

/// What [`check_plan`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[must_use]
pub struct OnlineCheck {
    /// Devices checked (all known to ONC).
    pub devices: Vec<String>,
    /// Spans outside every deployment; a run locks them as no data without asking ONC.
    pub outside: Vec<OutsideSpan>,
}

/// The checks `run` makes before submitting, for a plan (`plan --online`): every device must
/// be known to ONC, and the windows outside every deployment are listed by span.
///
/// # Errors
/// [`OpsError::Usage`] for an unknown device (with a "did you mean"); [`OpsError`] when ONC
/// cannot be reached.
pub async fn check_plan(
    plan: &crate::plan::Plan,
    net: super::NetOptions,
) -> Result<OnlineCheck, OpsError> {
    let mut windows: BTreeMap<String, BTreeSet<Window5m>> = BTreeMap::new();
    for f in plan.fetch_items() {
        windows
            .entry(f.device.as_str().to_owned())
            .or_default()
            .insert(f.window);
    }
    if windows.is_empty() {
        return Ok(OnlineCheck::default());
    }
    let mut conn = super::connect::Connection::new(net);
    let client = conn.client().await?;
    let (spans, unknown, _) = deployment_spans(&client, windows.keys().cloned().collect()).await;
    confirm_unknown(&client, &unknown, None).await?;
    let mut out = OnlineCheck {
        devices: windows.keys().cloned().collect(),
        outside: Vec::new(),
    };
    for (device, ws) in windows {
        let Some(deps) = spans.get(&device) else {
            continue;
        };
        let outside: Vec<Window5m> = ws
            .into_iter()
            .filter(|w| !deps.iter().any(|s| overlaps(*s, *w)))
            .collect();
        for (a, b, n) in window_runs(&outside) {
            out.outside.push(OutsideSpan {
                device: device.clone(),
                from: a.to_onc_string(),
                to: b.to_onc_string(),
                windows: n,
            });
        }
    }
    Ok(out)
}
