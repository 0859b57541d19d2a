//! Discovery: what exists before anything is fetched. [`devices`], [`deployments`] and
//! [`coverage`] ask ONC's discovery services (`devices`, `deployments`, `locations`, the
//! archive listing) and return typed results; the CLI only prints them.
//!
//! Decisions recorded here:
//! - An unknown device is a usage error (the CLI exits 2) with a "did you mean" taken from
//!   ONC's device list, so a typo is caught before any ONC job is submitted.
//! - Coverage is told in 5-minute grid windows: a window is covered when an archived file
//!   overlaps it (files drift off the grid, so a file starting at 12:25:03 covers 12:30 too).

use super::connect::{Connection, NetOptions};
use super::{Manifests, OpsError};
use crate::onc::{Client, wire};
use crate::plan::{Plan, PlanLimits};
use crate::time::{UtcInstant, Window5m};
use std::collections::BTreeMap;

/// Which devices to list.
#[derive(Debug, Clone)]
pub struct DevicesOptions {
    /// Keep devices whose code or name contains this text (case-insensitive).
    pub search: Option<String>,
    /// ONC's `deviceCategoryCode`, e.g. `HYDROPHONE`.
    pub category: Option<String>,
    /// How to reach ONC.
    pub net: NetOptions,
}

/// A device ONC knows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DeviceInfo {
    /// Device code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Category, e.g. `HYDROPHONE`.
    pub category: String,
    /// ONC's numeric id.
    pub id: u32,
    /// Samples per second, from the first data rating (when ONC gives one).
    pub sample_rate: Option<f64>,
    /// First data, ONC form (empty when unknown).
    pub data_from: String,
}

impl From<wire::Device> for DeviceInfo {
    fn from(d: wire::Device) -> Self {
        let rating = d.data_rating.first();
        Self {
            sample_rate: rating
                .map(|r| r.sample_period)
                .filter(|p| *p > 0.0)
                .map(|p| (1.0 / p).round()),
            data_from: rating.map(|r| r.date_from.clone()).unwrap_or_default(),
            code: d.device_code,
            name: d.device_name,
            category: d.device_category_code,
            id: d.device_id,
        }
    }
}

/// Lists ONC's devices, sorted by code.
///
/// # Errors
/// [`OpsError`] when ONC cannot be reached or refuses the token.
pub async fn devices(options: DevicesOptions) -> Result<Vec<DeviceInfo>, OpsError> {
    let mut conn = Connection::new(options.net);
    let client = conn.client().await?;
    let needle = options.search.as_deref().map(str::to_lowercase);
    let mut out: Vec<DeviceInfo> = client
        .devices(options.category.as_deref())
        .await?
        .into_iter()
        .map(DeviceInfo::from)
        .filter(|d| {
            needle.as_deref().is_none_or(|n| {
                d.code.to_lowercase().contains(n) || d.name.to_lowercase().contains(n)
            })
        })
        .collect();
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}

/// One deployment of a device.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DeploymentInfo {
    /// Device code.
    pub device: String,
    /// Location code.
    pub location_code: String,
    /// Location name (empty when ONC does not know the location).
    pub location_name: String,
    /// Start, ONC form.
    pub begin: String,
    /// End, ONC form; `None` while deployed.
    pub end: Option<String>,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Depth, metres.
    pub depth: f64,
    /// ONC's citation text.
    pub citation: String,
}

impl DeploymentInfo {
    /// Whether the deployment covers the instant `t`.
    #[must_use]
    pub fn covers(&self, t: UtcInstant) -> bool {
        let begin = UtcInstant::parse(&self.begin).ok();
        let end = self.end.as_deref().and_then(|e| UtcInstant::parse(e).ok());
        begin.is_some_and(|b| b <= t) && end.is_none_or(|e| t < e)
    }

    /// Whether the deployment overlaps `window`.
    #[must_use]
    pub fn overlaps(&self, window: Window5m) -> bool {
        let begin = UtcInstant::parse(&self.begin).ok();
        let end = self.end.as_deref().and_then(|e| UtcInstant::parse(e).ok());
        begin.is_some_and(|b| b < window.end()) && end.is_none_or(|e| e > window.start())
    }
}

/// The deployments of `device`, chronological, with their locations' names.
///
/// # Errors
/// [`OpsError::Usage`] for a device ONC does not know (with a "did you mean"); [`OpsError`]
/// when ONC cannot be reached.
pub async fn deployments(device: &str, net: NetOptions) -> Result<Vec<DeploymentInfo>, OpsError> {
    let mut conn = Connection::new(net);
    let client = conn.client().await?;
    let out = device_deployments(&client, device).await?;
    if out.is_empty() {
        return Err(unknown_devices(&client, &[device.to_owned()], None).await);
    }
    Ok(out)
}

