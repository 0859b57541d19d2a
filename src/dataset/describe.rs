//! What the index says about each output beyond its bytes: sample rate, channels and duration
//! read from the file itself, and the deployment (location, coordinates, depth, citation) the
//! device was in when it recorded it. Both are kept in the lockfile (see [`crate::lock`]), so
//! that the index stays a function of the lockfiles and an offline rebuild, `verify` or `gc`
//! keeps them.
//!
//! Decisions recorded here:
//! - Media come from the file on disk, never from what was asked for: FLAC/WAV headers
//!   (rate, channels, frames ÷ rate); MAT `Meta.sampleRate` and `Meta.dateTo − dateFrom`
//!   (a clip's `Meta` carries its own span). PNG spectrograms have no rate to read: their
//!   columns stay empty. A file is read once: only files with nothing recorded yet are read,
//!   so a lockfile written before these fields gets them on the next run, offline.
//! - An item's deployment is the one of its device covering its start (a fetch item's window
//!   start, a clip's start), picked from the deployments ONC gave this run (the online checks
//!   already ask for them, so no extra request) or, failing that, from the deployments other
//!   items of the same lockfile already record (a clips-only run needs no network).

use crate::formats::{self, MatValue};
use crate::lock::{ItemKind, LockDeployment, LockedFile, Lockfile, Status};
use crate::onc::wire;
use crate::time::UtcInstant;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Reads sample rate, channels and duration into every done file that has none recorded yet.
/// Returns whether anything changed. A file that cannot be read is left as it is.
pub(crate) fn fill_media(lock: &mut Lockfile, data_dir: &Path) -> bool {
    let ids: Vec<String> = lock
        .entries()
        .filter(|e| e.status == Status::Done && e.files.iter().any(unread))
        .map(|e| e.id.clone())
        .collect();
    let mut changed = false;
    for id in ids {
        // A file whose header yields nothing stays unread: not a change.
        changed |= lock.modify(&id, |e| {
            for f in e.files.iter_mut().filter(|f| unread(f)) {
                if let Some(m) = probe(&data_dir.join(&f.path)) {
                    f.sample_rate = m.sample_rate;
                    f.channels = m.channels;
                    f.duration = m.duration;
                }
            }
        });
    }
    changed
}

/// Whether a file has no media fields yet and is of a format that has some.
fn unread(f: &LockedFile) -> bool {
    f.sample_rate == 0
        && f.channels == 0
        && f.duration == 0.0
        && matches!(extension(&f.path).as_str(), "flac" | "wav" | "mat")
}

fn extension(path: &str) -> String {
    path.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Media of one file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Media {
    /// Samples per second (0: unknown).
    pub sample_rate: u32,
    /// Channels (0: unknown).
    pub channels: u16,
    /// Seconds (0: unknown).
    pub duration: f64,
}

/// Reads a file's media: audio from its header, MAT from its `Meta`; `None` for other formats
/// or a file that cannot be read.
pub(crate) fn probe(path: &Path) -> Option<Media> {
    match extension(&path.to_string_lossy()).as_str() {
        "flac" | "wav" => {
            let info = formats::probe_audio(path).ok()?;
            let rate = info.spec.sample_rate;
            #[expect(
                clippy::cast_precision_loss,
                reason = "frame counts of real files are far below 2^52"
            )]
            let duration = if rate == 0 {
                0.0
            } else {
                info.total_frames as f64 / f64::from(rate)
            };
            Some(Media {
                sample_rate: rate,
                channels: info.spec.channels,
                duration,
            })
        }
        "mat" => {
            let vars = formats::read_mat(path).ok()?;
            let meta = formats::find_var(&vars, "Meta")?;
            let rate = scalar(meta.field("sampleRate"))
                .filter(|r| r.is_finite() && *r > 0.0 && *r <= f64::from(u32::MAX))
                .map_or(0, |r| {
                    #[expect(
                        clippy::cast_possible_truncation,
                        clippy::cast_sign_loss,
                        reason = "checked positive and within u32 above"
                    )]
                    let r = r.round() as u32;
                    r
                });
            let instant = |k: &str| match meta.field(k) {
                Some(MatValue::Char(s)) => UtcInstant::parse(s).ok(),
                _ => None,
            };
            let duration = match (instant("dateFrom"), instant("dateTo")) {
                (Some(a), Some(b)) if b > a => {
                    #[expect(
                        clippy::cast_precision_loss,
                        reason = "millisecond spans of files are far below 2^52"
                    )]
                    let s = b.millis_since(a) as f64 / 1000.0;
                    s
                }
                _ => 0.0,
            };
            Some(Media {
                sample_rate: rate,
                channels: 0,
                duration,
            })
        }
        _ => None,
    }
}

fn scalar(v: Option<&MatValue>) -> Option<f64> {
    match v? {
        MatValue::Double { data, .. } => data.first().copied(),
        MatValue::Single { data, .. } => data.first().map(|x| f64::from(*x)),
        #[expect(
            clippy::cast_precision_loss,
            reason = "a sample rate is far below 2^52"
        )]
        MatValue::Int { data, .. } => data.first().map(|x| *x as f64),
        _ => None,
    }
}

/// The deployments ONC gave, by device code.
pub(crate) type Deployments = BTreeMap<String, Vec<wire::Deployment>>;

