//! Typed readers for located values: each reads one field, records a diagnostic when the value
//! is wrong, and returns `None` then (so validation carries on with the other fields).
//!
//! Decisions recorded here:
//! - `null` (JSON/YAML) and an empty CSV cell mean "not set".
//! - CSV cells are text: numbers and booleans are read from it; booleans accept
//!   `true/false/1/0/yes/no` in any case. In TOML, YAML and JSON a boolean must be a boolean
//!   and a number a number.
//! - `data_product_options` is an object (in CSV: a JSON object written in the cell) whose keys
//!   start with `dpo_`; values are normalised to text: strings as is, integers and integral
//!   floats without a fraction (`2`, `2.0` → `"2"`), other numbers in their shortest form,
//!   booleans as `true`/`false`.
//! - Padding (`pad_seconds`, `pad_before_seconds`, `pad_after_seconds` of request-format.md,
//!   and the call-level `default_pad_*`) is at most one hour (3600 s) per side. Padding gives
//!   context around an instant or a span; a longer stretch is a span of its own, written with
//!   `start` and `end` (or `duration_seconds`), whose size the plan's item limit bounds.

use super::error::Sink;
use super::node::{Entry, Node, Value};
use crate::domain::{AudioExtension, DeviceCode, GapPolicy, SpectrogramFormat};
use crate::time::Zone;
use std::collections::BTreeMap;

/// Reads a table's entries, reporting unknown and repeated keys. Returns the known entries.
pub(crate) fn table<'a>(
    node: &'a Node,
    sink: &mut Sink,
    path: &str,
    known: &[&str],
) -> Option<Vec<&'a Entry>> {
    let Value::Map(entries) = &node.value else {
        sink.push(
            node.loc,
            path,
            format!("found {}, expected a table", node.describe()),
        );
        return None;
    };
    let mut out: Vec<&Entry> = Vec::with_capacity(entries.len());
    for e in entries {
        let field = join(path, &e.key);
        if !known.contains(&e.key.as_str()) {
            sink.unknown_field(e.key_loc, &field, &e.key, known);
        } else if out.iter().any(|o| o.key == e.key) {
            sink.push(e.key_loc, &field, "is given twice");
        } else if !matches!(e.node.value, Value::Null) {
            out.push(e);
        }
    }
    Some(out)
}

/// `a.b`, or `b` when `a` is empty.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn found(node: &Node, expected: &str) -> String {
    format!("found {}, expected {expected}", node.describe())
}

/// Text of a string, CSV cell, or TOML date-time.
pub(crate) fn text<'a>(node: &'a Node, sink: &mut Sink, path: &str) -> Option<&'a str> {
    match &node.value {
        Value::Str(s) | Value::Cell(s) | Value::Time(s) => Some(s.as_str()),
        _ => {
            sink.push(node.loc, path, found(node, "a string"));
            None
        }
    }
}

/// A string value (trimmed).
pub(crate) fn string(node: &Node, sink: &mut Sink, path: &str) -> Option<String> {
    text(node, sink, path).map(|s| s.trim().to_owned())
}

/// A single file name (a manifest's `output_tag`, `output_name`): a [`SafeName`] with
/// `room` bytes left for what the plan appends.
///
/// [`SafeName`]: crate::safe_name::SafeName
pub(crate) fn file_name(node: &Node, sink: &mut Sink, path: &str, room: usize) -> Option<String> {
    use crate::safe_name::{MAX_NAME_BYTES, check, shown};
    let s = string(node, sink, path)?;
    let limit = MAX_NAME_BYTES - room;
    let why = match check(&s) {
        Err(why) => why.to_string(),
        Ok(()) if s.len() > limit => format!("it is {} bytes long", s.len()),
        Ok(()) => return Some(s),
    };
    sink.push(
        node.loc,
        path,
        format!(
            "found {}, expected a single file name of at most {limit} bytes \
             (no `/`, `\\`, `:`, control characters, leading `.`): {why}",
            shown(&s)
        ),
    );
    None
}

/// Folders a `data_dir` may not be without `allow_system_data_dir`: the root, the system's
/// own folders and the folders that hold home folders.
const SYSTEM_DIRS: &[&str] = &[
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/media",
    "/mnt",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/snap",
    "/srv",
    "/sys",
    "/usr",
    "/usr/bin",
    "/usr/lib",
    "/usr/local",
    "/usr/sbin",
    "/usr/share",
    "/var",
    "/var/lib",
    "/var/log",
    "/Users",
    "/System",
    "/Library",
    "/Applications",
    "/private",
];