/// The deployments of `device` (empty when ONC knows none), with location names.
pub(super) async fn device_deployments(
    client: &Client,
    device: &str,
) -> Result<Vec<DeploymentInfo>, OpsError> {
    let mut deps = client.device_deployments(device).await?;
    deps.sort_by(|a, b| a.begin.cmp(&b.begin));
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::with_capacity(deps.len());
    for d in deps {
        if !names.contains_key(&d.location_code) {
            let name = client
                .locations(&d.location_code)
                .await?
                .into_iter()
                .find(|l| l.location_code == d.location_code)
                .map(|l| l.location_name)
                .unwrap_or_default();
            names.insert(d.location_code.clone(), name);
        }
        out.push(DeploymentInfo {
            device: d.device_code,
            location_name: names.get(&d.location_code).cloned().unwrap_or_default(),
            location_code: d.location_code,
            begin: d.begin,
            end: d.end,
            lat: d.lat,
            lon: d.lon,
            depth: d.depth,
            citation: d.citation.citation,
        });
    }
    Ok(out)
}

/// The usage error for devices ONC does not know, each with the closest known code.
pub(super) async fn unknown_devices(
    client: &Client,
    unknown: &[String],
    manifest: Option<&str>,
) -> OpsError {
    let known = known_devices(client).await.unwrap_or_default();
    unknown_error(unknown, &known, manifest)
}

/// The codes of every device ONC lists, or `None` when the list cannot be had.
pub(super) async fn known_devices(client: &Client) -> Option<Vec<String>> {
    client
        .devices(None)
        .await
        .ok()
        .map(|d| d.into_iter().map(|d| d.device_code).collect::<Vec<_>>())
        .filter(|d| !d.is_empty())
}

/// The usage error for `unknown` devices, each with the closest of `known`.
pub(super) fn unknown_error(
    unknown: &[String],
    known: &[String],
    manifest: Option<&str>,
) -> OpsError {
    let parts: Vec<String> = unknown
        .iter()
        .map(|u| match closest(u, known) {
            Some(k) => format!("unknown device {u}: did you mean {k}?"),
            None => format!("unknown device {u}"),
        })
        .collect();
    let place = manifest
        .filter(|m| !m.is_empty())
        .map(|m| format!(" (in {m})"))
        .unwrap_or_default();
    OpsError::Usage(format!(
        "{}{place}; `hydrofetch devices` lists the devices ONC knows",
        parts.join("; ")
    ))
}

/// The known code closest to `code` by edit distance, if close enough to be a typo.
fn closest<'a>(code: &str, known: &'a [String]) -> Option<&'a str> {
    let code = code.to_uppercase();
    known
        .iter()
        .map(|k| (edit_distance(&code, &k.to_uppercase()), k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.as_str())
}

/// Levenshtein distance (codes are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// What to find coverage for.
#[derive(Debug, Clone)]
pub enum CoverageTarget {
    /// One device over `[from, to)`.
    Device(String),
    /// Every device of these manifests, over the span of their plan (or `[from, to)`).
    Manifests(Manifests),
}

/// What [`coverage`] looks at.
#[derive(Debug, Clone)]
pub struct CoverageOptions {
    /// A device or manifests.
    pub target: CoverageTarget,
    /// Span start (required for a device; a manifest's plan gives a default).
    pub from: Option<UtcInstant>,
    /// Span end (exclusive).
    pub to: Option<UtcInstant>,
    /// The archive file extension listed (`flac`, `wav`, `mat`…).
    pub extension: String,
    /// How to reach ONC.
    pub net: NetOptions,
}

/// A span of 5-minute windows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WindowSpan {
    /// Start of the first window, ONC form.
    pub from: String,
    /// End of the last window, ONC form.
    pub to: String,
    /// Number of windows.
    pub windows: usize,
}

/// Which windows of a device hold archived files.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Coverage {
    /// Device code.
    pub device: String,
    /// Span start (a window start), ONC form.
    pub from: String,
    /// Span end (a window end), ONC form.
    pub to: String,
    /// Extension listed.
    pub extension: String,
    /// Archived files overlapping the span.
    pub files: usize,
    /// Windows in the span.
    pub windows: usize,
    /// Windows holding at least one file.
    pub covered_windows: usize,
    /// Runs of covered windows.
    pub covered: Vec<WindowSpan>,
    /// Runs of windows without any file.
    pub gaps: Vec<WindowSpan>,
}

