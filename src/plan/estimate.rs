//! What a plan costs before it runs: per device and product, the time spans, the ONC
//! requests or archive listings, the files, the bytes and ONC's processing time; and totals.
//! Pure: sizes come from the built-in table below, or from sizes measured online (an archive
//! listing, see `ops::plan`) passed in.
//!
//! Decisions recorded here:
//! - Counting follows the executor (`exec::pending`): the still-to-fetch items of each of the
//!   plan's request groups split into runs of contiguous windows, and each run is one ONC
//!   product request (spectrograms, `dataProductDelivery`) or one archive listing (audio is
//!   listed with `archivefile/device` and each file downloaded directly: no product request).
//!   The run summary counts the same things, so plan and run speak one vocabulary.
//! - Files, offline: one per window to fetch, plus one per run of windows that feed clips
//!   (such a run also takes the file that started in the slot before: ONC files drift a few
//!   seconds off the 5-minute grid). Online, the files the listing names.
//! - Bytes, offline: [`typical_file_bytes`], a table of what one 5-minute file of each
//!   product, format and option weighs. Source: measured on what the simulator
//!   (`hydrofetch sim`, device `ICLISTENHF6324`, 64 kHz, 24-bit) serves for 2024-04-01 12:00,
//!   rounded; see the table's doc. A device at another sample rate scales audio and the
//!   full-resolution MAT with its rate: use `plan --online` for those. Online, audio bytes are
//!   the listing's file sizes; spectrogram bytes are the table's size scaled by each listed
//!   file's duration (a short file before an archive gap weighs less), as ONC lists archived
//!   spectrograms of one resolution only.
//! - Server time is a model, not a measurement: ONC makes a product that is not in its archive
//!   on demand, about 25 s per 5-minute HSD file (a MAT at a `dpo_spectralDataDownsample`
//!   other than 1, a PNG with plot options changed) and 15 s per converted audio file;
//!   archived products (default MAT and PNG, audio as recorded) cost none. Figures from ONC's
//!   wiki (the simulator uses the same). `plan` never submits a request to ask ONC.

use super::{FetchProduct, Plan};
use crate::domain::{DeviceCode, ItemId, SpectrogramFormat};
use crate::time::{UtcInstant, Window5m};
use std::collections::{HashMap, HashSet};

/// ONC's processing time for one on-demand HSD file (seconds, a model).
pub const HSD_ON_DEMAND_SECONDS: u64 = 25;

/// Bytes of one 5-minute file of `product` on a typical device (see the module doc).
///
/// Measured on 2026-11-30 with `hydrofetch run --simulate` (device `ICLISTENHF6324`, 64 kHz,
/// 24-bit, files from 2024-04-01 12:00 UTC): FLAC 33,058,438–33,074,353 bytes over 12 files;
/// WAV 57,600,068; MAT at `dpo_spectralDataDownsample` 0: 30,767,208, 1: 99,192 on average
/// over 12 files, 2: 5,864,584; PNG with default options: 938,718 (real ONC PNGs are
/// 150–440 kB, see onc-api-facts §7.7: the simulator's are larger).
#[must_use]
pub fn typical_file_bytes(product: &FetchProduct) -> u64 {
    match product {
        FetchProduct::Audio(exts) => match exts.first().map(|e| e.as_str()) {
            Some("wav") => 57_600_068,
            _ => 33_060_000,
        },
        FetchProduct::Spectrogram(s) => match s.format() {
            SpectrogramFormat::Mat => match option(product, "dpo_spectralDataDownsample") {
                // Full resolution: every FFT frame and bin.
                Some("0") => 30_770_000,
                // Plot resolution: 0.35 s, 30 Hz.
                Some("2") => 5_865_000,
                // One-minute averages (ONC's default): 5 columns.
                _ => 99_200,
            },
            SpectrogramFormat::Png => 938_700,
        },
    }
}