/// Checks a manifest's `data_dir` (relative to `dir`): no NUL byte, and, unless `allow`,
/// not `/`, a system folder, inside `/proc`, `/sys` or `/dev`, nor a home folder itself
/// (`/home/NAME`, `/Users/NAME`). The path is resolved lexically (no file system access).
///
/// # Errors
/// The message for the diagnostic.
pub(crate) fn check_data_dir(d: &str, dir: &std::path::Path, allow: bool) -> Result<(), String> {
    use crate::safe_name::shown;
    use std::path::{Component, PathBuf};
    if d.contains('\0') {
        return Err(format!(
            "found {}, expected a folder path without NUL bytes",
            shown(d)
        ));
    }
    if d.is_empty() {
        return Err("found an empty string, expected a folder path".to_owned());
    }
    if allow {
        return Ok(());
    }
    let joined = dir.join(d);
    let joined = std::path::absolute(&joined).unwrap_or(joined);
    let mut norm = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                norm.pop();
            }
            Component::CurDir => {}
            other => norm.push(other.as_os_str()),
        }
    }
    let text = norm.to_string_lossy();
    let parts: Vec<&str> = text.split('/').filter(|p| !p.is_empty()).collect();
    let system = SYSTEM_DIRS.contains(&text.as_ref())
        || matches!(parts.first(), Some(&("proc" | "sys" | "dev")))
        || (parts.len() == 2 && matches!(parts.first(), Some(&("home" | "Users"))));
    if system {
        return Err(format!(
            "found {}, which is {} (the root, a system folder or a home folder itself); \
             expected a folder of the dataset's own (or set `allow_system_data_dir = true`)",
            shown(d),
            shown(&text)
        ));
    }
    Ok(())
}

/// A boolean.
pub(crate) fn boolean(node: &Node, sink: &mut Sink, path: &str) -> Option<bool> {
    match &node.value {
        Value::Bool(b) => Some(*b),
        Value::Cell(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => {
                sink.push(
                    node.loc,
                    path,
                    found(node, "a boolean (true/false, 1/0, yes/no)"),
                );
                None
            }
        },
        _ => {
            sink.push(node.loc, path, found(node, "a boolean (true or false)"));
            None
        }
    }
}

