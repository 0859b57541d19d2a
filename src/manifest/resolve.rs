//! From layers to jobs: precedence, defaults, and the checks that span several fields.
//!
//! Precedence (request-format.md): a request's own field, then the call-level overrides
//! (`[[requests]]` keys in a manifest, or command-line flags), then the request file's
//! `defaults`, then the manifest's `[defaults]`, then the built-in defaults. Mode tables
//! (`[[range]]`, …) take their own field, then the manifest's `[defaults]`, then built-ins.
//! A value is taken whole from the first layer that sets it: `data_product_options` given in a
//! request replaces the defaults' options (it is not merged key by key).
//!
//! Built-in defaults: `download_spectrogram = true`, `download_audio = false`,
//! `spectrogram_format = "mat"`, `audio_extension = "flac"`, `clip = false`, `gap = "fail"`,
//! padding 0, time zone UTC, 6 windows per ONC request.

use super::error::{Loc, Sink};
use super::layer::{Layer, TimeText, first, padding};
use super::model::{DEFAULT_BATCH, DeviceSpan, Job, Request, SpanField};
use crate::domain::{AudioExtension, DeviceCode, Products, SpectrogramFormat, SpectrogramProduct};
use crate::time::{UtcInstant, Zone};
use std::sync::Arc;

/// Resolves the products wanted, or records that nothing is wanted.
pub(crate) fn products(
    layers: &[&Layer],
    cached: Option<&Arc<SpectrogramProduct>>,
    sink: &mut Sink,
    loc: Loc,
    path: &str,
) -> Option<Products> {
    let want_spec = first(layers, |l| l.download_spectrogram).unwrap_or(true);
    let want_audio = first(layers, |l| l.download_audio).unwrap_or(false);
    if !want_spec && !want_audio {
        sink.push(
            loc,
            path,
            "asks for nothing: `download_spectrogram` and `download_audio` are both false",
        );
        return None;
    }
    let spectrogram = want_spec.then(|| match cached {
        Some(c) => Arc::clone(c),
        None => Arc::new(spectrogram_product(layers)),
    });
    let audio =
        want_audio.then(|| first(layers, |l| l.audio_extension).unwrap_or(AudioExtension::Flac));
    Some(Products { spectrogram, audio })
}

/// The spectrogram product the layers describe.
pub(crate) fn spectrogram_product(layers: &[&Layer]) -> SpectrogramProduct {
    let format = first(layers, |l| l.spectrogram_format).unwrap_or(SpectrogramFormat::Mat);
    let options = first(layers, |l| l.options.as_ref())
        .cloned()
        .unwrap_or_default();
    SpectrogramProduct::new(format, options)
}

/// Whether the first layer sets nothing that changes the spectrogram product.
pub(crate) fn inherits_product(l: &Layer) -> bool {
    l.spectrogram_format.is_none() && l.options.is_none()
}

/// The time zone for naive times.
fn zone(layers: &[&Layer]) -> Zone {
    first(layers, |l| l.timezone.clone()).unwrap_or_default()
}

/// The device, or a "missing" diagnostic naming `key`.
fn device(
    layers: &[&Layer],
    sink: &mut Sink,
    loc: Loc,
    path: &str,
    key: &str,
) -> Option<DeviceCode> {
    let d = first(layers, |l| l.device.clone());
    if d.is_none() {
        sink.push(
            loc,
            &super::fields::join(path, key),
            "is missing; expected a device code such as \"ICLISTENHF6324\"",
        );
    }
    d
}

fn required<'a>(
    t: Option<&'a TimeText>,
    sink: &mut Sink,
    loc: Loc,
    path: &str,
    key: &str,
) -> Option<&'a TimeText> {
    if t.is_none() {
        sink.push(
            loc,
            &super::fields::join(path, key),
            "is missing; expected an ISO 8601 time such as \"2024-04-01T12:00:00Z\"",
        );
    }
    t
}

/// A `[start, end)` span from a mode table; end must be after start.
pub(crate) fn span(layers: &[&Layer], sink: &mut Sink, loc: Loc, path: &str) -> Option<DeviceSpan> {
    let own = layers.first()?;
    let device = device(layers, sink, loc, path, "device");
    let z = zone(layers);
    let start =
        required(own.start.as_ref(), sink, loc, path, "start").and_then(|t| t.parse(&z, sink));
    let end_t = required(own.end.as_ref(), sink, loc, path, "end");
    let end = end_t.and_then(|t| t.parse(&z, sink));
    let (start, end, end_t) = (start?, end?, end_t?);
    if end <= start {
        sink.push(
            end_t.loc,
            &end_t.path,
            format!("found {end}, expected a time after start {start} (the range is empty)"),
        );
        return None;
    }
    Some(DeviceSpan {
        device: device?,
        start,
        end,
    })
}