/// ONC's processing seconds for one file of `product` (a model, see the module doc).
#[must_use]
pub fn server_seconds_per_file(product: &FetchProduct) -> u64 {
    if is_archived(product) {
        0
    } else {
        HSD_ON_DEMAND_SECONDS
    }
}

/// Whether ONC serves `product` from its archive (immediately) rather than making it.
#[must_use]
pub fn is_archived(product: &FetchProduct) -> bool {
    match product {
        FetchProduct::Audio(_) => true,
        FetchProduct::Spectrogram(s) => match s.format() {
            SpectrogramFormat::Mat => {
                option(product, "dpo_spectralDataDownsample").is_none_or(|v| v == "1")
            }
            SpectrogramFormat::Png => non_default_options(product).is_empty(),
        },
    }
}

/// The options of `product` that differ from ONC's defaults, as `name=value`. The
/// executor's own `dpo_spectrogramConcatenation=None` (one file per source file, the only
/// shape hydrofetch fetches) is not shown: it is how every spectrogram is fetched.
#[must_use]
pub fn non_default_options(product: &FetchProduct) -> Vec<String> {
    let FetchProduct::Spectrogram(s) = product else {
        return Vec::new();
    };
    s.options()
        .iter()
        .filter(|(k, v)| onc_default(s.format(), k) != Some(v.as_str()))
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

/// ONC's default value of an HSD option (from ONC's `dataProducts` catalogue), with the
/// executor's concatenation default in its place.
fn onc_default(format: SpectrogramFormat, option: &str) -> Option<&'static str> {
    Some(match (format, option) {
        (_, "dpo_spectrogramConcatenation") => crate::domain::DEFAULT_CONCATENATION.1,
        (_, "dpo_hydrophoneAcquisitionMode") => "All",
        (_, "dpo_hydrophoneChannel") => "H1",
        (_, "dpo_hydrophoneDataDiversionMode") => "OD",
        (SpectrogramFormat::Mat, "dpo_spectralDataDownsample") => "1",
        (SpectrogramFormat::Png, "dpo_lowerColourLimit" | "dpo_upperColourLimit") => "-1000",
        (SpectrogramFormat::Png, "dpo_spectrogramColourPalette") => "0",
        (SpectrogramFormat::Png, "dpo_spectrogramFrequencyUpperLimit") => "-1",
        (SpectrogramFormat::Png, "dpo_spectrogramSource") => "MIX",
        _ => return None,
    })
}

fn option<'a>(product: &'a FetchProduct, name: &str) -> Option<&'a str> {
    match product {
        FetchProduct::Spectrogram(s) => s.options().get(name).map(String::as_str),
        FetchProduct::Audio(_) => None,
    }
}

/// What an archive listing says about one fetch item: the files it takes (each file counted
/// for one item only) and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Listed {
    /// Files.
    pub files: u64,
    /// Bytes.
    pub bytes: u64,
}

/// Where an estimate's sizes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeSource {
    /// The built-in table of typical sizes.
    Table,
    /// ONC's archive listing (`plan --online`).
    Listing,
}

/// One device and product of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowEstimate {
    /// The device.
    pub device: DeviceCode,
    /// The product (with its options or extension preference).
    pub product: FetchProduct,
    /// Windows (fetch items) in the plan.
    pub windows: usize,
    /// Of those, still to fetch.
    pub to_fetch: usize,
    /// ONC product requests to make (spectrograms).
    pub requests: usize,
    /// Archive listings to make (audio).
    pub listings: usize,
    /// Files to download.
    pub files: u64,
    /// Estimated bytes to download.
    pub bytes: u64,
    /// Estimated ONC processing seconds (a model).
    pub server_seconds: u64,
    /// The plan's windows merged into contiguous spans `[start, end)`, in time order.
    pub spans: Vec<(UtcInstant, UtcInstant)>,
}

