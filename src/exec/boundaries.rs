//! The real boundaries of a device's source files, learnt from the archive listing of its
//! audio, one listing per device and UTC day for the whole run.
//!
//! Spectrogram files are made one per source file and named from its start, so the audio
//! listing (cheap, and documented as overlap-based) tells which files a product request
//! will get and where they begin. A request can then be shaped to exactly the files it
//! needs (`spectro::request_span`), and what arrives can be checked against what exists.
//!
//! Decisions recorded here:
//! - One listing per (device, UTC day), covering `[day − 5 min, day + 1 day)` so the file
//!   running across midnight is in it; FLAC first, WAV when no FLAC is archived. Groups of a
//!   run share it (a range of many groups, or scattered events on one day, list once).
//! - A listing that fails or is empty is remembered as unknown: callers fall back to the
//!   nominal 5-minute layout, as they did before the listing existed.

use super::job::NOMINAL_FILE_MILLIS;
use crate::onc::Client;
use crate::time::UtcInstant;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// Audio extensions listed to learn a device's file boundaries, in order.
const EXTENSIONS: [&str; 2] = ["flac", "wav"];

/// One UTC day in milliseconds.
const DAY_MILLIS: i64 = 86_400_000;

/// A source file's span `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FileSpan {
    /// Its start.
    pub(crate) start: UtcInstant,
    /// Its end (the listing's, or one nominal file length after the start).
    pub(crate) end: UtcInstant,
}

type Day = Arc<OnceCell<Option<Arc<Vec<FileSpan>>>>>;

/// The run's cache of listings, by device and UTC day.
#[derive(Debug, Default)]
pub(crate) struct Boundaries {
    days: Mutex<HashMap<(String, i64), Day>>,
}

impl Boundaries {
    /// The source files of `device` overlapping `[from, to)`, in time order, or `None` when
    /// the archive cannot tell (listing failed, or no audio archived on some day of the span).
    pub(crate) async fn files(
        &self,
        client: &Client,
        device: &str,
        from: UtcInstant,
        to: UtcInstant,
    ) -> Option<Vec<FileSpan>> {
        let first = from.unix_millis().div_euclid(DAY_MILLIS);
        let last = (to.unix_millis() - 1)
            .max(from.unix_millis())
            .div_euclid(DAY_MILLIS);
        let mut out: Vec<FileSpan> = Vec::new();
        for day in first..=last {
            let cell = {
                let Ok(mut days) = self.days.lock() else {
                    return None;
                };
                Arc::clone(days.entry((device.to_owned(), day)).or_default())
            };
            let files = cell
                .get_or_init(|| list_day(client, device, day))
                .await
                .clone()?;
            out.extend(
                files
                    .iter()
                    .filter(|f| f.start < to && f.end > from)
                    .copied(),
            );
        }
        out.sort();
        out.dedup();
        Some(out)
    }
}

/// Lists one day of `device` (module docs).
async fn list_day(client: &Client, device: &str, day: i64) -> Option<Arc<Vec<FileSpan>>> {
    let from = UtcInstant::from_unix_millis(day * DAY_MILLIS - NOMINAL_FILE_MILLIS);
    let to = UtcInstant::from_unix_millis((day + 1) * DAY_MILLIS);
    for ext in EXTENSIONS {
        let files = match client.list_archive(device, from, to, ext).await {
            Ok(files) => files,
            Err(e) => {
                tracing::debug!(device, error = %e, "no file boundaries: nominal layout");
                return None;
            }
        };
        let spans: Vec<FileSpan> = files
            .iter()
            .filter_map(|f| {
                let start = f.start?;
                let end = f
                    .end
                    .filter(|e| *e > start)
                    .unwrap_or(start.add_millis(NOMINAL_FILE_MILLIS));
                Some(FileSpan { start, end })
            })
            .collect();
        if !spans.is_empty() {
            return Some(Arc::new(spans));
        }
    }
    None
}