/// Coverage of each device asked about, in device order.
///
/// # Errors
/// [`OpsError::Usage`] without a span, for an unknown device, or a span too long;
/// [`OpsError::Input`] for bad manifests; [`OpsError`] when ONC cannot be reached.
pub async fn coverage(options: CoverageOptions) -> Result<Vec<Coverage>, OpsError> {
    let targets: Vec<(String, UtcInstant, UtcInstant)> = match &options.target {
        CoverageTarget::Device(d) => {
            let (Some(from), Some(to)) = (options.from, options.to) else {
                return Err(OpsError::Usage(
                    "coverage of a device needs --from and --to".into(),
                ));
            };
            vec![(d.clone(), from, to)]
        }
        CoverageTarget::Manifests(m) => {
            let manifests = m.load()?;
            let plan = Plan::build_with(&manifests, &PlanLimits::default())
                .map_err(super::InputError::Plan)?;
            spans_of(&plan)
                .into_iter()
                .map(|(d, (a, b))| (d, options.from.unwrap_or(a), options.to.unwrap_or(b)))
                .collect()
        }
    };
    let mut conn = Connection::new(options.net);
    let client = conn.client().await?;
    let mut out = Vec::with_capacity(targets.len());
    for (device, from, to) in targets {
        if to <= from {
            return Err(OpsError::Usage(format!(
                "--to ({to}) must be after --from ({from})"
            )));
        }
        let windows: Vec<Window5m> = Window5m::covering(from, to).collect();
        if windows.len() > MAX_COVERAGE_WINDOWS {
            return Err(OpsError::Usage(format!(
                "coverage of {device}: {} windows asked for, at most {MAX_COVERAGE_WINDOWS} (about a year)",
                windows.len()
            )));
        }
        if client.device_deployments(&device).await?.is_empty() {
            return Err(unknown_devices(&client, &[device], None).await);
        }
        let (Some(first), Some(last)) = (windows.first().copied(), windows.last().copied()) else {
            continue;
        };
        let files = client
            .list_archive(&device, first.start(), last.end(), &options.extension)
            .await?;
        let spans: Vec<(UtcInstant, UtcInstant)> = files
            .iter()
            .filter_map(|f| {
                let s = f.start?;
                Some((s, f.end.unwrap_or(s.add_millis(300_000))))
            })
            .collect();
        let held: Vec<bool> = windows
            .iter()
            .map(|w| spans.iter().any(|(a, b)| *a < w.end() && *b > w.start()))
            .collect();
        let (covered, gaps) = runs(&windows, &held);
        out.push(Coverage {
            device,
            from: first.start().to_onc_string(),
            to: last.end().to_onc_string(),
            extension: options.extension.clone(),
            files: files.len(),
            windows: windows.len(),
            covered_windows: held.iter().filter(|h| **h).count(),
            covered,
            gaps,
        });
    }
    Ok(out)
}

/// At most this many windows per device (a year of 5-minute windows).
const MAX_COVERAGE_WINDOWS: usize = 366 * 288;

/// Each device of a plan with the span of its fetch items' windows.
fn spans_of(plan: &Plan) -> BTreeMap<String, (UtcInstant, UtcInstant)> {
    let mut out: BTreeMap<String, (UtcInstant, UtcInstant)> = BTreeMap::new();
    for f in plan.fetch_items() {
        let (a, b) = (f.window.start(), f.window.end());
        out.entry(f.device.as_str().to_owned())
            .and_modify(|(x, y)| {
                *x = (*x).min(a);
                *y = (*y).max(b);
            })
            .or_insert((a, b));
    }
    out
}

/// Runs of covered and uncovered windows.
fn runs(windows: &[Window5m], held: &[bool]) -> (Vec<WindowSpan>, Vec<WindowSpan>) {
    let (mut covered, mut gaps) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < windows.len() {
        let mut j = i;
        while j + 1 < windows.len() && held[j + 1] == held[i] {
            j += 1;
        }
        let span = WindowSpan {
            from: windows[i].start().to_onc_string(),
            to: windows[j].end().to_onc_string(),
            windows: j - i + 1,
        };
        if held[i] {
            covered.push(span);
        } else {
            gaps.push(span);
        }
        i = j + 1;
    }
    (covered, gaps)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn closest_code_is_a_typo_away() {
        let known = vec!["ICLISTENHF6324".to_owned(), "ICLISTENHF1205".to_owned()];
        assert_eq!(closest("ICLISTENHF6342", &known), Some("ICLISTENHF6324"));
        assert_eq!(closest("iclistenhf1205", &known), Some("ICLISTENHF1205"));
        assert_eq!(closest("NOTHINGLIKEIT", &known), None);
    }

    #[test]
    fn runs_split_covered_and_gaps() {
        let t = UtcInstant::parse("2024-01-01T00:00:00Z").unwrap();
        let w: Vec<Window5m> = Window5m::covering(t, t.add_millis(5 * 300_000)).collect();
        let (c, g) = runs(&w, &[true, true, false, false, true]);
        assert_eq!(c.len(), 2);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].windows, 2);
        assert_eq!(g[0].from, "2024-01-01T00:10:00.000Z");
    }
}