fn number(node: &Node) -> Option<f64> {
    #[expect(
        clippy::cast_precision_loss,
        reason = "seconds far below 2^53 are exact"
    )]
    match &node.value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Cell(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// A non-negative number of seconds, as milliseconds.
pub(crate) fn seconds(node: &Node, sink: &mut Sink, path: &str) -> Option<i64> {
    match number(node) {
        Some(f) if (0.0..1e12).contains(&f) => {
            #[expect(clippy::cast_possible_truncation, reason = "bounded above")]
            let ms = (f * 1000.0).round() as i64;
            Some(ms)
        }
        _ => {
            sink.push(
                node.loc,
                path,
                found(node, "a non-negative number of seconds"),
            );
            None
        }
    }
}

/// Padding in seconds, as milliseconds: non-negative and at most
/// [`MAX_PAD_SECONDS`](super::model::MAX_PAD_SECONDS).
pub(crate) fn pad_seconds(node: &Node, sink: &mut Sink, path: &str) -> Option<i64> {
    let ms = seconds(node, sink, path)?;
    let max = super::model::MAX_PAD_SECONDS;
    if ms > max * 1000 {
        sink.push(
            node.loc,
            path,
            found(
                node,
                &format!(
                    "at most {max} seconds (one hour) of padding; give `start` and `end` for a longer span"
                ),
            ),
        );
        return None;
    }
    Some(ms)
}

/// A positive whole number (batch sizes, totals).
pub(crate) fn positive(node: &Node, sink: &mut Sink, path: &str) -> Option<u32> {
    let n = match &node.value {
        Value::Int(i) => u32::try_from(*i).ok(),
        Value::Cell(s) => s.trim().parse::<u32>().ok(),
        _ => None,
    };
    match n {
        Some(n) if n > 0 => Some(n),
        _ => {
            sink.push(node.loc, path, found(node, "a positive whole number"));
            None
        }
    }
}

fn choice<T: Copy>(node: &Node, sink: &mut Sink, path: &str, options: &[(&str, T)]) -> Option<T> {
    let s = text(node, sink, path)?;
    let lower = s.trim().to_ascii_lowercase();
    if let Some((_, v)) = options.iter().find(|(name, _)| *name == lower) {
        return Some(*v);
    }
    let names: Vec<String> = options.iter().map(|(n, _)| format!("`{n}`")).collect();
    sink.push(
        node.loc,
        path,
        found(node, &format!("one of {}", names.join(", "))),
    );
    None
}

/// `mat` or `png`.
pub(crate) fn spectrogram_format(
    node: &Node,
    sink: &mut Sink,
    path: &str,
) -> Option<SpectrogramFormat> {
    choice(
        node,
        sink,
        path,
        &[
            ("mat", SpectrogramFormat::Mat),
            ("png", SpectrogramFormat::Png),
        ],
    )
}

/// `flac` or `wav`.
pub(crate) fn audio_extension(node: &Node, sink: &mut Sink, path: &str) -> Option<AudioExtension> {
    choice(
        node,
        sink,
        path,
        &[("flac", AudioExtension::Flac), ("wav", AudioExtension::Wav)],
    )
}

/// `split`, `pad` or `fail`.
pub(crate) fn gap(node: &Node, sink: &mut Sink, path: &str) -> Option<GapPolicy> {
    choice(
        node,
        sink,
        path,
        &[
            ("split", GapPolicy::Split),
            ("pad", GapPolicy::Pad),
            ("fail", GapPolicy::Fail),
        ],
    )
}

/// A device code.
pub(crate) fn device(node: &Node, sink: &mut Sink, path: &str) -> Option<DeviceCode> {
    let s = text(node, sink, path)?;
    DeviceCode::new(s.trim())
        .map_err(|m| sink.push(node.loc, path, m))
        .ok()
}

/// A time zone.
pub(crate) fn zone(node: &Node, sink: &mut Sink, path: &str) -> Option<Zone> {
    let s = text(node, sink, path)?;
    Zone::parse(s)
        .map_err(|e| sink.push(node.loc, path, e.to_string()))
        .ok()
}

/// `data_product_options`: an object of `dpo_*` keys (a JSON object in a CSV cell).
pub(crate) fn options(
    node: &Node,
    sink: &mut Sink,
    path: &str,
) -> Option<BTreeMap<String, String>> {
    let expected = "a JSON object of `dpo_*` options, e.g. {\"dpo_spectralDataDownsample\": 2}";
    let parsed;
    let node = match &node.value {
        Value::Map(_) => node,
        Value::Cell(s) => match super::node::parse_json_cell(s, node.loc) {
            Ok(n) => {
                parsed = n;
                &parsed
            }
            Err(msg) => {
                sink.push(
                    node.loc,
                    path,
                    format!("found {}, expected {expected} ({msg})", node.describe()),
                );
                return None;
            }
        },
        _ => {
            sink.push(node.loc, path, found(node, expected));
            return None;
        }
    };
    let Value::Map(entries) = &node.value else {
        sink.push(node.loc, path, found(node, expected));
        return None;
    };
    let mut out = BTreeMap::new();
    let mut ok = true;
    for e in entries {
        let field = format!("{path}.{}", e.key);
        if !e.key.starts_with("dpo_") || e.key.len() <= 4 {
            sink.push(
                e.key_loc,
                &field,
                format!(
                    "found option `{}`, expected a name starting with `dpo_`",
                    e.key
                ),
            );
            ok = false;
            continue;
        }
        let v = match &e.node.value {
            Value::Str(s) | Value::Cell(s) | Value::Time(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) if f.is_finite() => normalise_float(*f),
            _ => {
                sink.push(
                    e.node.loc,
                    &field,
                    found(&e.node, "a string, number or boolean"),
                );
                ok = false;
                continue;
            }
        };
        if out.insert(e.key.clone(), v).is_some() {
            sink.push(e.key_loc, &field, "is given twice");
            ok = false;
        }
    }
    ok.then_some(out)
}

fn normalise_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        #[expect(clippy::cast_possible_truncation, reason = "integral and bounded")]
        let i = f as i64;
        i.to_string()
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::error::Loc;
    use std::path::PathBuf;

    fn cell(s: &str) -> Node {
        Node {
            value: Value::Cell(s.to_owned()),
            loc: Loc::Row(3),
        }
    }

    #[test]
    fn csv_booleans_any_case() {
        let mut sink = Sink::new(PathBuf::from("x.csv"));
        for (s, b) in [
            ("YES", true),
            ("No", false),
            ("1", true),
            ("0", false),
            ("TRUE", true),
        ] {
            assert_eq!(boolean(&cell(s), &mut sink, "clip"), Some(b));
        }
        assert_eq!(boolean(&cell("maybe"), &mut sink, "clip"), None);
        assert_eq!(sink.diags.len(), 1);
        assert_eq!(sink.diags[0].loc, Loc::Row(3));
    }

    #[test]
    fn options_normalised_and_checked() {
        let mut sink = Sink::new(PathBuf::from("x.csv"));
        let o = options(
            &cell(r#"{"dpo_a": 2.0, "dpo_b": "x", "dpo_c": true}"#),
            &mut sink,
            "o",
        )
        .unwrap();
        assert_eq!(o["dpo_a"], "2");
        assert_eq!(o["dpo_b"], "x");
        assert_eq!(o["dpo_c"], "true");
        assert!(options(&cell(r#"{"foo": 1}"#), &mut sink, "o").is_none());
        assert!(options(&cell("[1]"), &mut sink, "o").is_none());
        assert!(options(&cell("{"), &mut sink, "o").is_none());
        assert_eq!(sink.diags.len(), 3, "{:?}", sink.diags);
    }
}