/// Totals of a plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Items (fetch and clip).
    pub items: usize,
    /// Items still to do (fetch and clip).
    pub to_do: usize,
    /// Items done (the lockfile has them, files present), no-data items included.
    pub done: usize,
    /// Of those, items ONC has no data for.
    pub no_data: usize,
    /// Fetch items.
    pub fetch_items: usize,
    /// Fetch items still to fetch.
    pub to_fetch: usize,
    /// Clip items.
    pub clip_items: usize,
    /// Clip items still to make.
    pub clips_to_make: usize,
    /// ONC product requests to make.
    pub requests: usize,
    /// Archive listings to make.
    pub listings: usize,
    /// Files to download.
    pub files: u64,
    /// Estimated bytes to download.
    pub bytes: u64,
    /// Estimated ONC processing seconds (a model).
    pub server_seconds: u64,
}

/// A plan's estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Estimate {
    /// Per device and product, by device, then product (spectrograms first), as the plan's
    /// requests are ordered.
    pub rows: Vec<RowEstimate>,
    /// Totals.
    pub totals: Totals,
    /// Where the sizes come from.
    pub source: SizeSource,
}

/// Estimates what is left of `plan` when `done` items are done (`no_data` ⊆ `done` are those
/// ONC has no data for). With `listed`, the sizes of items to fetch come from it (an item
/// missing from it has no files); otherwise from the table.
pub fn estimate<S: std::hash::BuildHasher, H: std::hash::BuildHasher>(
    plan: &Plan,
    done: &HashSet<ItemId, S>,
    no_data: &HashSet<ItemId, S>,
    listed: Option<&HashMap<ItemId, Listed, H>>,
) -> Estimate {
    let windows: HashMap<ItemId, Window5m> = plan.fetch_items().map(|f| (f.id, f.window)).collect();
    let clip_sources: HashSet<ItemId> = plan
        .clip_items()
        .flat_map(|c| c.sources.iter().copied())
        .collect();
    let mut rows: Vec<RowEstimate> = Vec::new();
    // Products that ONC serves alike (options set to their defaults or left out) share a row.
    let mut index: HashMap<(&DeviceCode, String), usize> = HashMap::new();
    let mut totals = Totals::default();
    for g in &plan.requests {
        let i = *index
            .entry((&g.device, label(&g.product)))
            .or_insert_with(|| {
                rows.push(RowEstimate {
                    device: g.device.clone(),
                    product: g.product.clone(),
                    windows: 0,
                    to_fetch: 0,
                    requests: 0,
                    listings: 0,
                    files: 0,
                    bytes: 0,
                    server_seconds: 0,
                    spans: Vec::new(),
                });
                rows.len() - 1
            });
        let row = &mut rows[i];
        let per_file = typical_file_bytes(&g.product);
        let mut last: Option<Window5m> = None;
        let mut counted = false;
        for id in &g.items {
            let Some(&w) = windows.get(id) else { continue };
            row.windows += 1;
            push_window(&mut row.spans, w);
            if done.contains(id) {
                totals.done += 1;
                totals.no_data += usize::from(no_data.contains(id));
                continue;
            }
            row.to_fetch += 1;
            let starts_run = last.is_none_or(|l| l.next() != w);
            last = Some(w);
            if starts_run {
                counted = false;
                if let FetchProduct::Audio(_) = g.product {
                    row.listings += 1;
                }
            }
            let (files, bytes) = if let Some(l) = listed {
                l.get(id).map_or((0, 0), |x| (x.files, x.bytes))
            } else {
                // A covering run also takes the file that started before its first slot.
                let n = 1 + u64::from(starts_run && clip_sources.contains(id));
                (n, n * per_file)
            };
            // A run of windows is one ONC request, unless the archive listing shows it holds
            // no file: the executor then submits nothing for it.
            if !counted && files > 0 && matches!(g.product, FetchProduct::Spectrogram(_)) {
                row.requests += 1;
                counted = true;
            }
            row.files += files;
            row.bytes += bytes;
            row.server_seconds += files * server_seconds_per_file(&g.product);
        }
    }
    for r in &mut rows {
        merge_spans(&mut r.spans);
        totals.fetch_items += r.windows;
        totals.to_fetch += r.to_fetch;
        totals.requests += r.requests;
        totals.listings += r.listings;
        totals.files += r.files;
        totals.bytes += r.bytes;
        totals.server_seconds += r.server_seconds;
    }
    for c in plan.clip_items() {
        totals.clip_items += 1;
        if done.contains(&c.id) {
            totals.done += 1;
        } else {
            totals.clips_to_make += 1;
        }
    }
    totals.items = totals.fetch_items + totals.clip_items;
    totals.to_do = totals.to_fetch + totals.clips_to_make;
    Estimate {
        rows,
        totals,
        source: if listed.is_some() {
            SizeSource::Listing
        } else {
            SizeSource::Table
        },
    }
}