/// Records, on every done item without one, the deployment of its device covering its start:
/// from `fresh` (ONC's answer this run), else from what other items of `lock` record. Returns
/// whether anything changed.
pub(crate) fn fill_deployments(lock: &mut Lockfile, fresh: &Deployments) -> bool {
    let mut known: BTreeMap<String, Vec<Arc<LockDeployment>>> = BTreeMap::new();
    for (device, deps) in fresh {
        let list = known.entry(device.clone()).or_default();
        for d in deps.iter().filter(|d| &d.device_code == device) {
            list.push(Arc::new(LockDeployment {
                location: d.location_code.clone(),
                begin: d.begin.clone(),
                end: d.end.clone().unwrap_or_default(),
                lat: d.lat,
                lon: d.lon,
                depth: d.depth,
                citation: d.citation.citation.clone(),
                doi: d.citation.doi.clone(),
            }));
        }
    }
    for e in lock.entries() {
        if let Some(d) = &e.deployment
            && !fresh.contains_key(&e.device)
        {
            let list = known.entry(e.device.clone()).or_default();
            if !list.iter().any(|x| x.begin == d.begin) {
                list.push(Arc::clone(d));
            }
        }
    }
    let todo: Vec<(String, Option<Arc<LockDeployment>>)> = lock
        .entries()
        .filter(|e| e.status == Status::Done && e.deployment.is_none())
        .map(|e| {
            let at = match e.kind {
                ItemKind::Fetch => &e.window,
                ItemKind::Clip => &e.start,
            };
            let dep = UtcInstant::parse(at)
                .ok()
                .and_then(|t| known.get(&e.device)?.iter().find(|d| covers(d, t)).cloned());
            (e.id.clone(), dep)
        })
        .collect();
    let mut changed = false;
    for (id, dep) in todo {
        if let (Some(dep), Some(e)) = (dep, lock.get_mut(&id)) {
            e.deployment = Some(dep);
            changed = true;
        }
    }
    changed
}

/// Whether a deployment covers the instant `t`: `begin ≤ t < end`.
fn covers(d: &LockDeployment, t: UtcInstant) -> bool {
    let begin = UtcInstant::parse(&d.begin).ok();
    let end = if d.end.is_empty() {
        None
    } else {
        UtcInstant::parse(&d.end).ok()
    };
    begin.is_some_and(|b| b <= t) && end.is_none_or(|e| t < e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::LockEntry;

    fn dep(device: &str, location: &str, begin: &str, end: Option<&str>) -> wire::Deployment {
        serde_json::from_value(serde_json::json!({
            "begin": begin, "end": end, "deviceCode": device, "locationCode": location,
            "lat": 48.5, "lon": -126.0, "depth": 900.0,
            "citation": {"citation": format!("cite {location}"), "doi": "10.80000/x"},
        }))
        .unwrap()
    }

    fn loc(lock: &Lockfile, n: u8) -> Option<String> {
        lock.get(&format!("{n:064x}"))
            .and_then(|e| e.deployment.as_ref())
            .map(|d| d.location.clone())
    }

    #[test]
    fn each_item_gets_the_deployment_covering_its_start_and_keeps_it() {
        let mut lock = Lockfile::default();
        for (n, kind, at) in [
            (1_u8, ItemKind::Fetch, "2023-06-01T00:00:00.000Z"),
            (2, ItemKind::Fetch, "2024-04-01T12:30:00.000Z"),
            (3, ItemKind::Clip, "2024-04-01T12:34:35.000Z"),
            (4, ItemKind::Fetch, "2023-12-01T00:00:00.000Z"),
        ] {
            let mut e = LockEntry {
                id: format!("{n:064x}"),
                kind,
                device: "D".into(),
                status: Status::Done,
                ..LockEntry::default()
            };
            if kind == ItemKind::Fetch {
                e.window = at.into();
            } else {
                e.start = at.into();
            }
            lock.insert(e);
        }
        let mut fresh = Deployments::new();
        fresh.insert(
            "D".into(),
            vec![
                dep(
                    "D",
                    "OLD",
                    "2023-03-01T00:00:00.000Z",
                    Some("2023-11-20T00:00:00.000Z"),
                ),
                dep("D", "NEW", "2023-12-31T00:00:00.000Z", None),
            ],
        );
        assert!(fill_deployments(&mut lock, &fresh));
        assert_eq!(loc(&lock, 1).as_deref(), Some("OLD"));
        assert_eq!(loc(&lock, 2).as_deref(), Some("NEW"));
        assert_eq!(loc(&lock, 3).as_deref(), Some("NEW"));
        assert_eq!(loc(&lock, 4), None, "in the gap between deployments");
        // Without ONC, a new item takes what the lockfile already knows.
        lock.insert(LockEntry {
            id: format!("{:064x}", 5),
            kind: ItemKind::Clip,
            device: "D".into(),
            start: "2024-05-01T00:00:00.000Z".into(),
            status: Status::Done,
            ..LockEntry::default()
        });
        assert!(fill_deployments(&mut lock, &Deployments::new()));
        assert_eq!(loc(&lock, 5).as_deref(), Some("NEW"));
        assert!(!fill_deployments(&mut lock, &Deployments::new()));
    }
}