/// Batch size from the layers, or the built-in default.
pub(crate) fn batch(layers: &[&Layer]) -> u32 {
    first(layers, |l| l.batch).unwrap_or(DEFAULT_BATCH)
}

/// Resolves one request of a request file. `layers` are: the request, the call-level
/// overrides, the file's defaults, the manifest's defaults.
#[expect(
    clippy::too_many_lines,
    reason = "one pass over a request's fields, in the contract's table order"
)]
pub(crate) fn request(
    layers: &[&Layer],
    cached: Option<&Arc<SpectrogramProduct>>,
    sink: &mut Sink,
    loc: Loc,
    path: &str,
) -> Option<Job> {
    let own = layers.first()?;
    let device = device(layers, sink, loc, path, "deviceCode");
    let z = zone(layers);
    let mut ok = true;
    let (start_t, is_instant) = match (&own.timestamp, &own.start) {
        (Some(ts), Some(st)) => {
            sink.push(
                st.loc,
                &st.path,
                format!(
                    "found both `timestamp` ({:?}) and `start` ({:?}), expected one of them",
                    ts.text, st.text
                ),
            );
            ok = false;
            (Some(ts), true)
        }
        (Some(ts), None) => (Some(ts), true),
        (None, Some(st)) => (Some(st), false),
        (None, None) => {
            sink.push(
                loc,
                &super::fields::join(path, "timestamp"),
                "is missing; expected `timestamp` or `start` (an ISO 8601 time)",
            );
            (None, false)
        }
    };
    if is_instant && own.timestamp.is_some() && own.start.is_none() {
        if let Some(t) = &own.end {
            sink.push(
                t.loc,
                &t.path,
                "found `end` with `timestamp`, expected `start` and `end`, or `timestamp` alone",
            );
            ok = false;
        }
        if let Some((_, dloc)) = own.duration {
            sink.push(
                dloc,
                &super::fields::join(path, "duration_seconds"),
                "found `duration_seconds` with `timestamp`, expected it with `start`",
            );
            ok = false;
        }
    }
    if let (Some(e), Some((_, dloc))) = (&own.end, own.duration) {
        sink.push(
            dloc,
            &super::fields::join(path, "duration_seconds"),
            format!(
                "found both `end` ({:?}) and `duration_seconds`, expected one of them",
                e.text
            ),
        );
        ok = false;
    }
    let start = start_t.and_then(|t| t.parse(&z, sink));
    let end = match &own.end {
        Some(t) => t.parse(&z, sink).map(Some),
        None => Some(None),
    };
    let products = products(layers, cached, sink, loc, path);
    let (start, end, device, products) = (start?, end?, device?, products?);
    let mut span_field = if is_instant {
        SpanField::Timestamp
    } else {
        SpanField::Start
    };
    let end = if let Some(e) = end {
        span_field = SpanField::End;
        if e < start {
            if let Some(t) = &own.end {
                sink.push(
                    t.loc,
                    &t.path,
                    format!("found {e}, expected a time not before start {start}"),
                );
            }
            return None;
        }
        e
    } else {
        let d = if is_instant {
            None
        } else {
            first(layers, |l| l.duration.map(|d| d.0))
        };
        if d.is_some() {
            span_field = SpanField::Duration;
        }
        let d = d.unwrap_or(0);
        start.add_millis(d)
    };
    if !ok {
        return None;
    }
    let (before, after) = padding(layers);
    let span = DeviceSpan {
        device,
        start: start.add_millis(-before),
        end: end.add_millis(after),
    };
    Some(Job::Request(Box::new(Request {
        span,
        time: start,
        span_field,
        products,
        clip: first(layers, |l| l.clip).unwrap_or(false),
        gap: first(layers, |l| l.gap).unwrap_or_default(),
        output_tag: first(layers, |l| l.output_tag.clone()),
        output_name: own.output_name.clone(),
        label: first(layers, |l| l.label.clone()),
        description: first(layers, |l| l.description.clone()),
        batch: batch(layers),
    })))
}

/// Resolves the instants of an `[[events]]` table.
pub(crate) fn times(
    layers: &[&Layer],
    sink: &mut Sink,
    loc: Loc,
    path: &str,
) -> Option<Vec<UtcInstant>> {
    let own = layers.first()?;
    let z = zone(layers);
    let Some(texts) = &own.times else {
        sink.push(
            loc,
            &super::fields::join(path, "times"),
            "is missing; expected an array of ISO 8601 times",
        );
        return None;
    };
    let parsed: Vec<Option<UtcInstant>> = texts.iter().map(|t| t.parse(&z, sink)).collect();
    parsed.into_iter().collect()
}