/// How people see a product: `spectrogram mat (dpo_spectralDataDownsample=2)`, `audio flac >
/// wav`; options only where they differ from ONC's defaults.
#[must_use]
pub fn label(product: &FetchProduct) -> String {
    match product {
        FetchProduct::Spectrogram(s) => {
            let opts = non_default_options(product);
            if opts.is_empty() {
                format!("spectrogram {}", s.format().as_str())
            } else {
                format!("spectrogram {} ({})", s.format().as_str(), opts.join(", "))
            }
        }
        FetchProduct::Audio(e) => {
            let exts: Vec<&str> = e.iter().map(|x| x.as_str()).collect();
            format!("audio {}", exts.join(" > "))
        }
    }
}

/// Adds a window to spans (a group's windows come in time order; products merged into one
/// row may interleave, so spans are sorted and merged again at the end).
fn push_window(spans: &mut Vec<(UtcInstant, UtcInstant)>, w: Window5m) {
    match spans.last_mut() {
        Some((_, end)) if *end == w.start() => *end = w.end(),
        _ => spans.push((w.start(), w.end())),
    }
}

/// Sorts spans and merges those that touch or overlap.
fn merge_spans(spans: &mut Vec<(UtcInstant, UtcInstant)>) {
    if spans.windows(2).all(|p| p[0].1 < p[1].0) {
        return;
    }
    spans.sort_unstable();
    let mut out: Vec<(UtcInstant, UtcInstant)> = Vec::with_capacity(spans.len());
    for &(s, e) in spans.iter() {
        match out.last_mut() {
            Some((_, end)) if *end >= s => *end = (*end).max(e),
            _ => out.push((s, e)),
        }
    }
    *spans = out;
}

/// A span for people: `2024-04-01 12:00–13:00 UTC`, or with both dates when it crosses
/// midnight: `2024-04-01 23:00 – 2024-04-02 01:00 UTC`.
#[must_use]
pub fn format_span(start: UtcInstant, end: UtcInstant) -> String {
    let (s, e) = (start.to_datetime(), end.to_datetime());
    let same_day = s.date_naive() == e.date_naive()
        || (e.format("%H:%M").to_string() == "00:00"
            && s.date_naive().succ_opt() == Some(e.date_naive()));
    if same_day {
        let e_time = if e.date_naive() == s.date_naive() {
            e.format("%H:%M").to_string()
        } else {
            "24:00".to_owned()
        };
        format!("{}–{e_time} UTC", s.format("%Y-%m-%d %H:%M"))
    } else {
        format!(
            "{} – {} UTC",
            s.format("%Y-%m-%d %H:%M"),
            e.format("%Y-%m-%d %H:%M")
        )
    }
}

/// Bytes for people, in binary units: `512 B`, `1.5 KiB`, `443.2 MiB`, `2.0 GiB`.
#[must_use]
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    #[expect(clippy::cast_precision_loss, reason = "one decimal is shown")]
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// Seconds for people: `0 s`, `50 s`, `12 min`, `3.5 h`.
#[must_use]
pub fn format_seconds(s: u64) -> String {
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min", s.div_ceil(60)),
        #[expect(clippy::cast_precision_loss, reason = "one decimal is shown")]
        _ => format!("{:.1} h", s as f64 / 3600.0),
    }
}

/// Parses a size: plain bytes (`1000000`), or a number with a decimal (`kB`, `MB`, `GB`,
/// `TB`: powers of 1000) or binary (`KiB`, `MiB`, `GiB`, `TiB`: powers of 1024) unit, case
/// and a space before the unit ignored (`500MB`, `2GiB`, `1.5 GB`).
///
/// # Errors
/// A message saying what was expected.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit = unit.trim().to_ascii_lowercase();
    let factor: u64 = match unit.as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "t" | "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return Err(bad_size(text)),
    };
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') {
        return Err(bad_size(text));
    }
    if let Ok(n) = num.parse::<u64>() {
        return n.checked_mul(factor).ok_or_else(|| bad_size(text));
    }
    let x: f64 = num.parse().map_err(|_| bad_size(text))?;
    #[expect(clippy::cast_precision_loss, reason = "a size given with decimals")]
    let v = (x * factor as f64).round();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "checked to be finite, non-negative and below 2^63"
    )]
    if v.is_finite() && (0.0..9.2e18).contains(&v) {
        Ok(v as u64)
    } else {
        Err(bad_size(text))
    }
}

fn bad_size(text: &str) -> String {
    format!(
        "{text:?} is not a size: give bytes (1000000) or a number with a unit (500MB, 2GiB, 1.5GB)"
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::{AudioExtension, SpectrogramProduct};
    use std::collections::BTreeMap;
    use std::sync::Arc;

    fn mat(opts: &[(&str, &str)]) -> FetchProduct {
        let o: BTreeMap<String, String> = opts
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        FetchProduct::Spectrogram(Arc::new(SpectrogramProduct::new(SpectrogramFormat::Mat, o)))
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1.5 GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("10kib"), Ok(10_240));
        for bad in [
            "",
            "MB",
            "12XB",
            "-5",
            "1.",
            "1e9",
            "99999999999999999999",
            "5 GB x",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(3 << 30), "3.0 GiB");
        assert_eq!(format_seconds(50), "50 s");
        assert_eq!(format_seconds(300), "5 min");
        assert_eq!(format_seconds(9000), "2.5 h");
    }

    #[test]
    fn defaults_are_not_shown_and_decide_archived() {
        let default = mat(&[]);
        assert!(non_default_options(&default).is_empty());
        assert!(is_archived(&default));
        assert_eq!(server_seconds_per_file(&default), 0);
        let plot = mat(&[("dpo_spectralDataDownsample", "2")]);
        assert_eq!(
            non_default_options(&plot),
            vec!["dpo_spectralDataDownsample=2".to_owned()]
        );
        assert_eq!(server_seconds_per_file(&plot), HSD_ON_DEMAND_SECONDS);
        let audio = FetchProduct::Audio(vec![AudioExtension::Flac]);
        assert!(is_archived(&audio));
        assert!(typical_file_bytes(&audio) > typical_file_bytes(&plot));
    }

    #[test]
    fn spans() {
        let t = |s: &str| UtcInstant::parse(s).unwrap();
        assert_eq!(
            format_span(t("2024-04-01T12:00:00Z"), t("2024-04-01T13:00:00Z")),
            "2024-04-01 12:00–13:00 UTC"
        );
        assert_eq!(
            format_span(t("2024-04-01T23:55:00Z"), t("2024-04-02T00:00:00Z")),
            "2024-04-01 23:55–24:00 UTC"
        );
        assert_eq!(
            format_span(t("2024-04-01T23:00:00Z"), t("2024-04-02T01:00:00Z")),
            "2024-04-01 23:00 – 2024-04-02 01:00 UTC"
        );
        let mut v = Vec::new();
        let w = Window5m::floor(t("2024-04-01T12:00:00Z"));
        push_window(&mut v, w);
        push_window(&mut v, w.next());
        push_window(&mut v, w.offset(3));
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].1, t("2024-04-01T12:10:00Z"));
    }
}
